/** The metric paths a comparison shows for a set of reports. */

import { HISTOGRAM_NAMES } from '../metrics/types.js';
import { CAPACITY_FIELDS, type MetricSource } from './metric-path.js';

/** The statistics {@link listMetricPaths} lists for each histogram. */
export const LISTED_STATS = ['count', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max'] as const;

/**
 * Every metric path worth showing for the given reports, in a stable reading order: each
 * histogram's statistics, then every counter any of them has (with `connect.failed`,
 * `connect.failed.rate` and per-second rates of traffic), then `duration`.
 */
export function listMetricPaths(sources: readonly MetricSource[]): string[] {
  const histograms = HISTOGRAM_NAMES.filter((name) =>
    sources.some((s) => s.metrics.histograms[name] !== undefined),
  );
  const paths: string[] = [];
  for (const name of histograms) for (const stat of LISTED_STATS) paths.push(`${name}.${stat}`);

  const counters = new Set<string>();
  for (const s of sources) for (const key of Object.keys(s.metrics.counters)) counters.add(key);
  const hasFailure = [...counters].some((k) => k.startsWith('connect.failed.'));
  if (counters.has('connect.attempted') || hasFailure) {
    counters.add('connect.failed');
    counters.add('connect.failed.rate');
  }
  for (const key of ['connect.ok', 'messages.published', 'messages.received']) {
    if (counters.has(key)) counters.add(`${key}.perSec`);
  }
  if (counters.has('messages.published')) counters.add('messages.received.rate');
  if (counters.has('commands.published')) counters.add('commands.received.rate');
  if (counters.has('fanIn.received')) counters.add('fanIn.received.perSec');
  paths.push(...[...counters].sort(), 'duration');
  if (sources.some((s) => s.capacity !== undefined)) {
    paths.push(...CAPACITY_FIELDS.map((f) => `capacity.${f}`));
  }
  return paths;
}
