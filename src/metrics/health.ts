/**
 * The load generator's own health: each worker's event-loop delay and CPU per snapshot
 * interval, the rule that calls a worker saturated, and the run's summary of it. A saturated
 * worker delays its own timers and callbacks, so its latencies include the harness's delay:
 * the report says so, so that nobody blames the broker for the harness.
 */

/** One worker's self-monitoring over one snapshot interval. Plain data (crosses threads). */
export interface WorkerHealth {
  workerId: number;
  /** Length of the interval, ms. */
  intervalMs: number;
  /**
   * Event-loop delay over the interval, ms: how late a 10 ms timer fired
   * (perf_hooks.monitorEventLoopDelay); p99 and max. 0 when nothing was sampled. A block of the
   * loop counts for its time: the p99 is at least the longest block minus 1% of the interval.
   */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Share of the interval the worker's event loop was busy, 0..1 (eventLoopUtilization). */
  loopUtilization: number;
  /**
   * CPU the worker thread used, in cores (1 = one core busy the whole time), from
   * /proc/thread-self/stat, over the interval or, for an interval under 250 ms, over the last
   * stretch of at least 250 ms; null where /proc/thread-self is not available.
   */
  threadCpuCores: number | null;
}

/** When a worker counts as saturated in an interval. */
export interface SaturationLimits {
  /** Event-loop delay p99 above this, ms. Default 50 (ten times the worker's 5 ms tick). */
  loopDelayP99Ms: number;
  /**
   * Busy share above this, 0..1: thread CPU in cores where measured, else event-loop
   * utilisation. Default 0.9 (a worker is one thread and cannot use more than one core).
   */
  busy: number;
}

/** The limits fleetbench applies (documented in the README). */
export const SATURATION_LIMITS: Readonly<SaturationLimits> = { loopDelayP99Ms: 50, busy: 0.9 };

/** How busy a worker was: its thread CPU where measured, else its event-loop utilisation. */
export function busyShare(h: WorkerHealth): number {
  return h.threadCpuCores ?? h.loopUtilization;
}

/**
 * Why a worker was saturated in an interval: one phrase per limit passed, none when it was not.
 *
 * @param limits default {@link SATURATION_LIMITS}
 */
export function saturationReasons(
  h: WorkerHealth,
  limits: SaturationLimits = SATURATION_LIMITS,
): string[] {
  const reasons: string[] = [];
  if (h.loopDelayP99Ms > limits.loopDelayP99Ms) {
    reasons.push(
      `event-loop delay p99 ${h.loopDelayP99Ms.toFixed(1)} ms > ${limits.loopDelayP99Ms} ms`,
    );
  }
  const busy = busyShare(h);
  if (busy > limits.busy) {
    const what = h.threadCpuCores === null ? 'event loop busy' : 'CPU';
    reasons.push(`${what} ${(busy * 100).toFixed(0)}% of a core > ${limits.busy * 100}%`);
  }
  return reasons;
}

/** One worker over the whole run. */
export interface WorkerHealthSummary {
  workerId: number;
  /** Intervals sampled, and how many of them passed a limit. */
  intervals: number;
  saturatedIntervals: number;
  /**
   * Time the intervals covered, and the part of it in saturated intervals, ms (absent in
   * reports of older versions).
   */
  sampledMs?: number;
  saturatedMs?: number;
  /** Worst interval's event-loop delay p99, and the largest delay seen, ms. */
  loopDelayP99MaxMs: number;
  loopDelayMaxMs: number;
  /** Busy share (see {@link busyShare}), time-weighted mean and worst interval, 0..1. */
  busyMean: number;
  busyMax: number;
  /** Whether `busy*` is thread CPU (`cpu`) or event-loop utilisation (`loop`). */
  busySource: 'cpu' | 'loop';
}

/** The load generator's health over a run, as the report records it. */
export interface LoadGeneratorHealth {
  /** True when any worker passed a limit in any interval. */
  saturated: boolean;
  limits: SaturationLimits;
  workers: WorkerHealthSummary[];
  /** CPU of the whole harness process (all threads) over the run, in cores; null if unknown. */
  processCpuCores: number | null;
}

