/**
 * A worker's watch on itself: how late its event loop runs (perf_hooks.monitorEventLoopDelay),
 * how busy the loop is (performance.eventLoopUtilization) and how much CPU its thread uses
 * (/proc/thread-self/stat; Node 20 has no process.threadCpuUsage). Sampled once per snapshot.
 *
 * The delay sampler records a block only when its own timer fires after it. After a long
 * block every timer is overdue and libuv runs them in order of due time, so the snapshot timer
 * often runs first: its sample would close the interval without the block, and the sampler's
 * reset then drops the block for good (reset forgets the previous tick). A heartbeat of our own
 * sees the block at once, from the sample too, so a stall is counted in the interval it ended in.
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
/** Share of an interval's time weighed by the p99: a p99 is what 1% of the time exceeds. */
const P99_TIME_SHARE = 0.01;

export class SelfMonitor {
  private readonly delay: IntervalHistogram;
  private elu: EventLoopUtilization;
  private cpuUs: number | null;
  private cpuAtNs: bigint;
  /** Thread CPU of the last window long enough to mean something, cores. */
  private cpuCores: number | null = null;
  private atNs: bigint;
  private readonly heartbeat: NodeJS.Timeout;
  /** When the heartbeat (or a sample) last ran, and its longest gap this interval, ns. */
  private beatNs: bigint;
  private longestGapNs = 0n;

  /** Starts watching the calling thread. */
  constructor(private readonly workerId: number) {
    this.delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
    this.delay.enable();
    this.beatNs = process.hrtime.bigint();
    this.heartbeat = setInterval(() => this.beat(), DELAY_RESOLUTION_MS).unref();
    this.elu = performance.eventLoopUtilization();
    this.cpuUs = threadCpuUs();
    this.atNs = process.hrtime.bigint();
    this.cpuAtNs = this.atNs;
  }

  private beat(): void {
    const now = process.hrtime.bigint();
    if (now - this.beatNs > this.longestGapNs) this.longestGapNs = now - this.beatNs;
    this.beatNs = now;
  }

  /**
   * The longest block of the loop this interval, ms: the heartbeat's longest gap, or the one
   * still open when a sample runs before the heartbeat after a block.
   */
  private takeLongestBlockMs(now: bigint): number {
    const open = now - this.beatNs;
    const gapNs = open > this.longestGapNs ? open : this.longestGapNs;
    this.longestGapNs = 0n;
    this.beatNs = now;
    return Math.max(0, Number(gapNs) / 1e6 - DELAY_RESOLUTION_MS);
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
    const blockMs = this.takeLongestBlockMs(now);
    // The sampler counts a block as one late tick, however long it was. Over time, a block of
    // B ms keeps the loop more than x ms late for B - x ms, so the p99 over the interval's time
    // is at least B - 1% of the interval: a stall of most of an interval is its p99.
    const blockP99Ms = Math.max(0, blockMs - P99_TIME_SHARE * intervalMs);
    const health: WorkerHealth = {
      workerId: this.workerId,
      intervalMs,
      loopDelayP99Ms: Math.max(ms(d.percentile(99)), blockP99Ms),
      loopDelayMaxMs: Math.max(ms(d.max), blockMs),
      loopUtilization: elu.utilization,
      threadCpuCores: this.threadCores(now),
    };
    d.reset();
    this.elu = performance.eventLoopUtilization();
    this.atNs = now;
    return health;
  }

  stop(): void {
    clearInterval(this.heartbeat);
    this.delay.disable();
  }
}
