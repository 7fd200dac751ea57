/**
 * The piscina task: one long task per worker thread, running that worker's slice of the
 * fleet. Stopped by a message over its port, not by abort, so its cleanup runs.
 */

import type { WorkerResult, WorkerTask } from './protocol.js';
import { SliceRun } from './slice-run.js';

export default function fleetTask(task: WorkerTask): Promise<WorkerResult> {
  return new SliceRun(task).execute();
}
