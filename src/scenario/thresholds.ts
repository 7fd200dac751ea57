/**
 * Thresholds, k6 style: `connect.p99 < 500ms`, `roundtrip.p99 < 50ms`,
 * `connect.failed.rate < 0.1%`, `messages.lost == 0`. A rule is a metric path (resolved by
 * report/metric-path.ts, the same paths `compare` takes), an operator and a value with an
 * optional unit. Parsed when the scenario loads, so a typo fails before any device connects;
 * evaluated against the finished report (or, for `abortOnFail`, the running totals).
 */

import { FleetbenchError } from '../errors.js';
import {
  metricUnit,
  parseMetricPath,
  resolveMetric,
  type MetricPath,
  type MetricSource,
} from '../report/metric-path.js';

export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A parsed threshold, plain data (it travels in the plan). */
export interface ThresholdPlan {
  /** The rule as written. */
  expression: string;
  /** The metric path, as written. */
  metric: string;
  op: ThresholdOperator;
  /** The limit in the unit shown (`unit`). */
  limit: number;
  /** The unit the limit was written in and the verdict shows: `ms`, `s`, `%`, ... or ''. */
  unit: string;
  /** Factor from the metric's own unit (µs, ms, ratio, count, per second) to `unit`. */
  scale: number;
  /** Evaluate against this phase's metrics instead of the whole run's. */
  phase: string | null;
  /** Stop the run as soon as the running totals break the rule. */
  abortOnFail: boolean;
  /** With `abortOnFail`: not before this many seconds into the run. */
  delayAbortEvalSec: number;
}

/** A threshold's outcome, as the report keeps it. */
export interface ThresholdOutcome {
  expression: string;
  ok: boolean;
  /** The measured value in the rule's unit; `null` when nothing was measured (a failure). */
  actual: number | null;
  unit: string;
  phase: string | null;
  /** Set when this rule stopped the run early. */
  aborted?: boolean;
}

const RULE =
  /^\s*([A-Za-z0-9_.-]+)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(\S*)\s*$/i;

const NOTHING = { startNs: '0', endNs: '0', counters: {}, gauges: {}, histograms: {} };

/** Units a time may be written in, and µs per unit. */
const TIME_UNITS: Record<string, number> = { us: 1, µs: 1, ms: 1000, s: 1e6, min: 6e7 };

/**
 * Parses one rule.
 * @param where how to name it in messages, e.g. `thresholds[2]` or `--threshold`
 * @throws FleetbenchError `E_SCENARIO` naming `where`, the rule and the fix
 */
export function parseThreshold(
  expression: string,
  where: string,
  options: { phase?: string | null; abortOnFail?: boolean; delayAbortEvalSec?: number } = {},
): ThresholdPlan {
  const m = RULE.exec(expression);
  if (m === null) {
    throw bad(where, expression, 'is not of the form <metric> <op> <value>[unit]');
  }
  const [, metric = '', op = '<', number = '0', unit = ''] = m;
  let path: MetricPath;
  try {
    path = parseMetricPath(metric);
    // Against an empty report: a counter outside the families fleetbench records is a typo.
    resolveMetric({ metrics: NOTHING, durationMs: 1 }, path);
  } catch (err) {
    const why = err instanceof FleetbenchError ? err.message : String(err);
    const hint = err instanceof FleetbenchError ? err.hint : undefined;
    throw new FleetbenchError('E_SCENARIO', `${where}: ${why} (got "${expression}")`, { hint });
  }
  const scale = unitScale(path, unit, where, expression);
  return {
    ...{ expression: expression.trim(), metric, op: op as ThresholdOperator },
    ...{ limit: Number(number), unit: displayUnit(path, unit), scale },
    phase: options.phase ?? null,
    abortOnFail: options.abortOnFail ?? false,
    delayAbortEvalSec: options.delayAbortEvalSec ?? 0,
  };
}

function displayUnit(path: MetricPath, unit: string): string {
  const base = metricUnit(path);
  if (unit !== '') return unit === 'µs' ? 'us' : unit;
  // k6's convention: a bare number against a time is milliseconds.
  return base === 'us' || base === 'ms' ? 'ms' : '';
}

/** Factor that turns the metric's value into the rule's unit. */
function unitScale(path: MetricPath, unit: string, where: string, expression: string): number {
  const base = metricUnit(path);
  if (base === 'us' || base === 'ms') {
    const perUnit = TIME_UNITS[unit === '' ? 'ms' : unit];
    if (perUnit === undefined) throw bad(where, expression, `takes a time unit: us, ms, s, min`);
    return (base === 'us' ? 1 : 1000) / perUnit;
  }
  if (base === 'ratio') {
    if (unit === '%') return 100;
    if (unit === '') return 1;
    throw bad(where, expression, 'is a ratio: write it as a share (0.001) or a percentage (0.1%)');
  }
  if (base === 'per-sec' && (unit === '' || unit === '/s')) return 1;
  if (base === 'count' && unit === '') return 1;
  throw bad(where, expression, `takes a plain number, not "${unit}"`);
}

function bad(where: string, expression: string, why: string): FleetbenchError {
  return new FleetbenchError('E_SCENARIO', `${where} ${why} (got "${expression}")`, {
    hint:
      'write a rule such as "connect.p99 < 500ms", "connect.failed.rate < 0.1%" or ' +
      '"messages.lost == 0"; operators < <= > >= == !=',
  });
}

/** Whether `value op limit` holds. */
function holds(value: number, op: ThresholdOperator, limit: number): boolean {
  switch (op) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '==':
      return value === limit;
    case '!=':
      return value !== limit;
  }
}

/**
 * Evaluates one threshold against a source (a report, a phase of one, or running totals).
 * A metric with nothing measured (an empty histogram, a rate over zero) fails the rule: a
 * limit on round trips that never happened has not been met.
 */
export function evaluateThreshold(t: ThresholdPlan, source: MetricSource): ThresholdOutcome {
  const resolved = resolveMetric(source, t.metric);
  const value = resolved.value === null ? null : resolved.value * t.scale;
  const ok = value !== null && holds(value, t.op, t.limit);
  const actual = value === null ? null : roundShown(value);
  return { expression: t.expression, ok, actual, unit: t.unit, phase: t.phase };
}

/**
 * Four significant digits (the histograms hold three): enough to see why a rule failed, without
 * float noise.
 */
function roundShown(v: number): number {
  return Number(v.toPrecision(4));
}
