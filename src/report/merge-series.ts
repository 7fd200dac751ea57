/**
 * Merging the time-varying parts of shard reports: their time series, aligned on the wall
 * clock, and their phases, matched by position and name. Every snapshot goes into exactly one
 * merged interval or phase, so nothing is lost and nothing is counted twice.
 */

import { FleetbenchError } from '../errors.js';
import { mergeSnapshots } from '../metrics/merge.js';
import type { MetricsSnapshot } from '../metrics/types.js';
import type { PhaseInput, ReportDocument, TimeSeries } from './document.js';
import { clockOrigin, measuredSkewMs, shiftSnapshot } from './merge-clock.js';

/** A shard report with the shift that puts its instants on the merged clock. */
export interface ShiftedReport {
  file: string;
  report: ReportDocument;
  shiftNs: bigint;
}

/**
 * The shards' time series on the clock of the first (`shards[0]` is the reference): each
 * shard's intervals keep their own order and are placed by the whole number of intervals
 * between its origin and the reference's, so timer jitter cannot make two land in one.
 * Gauges add up across shards (their devices are connected at the same time); a shard that
 * missed an interval counts there with its latest gauges.
 *
 * @returns `undefined` when no shard has a time series.
 * @throws FleetbenchError `E_REPORT` naming the file whose interval length differs.
 */
export function mergeTimeSeries(shards: readonly ShiftedReport[]): TimeSeries | undefined {
  const withSeries = shards.filter((s) => s.report.timeSeries !== undefined);
  const first = withSeries[0];
  if (first === undefined) return undefined;
  const reference = shards[0] ?? first;
  const intervalMs = (first.report.timeSeries as TimeSeries).intervalMs;
  const intervalNs = BigInt(Math.round(intervalMs * 1e6));
  const origin = clockOrigin(reference.report);
  const originNs = origin.ns + reference.shiftNs;

  const buckets = new Map<number, MetricsSnapshot[]>();
  const placed: Map<number, MetricsSnapshot>[] = [];
  for (const shard of withSeries) {
    const series = shard.report.timeSeries as TimeSeries;
    if (series.intervalMs !== intervalMs) {
      throw new FleetbenchError(
        'E_REPORT',
        `${shard.file} has ${series.intervalMs} ms intervals, ${first.file} ${intervalMs} ms: ` +
          'its time series cannot be merged',
        { hint: 'merge reports of shards run with the same snapshot interval' },
      );
    }
    const ownOriginNs = BigInt(series.startNs);
    const offsetMs =
      clockOrigin(shard.report).wallMs -
      origin.wallMs +
      measuredSkewMs(shard.report, reference.report);
    const sameClock = shard.shiftNs === 0n && reference.shiftNs === 0n;
    const offsetIntervals = sameClock
      ? Math.round(Number(ownOriginNs - originNs) / 1e6 / intervalMs)
      : Math.round(offsetMs / intervalMs);
    const own = new Map<number, MetricsSnapshot>();
    for (const interval of series.intervals) {
      const local = Number((BigInt(interval.startNs) - ownOriginNs) / intervalNs);
      const index = Math.max(0, local) + offsetIntervals;
      const snapshot = shiftSnapshot(interval, shard.shiftNs);
      const list = buckets.get(index) ?? [];
      list.push(snapshot);
      buckets.set(index, list);
      own.set(index, snapshot);
    }
    placed.push(own);
  }
  placed.forEach((own) => carryGauges(own, buckets));

  const indexes = [...buckets.keys()].sort((a, b) => a - b);
  return {
    intervalMs,
    startNs: String(originNs),
    startedAt: new Date(origin.wallMs).toISOString(),
    intervals: indexes.map((i) => mergeSnapshots(buckets.get(i) ?? [])),
  };
}

/**
 * A shard whose series skips an interval (its coordinator was late, or its grid is offset from
 * the reference's) still had its devices connected then: from its first interval to its last,
 * every merged interval it is missing from gets its latest gauges, so the sum across shards
 * does not dip. Counters and histograms are not carried: they happened once.
 */
function carryGauges(
  own: ReadonlyMap<number, MetricsSnapshot>,
  buckets: Map<number, MetricsSnapshot[]>,
): void {
  const indexes = [...own.keys()].sort((a, b) => a - b);
  const first = indexes[0];
  const last = indexes.at(-1);
  if (first === undefined || last === undefined) return;
  let gauges: Record<string, number> = {};
  for (let i = first; i <= last; i++) {
    const mine = own.get(i);
    if (mine !== undefined) {
      gauges = mine.gauges;
      continue;
    }
    const others = buckets.get(i);
    const at = others?.[0];
    if (others === undefined || at === undefined) continue;
    others.push({ startNs: at.startNs, endNs: at.endNs, counters: {}, gauges, histograms: {} });
  }
}

/**
 * The shards' phases, matched by position (the shards ran one scenario, so one list of
 * phases), each merged across the shards that entered it and timed from `originNs`.
 */
export function mergePhases(shards: readonly ShiftedReport[], originNs: bigint): PhaseInput[] {
  const count = Math.max(0, ...shards.map((s) => s.report.phases?.length ?? 0));
  const phases: PhaseInput[] = [];
  for (let i = 0; i < count; i++) {
    const parts = shards.flatMap((s) => {
      const phase = s.report.phases?.[i];
      return phase === undefined
        ? []
        : [{ phase, metrics: shiftSnapshot(bare(phase.metrics), s.shiftNs) }];
    });
    const head = parts[0];
    if (head === undefined) continue;
    const metrics = mergeSnapshots(parts.map((p) => p.metrics));
    const start = BigInt(metrics.startNs);
    phases.push({
      name: head.phase.name,
      type: head.phase.type,
      startMs: Math.max(0, Number(start - originNs) / 1e6),
      durationMs: Number(BigInt(metrics.endNs) - start) / 1e6,
      metrics,
    });
  }
  return phases;
}

/** The snapshot part of a report's metrics (without the derived summaries). */
export function bare(metrics: MetricsSnapshot): MetricsSnapshot {
  const { startNs, endNs, counters, gauges, histograms } = metrics;
  return { startNs, endNs, counters, gauges, histograms };
}
