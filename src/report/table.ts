/**
 * The summary a person reads at the end of a run: a header, connections, messages, latency.
 * A pure function of the report, at most 100 columns wide; the caller decides where it goes.
 */

import { HISTOGRAM_NAMES, type GroupHistogramName, type HistogramName } from '../metrics/types.js';
import { connackReason } from './connack.js';
import type { HistogramSummary } from '../metrics/merge.js';
import type { ReportDocument } from './document.js';
import {
  fitLine,
  formatCount,
  formatDuration,
  formatMs,
  formatPercent,
  formatRate,
  newTable,
  painter,
  transportLabel,
  wrapWords,
  type Paint,
} from './format.js';
import { behaviourTable } from './behaviour-table.js';
import { capacityLines } from './capacity.js';
import { phaseTable } from './phase-table.js';
import { tlsSummary, tlsSummaryLines } from './tls-summary.js';

/** Widest line {@link renderSummary} produces, columns. */
export const SUMMARY_WIDTH = 100;

/** Options of {@link renderSummary}. */
export interface RenderSummaryOptions {
  /** Use ANSI colours (for a terminal). Default `false`. */
  color?: boolean;
}

/** How each histogram is labelled in the latency table. */
const LATENCY_LABELS: Record<HistogramName, string> = {
  connect: 'connect',
  tcp: '  tcp',
  tls: '  tls',
  websocket: '  websocket',
  tlsFull: '    tls full',
  tlsResumed: '    tls resumed',
  connack: '  connack',
  suback: 'suback',
  puback: 'puback',
  pubcomp: 'pubcomp',
  roundtrip: 'round trip',
  roundtripCorrected: '  from schedule',
  scheduleLag: '  schedule lag',
  connectLag: '  connect lag',
  reconnect: 'reconnect',
  downtime: '  downtime',
  commandRoundtrip: 'command round trip',
  fanIn: 'fan-in (monitors)',
};

/** How many failure samples the summary shows; the report keeps them all. */
const MAX_FAILURE_LINES = 5;

/**
 * Renders the end-of-run summary of a report as text (no trailing newline). Never prints.
 * Every line is at most {@link SUMMARY_WIDTH} columns, colour codes not counted.
 */
export function renderSummary(report: ReportDocument, options: RenderSummaryOptions = {}): string {
  const paint = painter(options.color ?? false);

  const sections = [
    headerLines(report, paint).join('\n'),
    connectionTable(report, paint),
    messageTable(report),
    behaviourTable(report),
    latencyTable(report),
    tlsLines(report).join('\n'),
    phaseTable(report),
    capacityLines(report.capacity).join('\n'),
    failureLines(report, paint).join('\n'),
    accountingLines(report, paint).join('\n'),
    thresholdLines(report, paint).join('\n'),
  ];
  return sections.filter((s) => s !== '').join('\n\n');
}

function headerLines(report: ReportDocument, paint: Paint): string[] {
  const o = report.options;
  const parts = [
    `fleetbench ${report.scenario.name}`,
    `target ${o.target}${transportLabel(o)}`,
    `${formatCount(o.devices)} devices on ${formatCount(o.workers)} workers`,
    formatDuration(report.durationMs),
  ];
  const lines = wrapParts(parts, ' · ', SUMMARY_WIDTH).map((line, i) =>
    i === 0 ? paint(line, 'bold') : line,
  );
  const run = report.run;
  if (run?.shard && run.shard.count > 1) {
    const { index, count, devices } = run.shard;
    lines.push(`run ${run.id} · shard ${index}/${count} (${formatCount(devices)} devices)`);
  }
  if (report.mergedFrom !== undefined) {
    const from = report.mergedFrom.map((m) => `${m.file} (${formatCount(m.devices)})`);
    lines.push(...wrapWords(`merged from ${from.length} shard reports: ${from.join(', ')}`));
    if (run?.shards !== undefined) {
      const missing = run.missingShards ?? [];
      const lacking = missing.length > 0 ? `; missing ${missing.join(', ')}` : '';
      const text = `run ${run.id} · shards ${run.shards.join(', ')} of ${run.shardCount ?? '?'}`;
      lines.push(...wrapWords(`${text}${lacking}`));
    }
  }

  if (report.partial !== null) {
    const { reason, phase } = report.partial;
    const text = `PARTIAL: stopped (${reason}) during ${phase}; numbers cover only what ran`;
    lines.push(...wrapWords(text, SUMMARY_WIDTH).map((l) => paint(l, 'yellow')));
  }
  for (const warning of report.warnings) {
    lines.push(...wrapWords(`warning: ${warning}`, SUMMARY_WIDTH).map((l) => paint(l, 'yellow')));
  }
  return lines;
}

