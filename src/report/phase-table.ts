/**
 * The per-phase part of the summary: one row per phase with its connects, reconnects,
 * messages and tail latencies, so a storm's reconnects or a ramp's p99 are seen apart from
 * the run's totals. A pure function of the report.
 */

import Table from 'cli-table3';

import type { ReportDocument } from './document.js';
import { fitLine, formatCount, formatDuration, formatMs } from './format.js';

/** Widest phase name shown, columns; longer names are cut with an ellipsis. */
const NAME_WIDTH = 16;

/** Renders the phase table, or '' when the report has no phases. */
export function phaseTable(report: ReportDocument): string {
  const phases = report.phases ?? [];
  if (phases.length === 0) return '';

  // Short headings: ten columns must fit the summary's 100.
  const head = ['phase', 'type', 'time', 'connects', 'failed', 'reconn', 'pub', 'recv'];
  head.push('conn p99', 'rtt p99');
  const table = new Table({
    head,
    colAligns: ['left', 'left', ...head.slice(2).map(() => 'right' as const)],
    style: { head: [], border: [], compact: true },
  });
  for (const p of phases) {
    const c = p.metrics.counters;
    const sum = (prefix: string) =>
      Object.entries(c).reduce((n, [k, v]) => (k.startsWith(prefix) ? n + v : n), 0);
    const p99 = (name: 'connect' | 'roundtrip') => {
      const s = p.metrics.latency[name];
      return s === undefined || s.count === 0 ? '-' : formatMs(s.p99Us);
    };
    table.push([
      fitLine(p.name, NAME_WIDTH),
      p.type,
      formatDuration(p.durationMs),
      formatCount(c['connect.ok'] ?? 0),
      formatCount(sum('connect.failed.') + sum('reconnect.failed.')),
      formatCount(c['reconnect.ok'] ?? 0),
      formatCount(c['messages.published'] ?? 0),
      formatCount(c['messages.received'] ?? 0),
      p99('connect'),
      p99('roundtrip'),
    ]);
  }
  return [table.toString(), ...kernelLines(phases)].join('\n');
}

/** One line per phase in which the kernel dropped or retried SYNs. */
function kernelLines(phases: NonNullable<ReportDocument['phases']>): string[] {
  return phases.flatMap((p) => {
    const k = p.kernel;
    if (k === undefined || (k.listenDrops === 0 && k.synRetrans === 0)) return [];
    return [
      `kernel in ${p.name}: ${formatCount(k.listenDrops)} SYNs dropped at a full listen queue, ` +
        `${formatCount(k.synRetrans)} retransmitted`,
    ];
  });
}
