/**
 * The piscina task: one long task per worker thread, running that worker's slice of the
 * fleet. Stopped by a message over its port, not by abort, so its cleanup runs.
 */

import type { WorkerResult, WorkerTask } from './protocol.js';
import { SliceRun } from './slice-run.js';
import { armTestFault } from './test-fault.js';

export default function fleetTask(task: WorkerTask): Promise<WorkerResult> {
  armTestFault(task);
  return new SliceRun(task).execute();
}
