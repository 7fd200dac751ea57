/**
 * A worker's watch on itself: how late its event loop runs (perf_hooks.monitorEventLoopDelay),
 * how busy the loop is (performance.eventLoopUtilization) and how much CPU its thread uses
 * (/proc/thread-self/stat; Node 20 has no process.threadCpuUsage). Sampled once per snapshot.
 */

import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { WorkerHealth } from '../metrics/health.js';
import { threadCpuUs } from '../metrics/proc-stat.js';

/** Resolution of the event-loop delay sampler, ms. */
const DELAY_RESOLUTION_MS = 10;
/**
 * Shortest stretch thread CPU is computed over, ms: /proc counts in 10 ms ticks, so a short
 * interval (a phase boundary closes one early) would read as several cores or as none.
 */
const MIN_CPU_WINDOW_MS = 250;

export class SelfMonitor {
  private readonly delay: IntervalHistogram;
  private elu: EventLoopUtilization;
  private cpuUs: number | null;
  private cpuAtNs: bigint;
  /** Thread CPU of the last window long enough to mean something, cores. */
  private cpuCores: number | null = null;
  private atNs: bigint;

  /** Starts watching the calling thread. */
  constructor(private readonly workerId: number) {
    this.delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
    this.delay.enable();
    this.elu = performance.eventLoopUtilization();
    this.cpuUs = threadCpuUs();
    this.atNs = process.hrtime.bigint();
    this.cpuAtNs = this.atNs;
  }

  /** Thread CPU in cores over the window since the last reading, once it is long enough. */
  private threadCores(now: bigint): number | null {
    const cpuUs = threadCpuUs();
    if (cpuUs === null || this.cpuUs === null) return null;
    const windowMs = Number(now - this.cpuAtNs) / 1e6;
    if (windowMs <= 0) return this.cpuCores;
    if (windowMs >= MIN_CPU_WINDOW_MS || this.cpuCores === null) {
      this.cpuCores = Math.min(1, Math.max(0, (cpuUs - this.cpuUs) / 1000 / windowMs));
    }
    if (windowMs >= MIN_CPU_WINDOW_MS) {
      this.cpuUs = cpuUs;
      this.cpuAtNs = now;
    }
    return this.cpuCores;
  }

  /** The health since the previous sample (or the start); starts the next interval. */
  sample(): WorkerHealth {
    const now = process.hrtime.bigint();
    const intervalMs = Number(now - this.atNs) / 1e6;
    const elu = performance.eventLoopUtilization(this.elu);
    const d = this.delay;
    // The histogram holds the sampler's intervals in ns, resolution included (an idle loop
    // reads about 10 ms); the delay is what exceeds it. Empty before the sampler's first tick.
    const ms = (ns: number) =>
      d.count > 0 && Number.isFinite(ns) ? Math.max(0, ns / 1e6 - DELAY_RESOLUTION_MS) : 0;
    const health: WorkerHealth = {
      workerId: this.workerId,
      intervalMs,
      loopDelayP99Ms: ms(d.percentile(99)),
      loopDelayMaxMs: ms(d.max),
      loopUtilization: elu.utilization,
      threadCpuCores: this.threadCores(now),
    };
    d.reset();
    this.elu = performance.eventLoopUtilization();
    this.atNs = now;
    return health;
  }

  stop(): void {
    this.delay.disable();
  }
}
