/**
 * Metric paths: the one way to name a number in a report. Thresholds (`roundtrip.p99 < 50ms`),
 * `compare --fail-on` rules and the comparison table all go through this module, so a path means
 * the same thing everywhere.
 *
 * Forms, each resolved against a report's whole-run metrics:
 * - `<histogram>.<stat>`: `count`, `min`, `mean`, `max`, or a percentile `p<0..100>` such as
 *   `p50`, `p99`, `p99.9`, `p99.99` (also `median`). Latencies in microseconds. A monitor
 *   group's own fan-in histogram is `groups.<name>.fanIn`.
 * - any counter key, e.g. `connect.ok`, `messages.received`, `groups.fleet.connect.failed.tls`.
 *   A counter of a known family (`connect.`, `connection.`, `reconnect.`, `storm.`, `messages.`,
 *   `commands.`, `fanIn.`, `wills.`, `subscribe.`, `metrics.`, `schedule.`, the handshake
 *   counters `tls.full`, `tls.resumed`, `tls.protocol.`, `tls.cipher.`, `tls.group.`, each also
 *   under `groups.<name>.`) that the report lacks never moved: it resolves to 0.
 * - `connect.failed` and `reconnect.failed` (also under `groups.<name>.` and `targets.<i>.`):
 *   the sum of every failure category.
 * - `<counter>.rate`: the counter as a ratio of its family's denominator: `connect.*` over
 *   `connect.attempted`, `messages.*` over `messages.published`, `subscribe.*` over
 *   `subscribe.ok + subscribe.failed`, `connection.lost` over `connect.ok`, `reconnect.*` over
 *   `reconnect.attempted`, `commands.*` over `commands.published`, `tls.*` over
 *   `tls.full + tls.resumed` (every handshake), `targets.<i>.connect.*` over that target's
 *   `connect.ok + connect.failed`. So
 *   `connect.failed.rate` is failed / attempted, 0..1.
 * - `<counter>.perSec`: the counter over the run's duration, events per second.
 * - `duration`: the run's duration, ms.
 * - `shard.startLatenessMs`: how late the shard started against the agreed start, ms (a merged
 *   report: the latest shard); `shard.clockOffsetMs`: its measured clock offset, ms. Null
 *   when the run had no agreed start or measured no offset.
 * - `capacity.sustainedRatePerSec`, `capacity.achievedRatePerSec` (per second; null when no
 *   step was sustained), `capacity.ceilingReached` (1 or 0) and `capacity.steps` (steps run):
 *   a capacity search's result.
 *
 * Beside this module: metric-value.ts reads the values written for a path, metric-list.ts lists
 * the paths a comparison shows, metric-direction.ts says which way is better.
 */

import { FleetbenchError } from '../errors.js';
import {
  HISTOGRAM_NAMES,
  type GroupHistogramName,
  type HistogramKey,
  type HistogramName,
  type MetricsSnapshot,
} from '../metrics/types.js';
import type { RunIdentity } from './run-identity.js';
import type { CapacityResult } from './capacity.js';
import { directionOf } from './metric-direction.js';
import { resolveHistogram } from './metric-histogram.js';

/** The unit of a resolved value. */
export type MetricUnit =
  /** microseconds (latency statistics) */
  | 'us'
  /** milliseconds (durations) */
  | 'ms'
  /** events (counters, histogram counts) */
  | 'count'
  /** a ratio, 0..1 (`.rate`) */
  | 'ratio'
  /** events per second (`.perSec`) */
  | 'per-sec';

/** Which way is better, for marking regressions. */
export type MetricDirection = 'lower-is-better' | 'higher-is-better' | 'neutral';

/** A metric path, parsed; no report needed, so a scenario can check its paths before a run. */
export type MetricPath =
  | { kind: 'histogram'; path: string; histogram: HistogramKey; stat: HistogramStat }
  | { kind: 'counter'; path: string; key: string }
  | { kind: 'rate'; path: string; key: string; over: readonly string[] }
  | { kind: 'per-sec'; path: string; key: string }
  | { kind: 'duration'; path: string }
  | { kind: 'shard'; path: string; field: ShardField }
  | { kind: 'capacity'; path: string; field: CapacityField };

/** A per-shard figure of the report's `run` section. */
export type ShardField = 'startLatenessMs' | 'clockOffsetMs';

/** The figures of a capacity search a metric path can name. */
export const CAPACITY_FIELDS = [
  'sustainedRatePerSec',
  'achievedRatePerSec',
  'ceilingReached',
  'steps',
] as const;

export type CapacityField = (typeof CAPACITY_FIELDS)[number];

/** A statistic of a histogram: `count`, `min`, `mean`, `max` or a percentile 0..100. */
export type HistogramStat = 'count' | 'min' | 'mean' | 'max' | { percentile: number };

/** A metric's value in one report. */
export interface ResolvedMetric {
  /** The path as given. */
  path: string;
  /** The value in `unit`; `null` when the report measured nothing for it (empty histogram). */
  value: number | null;
  unit: MetricUnit;
  direction: MetricDirection;
}

