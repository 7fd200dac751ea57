/** The bench table: a pure function of the figures, returning the text a person reads. */

import Table from 'cli-table3';
import type { BenchFigure } from './figures.js';
import type { ClientKind } from './protocol.js';

const HEADERS: Record<ClientKind, string> = {
  'bare-tls': 'node:tls',
  mqttjs: 'MQTT.js',
  fleetbench: 'fleetbench',
};

function number(v: number | undefined, unit: string): string {
  if (v === undefined) return '-';
  if (unit === 'msg/s' || unit === 'msgs') return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return v.toFixed(Math.abs(v) >= 10 ? 1 : 3);
}

/** Renders the figures with one column per client kind that ran (about 100 columns). */
export function renderBenchTable(
  figures: readonly BenchFigure[],
  kinds: readonly ClientKind[],
): string {
  const table = new Table({
    head: ['figure', 'unit', ...kinds.map((k) => HEADERS[k]), 'fb/bare', 'target', 'met'],
    style: { head: [], border: [] },
  });
  for (const f of figures) {
    table.push([
      f.label,
      f.unit,
      ...kinds.map((k) => number(f.values[k], f.unit)),
      f.ratio === null ? '-' : `${f.ratio.toFixed(2)}x`,
      f.target,
      f.met === null ? '-' : f.met ? 'yes' : 'NO',
    ]);
  }
  return table.toString();
}
