/**
 * Text exports of a report: the standard HdrHistogram percentile distribution (`.hgrm`, the
 * file HdrHistogram's plotter and HistogramLogAnalyzer read) of each histogram, the time
 * series as an HdrHistogram interval log (`.hlog`) and as CSV, one row per interval. Pure
 * functions of the report.
 */

import { decodeHistogram } from '../metrics/histogram.js';
import { renderIntervalLog, type LoggedInterval } from '../metrics/interval-log.js';
import { summarize } from '../metrics/merge.js';
import { HISTOGRAM_NAMES, type HistogramName } from '../metrics/types.js';
import type { ReportDocument } from './document.js';
import { errors } from './html-data.js';

/** Percentile steps per halving of the distance to 100%, as HdrHistogram's own output uses. */
const TICKS_PER_HALF_DISTANCE = 5;

/** The histograms a report has values in, in the reading order. */
export function measuredHistograms(report: ReportDocument): HistogramName[] {
  return HISTOGRAM_NAMES.filter((n) => (report.metrics.latency[n]?.count ?? 0) > 0);
}

/**
 * One histogram's percentile distribution in HdrHistogram's text format, values in
 * milliseconds. Empty string for a histogram the report does not have.
 */
export function renderHgrm(report: ReportDocument, name: HistogramName): string {
  const encoded = report.metrics.histograms[name];
  if (encoded === undefined) return '';
  return decodeHistogram(encoded).outputPercentileDistribution(TICKS_PER_HALF_DISTANCE, 1000);
}

/** Columns of {@link renderCsv}, in order. */
export const CSV_COLUMNS = [
  'interval_start_s',
  'interval_end_s',
  'wall_clock_end',
  'devices_connected',
  'connect_ok',
  'connect_failed',
  'errors',
  'messages_published',
  'messages_received',
  'connects_per_s',
  'published_per_s',
  'received_per_s',
  'connect_p99_ms',
  'roundtrip_count',
  'roundtrip_p50_ms',
  'roundtrip_p99_ms',
  'roundtrip_max_ms',
] as const;

/**
 * The time series as CSV (RFC 4180, header row, `\n` line ends): per interval its bounds in
 * seconds from the run's start, the wall-clock end, the connected gauge, counts, per-second
 * rates and latency percentiles (empty where nothing was measured).
 *
 * @returns only the header when the report has no time series.
 */
export function renderCsv(report: ReportDocument): string {
  const lines: string[] = [CSV_COLUMNS.join(',')];
  const series = report.timeSeries;
  if (series === undefined) return `${lines[0]}\n`;
  const origin = BigInt(series.startNs);
  const wall0 = Date.parse(series.startedAt);

  for (const i of series.intervals) {
    const startS = Number(BigInt(i.startNs) - origin) / 1e9;
    const endS = Number(BigInt(i.endNs) - origin) / 1e9;
    const seconds = Math.max(endS - startS, 1e-3);
    const c = (key: string) => i.counters[key] ?? 0;
    const failed = Object.entries(i.counters).reduce(
      (n, [k, v]) => (k.startsWith('connect.failed.') ? n + v : n),
      0,
    );
    const ms = (name: HistogramName, stat: 'p50Us' | 'p99Us' | 'maxUs') => {
      const e = i.histograms[name];
      return e === undefined ? '' : String(summarize(e)[stat] / 1000);
    };
    const rt = i.histograms.roundtrip;
    const row = [
      startS.toFixed(3),
      endS.toFixed(3),
      new Date(wall0 + endS * 1000).toISOString(),
      String(i.gauges['devices.connected'] ?? 0),
      String(c('connect.ok')),
      String(failed),
      String(errors(i)),
      String(c('messages.published')),
      String(c('messages.received')),
      (c('connect.ok') / seconds).toFixed(2),
      (c('messages.published') / seconds).toFixed(2),
      (c('messages.received') / seconds).toFixed(2),
      ms('connect', 'p99Us'),
      rt === undefined ? '0' : String(summarize(rt).count),
      ms('roundtrip', 'p50Us'),
      ms('roundtrip', 'p99Us'),
      ms('roundtrip', 'maxUs'),
    ];
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The time series as an HdrHistogram interval log: for every interval, one line per histogram
 * measured in it, tagged with the metric's name (`Tag=roundtrip,...`), values in µs, timestamps
 * in seconds from the series' wall-clock start. Only the header when there is no time series.
 */
export function renderHlog(report: ReportDocument): string {
  const series = report.timeSeries;
  const comments = [
    `[fleetbench ${report.tool.version} report of scenario ${report.scenario.name}]`,
    '[values in microseconds; Interval_Max in milliseconds; Tag = fleetbench metric]',
  ];
  if (series === undefined) {
    return renderIntervalLog({ startTimeMs: Date.parse(report.startedAt), comments }, []);
  }
  const origin = BigInt(series.startNs);
  const intervals: LoggedInterval[] = [];
  for (const i of series.intervals) {
    const startSec = Number(BigInt(i.startNs) - origin) / 1e9;
    const endSec = Number(BigInt(i.endNs) - origin) / 1e9;
    for (const tag of HISTOGRAM_NAMES) {
      const encoded = i.histograms[tag];
      if (encoded !== undefined) intervals.push({ tag, startSec, endSec, encoded });
    }
  }
  return renderIntervalLog({ startTimeMs: Date.parse(series.startedAt), comments }, intervals);
}
