/**
 * Merging snapshots without loss, and reading numbers back out of encoded histograms. The same
 * code merges worker snapshots, shard reports and time-series intervals.
 */

import { FleetbenchError } from '../errors.js';
import { createMergeHistogram, decodeHistogram, encodeHistogram } from './histogram.js';
import type { HistogramKey, MetricsSnapshot } from './types.js';

/** Options of {@link mergeSnapshots}. */
export interface MergeOptions {
  /**
   * How gauges combine. `'sum'` (the default) is for snapshots of different sources over the
   * same stretch (workers, shards): connected devices add up. `'latest'` is for snapshots of
   * one source over consecutive stretches (re-bucketing a time series): the value of the
   * snapshot with the latest `endNs` wins.
   */
  gauges?: 'sum' | 'latest';
}

/**
 * Merges snapshots into one: counters summed, histograms added bucket by bucket (the result's
 * percentiles equal those of one histogram fed every value), `startNs` the earliest start and
 * `endNs` the latest end, gauges combined as {@link MergeOptions.gauges} says.
 *
 * @throws FleetbenchError `E_INTERNAL` for an empty list, `E_REPORT` for a histogram that is
 *   not a valid encoding.
 */
export function mergeSnapshots(
  snapshots: readonly MetricsSnapshot[],
  options: MergeOptions = {},
): MetricsSnapshot {
  const first = snapshots[0];
  if (first === undefined) {
    throw new FleetbenchError('E_INTERNAL', 'mergeSnapshots needs at least one snapshot');
  }

  let startNs = BigInt(first.startNs);
  let endNs = BigInt(first.endNs);
  for (const s of snapshots) {
    const start = BigInt(s.startNs);
    const end = BigInt(s.endNs);
    if (start < startNs) startNs = start;
    if (end > endNs) endNs = end;
  }

  return {
    startNs: startNs.toString(),
    endNs: endNs.toString(),
    counters: sumRecords(snapshots.map((s) => s.counters)),
    gauges: mergeGauges(snapshots, options.gauges ?? 'sum'),
    histograms: mergeHistograms(snapshots),
  };
}

function sumRecords(records: readonly Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const record of records) {
    for (const [key, n] of Object.entries(record)) sum[key] = (sum[key] ?? 0) + n;
  }
  return sum;
}

function mergeGauges(
  snapshots: readonly MetricsSnapshot[],
  rule: 'sum' | 'latest',
): Record<string, number> {
  if (rule === 'sum') return sumRecords(snapshots.map((s) => s.gauges));

  // Stable sort: among snapshots ending at the same instant, the later one in the list wins.
  const byEnd = [...snapshots].sort((a, b) => compareNs(a.endNs, b.endNs));
  return Object.assign({}, ...byEnd.map((s) => s.gauges)) as Record<string, number>;
}

function compareNs(a: string, b: string): number {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

function mergeHistograms(snapshots: readonly MetricsSnapshot[]): MetricsSnapshot['histograms'] {
  const byName = new Map<HistogramKey, string[]>();
  for (const s of snapshots) {
    for (const [name, encoded] of Object.entries(s.histograms) as [HistogramKey, string][]) {
      const list = byName.get(name) ?? [];
      list.push(encoded);
      byName.set(name, list);
    }
  }

  const merged: MetricsSnapshot['histograms'] = {};
  for (const [name, list] of byName) merged[name] = mergeEncoded(list);
  return merged;
}

/**
 * Adds encoded histograms into one, without loss.
 *
 * @returns the sum, encoded the same way. A single input is returned as it is.
 */
export function mergeEncoded(encoded: readonly string[]): string {
  if (encoded.length === 1 && encoded[0] !== undefined) return encoded[0];
  const sum = createMergeHistogram();
  for (const e of encoded) sum.add(decodeHistogram(e));
  return encodeHistogram(sum);
}

/** What a histogram says, all values in microseconds. */
export interface HistogramSummary {
  /** Number of recorded values. */
  count: number;
  /** Smallest value, µs (the low end of its bucket; 0 when `count` is 0). */
  minUs: number;
  /** Mean, µs, rounded to 0.1 µs; computed from bucket midpoints, so within 0.1%. */
  meanUs: number;
  /** Median, µs. Percentiles are the high end of their bucket (within 0.1% of the value). */
  p50Us: number;
  /** 90th percentile, µs. */
  p90Us: number;
  /** 99th percentile, µs. */
  p99Us: number;
  /** 99.9th percentile, µs. */
  p999Us: number;
  /** Largest value, µs (the high end of its bucket, like the percentiles). */
  maxUs: number;
}

/**
 * Count, min, mean, percentiles and max of an encoded histogram.
 *
 * @throws FleetbenchError `E_REPORT` when the text is not a valid encoding.
 */
export function summarize(encoded: string): HistogramSummary {
  const h = decodeHistogram(encoded);
  if (h.totalCount === 0) {
    return { count: 0, minUs: 0, meanUs: 0, p50Us: 0, p90Us: 0, p99Us: 0, p999Us: 0, maxUs: 0 };
  }
  return {
    count: h.totalCount,
    minUs: h.getValueAtPercentile(0),
    meanUs: Math.round(h.mean * 10) / 10,
    p50Us: h.getValueAtPercentile(50),
    p90Us: h.getValueAtPercentile(90),
    p99Us: h.getValueAtPercentile(99),
    p999Us: h.getValueAtPercentile(99.9),
    maxUs: h.maxValue,
  };
}

/** One step of a percentile distribution. */
export interface PercentilePoint {
  /** Percentile reached, 0 .. 100. */
  percentile: number;
  /** Value at that percentile, µs. */
  valueUs: number;
  /** Values recorded up to and including `valueUs`. */
  totalCount: number;
}

/**
 * The percentile distribution of an encoded histogram, in the steps HdrHistogram's plots and
 * `.hgrm` files use: `ticksPerHalfDistance` points per halving of the distance to 100%, so the
 * tail is drawn in as much detail as the body. Empty for an empty histogram.
 *
 * @param ticksPerHalfDistance points per halving of the remaining distance. Default 5.
 */
export function percentileDistribution(
  encoded: string,
  ticksPerHalfDistance = 5,
): PercentilePoint[] {
  const h = decodeHistogram(encoded);
  const points: PercentilePoint[] = [];
  if (h.totalCount === 0) return points;

  const iterator = h.percentileIterator;
  iterator.reset(ticksPerHalfDistance);
  while (iterator.hasNext()) {
    // The iterator hands back one reused object: copy its fields out.
    const step = iterator.next();
    points.push({
      percentile: step.percentileLevelIteratedTo,
      valueUs: step.valueIteratedTo,
      totalCount: step.totalCountToThisValue,
    });
  }
  return points;
}
