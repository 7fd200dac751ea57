/**
 * The report as one self-contained HTML page: it loads nothing from the network. uPlot (its
 * script and stylesheet, from node_modules) and the page's own script are inlined; the chart
 * data is embedded as JSON; tables are rendered here as static HTML, so the numbers read even
 * without JavaScript. Every string from the report is escaped.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { HISTOGRAM_NAMES } from '../metrics/types.js';
import { capacitySection } from './capacity.js';
import { connackReason } from './connack.js';
import type { ReportDocument } from './document.js';
import { formatCount, formatDuration, formatMs, formatPercent, transportLabel } from './format.js';
import { errors, pageData } from './html-data.js';
import { resolveMetric } from './metric-path.js';
import { tlsSummary, tlsSummaryLines } from './tls-summary.js';

const require = createRequire(import.meta.url);

/** uPlot's script and stylesheet, and the page's script, read once. */
function assets(): { uplotJs: string; uplotCss: string; pageJs: string } {
  const uplotJs = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  // The page script is plain browser JavaScript kept beside the sources (tsc does not copy it).
  const pageJs = readFileSync(
    new URL('../../../src/report/assets/report-page.js', import.meta.url),
    'utf8',
  );
  return { uplotJs, uplotCss, pageJs };
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot close the script element it sits in. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028|\u2029/g, ' ');
}

