/**
 * The `.hlog` export read back with hdr-histogram-js's own HistogramLogReader: every interval
 * and every metric, with its tag, its timestamps and its histogram unchanged.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HistogramLogReader, listTags } from 'hdr-histogram-js';

import { decodeHistogram } from '../../src/metrics/histogram.js';
import { MetricsRecorder } from '../../src/metrics/recorder.js';
import type { MetricsSnapshot } from '../../src/metrics/types.js';
import { renderHlog } from '../../src/report/exports.js';
import { sampleReport } from './report-fixture.js';

const S = 1_000_000_000n;
const START = '2026-12-04T01:00:00.000Z';

/** Three one-second intervals; the second has no connects, the third is half a second. */
function seriesReport() {
  const r = new MetricsRecorder({ startNs: 10n * S });
  try {
    const intervals: MetricsSnapshot[] = [];
    const ends = [11n * S, 12n * S, 12n * S + S / 2n];
    ends.forEach((end, k) => {
      for (let i = 0; i < 100 * (k + 1); i++) r.record('roundtrip', 1000 + i * 37 * (k + 1));
      if (k !== 1) for (let i = 0; i < 20; i++) r.record('connect', 150_000 + i * 1000);
      intervals.push(r.takeInterval(end));
    });
    return sampleReport({
      timeSeries: { intervalMs: 1000, startNs: String(10n * S), startedAt: START, intervals },
    });
  } finally {
    r.destroy();
  }
}

test('the interval log reads back, interval by interval and tag by tag', () => {
  const report = seriesReport();
  const text = renderHlog(report);
  assert.match(text, /^#\[fleetbench .* report of scenario /);
  assert.match(text, /^#\[Histogram log format version 1\.3\]$/m);
  assert.match(text, /^#\[StartTime: 1796346000\.000 \(seconds since epoch\), /m);
  assert.ok(!text.includes('\n\n'), 'no blank lines');
  assert.deepEqual(listTags(text).sort(), ['connect', 'roundtrip']);

  const reader = new HistogramLogReader(text);
  const read: { tag: string; startMs: number; endMs: number; count: number; p99: number }[] = [];
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    read.push({
      tag: h.tag,
      startMs: h.startTimeStampMsec,
      endMs: h.endTimeStampMsec,
      count: h.totalCount,
      p99: h.getValueAtPercentile(99),
    });
  }
  const wall0 = Date.parse(START);
  const expected = (report.timeSeries?.intervals ?? []).flatMap((i, k) => {
    const startMs = wall0 + k * 1000;
    const endMs = wall0 + (k === 2 ? 2500 : (k + 1) * 1000);
    return (['connect', 'roundtrip'] as const).flatMap((tag) => {
      const encoded = i.histograms[tag];
      if (encoded === undefined) return [];
      const h = decodeHistogram(encoded);
      return [{ tag, startMs, endMs, count: h.totalCount, p99: h.getValueAtPercentile(99) }];
    });
  });
  assert.equal(read.length, 5, 'two metrics in intervals 0 and 2, one in interval 1');
  assert.deepEqual(read, expected);
  assert.equal(
    read.filter((r) => r.tag === 'roundtrip').reduce((n, r) => n + r.count, 0),
    600,
  );
});

test('a report without a time series gives a log with only its header', () => {
  const report = sampleReport();
  delete report.timeSeries;
  const text = renderHlog(report);
  assert.equal(new HistogramLogReader(text).nextIntervalHistogram(), null);
  assert.match(text, /"StartTimestamp","Interval_Length","Interval_Max"/);
});
