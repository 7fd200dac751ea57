/**
 * `--fail-on` rules of `compare`: a metric path, an operator and a limit that is absolute
 * (`roundtrip.p99>50ms`), a change against the base (`roundtrip.p99>+5ms`) or a relative
 * change (`roundtrip.p99>+10%`). A rule trips when its condition holds for the candidate.
 */

import { FleetbenchError } from '../errors.js';
import { metricUnit, parseMetricPath, type MetricPath, type MetricUnit } from './metric-path.js';
import { parseMetricValue, writtenUnits } from './metric-value.js';

/** Comparison operators a rule may use. */
export type RuleOperator = '>' | '>=' | '<' | '<=';

/** A parsed `--fail-on` rule. */
export interface FailOnRule {
  /** The rule as written. */
  text: string;
  metric: MetricPath;
  op: RuleOperator;
  /**
   * `limit`: the candidate against `amount`. `change`: against the base plus `amount` (same
   * unit as the metric). `relative`: against the base times `1 + amount`.
   */
  kind: 'limit' | 'change' | 'relative';
  /** In the metric's unit (µs for latencies), or a fraction for `relative` (`+10%` is 0.1). */
  amount: number;
}

/** Where the bases put a metric: one value, or the edges of their spread. */
export interface BaseBand {
  /** The lower edge (the value itself for one base). */
  low: number;
  /** The upper edge. */
  high: number;
}

/** A rule's outcome. */
export interface RuleResult {
  rule: string;
  /** The unit of `actual` and `limit`. */
  unit: MetricUnit;
  /** Whether the rule's condition held, i.e. the comparison fails. */
  tripped: boolean;
  /** The candidate's value, in the metric's unit; `null` when it measured nothing. */
  actual: number | null;
  /** The value the candidate was held against, in the metric's unit; `null` without a base. */
  limit: number | null;
  /** Why a rule could not be judged on numbers (it then trips). */
  note?: string;
}

const RULE = /^\s*([A-Za-z0-9_.-]+)\s*(>=|<=|>|<)\s*(\S.*?)\s*$/;

/**
 * Parses a rule such as `roundtrip.p99>+10%`, `connect.failed.rate>0.5%` or
 * `messages.received<-2%`.
 *
 * @throws FleetbenchError `E_USAGE` naming the rule, what is wrong with it and the forms it takes.
 */
export function parseFailOn(text: string): FailOnRule {
  const m = RULE.exec(text);
  const [, path, op, value] = m ?? [];
  if (path === undefined || op === undefined || value === undefined) {
    throw ruleError(text, 'is not <metric><op><value>');
  }

  let metric: MetricPath;
  try {
    metric = parseMetricPath(path);
  } catch (err) {
    const why = err instanceof FleetbenchError ? err.message : String(err);
    throw new FleetbenchError('E_USAGE', `--fail-on "${text}": ${why}`, {
      hint: err instanceof FleetbenchError ? err.hint : undefined,
    });
  }

  const signed = /^[+-]/.test(value);
  if (signed && value.endsWith('%')) {
    const pct = Number(value.slice(0, -1));
    if (!Number.isFinite(pct)) throw ruleError(text, `has a bad percentage "${value}"`);
    return { text, metric, op: op as RuleOperator, kind: 'relative', amount: pct / 100 };
  }

  const unit = metricUnit(metric);
  const amount = parseMetricValue(value, unit);
  if (amount === undefined) {
    throw ruleError(text, `has a value "${value}" this metric does not take (${unit})`, unit);
  }
  return { text, metric, op: op as RuleOperator, kind: signed ? 'change' : 'limit', amount };
}

function ruleError(text: string, why: string, unit?: MetricUnit) {
  const units = unit === undefined ? '' : ` This metric takes ${writtenUnits(unit)}.`;
  return new FleetbenchError('E_USAGE', `--fail-on "${text}" ${why}`, {
    hint:
      'write e.g. roundtrip.p99>+10% (relative to the base), roundtrip.p99>+5ms (change), ' +
      `roundtrip.p99>50ms or connect.failed.rate>1% (limit).${units}`,
  });
}

/**
 * Judges a rule. A change rule is held against the edge of the bases' band on the side it
 * guards (`>` the upper, `<` the lower), so a candidate inside the bases' own spread never trips.
 *
 * @param band where the bases put the metric; `null` when no base measured it.
 */
export function evaluateRule(
  rule: FailOnRule,
  band: BaseBand | null,
  actual: number | null,
): RuleResult {
  const result = (tripped: boolean, limit: number | null, note?: string): RuleResult => ({
    rule: rule.text,
    unit: metricUnit(rule.metric),
    tripped,
    actual,
    limit,
    ...(note === undefined ? {} : { note }),
  });

  let limit: number;
  if (rule.kind === 'limit') {
    limit = rule.amount;
  } else {
    if (band === null) return result(true, null, 'no base measured this metric');
    const reference = rule.op.startsWith('>') ? band.high : band.low;
    limit = rule.kind === 'change' ? reference + rule.amount : reference * (1 + rule.amount);
  }
  if (actual === null) return result(true, limit, 'the candidate measured nothing for it');
  return result(holds(actual, rule.op, limit), limit);
}

function holds(a: number, op: RuleOperator, b: number): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}