/**
 * What a metric is resolved against: a report, or any stretch of one (a time-series interval
 * with its length).
 */
export interface MetricSource {
  metrics: MetricsSnapshot;
  /** Length of the stretch, ms (the denominator of `.perSec`). */
  durationMs: number;
  /** The report's run section, for `shard.*`; absent for a stretch of a run. */
  run?: RunIdentity;
  /** A capacity search's result, for `capacity.*`; absent for other runs. */
  capacity?: Pick<
    CapacityResult,
    'sustainedRatePerSec' | 'achievedRatePerSec' | 'ceilingReached' | 'steps'
  >;
}

/** Counter families whose absent counters mean "never moved". */
const FAMILIES =
  'connect|connection|reconnect|storm|messages|commands|fanIn|wills|subscribe|metrics|schedule';
const SCOPE = '(groups\\.[^.]+|targets\\.\\d+)\\.';
const TLS_FAMILIES = 'tls\\.(full|resumed|protocol|cipher|group)(\\.|$)';
const COUNTER_FAMILY = new RegExp(`^(${SCOPE})?((${FAMILIES})\\.|${TLS_FAMILIES})`);
const HISTOGRAMS: ReadonlySet<string> = new Set(HISTOGRAM_NAMES);
const STAT_LIKE = /^(count|min|mean|max|median|p[\d.]+)$/;
const FORMS_HINT =
  'write <histogram>.<count|min|mean|max|p50|p99|p99.9> (histograms: ' +
  `${HISTOGRAM_NAMES.join(', ')}), a counter key such as connect.ok, ` +
  '<counter>.rate (e.g. connect.failed.rate), <counter>.perSec, duration, ' +
  `shard.startLatenessMs, shard.clockOffsetMs or capacity.<${CAPACITY_FIELDS.join('|')}>`;

/**
 * Parses a metric path.
 *
 * @throws FleetbenchError `E_USAGE` naming the path and the forms it may take. Callers that read
 *   the path from a file re-throw with the file's name and setting.
 */
export function parseMetricPath(path: string): MetricPath {
  const text = path.trim();
  if (text === 'duration') return { kind: 'duration', path };
  if (text === 'shard.startLatenessMs' || text === 'shard.clockOffsetMs') {
    return { kind: 'shard', path, field: text.slice('shard.'.length) as ShardField };
  }
  if (text.startsWith('capacity.')) {
    const field = text.slice('capacity.'.length);
    if ((CAPACITY_FIELDS as readonly string[]).includes(field)) {
      return { kind: 'capacity', path, field: field as CapacityField };
    }
    throw unknownPath(path, 'is not a capacity figure');
  }

  // A monitor group's own fan-in histogram: `groups.<name>.fanIn.p99`.
  const own = /^(groups\.[^.]+\.fanIn)\.([^.].*)$/.exec(text);
  if (own?.[1] !== undefined && own[2] !== undefined && STAT_LIKE.test(own[2])) {
    const histogram = own[1] as GroupHistogramName;
    return { kind: 'histogram', path, histogram, stat: parseStat(own[2], path) };
  }

  const dot = text.indexOf('.');
  const head = text.slice(0, dot);
  const stat = text.slice(dot + 1);
  // `connect` is both a histogram and a counter family: `connect.p99` is the one, `connect.ok`
  // the other. A histogram outside the families takes any tail as a statistic, to say what
  // is wrong with it.
  if (dot > 0 && HISTOGRAMS.has(head) && (STAT_LIKE.test(stat) || !COUNTER_FAMILY.test(text))) {
    return {
      kind: 'histogram',
      path,
      histogram: head as HistogramName,
      stat: parseStat(stat, path),
    };
  }

  const suffix = /^(.+)\.(rate|perSec)$/.exec(text);
  if (suffix?.[1] !== undefined && COUNTER_FAMILY.test(`${suffix[1]}.`)) {
    const key = suffix[1];
    if (suffix[2] === 'perSec') return { kind: 'per-sec', path, key };
    return { kind: 'rate', path, key, over: denominatorOf(key, path) };
  }

  if (/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(text)) return { kind: 'counter', path, key: text };
  throw unknownPath(path, 'is not a metric path');
}

function parseStat(stat: string, path: string): HistogramStat {
  if (stat === 'count' || stat === 'min' || stat === 'mean' || stat === 'max') return stat;
  if (stat === 'median') return { percentile: 50 };
  const p = /^p(\d+(?:\.\d+)?)$/.exec(stat);
  const percentile = p?.[1] === undefined ? Number.NaN : Number(p[1]);
  if (!(percentile >= 0 && percentile <= 100)) {
    const why =
      p === null
        ? `has no statistic "${stat}"`
        : `asks for percentile ${p[1] ?? ''}, outside 0..100 (p99.9 is written with its dot)`;
    throw unknownPath(path, why);
  }
  return { percentile };
}