/** The page's Content-Security-Policy: nothing loads from outside; scripts and styles inline. */
const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/** Renders the page. Pure apart from reading the inlined assets. */
export function renderHtml(report: ReportDocument): string {
  const { uplotJs, uplotCss, pageJs } = assets();
  const title = `fleetbench ${report.scenario.name} · ${report.startedAt}`;
  const body = [
    header(report),
    keyFigures(report),
    capacitySection(report.capacity, escapeHtml),
    chartSection('timeline', 'Devices and rates over time', 'Phases are shaded and named.'),
    latencyTable(report),
    chartSection(
      'distribution',
      'Latency percentile distribution',
      'HdrHistogram convention: percentile on a log axis to 99.999%, value in ms (log).',
    ),
    breakdown(report),
    failures(report),
    verdicts(report),
    phases(report),
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>${escapeHtml(title)}</title>
<style>${uplotCss}\n${PAGE_CSS}</style>
</head>
<body>
${body}
<script type="application/json" id="fleetbench-data">${scriptJson(pageData(report))}</script>
<script>${uplotJs}</script>
<script>${pageJs}</script>
</body>
</html>
`;
}

function header(r: ReportDocument): string {
  const o = r.options;
  const facts = [
    `target ${o.target}${transportLabel(o)}`,
    `${formatCount(o.devices)} devices on ${formatCount(o.workers)} workers`,
    formatDuration(r.durationMs),
    `started ${r.startedAt}`,
    `${r.tool.name} ${r.tool.version}, Node ${r.nodeVersion}`,
    `${r.host.hostname} (${r.host.cpus} × ${r.host.cpuModel})`,
  ];
  const notes: string[] = [];
  if (r.partial !== null) {
    notes.push(
      `<p class="banner warn">Partial: stopped (${escapeHtml(r.partial.reason)}) during ` +
        `${escapeHtml(r.partial.phase)}; the numbers cover only what ran.</p>`,
    );
  }
  if (r.mergedFrom !== undefined) {
    const from = r.mergedFrom.map((m) => `${m.file} (${formatCount(m.devices)})`).join(', ');
    notes.push(
      `<p class="banner">Merged from ${r.mergedFrom.length} shard reports: ${escapeHtml(from)}</p>`,
    );
  }
  for (const w of r.warnings) notes.push(`<p class="banner warn">${escapeHtml(w)}</p>`);
  return `<header><h1>fleetbench · ${escapeHtml(r.scenario.name)}</h1>
<p class="facts">${facts.map(escapeHtml).join(' · ')}</p>${notes.join('\n')}</header>`;
}

function keyFigures(r: ReportDocument): string {
  const c = r.metrics.counters;
  const value = (path: string) => resolveMetric(r, path).value;
  const ms = (path: string) => {
    const v = value(path);
    return v === null ? '–' : `${formatMs(v)} ms`;
  };
  const failed = value('connect.failed') ?? 0;
  const cards: [string, string, string?][] = [
    ['connected', `${formatCount(c['connect.ok'] ?? 0)} / ${formatCount(r.options.devices)}`],
    ['connect p99', ms('connect.p99')],
    ['TLS handshake p99', ms('tls.p99')],
    ['round trip p99', ms('roundtrip.p99')],
    ['messages received', formatCount(c['messages.received'] ?? 0)],
    ['failed connects', formatCount(failed), failed > 0 ? 'bad' : undefined],
  ];
  const html = cards.map(
    ([label, v, cls]) =>
      `<div class="card${cls ? ` ${cls}` : ''}">` +
      `<span>${escapeHtml(label)}</span><b>${escapeHtml(v)}</b></div>`,
  );
  return `<section class="cards">${html.join('')}</section>`;
}

function chartSection(id: string, title: string, note: string): string {
  return `<section><h2>${escapeHtml(title)}</h2><p class="note">${escapeHtml(note)}</p>
<div class="chart" id="${id}"></div></section>`;
}

/**
 * A table; `kinds` gives each column's class (`num` right-aligns numbers, `msg` is quiet text).
 * Cells are HTML: callers escape what comes from the report.
 */
function table(head: string[], rows: string[][], kinds: string[]): string {
  const cls = (i: number) => (kinds[i] ? ` class="${kinds[i]}"` : '');
  const th = head.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('');
  const tr = rows.map(
    (row) => `<tr>${row.map((cell, i) => `<td${cls(i)}>${cell}</td>`).join('')}</tr>`,
  );
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr.join('')}</tbody></table>`;
}

/** Column kinds: the first `text` columns plain, the rest numeric. */
function numericAfter(text: number, columns: number): string[] {
  return Array.from({ length: columns }, (_, i) => (i < text ? '' : 'num'));
}

function latencyTable(r: ReportDocument): string {
  const rows = HISTOGRAM_NAMES.flatMap((name) => {
    const s = r.metrics.latency[name];
    if (s === undefined || s.count === 0) return [];
    const v = [s.meanUs, s.p50Us, s.p90Us, s.p99Us, s.p999Us, s.maxUs].map(formatMs);
    return [[escapeHtml(name), formatCount(s.count), ...v]];
  });
  if (rows.length === 0) return '';
  const head = ['latency (ms)', 'count', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max'];
  return `<section><h2>Latency</h2>${table(head, rows, numericAfter(1, head.length))}</section>`;
}

/**
 * TCP, TLS, the WebSocket upgrade and CONNACK side by side, as shares of the connect time at
 * each percentile.
 */
function breakdown(r: ReportDocument): string {
  const parts = (['tcp', 'tls', 'websocket', 'connack'] as const).filter(
    (n) => r.metrics.latency[n],
  );
  const total = r.metrics.latency.connect;
  if (parts.length === 0 || total === undefined || total.count === 0) return '';
  const stats = [
    ['mean', 'meanUs'],
    ['p50', 'p50Us'],
    ['p90', 'p90Us'],
    ['p99', 'p99Us'],
  ] as const;
  const bars = stats.map(([label, key]) => {
    const values = parts.map((p) => r.metrics.latency[p]?.[key] ?? 0);
    const sum = values.reduce((a, b) => a + b, 0) || 1;
    const segs = parts.map(
      (p, i) =>
        `<span class="seg ${p}" style="width:${((100 * (values[i] ?? 0)) / sum).toFixed(2)}%" ` +
        `title="${p} ${formatMs(values[i] ?? 0)} ms">${p} ${formatMs(values[i] ?? 0)}</span>`,
    );
    return (
      `<div class="bar-row"><span class="bar-label">${label}</span>` +
      `<div class="bar">${segs.join('')}</div>` +
      `<span class="bar-total">connect ${formatMs(total[key])} ms</span></div>`
    );
  });
  const tls = tlsSummary(r.metrics.counters);
  const handshakes =
    tls === null
      ? ''
      : tlsSummaryLines(tls, formatCount)
          .map((line) => `<p class="note">${escapeHtml(line)}</p>`)
          .join('');
  const note =
    'Each phase at the same statistic, in ms; the connect time is measured on its own and ' +
    'need not equal the sum.';
  return `<section><h2>Connect breakdown: ${parts.map((p) => PART_LABELS[p]).join(', ')}</h2>
<p class="note">${note}</p>
<div class="bars">${bars.join('')}</div>${handshakes}</section>`;
}

const PART_LABELS = { tcp: 'TCP', tls: 'TLS', websocket: 'WebSocket upgrade', connack: 'CONNACK' };

function failures(r: ReportDocument): string {
  const c = r.metrics.counters;
  const attempted = c['connect.attempted'] ?? 0;
  const rows = Object.entries(c)
    .filter(
      ([k, n]) =>
        n > 0 &&
        /^(connect|reconnect)\.failed\.|^connection\.lost$|^messages\.(failed|qos\d\.lost)$/.test(
          k,
        ),
    )
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => {
      const code = /refused\.(\d+)$/.exec(k)?.[1];
      const reason = code === undefined ? '' : ` (${connackReason(code) ?? 'unknown code'})`;
      const sample = r.failures.find((f) => k.endsWith(`.${f.category}`));
      return [
        escapeHtml(k + reason),
        formatCount(n),
        formatPercent(n, attempted),
        escapeHtml(sample?.message ?? ''),
      ];
    });
  const total = errors(r.metrics);
  const head = ['category', 'count', 'of attempted', 'first message'];
  const body =
    rows.length === 0
      ? '<p class="ok">No failures.</p>'
      : table(head, rows, ['', 'num', 'num', 'msg']);
  const note = `${formatCount(total)} failed connects, reconnects and lost connections.`;
  return `<section><h2>Failures by category</h2><p class="note">${note}</p>${body}</section>`;
}

function verdicts(r: ReportDocument): string {
  const out: string[] = [];
  for (const t of r.thresholds ?? []) {
    const actual =
      t.actual === null ? 'nothing measured' : `${t.actual}${t.unit ? ` ${t.unit}` : ''}`;
    const where = t.phase ? ` (phase ${t.phase})` : '';
    out.push(
      `<tr><td>${escapeHtml(t.expression + where)}</td><td class="num">${escapeHtml(actual)}</td>` +
        `<td class="${t.ok ? 'ok' : 'bad'}">${t.ok ? 'pass' : 'FAIL'}` +
        `${t.aborted ? ' (stopped the run)' : ''}</td></tr>`,
    );
  }
  const acc = r.accounting;
  const accounting = acc === undefined ? '' : `<h3>Message accounting</h3>${accountingLines(acc)}`;
  if (out.length === 0 && accounting === '') return '';
  const rules =
    out.length === 0
      ? ''
      : '<table><thead><tr><th>threshold</th><th class="num">measured</th><th>verdict</th></tr>' +
        `</thead><tbody>${out.join('')}</tbody></table>`;
  return `<section><h2>Thresholds and verdicts</h2>${rules}${accounting}</section>`;
}

/** The accounting's errors and notes, one paragraph each, or that every message is accounted. */
function accountingLines(acc: NonNullable<ReportDocument['accounting']>): string {
  const lines = [
    ...acc.errors.map((e) => `<p class="bad">${escapeHtml(e)}</p>`),
    ...acc.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`),
  ];
  return lines.join('') || '<p class="ok">Every message accounted for.</p>';
}

function phases(r: ReportDocument): string {
  const list = r.phases ?? [];
  if (list.length === 0) return '';
  const rows = list.map((p) => {
    const c = p.metrics.counters;
    const p99 = p.metrics.latency.roundtrip;
    return [
      escapeHtml(p.name),
      escapeHtml(p.type),
      formatDuration(p.startMs),
      formatDuration(p.durationMs),
      formatCount(c['connect.ok'] ?? 0),
      formatCount(c['messages.received'] ?? 0),
      p99 === undefined || p99.count === 0 ? '–' : formatMs(p99.p99Us),
    ];
  });
  const head = ['phase', 'type', 'start', 'length', 'connects', 'received', 'rtt p99 (ms)'];
  return `<section><h2>Phases</h2>${table(head, rows, numericAfter(2, head.length))}</section>`;
}

const PAGE_CSS = `
:root { --fg:#1d232b; --muted:#5d6875; --line:#dde3ea; --bg:#f6f8fa; --card:#fff;
  --bad:#c62828; --ok:#2e7d32; --warn:#a15c00; --tcp:#6c8ebf; --tls:#f0a030; --websocket:#9b59b6;
  --connack:#47b881; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); max-width: 1200px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px; margin: 16px 0; }
.facts, .note { color: var(--muted); margin: 0 0 8px; }
.banner { margin: 8px 0 0; padding: 6px 10px; border-radius: 6px; background: #eef3fb; }
.banner.warn { background: #fff4e0; color: var(--warn); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px;
  background: none; border: 0; padding: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px 14px; }
.card span { display: block; color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .04em; }
.card b { font-size: 22px; font-variant-numeric: tabular-nums; }
.card.bad b { color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
.num { text-align: right; }
td.msg { color: var(--muted); font-size: 12px; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.chart { min-height: 40px; }
.bars { display: grid; gap: 8px; }
.bar-row { display: grid; grid-template-columns: 48px 1fr 160px; align-items: center; gap: 10px; }
.bar-label { color: var(--muted); }
.bar-total { color: var(--muted); font-variant-numeric: tabular-nums; }
.bar { display: flex; height: 24px; border-radius: 4px; overflow: hidden; background: var(--bg); }
.seg { color: #fff; font-size: 12px; line-height: 24px; padding: 0 6px; white-space: nowrap;
  overflow: hidden; }
.seg.tcp { background: var(--tcp); } .seg.tls { background: var(--tls); }
.seg.websocket { background: var(--websocket); } .seg.connack { background: var(--connack); }
.u-legend { font-size: 12px; }
`;
