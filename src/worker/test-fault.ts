/**
 * A fault injected into a real worker thread, for the tests of worker failure only. It is read
 * from FLEETBENCH_TEST_WORKER_FAULT, in the worker, and acts only on an exact value:
 * `<throw|oom>:<worker id>:<delay ms>`, e.g. `oom:1:1500`, or `stall:<worker id>:<delay ms>:<ms>`
 * (the worker's thread blocks that long, as a stalled send path would; for the coordinated
 * omission test of the open model). Anything else is ignored, so it
 * cannot fire by accident; the README's development section documents it.
 */

import { resourceLimits } from 'node:worker_threads';
import type { WorkerMessage, WorkerTask } from './protocol.js';

/** The environment variable holding the fault. */
export const TEST_FAULT_ENV = 'FLEETBENCH_TEST_WORKER_FAULT';

/** Largest worker heap the `oom` fault fills, MB. */
const MAX_OOM_HEAP_MB = 512;

/** A parsed fault. */
export interface TestFault {
  /**
   * `throw`: an uncaught exception in a timer; `oom`: allocate until the heap limit;
   * `stall`: block the thread for `stallMs`.
   */
  mode: 'throw' | 'oom' | 'stall';
  workerId: number;
  /** Time after the worker's second step (phase) begins, ms. */
  afterMs: number;
  /** For `stall`: how long the thread blocks, ms (at most 10 s). */
  stallMs?: number;
}

/** Parses the variable's value; undefined for anything but the exact format. */
export function parseTestFault(value: string | undefined): TestFault | undefined {
  const m = /^(throw|oom|stall):(\d{1,3}):(\d{1,6})(?::(\d{1,4}))?$/.exec(value ?? '');
  if (m === null || (m[1] === 'stall') !== (m[4] !== undefined)) return undefined;
  const fault: TestFault = {
    mode: m[1] as TestFault['mode'],
    workerId: Number(m[2]),
    afterMs: Number(m[3]),
  };
  if (m[4] !== undefined) fault.stallMs = Math.min(Number(m[4]), 10_000);
  return fault;
}

/**
 * Arms the fault for this worker's task, if the environment asks for one: it fires `afterMs`
 * after the worker enters its second step (after the ramp, in the default phases), so the
 * ramp's snapshots are always out by then. The timer is unref'd: it never keeps a finished
 * worker alive.
 */
export function armTestFault(task: WorkerTask): void {
  const fault = parseTestFault(process.env[TEST_FAULT_ENV]);
  if (fault === undefined || fault.workerId !== task.workerId) return;
  const port = task.port;
  const post = port.postMessage.bind(port);
  port.postMessage = (message: WorkerMessage) => {
    if (message.type === 'stage' && message.step === 1) {
      setTimeout(() => fire(fault), fault.afterMs).unref();
    }
    post(message);
  };
}

function fire(fault: TestFault): void {
  if (fault.mode === 'stall') {
    // Blocks this thread without spinning a core: nothing else on it runs meanwhile.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, fault.stallMs ?? 0);
    return;
  }
  if (fault.mode === 'throw') throw new Error(`injected test fault in worker ${fault.workerId}`);
  exhaustHeap();
}

/** Allocates live objects until V8 ends the thread at its heap limit (`resourceLimits`). */
function exhaustHeap(): void {
  // Without a limit the default heap is gigabytes: refuse rather than load the machine.
  const limitMb = resourceLimits.maxOldGenerationSizeMb ?? Infinity;
  if (!(limitMb <= MAX_OOM_HEAP_MB)) {
    throw new Error(`the oom test fault needs --worker-heap-mb ${MAX_OOM_HEAP_MB} or less`);
  }
  const hoard: string[][] = [];
  // Bounded: 2^31 strings exceed any heap; the limit ends the thread long before.
  for (let i = 0; i < 2 ** 31; i++) hoard.push([`fleetbench-${i}`.repeat(8)]);
}
