/** A histogram statistic of a report, read from its encoded histogram. */

import type { JsHistogram } from 'hdr-histogram-js';

import { decodeHistogram } from '../metrics/histogram.js';
import type { HistogramKey, MetricsSnapshot } from '../metrics/types.js';
import type { HistogramStat, MetricDirection, MetricUnit, ResolvedMetric } from './metric-path.js';

/**
 * Resolves one statistic of a report's histogram: its count (0 when the report lacks it), or a
 * latency in microseconds (`null` when the histogram is absent or empty).
 *
 * @throws FleetbenchError `E_REPORT` for a histogram that is not a valid encoding.
 */
export function resolveHistogram(
  metrics: MetricsSnapshot,
  name: HistogramKey,
  stat: HistogramStat,
  path: string,
): ResolvedMetric {
  const encoded = metrics.histograms[name];
  const h = encoded === undefined ? undefined : decodeCached(encoded);
  const unit: MetricUnit = stat === 'count' ? 'count' : 'us';
  const direction: MetricDirection = stat === 'count' ? 'neutral' : 'lower-is-better';
  if (stat === 'count') return { path, value: h?.totalCount ?? 0, unit, direction };
  if (h === undefined || h.totalCount === 0) return { path, value: null, unit, direction };

  let value: number;
  if (stat === 'min') value = h.getValueAtPercentile(0);
  else if (stat === 'max') value = h.maxValue;
  else if (stat === 'mean') value = Math.round(h.mean * 10) / 10;
  else value = h.getValueAtPercentile(stat.percentile);
  return { path, value, unit, direction };
}

/** Decoding costs about a millisecond; a comparison asks each histogram a dozen questions. */
const decoded = new Map<string, JsHistogram>();
const DECODED_CACHE_SIZE = 64;

function decodeCached(encoded: string): JsHistogram {
  const hit = decoded.get(encoded);
  if (hit !== undefined) return hit;
  const h = decodeHistogram(encoded);
  if (decoded.size >= DECODED_CACHE_SIZE) {
    const oldest = decoded.keys().next();
    if (oldest.done !== true) decoded.delete(oldest.value);
  }
  decoded.set(encoded, h);
  return h;
}
