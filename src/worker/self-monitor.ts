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

export class SelfMonitor {
  private readonly delay: IntervalHistogram;
  private elu: EventLoopUtilization;
  private cpuUs: number | null;
  private atNs: bigint;

  /** Starts watching the calling thread. */
  constructor(private readonly workerId: number) {
    this.delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
    this.delay.enable();
    this.elu = performance.eventLoopUtilization();
    this.cpuUs = threadCpuUs();
    this.atNs = process.hrtime.bigint();
  }

  /** The health since the previous sample (or the start); starts the next interval. */
  sample(): WorkerHealth {
    const now = process.hrtime.bigint();
    const intervalMs = Number(now - this.atNs) / 1e6;
    const elu = performance.eventLoopUtilization(this.elu);
    const cpuUs = threadCpuUs();
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
      threadCpuCores:
        cpuUs !== null && this.cpuUs !== null && intervalMs > 0
          ? (cpuUs - this.cpuUs) / 1000 / intervalMs
          : null,
    };
    d.reset();
    this.elu = performance.eventLoopUtilization();
    this.cpuUs = cpuUs;
    this.atNs = now;
    return health;
  }

  stop(): void {
    this.delay.disable();
  }
}
