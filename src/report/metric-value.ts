/**
 * The values written beside a metric path (a threshold's limit, a `--fail-on` amount), read into
 * the metric's own unit.
 */

import type { MetricUnit } from './metric-path.js';

/** Multipliers from a written unit to each metric unit. */
const VALUE_UNITS: Record<MetricUnit, Record<string, number>> = {
  us: { '': 1, us: 1, µs: 1, ms: 1000, s: 1_000_000 },
  ms: { '': 1, ms: 1, s: 1000, min: 60_000 },
  count: { '': 1 },
  ratio: { '': 1, '%': 0.01 },
  'per-sec': { '': 1, '/s': 1 },
};

/**
 * Reads a value written for a metric of `unit` into that unit: `50ms` or `50000us` for a
 * latency (µs; a bare number is µs), `1%` or `0.01` for a ratio, `2s` for a duration (ms).
 *
 * @returns the value, or `undefined` when the text is not a number with a unit the metric takes.
 */
export function parseMetricValue(text: string, unit: MetricUnit): number | undefined {
  const m = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([a-zµ%/]*)\s*$/i.exec(text);
  if (m?.[1] === undefined) return undefined;
  const factor = VALUE_UNITS[unit][m[2] ?? ''];
  return factor === undefined ? undefined : Number(m[1]) * factor;
}

/** The units {@link parseMetricValue} takes for a metric unit, for hints: `us, ms, s`. */
export function writtenUnits(unit: MetricUnit): string {
  const units = Object.keys(VALUE_UNITS[unit]).filter((u) => u !== '' && u !== 'µs');
  return units.length === 0 ? 'a plain number' : `a plain number or ${units.join(', ')}`;
}
