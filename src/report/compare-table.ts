/**
 * The comparison as a person reads it: which reports, what differs in their setup, a table of
 * every metric with its change and whether it is worse, and the `--fail-on` verdicts. A pure
 * function, at most 100 columns wide.
 */

import type { Comparison, ComparisonRow, RowVerdict } from './compare.js';
import { fitLine, formatMetricValue, newTable, painter, wrapWords, type Paint } from './format.js';

/** Widest line {@link renderComparison} produces, columns. */
export const COMPARISON_WIDTH = 100;

/** Options of {@link renderComparison}. */
export interface RenderComparisonOptions {
  /** ANSI colours (for a terminal). Default `false`. */
  color?: boolean;
}

const MARKS: Record<RowVerdict, string> = {
  same: '',
  'within-noise': '~',
  better: 'better',
  worse: 'WORSE',
  changed: 'changed',
  'n/a': '-',
};

const HEAD = ['metric', 'base', 'candidate', 'change', 'change %', ''];

/**
 * Renders a comparison (no trailing newline). Never prints. Lines are at most
 * {@link COMPARISON_WIDTH} columns, colour codes not counted.
 */
export function renderComparison(c: Comparison, options: RenderComparisonOptions = {}): string {
  const paint = painter(options.color ?? false);
  return [headerLines(c, paint).join('\n'), metricTable(c, paint), ruleLines(c, paint).join('\n')]
    .filter((s) => s !== '')
    .join('\n\n');
}

function headerLines(c: Comparison, paint: Paint): string[] {
  const n = c.bases.length;
  const band =
    n === 1
      ? `changes under ${(c.tolerance * 100).toFixed(0)}% marked ~`
      : c.spread === 'range'
        ? 'band: min..max of the bases'
        : `band: mean ± ${c.spread.sd} sd of the bases`;
  const lines = [
    paint(fitLine(`fleetbench compare · ${c.candidate.scenario} · ${band}`), 'bold'),
    fitLine(`${'candidate'.padEnd(10)} ${c.candidate.label} (${c.candidate.startedAt})`),
    ...c.bases.map((b, i) => {
      const name = n === 1 ? 'base' : `base ${i + 1}`;
      return fitLine(`${name.padEnd(10)} ${b.label} (${b.startedAt})`);
    }),
  ];
  for (const w of c.warnings) {
    lines.push(...wrapWords(`warning: ${w}`, COMPARISON_WIDTH).map((l) => paint(l, 'yellow')));
  }
  return lines;
}

function metricTable(c: Comparison, paint: Paint): string {
  const several = c.bases.length > 1;
  const cells = c.rows.map((row) => rowCells(row, several, c));

  // Columns other than the metric take what they need; the metric name gets the rest.
  const natural = HEAD.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const others = natural.slice(1).reduce((s, w) => s + w + 2, 0);
  const borders = HEAD.length + 1;
  const metricWidth = Math.min((natural[0] ?? 6) + 2, COMPARISON_WIDTH - borders - others);
  const widths = [metricWidth, ...natural.slice(1).map((w) => w + 2)];

  const table = newTable(HEAD, ['left', 'right', 'right', 'right', 'right', 'left'], widths);
  c.rows.forEach((row, i) => {
    const r = cells[i] ?? [];
    // The end of a long path says most (`...connect.failed.refused.135`): cut its start.
    const path = r[0] ?? '';
    const room = metricWidth - 2;
    r[0] = path.length <= room ? path : `…${path.slice(path.length - room + 1)}`;
    const mark = r[5] ?? '';
    const painted =
      row.verdict === 'worse'
        ? paint(mark, 'red')
        : row.verdict === 'better'
          ? paint(mark, 'green')
          : mark;
    table.push([...r.slice(0, 5), painted]);
  });
  return table.toString();
}

function rowCells(row: ComparisonRow, several: boolean, c: Comparison): string[] {
  const value = (v: number | null) => (v === null ? '-' : formatMetricValue(v, row.unit));
  let base = '-';
  if (row.base !== null) {
    const b = row.base;
    if (!several) base = value(b.mean);
    else if (b.min === b.max) base = value(b.min);
    else if (c.spread === 'range') base = rangeText(value(b.min), value(b.max));
    else base = `${value(b.mean)} ±${value(b.high - b.mean)}`;
  }
  const change = row.change === null ? '' : formatMetricValue(row.change, row.unit, true);
  let relative = '';
  if (row.relativeChange !== null) relative = formatRelative(row.relativeChange);
  else if (row.change === 0) relative = '0%';
  else if (row.change !== null) relative = 'new';
  return [row.path, base, value(row.candidate), change, relative, MARKS[row.verdict]];
}

/** `2.61..2.65 ms`: the unit once, after the upper value. */
function rangeText(low: string, high: string): string {
  const unit = / ms$|\/s$|%$/.exec(high)?.[0];
  const bare = unit !== undefined && low.endsWith(unit) ? low.slice(0, -unit.length) : low;
  return `${bare}..${high}`;
}

function formatRelative(r: number): string {
  if (r === 0) return '0%';
  const pct = r * 100;
  const digits = Math.abs(pct) < 10 ? 1 : 0;
  return `${pct > 0 ? '+' : ''}${pct.toFixed(digits)}%`;
}

function ruleLines(c: Comparison, paint: Paint): string[] {
  const worse = c.rows.filter((r) => r.verdict === 'worse').length;
  const lines: string[] = [];
  if (c.rules.length > 0) lines.push(paint('fail-on rules:', 'bold'));
  for (const r of c.rules) {
    const fmt = (v: number | null) => (v === null ? 'nothing' : formatMetricValue(v, r.unit));
    const status = r.tripped ? 'TRIPPED' : 'ok     ';
    const detail = r.note ?? `${fmt(r.actual)} against ${fmt(r.limit)}`;
    const line = fitLine(`  ${status} ${r.rule}: ${detail}`, COMPARISON_WIDTH);
    lines.push(line.replace(status, paint(status, r.tripped ? 'red' : 'green')));
  }
  const tripped = c.rules.filter((r) => r.tripped).length;
  const verdict =
    c.rules.length === 0
      ? `${worse} metric(s) worse; no --fail-on rules`
      : `${worse} metric(s) worse; ${tripped} of ${c.rules.length} rule(s) tripped`;
  lines.push(paint(verdict, tripped > 0 ? 'red' : 'bold'));
  return lines;
}
