/**
 * The text exposition of metric families, in the two formats scrapers ask for: OpenMetrics 1.0
 * (`application/openmetrics-text`, with `# UNIT`, counters named without `_total` in their
 * metadata, state sets, info metrics and `# EOF`) and the Prometheus text format 0.0.4
 * (`text/plain`, where state sets and info metrics become gauges). Pure: families in, text out.
 *
 * This is written here rather than through prom-client because prom-client instruments live
 * code: its counters only `inc()` and its histograms only `observe()` one value at a time,
 * while fleetbench's figures arrive already aggregated (counters summed and HDR histograms
 * added in the coordinator). Feeding those through it would mean replaying every recorded
 * value per scrape; it also writes no `# UNIT` line.
 */

/** The two exposition formats. */
export type ExpositionFormat = 'openmetrics' | 'prometheus';

/** HTTP content type of each format. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
};

export type Labels = Readonly<Record<string, string>>;

/** One sample of a counter, gauge, state set (0 or 1 per state) or info (always 1). */
export interface Sample {
  labels?: Labels;
  value: number;
}

/** One labelled histogram: cumulative counts at each upper bound, in the family's unit. */
export interface HistogramSample {
  labels?: Labels;
  /** Upper bounds (`le`), ascending, without +Inf; `counts[i]` are the values at or below. */
  bounds: readonly number[];
  counts: readonly number[];
  /** All values (the +Inf bucket). */
  count: number;
  /** Sum of the values, in the family's unit. */
  sum: number;
}

interface FamilyBase {
  /** Family name: `[a-zA-Z_:][a-zA-Z0-9_:]*`; for a counter without `_total`. */
  name: string;
  help: string;
  /** OpenMetrics unit (`seconds`, `ratio`); the name must end in `_<unit>`. */
  unit?: string;
}

/** A metric family and its samples. */
export type MetricFamily =
  | (FamilyBase & { type: 'counter' | 'gauge' | 'stateset' | 'info'; samples: Sample[] })
  | (FamilyBase & { type: 'histogram'; histograms: HistogramSample[] });

/** Renders families in the given format; OpenMetrics ends with `# EOF`. */
export function renderExposition(families: readonly MetricFamily[], format: ExpositionFormat) {
  const lines: string[] = [];
  for (const family of families) lines.push(...renderFamily(family, format));
  if (format === 'openmetrics') lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

function renderFamily(family: MetricFamily, format: ExpositionFormat): string[] {
  const om = format === 'openmetrics';
  const suffix = family.type === 'counter' ? '_total' : family.type === 'info' ? '_info' : '';
  // OpenMetrics describes the family; Prometheus text describes the sample name.
  const described = om ? family.name : `${family.name}${suffix}`;
  const type =
    om || family.type === 'counter' || family.type === 'histogram' ? family.type : 'gauge';
  const lines = [`# TYPE ${described} ${type}`];
  if (om && family.unit !== undefined) lines.push(`# UNIT ${described} ${family.unit}`);
  lines.push(`# HELP ${described} ${escapeHelp(family.help, om)}`);
  if (family.type === 'histogram') {
    for (const h of family.histograms) lines.push(...histogramLines(family.name, h));
    return lines;
  }
  for (const s of family.samples) {
    lines.push(`${family.name}${suffix}${formatLabels(s.labels)} ${formatNumber(s.value)}`);
  }
  return lines;
}

function histogramLines(name: string, h: HistogramSample): string[] {
  const lines = h.bounds.map(
    (le, i) =>
      `${name}_bucket${formatLabels({ ...h.labels, le: formatLe(le) })} ${h.counts[i] ?? 0}`,
  );
  lines.push(`${name}_bucket${formatLabels({ ...h.labels, le: '+Inf' })} ${h.count}`);
  lines.push(`${name}_count${formatLabels(h.labels)} ${h.count}`);
  lines.push(`${name}_sum${formatLabels(h.labels)} ${formatNumber(h.sum)}`);
  return lines;
}

function formatLabels(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

/** OpenMetrics wants `le` canonical: an integral bound is written with `.0`. */
function formatLe(le: number): string {
  return Number.isInteger(le) ? le.toFixed(1) : String(le);
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  return String(n);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Prometheus text escapes backslash and newline in HELP; OpenMetrics the double quote too. */
function escapeHelp(v: string, om: boolean): string {
  const escaped = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return om ? escaped.replace(/"/g, '\\"') : escaped;
}
