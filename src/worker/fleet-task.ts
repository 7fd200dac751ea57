/**
 * The piscina task: one long task per worker thread, running that worker's slice of the
 * fleet. It first prepares its devices' identities and says so, then waits for the common
 * start instant. Stopped by a message over its port, not by abort, so its cleanup runs.
 */

import type { MessagePort } from 'node:worker_threads';
import { FleetIdentities } from '../fleet/fleet-identities.js';
import type {
  CoordinatorMessage,
  PreparationStats,
  PreparedMessage,
  WorkerResult,
  WorkerTask,
} from './protocol.js';
import { runSteps } from './protocol.js';
import { sliceMembers } from './slice-device.js';
import { SliceRun } from './slice-run.js';
import { armTestFault } from './test-fault.js';

export default async function fleetTask(task: WorkerTask): Promise<WorkerResult> {
  armTestFault(task);
  const identities = new FleetIdentities(task.plan, task.identities);
  const preparation = await identities.prepare(sliceMembers(task));
  const start = await announcePrepared(task, preparation);
  if (start.type === 'stop') return stoppedBeforeStart(task, start.reason);
  return new SliceRun(task, BigInt(start.startAtNs), identities).execute();
}

/** Sends `prepared` and resolves with the coordinator's `start`, or a `stop` that came first. */
function announcePrepared(
  task: WorkerTask,
  preparation: PreparationStats,
): Promise<CoordinatorMessage> {
  const port: MessagePort = task.port;
  return new Promise((resolve) => {
    const onMessage = (m: CoordinatorMessage) => {
      port.off('message', onMessage);
      resolve(m);
    };
    port.on('message', onMessage);
    const message: PreparedMessage = { type: 'prepared', workerId: task.workerId, preparation };
    port.postMessage(message);
  });
}

/** The result of a worker stopped while it was preparing: nothing was connected. */
function stoppedBeforeStart(task: WorkerTask, reason: string): WorkerResult {
  const now = String(process.hrtime.bigint());
  task.port.close();
  return {
    workerId: task.workerId,
    total: { startNs: now, endNs: now, counters: {}, gauges: {}, histograms: {} },
    phases: [],
    failures: [],
    stoppedBy: reason,
    stage: runSteps(task.plan)[0] ?? 'drain',
  };
}
