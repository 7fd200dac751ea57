/**
 * Samples processes from /proc once a second: CPU time so far and resident memory, each with
 * its wall-clock instant, so CPU over any stretch (a shard's ramp, its hold) and the peak RSS
 * in it can be read afterwards.
 */

import { readFileSync } from 'node:fs';
import { statCpuUs } from '../src/metrics/proc-stat.js';

/** One sample of one process. */
export interface ProcSample {
  /** Wall clock, ms since the epoch. */
  atMs: number;
  /** User + system CPU so far, µs. */
  cpuUs: number;
  /** Resident set, KB. */
  rssKb: number;
}

/** Resident set of a process, KB (`VmRSS` of /proc/<pid>/status). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return m === null ? 0 : Number(m[1]);
}

/** Available memory of the machine, bytes (`MemAvailable` of /proc/meminfo). */
export function memAvailableBytes(): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

export class ProcSampler {
  private readonly samples = new Map<number, ProcSample[]>();
  private timer: NodeJS.Timeout | null = null;

  /** Starts sampling `pids` every `everyMs` (default 1000). */
  start(pids: readonly number[], everyMs = 1000): void {
    for (const pid of pids) this.samples.set(pid, []);
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  /** Takes a last sample and stops. */
  stop(): void {
    this.sample();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private sample(): void {
    const atMs = Date.now();
    for (const [pid, list] of this.samples) {
      try {
        list.push({ atMs, cpuUs: statCpuUs(`/proc/${pid}/stat`), rssKb: rssKb(pid) });
      } catch {
        // The process has exited: its earlier samples stand.
      }
    }
  }

  /** The sample of `pid` nearest to an instant, or null when it has none. */
  private nearest(pid: number, atMs: number): ProcSample | null {
    let best: ProcSample | null = null;
    for (const s of this.samples.get(pid) ?? []) {
      if (best === null || Math.abs(s.atMs - atMs) < Math.abs(best.atMs - atMs)) best = s;
    }
    return best;
  }

  /** RSS of `pid` at the sample nearest to an instant, KB (0 if none). */
  rssAt(pid: number, atMs: number): number {
    return this.nearest(pid, atMs)?.rssKb ?? 0;
  }

  /** CPU of `pid` between two instants, µs, from the samples nearest to each (0 if none). */
  cpuBetween(pid: number, fromMs: number, toMs: number): number {
    const a = this.nearest(pid, fromMs);
    const b = this.nearest(pid, toMs);
    return a === null || b === null ? 0 : Math.max(0, b.cpuUs - a.cpuUs);
  }
}