/** The counters whose sum a `.rate` of `key` divides by. */
function denominatorOf(key: string, path: string): readonly string[] {
  const m = /^(groups\.[^.]+\.|targets\.\d+\.)?([a-z]+)\.(.+)$/.exec(key);
  const prefix = m?.[1] ?? '';
  const family = m?.[2];
  // Per target only the outcomes are counted: every attempt ends in one of them.
  if (family === 'connect' && prefix.startsWith('targets.')) {
    return [`${prefix}connect.ok`, `${prefix}connect.failed`];
  }
  if (family === 'connect') return [`${prefix}connect.attempted`];
  if (family === 'messages') return [`${prefix}messages.published`];
  if (family === 'commands') return [`${prefix}commands.published`];
  if (family === 'subscribe') return [`${prefix}subscribe.ok`, `${prefix}subscribe.failed`];
  if (family === 'connection') return [`${prefix}connect.ok`];
  if (family === 'reconnect') return [`${prefix}reconnect.attempted`];
  if (family === 'tls') return [`${prefix}tls.full`, `${prefix}tls.resumed`];
  throw unknownPath(path, 'has no denominator for a rate');
}

function unknownPath(path: string, why: string): FleetbenchError {
  return new FleetbenchError('E_USAGE', `metric "${path}" ${why}`, { hint: FORMS_HINT });
}

/**
 * Resolves a metric path against a report (or a stretch of one).
 *
 * @param path a metric path, or an already parsed one.
 * @throws FleetbenchError `E_USAGE` for a path that is not a metric path, or a counter outside
 *   the known families that the report does not have (most likely a typo); `E_REPORT` for a
 *   histogram that is not a valid encoding.
 */
export function resolveMetric(source: MetricSource, path: string | MetricPath): ResolvedMetric {
  const parsed = typeof path === 'string' ? parseMetricPath(path) : path;
  const shown = parsed.path;
  switch (parsed.kind) {
    case 'duration':
      return { path: shown, value: source.durationMs, unit: 'ms', direction: 'neutral' };
    case 'shard': {
      const run = source.run;
      const value =
        parsed.field === 'startLatenessMs'
          ? (run?.start?.latenessMs ?? null)
          : (run?.clock?.offsetMs ?? null);
      const direction = parsed.field === 'startLatenessMs' ? 'lower-is-better' : 'neutral';
      return { path: shown, value, unit: 'ms', direction };
    }
    case 'capacity':
      return resolveCapacity(source, parsed.field, shown);
    case 'histogram':
      return resolveHistogram(source.metrics, parsed.histogram, parsed.stat, shown);
    case 'counter':
      return {
        path: shown,
        value: counterValue(source.metrics, parsed.key, shown),
        unit: 'count',
        direction: directionOf(parsed.key),
      };
    case 'rate': {
      const over = parsed.over.reduce((sum, k) => sum + counterValue(source.metrics, k, shown), 0);
      const n = counterValue(source.metrics, parsed.key, shown);
      const value = over > 0 ? n / over : null;
      return { path: shown, value, unit: 'ratio', direction: directionOf(shown) };
    }
    case 'per-sec': {
      const n = counterValue(source.metrics, parsed.key, shown);
      const value = source.durationMs > 0 ? n / (source.durationMs / 1000) : null;
      return { path: shown, value, unit: 'per-sec', direction: directionOf(parsed.key) };
    }
  }
}

/** The unit a parsed path resolves in, without a report. */
export function metricUnit(path: MetricPath): MetricUnit {
  switch (path.kind) {
    case 'duration':
    case 'shard':
      return 'ms';
    case 'capacity':
      return path.field.endsWith('PerSec') ? 'per-sec' : 'count';
    case 'histogram':
      return path.stat === 'count' ? 'count' : 'us';
    case 'counter':
      return 'count';
    case 'rate':
      return 'ratio';
    case 'per-sec':
      return 'per-sec';
  }
}

function resolveCapacity(source: MetricSource, field: CapacityField, path: string): ResolvedMetric {
  const c = source.capacity;
  const rate = field.endsWith('PerSec');
  const unit: MetricUnit = rate ? 'per-sec' : 'count';
  const direction: MetricDirection = rate ? 'higher-is-better' : 'neutral';
  let value: number | null = null;
  if (c !== undefined) {
    if (field === 'ceilingReached') value = c.ceilingReached ? 1 : 0;
    else if (field === 'steps') value = c.steps.length;
    else value = c[field];
  }
  return { path, value, unit, direction };
}

function counterValue(metrics: MetricsSnapshot, key: string, path: string): number {
  const c = metrics.counters;
  const direct = c[key];
  if (direct !== undefined) return direct;

  // `connect.failed` is the sum of its categories, recorded only as `connect.failed.<category>`;
  // so is `reconnect.failed`.
  if (/^(groups\.[^.]+\.|targets\.\d+\.)?(re)?connect\.failed$/.test(key)) {
    const prefix = `${key}.`;
    return Object.entries(c).reduce((s, [k, n]) => (k.startsWith(prefix) ? s + n : s), 0);
  }
  if (COUNTER_FAMILY.test(key)) return 0;
  throw unknownPath(path, `names counter "${key}", which the report does not have`);
}