/** Joins parts with a separator, starting a new line rather than passing `width`. */
function wrapParts(parts: string[], separator: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    const next = line === '' ? part : `${line}${separator}${part}`;
    if (next.length <= width || line === '') {
      line = next;
    } else {
      lines.push(line);
      line = part;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => fitLine(l, width));
}

function connectionTable(report: ReportDocument, paint: Paint): string {
  const c = report.metrics.counters;
  const attempted = c['connect.attempted'] ?? 0;
  const ok = c['connect.ok'] ?? 0;
  const failures = Object.entries(c)
    .filter(([key, n]) => key.startsWith('connect.failed.') && n > 0)
    .map(([key, n]) => [failureLabel(key.slice('connect.failed.'.length)), n] as const)
    .sort((a, b) => b[1] - a[1]);
  const failed = failures.reduce((sum, [, n]) => sum + n, 0);

  const table = newTable(['connections', 'count', 'share'], ['left', 'right', 'right']);
  const row = (label: string, n: number, bad = false): void => {
    const count = bad && n > 0 ? paint(formatCount(n), 'red') : formatCount(n);
    table.push([label, count, formatPercent(n, attempted)]);
  };
  row('attempted', attempted);
  row('connected', ok);
  row('failed', failed, true);
  for (const [label, n] of failures) row(`  ${label}`, n, true);

  const pending = attempted - ok - failed;
  if (pending > 0) row('unfinished at end', pending);
  const lost = c['connection.lost'] ?? 0;
  if (lost > 0) row('lost after connect', lost, true);
  return table.toString();
}

/** `refused.135` → `refused 135 not authorized`; other categories as they are. */
function failureLabel(category: string): string {
  const refused = /^refused\.(.+)$/.exec(category);
  if (refused?.[1] === undefined) return category;
  const code = refused[1].slice(0, 12);
  const reason = connackReason(code);
  return reason === undefined ? `refused ${code}` : `refused ${code} ${reason}`;
}

function messageTable(report: ReportDocument): string {
  const c = report.metrics.counters;
  const rows: [string, string][] = [
    ['published', 'messages.published'],
    ['acked', 'messages.acked'],
    ['received', 'messages.received'],
    ['failed', 'messages.failed'],
    ['lost', 'messages.lost'],
    ['duplicated', 'messages.duplicated'],
    ['out of order', 'messages.outOfOrder'],
    ['late', 'messages.late'],
    ['interrupted', 'messages.interrupted'],
    ['subscribe failed', 'subscribe.failed'],
    ['sent late', 'schedule.late'],
    ['skipped (behind)', 'schedule.skipped'],
    ['skipped (no device)', 'schedule.noDevice'],
  ];
  // Accounting rows only when they moved: a clean run shows published/acked/received.
  const optional = new Set(['messages.lost', 'messages.duplicated', 'messages.outOfOrder']);
  for (const k of ['messages.late', 'messages.interrupted', 'schedule.late']) optional.add(k);
  for (const k of ['schedule.skipped', 'schedule.noDevice']) optional.add(k);
  const present = rows.filter(
    ([, key]) => c[key] !== undefined && (!optional.has(key) || (c[key] ?? 0) > 0),
  );
  if (present.length === 0) return '';

  const table = newTable(['messages', 'count', 'per s'], ['left', 'right', 'right']);
  for (const [label, key] of present) {
    const n = c[key] ?? 0;
    table.push([label, formatCount(n), formatRate(n, report.durationMs)]);
  }
  return table.toString();
}