/** Collects worker health samples over a run and summarises them. */
export class HealthTracker {
  private readonly byWorker = new Map<
    number,
    WorkerHealthSummary & { busyMs: number; ms: number }
  >();
  private readonly latest = new Map<number, WorkerHealth>();

  /** @param limits default {@link SATURATION_LIMITS} */
  constructor(private readonly limits: SaturationLimits = SATURATION_LIMITS) {}

  add(h: WorkerHealth): void {
    this.latest.set(h.workerId, h);
    let s = this.byWorker.get(h.workerId);
    if (s === undefined) {
      s = {
        ...{ workerId: h.workerId, intervals: 0, saturatedIntervals: 0 },
        ...{ sampledMs: 0, saturatedMs: 0 },
        ...{ loopDelayP99MaxMs: 0, loopDelayMaxMs: 0, busyMean: 0, busyMax: 0 },
        ...{ busySource: h.threadCpuCores === null ? 'loop' : 'cpu', busyMs: 0, ms: 0 },
      };
      this.byWorker.set(h.workerId, s);
    }
    const busy = busyShare(h);
    s.intervals++;
    s.sampledMs = (s.sampledMs ?? 0) + h.intervalMs;
    if (saturationReasons(h, this.limits).length > 0) {
      s.saturatedIntervals++;
      s.saturatedMs = (s.saturatedMs ?? 0) + h.intervalMs;
    }
    s.loopDelayP99MaxMs = Math.max(s.loopDelayP99MaxMs, h.loopDelayP99Ms);
    s.loopDelayMaxMs = Math.max(s.loopDelayMaxMs, h.loopDelayMaxMs);
    s.busyMax = Math.max(s.busyMax, busy);
    s.busyMs += busy * h.intervalMs;
    s.ms += h.intervalMs;
  }

  /** The worst event-loop delay p99 of the workers' latest intervals, ms; null before any. */
  latestLoopDelayP99Ms(): number | null {
    let worst: number | null = null;
    for (const h of this.latest.values()) worst = Math.max(worst ?? 0, h.loopDelayP99Ms);
    return worst;
  }

  /** The reasons the workers' latest intervals passed a limit, `worker N: ...` each. */
  currentSaturation(): string[] {
    const out: string[] = [];
    for (const h of this.latest.values()) {
      const reasons = saturationReasons(h, this.limits);
      if (reasons.length > 0) out.push(`worker ${h.workerId}: ${reasons.join(', ')}`);
    }
    return out;
  }

  /** The run's summary, workers in id order. */
  summary(processCpuCores: number | null): LoadGeneratorHealth {
    const workers = [...this.byWorker.values()]
      .sort((a, b) => a.workerId - b.workerId)
      .map(({ busyMs, ms, ...s }) => ({ ...s, busyMean: ms > 0 ? busyMs / ms : 0 }));
    return {
      saturated: workers.some((w) => w.saturatedIntervals > 0),
      limits: { ...this.limits },
      workers,
      processCpuCores,
    };
  }
}

/**
 * The report warning for a saturated load generator, or null when it was not saturated.
 */
export function saturationWarning(health: LoadGeneratorHealth): string | null {
  const hit = health.workers.filter((w) => w.saturatedIntervals > 0);
  if (hit.length === 0) return null;
  const each = hit.map(
    (w) =>
      `worker ${w.workerId} in ${w.saturatedIntervals} of ${w.intervals} intervals ` +
      `(event-loop delay p99 up to ${w.loopDelayP99MaxMs.toFixed(0)} ms, ` +
      `${w.busySource === 'cpu' ? 'CPU' : 'loop busy'} up to ${(w.busyMax * 100).toFixed(0)}%)`,
  );
  // A late loop on an idle thread means the thread waited for a core, not that it had work.
  const starved = hit.every((w) => w.busyMax <= health.limits.busy);
  const cause = starved
    ? 'the workers were not busy, so their threads most likely waited for a core: the ' +
      'machine is oversubscribed (a broker or other processes on the same cores; or one ' +
      'long stall such as a large GC); run the broker elsewhere or on separate cores'
    : 'use more workers or machines (shards), or fewer devices or messages per worker';
  return (
    `load generator saturated: ${each.join('; ')}. Latencies measured then include ` +
    `fleetbench's own delay, not only the broker's; ${cause}`
  );
}
