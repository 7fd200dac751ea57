/**
 * The run's time series, built from the workers' interval snapshots as they arrive: each
 * snapshot goes to the interval of the common grid it starts in, and an interval is merged
 * across workers as soon as every running worker has moved past it, so memory stays bounded
 * over a long run. Nothing is dropped: the intervals add up to the run's totals.
 */

import { mergeSnapshots } from '../metrics/merge.js';
import type { MetricsSnapshot } from '../metrics/types.js';
import type { TimeSeries } from '../report/document.js';

/** Collects interval snapshots of several workers into one time series. */
export class TimeSeriesCollector {
  private readonly intervalNs: bigint;
  /** Open intervals: grid index → worker → that worker's snapshots in it. */
  private readonly open = new Map<number, Map<number, MetricsSnapshot[]>>();
  private readonly closed = new Map<number, MetricsSnapshot>();
  /** The latest interval each running worker sent a snapshot for. */
  private readonly lastOf = new Map<number, number>();
  /** Each worker's gauges as of the last closed interval it reported in. */
  private readonly gaugesOf = new Map<number, Record<string, number>>();

  /**
   * @param originNs the run's common start instant, `process.hrtime.bigint()` ns.
   * @param startedAt wall-clock time of `originNs`, so shards can be aligned later.
   * @param intervalMs the grid's spacing, ms (the workers' snapshot interval).
   * @param workers the workers expected to send snapshots.
   */
  constructor(
    private readonly originNs: bigint,
    private readonly startedAt: Date,
    private readonly intervalMs: number,
    workers: number,
  ) {
    this.intervalNs = BigInt(Math.max(1, Math.round(intervalMs * 1e6)));
    for (let w = 0; w < workers; w++) this.lastOf.set(w, -1);
  }

  /** Takes one worker snapshot. */
  accept(workerId: number, snapshot: MetricsSnapshot): void {
    const offset = BigInt(snapshot.startNs) - this.originNs;
    const index = offset <= 0n ? 0 : Number(offset / this.intervalNs);
    const byWorker = this.open.get(index) ?? new Map<number, MetricsSnapshot[]>();
    this.open.set(index, byWorker);
    byWorker.set(workerId, [...(byWorker.get(workerId) ?? []), snapshot]);
    this.lastOf.set(workerId, Math.max(this.lastOf.get(workerId) ?? -1, index));
    this.closeFinished();
  }

  /** A worker that ended (or failed) no longer holds intervals open. */
  workerDone(workerId: number): void {
    this.lastOf.delete(workerId);
    this.closeFinished();
  }

  /** The series so far, every interval merged, in time order. */
  result(): TimeSeries {
    for (const index of [...this.open.keys()].sort((a, b) => a - b)) this.close(index);
    const indexes = [...this.closed.keys()].sort((a, b) => a - b);
    return {
      intervalMs: this.intervalMs,
      startNs: String(this.originNs),
      startedAt: this.startedAt.toISOString(),
      intervals: indexes.map((i) => this.closed.get(i) as MetricsSnapshot),
    };
  }

  private closeFinished(): void {
    const slowest = Math.min(...this.lastOf.values());
    const finished = [...this.open.keys()].filter((i) => i < slowest).sort((a, b) => a - b);
    for (const index of finished) this.close(index);
  }

  private close(index: number): void {
    const byWorker = this.open.get(index);
    if (byWorker === undefined) return;
    this.open.delete(index);
    // One worker's snapshots are consecutive stretches (its gauge is the latest value); the
    // workers' are parallel (their connected devices add up).
    const perWorker = [...byWorker.entries()].map(([workerId, list]) => {
      const own = mergeSnapshots(list, { gauges: 'latest' });
      this.gaugesOf.set(workerId, own.gauges);
      return own;
    });
    const merged = mergeSnapshots(perWorker);
    // A worker whose tick came late has no snapshot here; its devices are still connected, so
    // its last gauges count (they are levels, not events: nothing is counted twice).
    for (const [workerId, gauges] of this.gaugesOf) {
      if (byWorker.has(workerId)) continue;
      for (const [key, v] of Object.entries(gauges))
        merged.gauges[key] = (merged.gauges[key] ?? 0) + v;
    }
    const previous = this.closed.get(index);
    this.closed.set(index, previous === undefined ? merged : mergeSnapshots([previous, merged]));
  }
}