function latencyTable(report: ReportDocument): string {
  const latency = report.metrics.latency;
  const names = HISTOGRAM_NAMES.filter((name) => (latency[name]?.count ?? 0) > 0);
  if (names.length === 0) return '';

  const head = ['latency (ms)', 'count', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max'];
  const table = newTable(head, ['left', ...head.slice(1).map(() => 'right' as const)]);
  const rows: [string, HistogramSummary | undefined][] = names.map((n) => [
    LATENCY_LABELS[n],
    latency[n],
  ]);
  // Each monitor group's own fan-in, under the run's.
  for (const key of Object.keys(latency).sort()) {
    const group = /^groups\.([^.]+)\.fanIn$/.exec(key)?.[1];
    if (group !== undefined) rows.push([`  fan-in ${group}`, latency[key as GroupHistogramName]]);
  }
  for (const [label, s] of rows) {
    if (s === undefined || s.count === 0) continue;
    const values = [s.meanUs, s.p50Us, s.p90Us, s.p99Us, s.p999Us, s.maxUs].map(formatMs);
    table.push([fitLine(label, 24), formatCount(s.count), ...values]);
  }
  return table.toString();
}

/** Full and resumed handshakes, and what was negotiated; nothing for plain TCP. */
function tlsLines(report: ReportDocument): string[] {
  const s = tlsSummary(report.metrics.counters);
  if (s === null) return [];
  return tlsSummaryLines(s, formatCount).flatMap((line) => wrapWords(line, SUMMARY_WIDTH));
}

/** The accounting verdict: errors in red, notes plain; nothing for a clean run. */
function accountingLines(report: ReportDocument, paint: Paint): string[] {
  const a = report.accounting;
  if (a === undefined || a.errors.length + a.notes.length === 0) return [];
  const lines = [paint('message accounting:', a.errors.length > 0 ? 'red' : 'bold')];
  for (const e of a.errors) lines.push(...wrapWords(`  ERROR ${e}`).map((l) => paint(l, 'red')));
  for (const n of a.notes) lines.push(...wrapWords(`  note: ${n}`));
  return lines;
}

/** One line per threshold: `pass  connect.p99 < 500ms: 123 ms`; failures in red. */
function thresholdLines(report: ReportDocument, paint: Paint): string[] {
  const verdicts = report.thresholds ?? [];
  if (verdicts.length === 0) return [];
  const failed = verdicts.filter((v) => !v.ok).length;
  const head = failed === 0 ? 'thresholds: all passed' : `thresholds: ${failed} failed`;
  const lines = [paint(head, failed === 0 ? 'bold' : 'red')];
  for (const v of verdicts) {
    const unit = v.unit === undefined || v.unit === '' ? '' : ` ${v.unit}`;
    const value = v.actual === null ? 'nothing measured' : `${v.actual}${unit}`;
    const scope = v.phase === undefined || v.phase === null ? '' : ` in phase ${v.phase}`;
    const stopped = v.aborted === true ? ' (stopped the run)' : '';
    const line = fitLine(
      `  ${v.ok ? 'pass' : 'FAIL'}  ${v.expression}${scope}: ${value}${stopped}`,
    );
    lines.push(v.ok ? line : paint(line, 'red'));
  }
  return lines;
}

function failureLines(report: ReportDocument, paint: Paint): string[] {
  if (report.failures.length === 0) return [];
  const samples = [...report.failures].sort((a, b) => b.count - a.count);
  const lines = [paint('first failure of each kind:', 'bold')];
  for (const f of samples.slice(0, MAX_FAILURE_LINES)) {
    const message = f.message.replace(/\s+/g, ' ');
    lines.push(fitLine(`  ${f.category} ×${formatCount(f.count)} ${f.deviceId}: ${message}`));
  }
  if (samples.length > MAX_FAILURE_LINES) {
    const more = samples.length - MAX_FAILURE_LINES;
    lines.push(paint(`  ... ${more} more kind(s) in the report's "failures"`, 'dim'));
  }
  return lines;
}
