/**
 * CPU time from Linux's /proc: a process's (`/proc/<pid>/stat`) or the calling thread's own
 * (`/proc/thread-self/stat`), the only per-thread CPU clock Node 20 can read
 * (`process.threadCpuUsage` arrived in Node 23.9).
 */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's CPU counters (`getconf CLK_TCK`; 100 on Linux). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!(ticksPerSecond > 0)) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/**
 * User + system CPU time of the stat file's process or thread so far, µs. The resolution is
 * one clock tick (10 ms): a figure per connect needs thousands of connects to mean anything.
 *
 * @param statFile `/proc/<pid>/stat` or `/proc/thread-self/stat`
 * @throws Error when the file cannot be read (no such process, not Linux).
 */
export function statCpuUs(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime), counted from 1; `fields[0]` is field 3.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / clockTicks()) * 1e6;
}

/** Total CPU time of several processes so far, µs (see {@link statCpuUs}). */
export function processesCpuUs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + statCpuUs(`/proc/${pid}/stat`), 0);
}

/**
 * CPU time of the calling thread so far, µs, or null where /proc/thread-self is missing.
 * Call it from the thread to be measured: a synchronous read runs on the calling thread.
 */
export function threadCpuUs(): number | null {
  try {
    return statCpuUs('/proc/thread-self/stat');
  } catch {
    return null;
  }
}
