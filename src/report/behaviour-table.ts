/**
 * The summary's part for group behaviours: commands (sent, answered, and their accounting),
 * the wildcard monitors' fan-in and the wills they counted, for the run and per phase. Empty
 * for a run whose groups only publish telemetry. A pure function of the report.
 */

import type { ReportDocument, ReportMetrics } from './document.js';
import { fitLine, formatCount, formatMs, formatRate, newTable } from './format.js';

const ROWS: readonly (readonly [string, string, 'always' | 'moved'])[] = [
  ['commands sent', 'commands.published', 'always'],
  ['  answered', 'commands.received', 'always'],
  ['  failed', 'commands.failed', 'moved'],
  ['  lost', 'commands.lost', 'moved'],
  ['  duplicated', 'commands.duplicated', 'moved'],
  ['  out of order', 'commands.outOfOrder', 'moved'],
  ['  late', 'commands.late', 'moved'],
  ['  interrupted', 'commands.interrupted', 'moved'],
  ['  no receiver online', 'commands.noReceiver', 'moved'],
  ['  skipped (behind)', 'commands.skipped', 'moved'],
  ['fan-in received', 'fanIn.received', 'always'],
  ['wills received', 'wills.received', 'always'],
];

/** Widest phase name shown, columns. */
const NAME_WIDTH = 16;

/** Renders the behaviours' table (and its per-phase rows), or '' when nothing moved. */
export function behaviourTable(report: ReportDocument): string {
  const c = report.metrics.counters;
  const present = ROWS.filter(([, key, when]) =>
    when === 'always' ? c[key] !== undefined : (c[key] ?? 0) > 0,
  );
  if (present.length === 0) return '';
  const table = newTable(['commands and fan-in', 'count', 'per s'], ['left', 'right', 'right']);
  for (const [label, key] of present) {
    const n = c[key] ?? 0;
    table.push([label, formatCount(n), formatRate(n, report.durationMs)]);
  }
  const phases = report.phases ?? [];
  if (phases.length === 0) return table.toString();
  return `${table.toString()}\n\n${phaseRows(phases)}`;
}

function phaseRows(phases: NonNullable<ReportDocument['phases']>): string {
  const head = ['phase', 'commands', 'answered', 'cmd p99', 'fan-in', 'fan-in p99', 'wills'];
  const table = newTable(head, ['left', ...head.slice(1).map(() => 'right' as const)]);
  for (const p of phases) {
    const c = p.metrics.counters;
    table.push([
      fitLine(p.name, NAME_WIDTH),
      formatCount(c['commands.published'] ?? 0),
      formatCount(c['commands.received'] ?? 0),
      p99(p.metrics, 'commandRoundtrip'),
      formatCount(c['fanIn.received'] ?? 0),
      p99(p.metrics, 'fanIn'),
      formatCount(c['wills.received'] ?? 0),
    ]);
  }
  return table.toString();
}

function p99(m: ReportMetrics, name: 'commandRoundtrip' | 'fanIn'): string {
  const s = m.latency[name];
  return s === undefined || s.count === 0 ? '-' : formatMs(s.p99Us);
}
