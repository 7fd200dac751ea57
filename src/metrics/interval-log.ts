/**
 * HdrHistogram interval logs (`.hlog`, log format 1.3), written with hdr-histogram-js's own
 * HistogramLogWriter: the file HistogramLogAnalyzer, HdrHistogram's `HistogramLogProcessor`
 * and jHiccup's tools read. One line per interval and metric, each tagged with the metric's
 * name, timestamps in seconds from the log's start time.
 */

import { HistogramLogWriter } from 'hdr-histogram-js';

import { decodeHistogram } from './histogram.js';

/** One interval histogram for the log. */
export interface LoggedInterval {
  /** The metric's name, written as the line's `Tag=`. */
  tag: string;
  /** Bounds of the interval, s after the log's start time. */
  startSec: number;
  endSec: number;
  /** The histogram in HdrHistogram's compressed base64 form (values in µs). */
  encoded: string;
}

/** What heads the log. */
export interface IntervalLogHeader {
  /** Wall-clock time the interval timestamps count from, ms since the epoch. */
  startTimeMs: number;
  /** Comment lines (without `#`), written first. */
  comments: string[];
}

/**
 * Renders an interval log. `Interval_Max` is written in ms (the values are µs), as HdrHistogram
 * tools expect with their default unit ratio of 1000.
 */
export function renderIntervalLog(header: IntervalLogHeader, intervals: LoggedInterval[]): string {
  const chunks: string[] = [];
  const writer = new HistogramLogWriter((chunk) => chunks.push(chunk));
  for (const comment of header.comments) writer.outputComment(comment);
  writer.outputLogFormatVersion();
  writer.outputStartTime(header.startTimeMs);
  writer.outputLegend();
  for (const interval of intervals) {
    const histogram = decodeHistogram(interval.encoded);
    histogram.tag = interval.tag;
    writer.outputIntervalHistogram(histogram, interval.startSec, interval.endSec, 1000);
  }
  // The writer ends its start-time comment with two newlines; the format has no blank lines.
  return chunks.join('').replace(/\n{2,}/g, '\n');
}
