/**
 * The worker pool: piscina's only home. One long-lived task per worker thread, each with its
 * own MessagePort for snapshots and stop requests.
 */

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type {
  CoordinatorMessage,
  PreparedMessage,
  WorkerMessage,
  WorkerResult,
  WorkerTask,
} from '../worker/protocol.js';

/** A started worker task. */
export interface RunningTask {
  workerId: number;
  result: Promise<WorkerResult>;
  stop(reason: string): void;
  /** Starts a prepared worker's run at the common instant (ns, decimal string). */
  begin(startAtNs: string): void;
}

/** Options of {@link FleetPool}. */
export interface FleetPoolOptions {
  /** Number of worker threads (each runs one task). */
  threads: number;
  /**
   * Cap of each worker's JavaScript heap (V8 old generation), MB; a worker past it ends with
   * `ERR_WORKER_OUT_OF_MEMORY` instead of taking the machine's memory. Default: Node's.
   */
  heapMb?: number;
}

/** A pool of worker threads running fleet tasks. */
export class FleetPool {
  private readonly piscina: Piscina;

  constructor(options: FleetPoolOptions) {
    this.piscina = new Piscina({
      filename: new URL('../worker/fleet-task.js', import.meta.url).href,
      minThreads: options.threads,
      maxThreads: options.threads,
      // The default 'sync' atomics park idle threads, and timers in a long task stop firing.
      atomics: 'disabled',
      idleTimeout: 1000,
      concurrentTasksPerWorker: 1,
      ...(options.heapMb === undefined
        ? {}
        : { resourceLimits: { maxOldGenerationSizeMb: options.heapMb } }),
    });
  }

  /** Starts one task; its messages go to `onMessage`. */
  start(
    task: Omit<WorkerTask, 'port'>,
    onMessage: (m: WorkerMessage | PreparedMessage) => void,
  ): RunningTask {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', onMessage);
    const full: WorkerTask = { ...task, port: port2 };
    // The worker closes its end after its last snapshot; waiting for that keeps the final
    // interval, which can arrive after the task's result on piscina's own channel.
    const closed = new Promise<void>((resolve) => port1.once('close', () => resolve()));
    const run = this.piscina.run(full, { transferList: [port2] }) as Promise<WorkerResult>;
    const result = run.then(
      async (r) => {
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
        port1.close();
        return r;
      },
      (err: unknown) => {
        port1.close();
        throw err;
      },
    );
    const stop = (reason: string) => post(port1, { type: 'stop', reason });
    const begin = (startAtNs: string) => post(port1, { type: 'start', startAtNs });
    return { workerId: task.workerId, result, stop, begin };
  }

  /** Ends the threads once their tasks are done. */
  async close(): Promise<void> {
    await this.piscina.close();
  }

  /**
   * Ends every thread at once, whatever it is doing (piscina's `close({ force })` still waits
   * for running tasks). Their tasks reject with "Terminating worker thread".
   */
  async terminate(): Promise<void> {
    await this.piscina.destroy();
  }
}

function post(port: MessagePort, message: CoordinatorMessage): void {
  try {
    port.postMessage(message);
  } catch {
    // The task already finished and its port closed: nothing left to stop.
  }
}
