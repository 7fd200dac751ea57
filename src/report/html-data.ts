/**
 * What the HTML page plots, computed from the report in Node so the page's script only draws:
 * the time series as per-second rates and gauges, each interval's latency percentiles, the
 * phases as stretches of time, and each histogram's percentile distribution in the
 * HdrHistogram plotting convention (x = 1 / (1 - percentile), on a log scale).
 */

import { percentileDistribution, summarize } from '../metrics/merge.js';
import { HISTOGRAM_NAMES, type HistogramName, type MetricsSnapshot } from '../metrics/types.js';
import type { ReportDocument } from './document.js';

/** Highest percentile the distribution plots, the HdrHistogram convention's 99.999. */
export const MAX_PLOTTED_PERCENTILE = 99.999;

/** The time series as columns, one entry per interval. */
export interface SeriesColumns {
  /** End of each interval, seconds from the run's start. */
  t: number[];
  connected: number[];
  connectsPerSec: number[];
  publishedPerSec: number[];
  receivedPerSec: number[];
  /** Failed connects, failed reconnects and lost connections per second. */
  errorsPerSec: number[];
  /** The interval's round-trip p50 / p99 / max, ms; `null` when it had none. */
  roundtripP50Ms: (number | null)[];
  roundtripP99Ms: (number | null)[];
  roundtripMaxMs: (number | null)[];
  /** The interval's connect p99, ms. */
  connectP99Ms: (number | null)[];
}

/** One histogram's percentile distribution. */
export interface Distribution {
  name: HistogramName;
  /** `1 / (1 - percentile / 100)`, capped at the value for {@link MAX_PLOTTED_PERCENTILE}. */
  x: number[];
  /** Value at each point, ms. */
  ms: number[];
}

/** A phase as a stretch of the time axis. */
export interface PhaseSpan {
  name: string;
  type: string;
  startSec: number;
  endSec: number;
}

/** Everything the page's script draws. Plain JSON. */
export interface PageData {
  series: SeriesColumns | null;
  phases: PhaseSpan[];
  distributions: Distribution[];
}

/** The page's chart data for a report. */
export function pageData(report: ReportDocument): PageData {
  const phases = (report.phases ?? []).map((p) => ({
    name: p.name,
    type: p.type,
    startSec: round(p.startMs / 1000, 3),
    endSec: round((p.startMs + p.durationMs) / 1000, 3),
  }));
  return { series: seriesColumns(report), phases, distributions: distributions(report) };
}

function seriesColumns(report: ReportDocument): SeriesColumns | null {
  const series = report.timeSeries;
  if (series === undefined || series.intervals.length === 0) return null;
  const origin = BigInt(series.startNs);
  const cols: SeriesColumns = {
    ...{ t: [], connected: [], connectsPerSec: [], publishedPerSec: [], receivedPerSec: [] },
    ...{ errorsPerSec: [], roundtripP50Ms: [], roundtripP99Ms: [], roundtripMaxMs: [] },
    connectP99Ms: [],
  };
  for (const interval of series.intervals) {
    const seconds = Math.max(Number(BigInt(interval.endNs) - BigInt(interval.startNs)) / 1e9, 1e-3);
    const perSec = (n: number) => round(n / seconds, 2);
    const c = interval.counters;
    cols.t.push(round(Number(BigInt(interval.endNs) - origin) / 1e9, 3));
    cols.connected.push(interval.gauges['devices.connected'] ?? 0);
    cols.connectsPerSec.push(perSec((c['connect.ok'] ?? 0) + (c['reconnect.ok'] ?? 0)));
    cols.publishedPerSec.push(perSec(c['messages.published'] ?? 0));
    cols.receivedPerSec.push(perSec(c['messages.received'] ?? 0));
    cols.errorsPerSec.push(perSec(errors(interval)));
    const rt = stats(interval, 'roundtrip');
    cols.roundtripP50Ms.push(rt?.p50 ?? null);
    cols.roundtripP99Ms.push(rt?.p99 ?? null);
    cols.roundtripMaxMs.push(rt?.max ?? null);
    cols.connectP99Ms.push(stats(interval, 'connect')?.p99 ?? null);
  }
  return cols;
}

/** Failed connects and reconnects, and lost connections, of a stretch. */
export function errors(snapshot: MetricsSnapshot): number {
  return Object.entries(snapshot.counters).reduce((n, [key, v]) => {
    const counts =
      (key.startsWith('connect.failed.') || key.startsWith('reconnect.failed.')) &&
      !key.startsWith('groups.');
    return counts || key === 'connection.lost' ? n + v : n;
  }, 0);
}

function stats(snapshot: MetricsSnapshot, name: HistogramName) {
  const encoded = snapshot.histograms[name];
  if (encoded === undefined) return undefined;
  const s = summarize(encoded);
  if (s.count === 0) return undefined;
  return { p50: s.p50Us / 1000, p99: s.p99Us / 1000, max: s.maxUs / 1000 };
}

function distributions(report: ReportDocument): Distribution[] {
  const cap = 1 / (1 - MAX_PLOTTED_PERCENTILE / 100);
  const out: Distribution[] = [];
  for (const name of HISTOGRAM_NAMES) {
    const encoded = report.metrics.histograms[name];
    if (encoded === undefined) continue;
    const x: number[] = [];
    const ms: number[] = [];
    for (const point of percentileDistribution(encoded)) {
      // The last step is 100%, whose x is infinite: it is drawn at the cap as the maximum.
      const px =
        point.percentile >= MAX_PLOTTED_PERCENTILE ? cap : 1 / (1 - point.percentile / 100);
      if (x.length > 0 && px <= (x[x.length - 1] ?? 0)) continue;
      x.push(round(px, 4));
      ms.push(point.valueUs / 1000);
      if (px >= cap) break;
    }
    if (x.length > 0) out.push({ name, x, ms });
  }
  return out;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
