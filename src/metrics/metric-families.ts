/**
 * How fleetbench's measurements are named on a metrics endpoint: dotted counter keys become
 * Prometheus families with labels (`connect.failed.refused.5` is
 * `fleetbench_connect_failures_total{category="refused",code="5"}`), and the HDR latency
 * histograms become Prometheus histograms in seconds on fixed buckets.
 *
 * Histograms rather than summaries: a summary's quantiles cannot be added across shards or
 * over time, while buckets can (`sum by (le)`, then `histogram_quantile` over any window in
 * Grafana), and a fleet split into shards serves one endpoint per shard. The bucket counts
 * come from the HDR histograms themselves, so they are exact to HDR's 0.1%; the run's exact
 * percentiles stay in the report.
 */

import { decodeHistogram } from './histogram.js';
import type { Labels } from './exposition.js';

/** Where a counter key goes: its family (without `_total`), help text and labels. */
export interface CounterName {
  family: string;
  help: string;
  labels: Labels;
}

/** Families whose keys carry a category (and a code) after a fixed head. */
const CATEGORISED: readonly { head: string; family: string; help: string }[] = [
  { head: 'connect.failed.', family: 'connect_failures', help: 'Failed connects by category' },
  {
    head: 'reconnect.failed.',
    family: 'reconnect_failures',
    help: 'Failed reconnects by category',
  },
];

const FIXED: Readonly<Record<string, { family: string; help: string }>> = {
  'connect.attempted': { family: 'connect_attempts', help: 'Device connects started' },
  'connect.ok': { family: 'connects', help: 'Devices connected (CONNACK accepted)' },
  'connection.lost': { family: 'connections_lost', help: 'Established connections lost' },
  'reconnect.attempted': { family: 'reconnect_attempts', help: 'Reconnects started' },
  'reconnect.ok': { family: 'reconnects', help: 'Reconnects that got a CONNACK' },
  'reconnect.gaveUp': { family: 'reconnect_give_ups', help: 'Devices that stopped retrying' },
  'messages.published': { family: 'messages_published', help: 'Messages sent (out)' },
  'messages.received': { family: 'messages_received', help: 'Messages received (in)' },
  'messages.acked': { family: 'messages_acked', help: 'Publishes acknowledged by the broker' },
  'messages.failed': { family: 'messages_failed', help: 'Publishes that failed' },
};

/** The family, help and labels of one counter key. */
export function counterName(key: string): CounterName {
  const scope = splitScope(key);
  const named = nameWithinScope(scope.rest);
  return {
    family: `fleetbench_${scope.prefix}${named.family}`,
    help: scope.prefix === '' ? named.help : `${named.help}, per ${scope.prefix.slice(0, -1)}`,
    labels: { ...scope.labels, ...named.labels },
  };
}

/** `groups.<g>.` and `targets.<i>.` prefixes become a label and a family prefix. */
function splitScope(key: string): { prefix: string; labels: Labels; rest: string } {
  const m = /^(groups|targets)\.([^.]+)\.(.+)$/.exec(key);
  if (m === null) return { prefix: '', labels: {}, rest: key };
  const kind = m[1] === 'groups' ? 'group' : 'target';
  return { prefix: `${kind}_`, labels: { [kind]: m[2] ?? '' }, rest: m[3] ?? '' };
}

function nameWithinScope(rest: string): CounterName {
  const fixed = FIXED[rest];
  if (fixed !== undefined) return { ...fixed, labels: {} };
  for (const c of CATEGORISED) {
    if (!rest.startsWith(c.head)) continue;
    const [category = 'other', code] = rest.slice(c.head.length).split('.');
    return { family: c.family, help: c.help, labels: code ? { category, code } : { category } };
  }
  const qos = /^messages\.qos(\d)\.(.+)$/.exec(rest);
  if (qos !== null) {
    const kind = snake(qos[2] ?? '');
    return {
      family: `messages_by_qos_${kind}`,
      help: `Messages ${kind}, by QoS`,
      labels: { qos: qos[1] ?? '' },
    };
  }
  const refused = /^(messages\.refused|connect\.refusedBy)\.(.+)$/.exec(rest);
  if (refused !== null) {
    const value = refused[2] ?? '';
    return refused[1] === 'messages.refused'
      ? {
          family: 'messages_refused',
          help: 'Publishes refused, by reason code',
          labels: { code: value },
        }
      : {
          family: 'connect_refusals',
          help: 'Refused connects, by reason',
          labels: { reason: value },
        };
  }
  return { family: snake(rest), help: `fleetbench counter ${rest}`, labels: {} };
}

/** `outOfOrder.x-y` → `out_of_order_x_y`: a valid, readable metric-name part. */
export function snake(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * Upper bounds of the latency buckets, µs: 100 µs to 60 s in 1-2.5-5 steps, which covers a
 * loopback round trip and a connect behind a full listen backlog alike.
 */
export const LATENCY_BOUNDS_US: readonly number[] = [
  100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
  2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000,
];

/** A histogram's cumulative bucket counts, added interval after interval. */
export interface BucketCounts {
  /** Values at or below each of {@link LATENCY_BOUNDS_US}. */
  counts: number[];
  count: number;
  sumUs: number;
}

/** Empty bucket counts. */
export function emptyBuckets(): BucketCounts {
  return { counts: LATENCY_BOUNDS_US.map(() => 0), count: 0, sumUs: 0 };
}

/**
 * Adds an encoded histogram's values into `into`. A value counts under a bound when the start
 * of its HDR bucket is at or below it (within HDR's 0.1%); the sum is count × mean.
 *
 * @throws FleetbenchError `E_REPORT` when the text is not a valid encoding.
 */
export function addToBuckets(into: BucketCounts, encoded: string): void {
  const h = decodeHistogram(encoded);
  if (h.totalCount === 0) return;
  const iterator = h.recordedValuesIterator;
  iterator.reset();
  while (iterator.hasNext()) {
    const step = iterator.next();
    const low = h.lowestEquivalentValue(step.valueIteratedTo);
    for (let i = LATENCY_BOUNDS_US.length - 1; i >= 0; i--) {
      if (low > (LATENCY_BOUNDS_US[i] ?? 0)) break;
      into.counts[i] = (into.counts[i] ?? 0) + step.countAtValueIteratedTo;
    }
  }
  into.count += h.totalCount;
  into.sumUs += h.mean * h.totalCount;
}
