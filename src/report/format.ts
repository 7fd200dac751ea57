/**
 * Number and text formatting shared by the summary and later text outputs. Precision follows
 * the histograms': about three significant digits, never more than they hold.
 */

import Table from 'cli-table3';

import type { MetricUnit } from './metric-path.js';

/** Default line width, columns. */
const DEFAULT_WIDTH = 100;

/** An integer with thousands separators: `1234567` → `1,234,567`. Locale-independent. */
export function formatCount(n: number): string {
  const sign = n < 0 ? '-' : '';
  return sign + String(Math.round(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * A duration in microseconds shown in milliseconds with about three significant digits:
 * `0.123`, `1.23`, `12.3`, `123`, `12345`.
 */
export function formatMs(us: number): string {
  const ms = us / 1000;
  if (ms === 0) return '0';
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

/** `part` as a share of `whole`, one decimal: `99.5%`; empty when `whole` is 0. */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '';
  return `${((part / whole) * 100).toFixed(1)}%`;
}

/** Events per second over `durationMs`, three significant digits; empty for no duration. */
export function formatRate(n: number, durationMs: number): string {
  if (durationMs <= 0) return '';
  const perSec = n / (durationMs / 1000);
  if (perSec === 0) return '0';
  if (perSec >= 100) return formatCount(perSec);
  if (perSec >= 10) return perSec.toFixed(1);
  if (perSec >= 1) return perSec.toFixed(2);
  return perSec.toFixed(3);
}

/** A run length for people: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSec = Math.round(ms / 1000);
  if (totalSec < 3600) {
    return `${Math.floor(totalSec / 60)} min ${String(totalSec % 60).padStart(2, '0')} s`;
  }
  const totalMin = Math.round(totalSec / 60);
  return `${Math.floor(totalMin / 60)} h ${String(totalMin % 60).padStart(2, '0')} min`;
}

/**
 * Cuts a line to `width` columns with an ellipsis.
 *
 * @param width columns. Default 100.
 */
export function fitLine(line: string, width = DEFAULT_WIDTH): string {
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/**
 * Wraps text at spaces into lines of at most `width` columns; continuation lines are indented
 * by two spaces, and a word longer than a line is cut.
 *
 * @param width columns. Default 100.
 */
export function wrapWords(text: string, width = DEFAULT_WIDTH): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (candidate.length <= width || line === '') {
      line = candidate;
    } else {
      lines.push(line);
      line = `  ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => fitLine(l, width));
}

/** Text styles of the terminal outputs. */
export type Paint = (text: string, style: 'bold' | 'red' | 'yellow' | 'green' | 'dim') => string;

const ANSI = {
  bold: [1, 22],
  red: [31, 39],
  yellow: [33, 39],
  green: [32, 39],
  dim: [2, 22],
} as const;

/** A {@link Paint} with ANSI colours, or one that leaves text as it is. */
export function painter(color: boolean): Paint {
  return color
    ? (text, style) => `\x1b[${ANSI[style][0]}m${text}\x1b[${ANSI[style][1]}m`
    : (text) => text;
}

/**
 * A cli-table3 table in the outputs' compact style.
 *
 * @param colWidths widths of the columns including padding; default: as wide as the content.
 */
export function newTable(
  head: string[],
  colAligns: ('left' | 'right')[],
  colWidths?: number[],
): Table.Table {
  // Colour is applied by hand (see Paint): cli-table3's own colouring follows the process's
  // TTY, which would make a renderer's output depend on where it runs.
  return new Table({
    head,
    colAligns,
    ...(colWidths === undefined ? {} : { colWidths }),
    style: { head: [], border: [], compact: true },
  });
}

/**
 * A metric's value with its unit for people: latencies in ms (`4.19 ms`), durations as
 * {@link formatDuration}, ratios in percent (`0.50%`), rates per second, counts with separators.
 *
 * @param signed prefix `+` to positive values (for changes). Default `false`.
 */
export function formatMetricValue(value: number, unit: MetricUnit, signed = false): string {
  const sign = signed && value > 0 ? '+' : value < 0 ? '-' : '';
  const v = Math.abs(value);
  switch (unit) {
    case 'us':
      return `${sign}${formatMs(v)} ms`;
    case 'ms':
      return `${sign}${formatDuration(v)}`;
    case 'ratio':
      return `${sign}${(v * 100).toFixed(v < 0.001 && v > 0 ? 3 : 2)}%`;
    case 'per-sec':
      return `${sign}${formatRate(v, 1000)}/s`;
    case 'count':
      return `${sign}${Number.isInteger(v) ? formatCount(v) : v.toFixed(1)}`;
  }
}

const TRANSPORT_LABELS: Record<string, string> = {
  tls: 'MQTT over TLS',
  wss: 'MQTT over secure WebSockets',
  tcp: 'plain TCP, no TLS',
  ws: 'WebSockets, no TLS',
};

/** ` (MQTT over TLS)`, from a report's `options.transport`; '' for reports without it. */
export function transportLabel(options: Record<string, unknown>): string {
  const t = options['transport'];
  return typeof t === 'string' ? ` (${TRANSPORT_LABELS[t] ?? t})` : '';
}
