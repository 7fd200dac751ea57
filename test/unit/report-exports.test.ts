import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MetricsRecorder } from '../../src/metrics/recorder.js';
import type { MetricsSnapshot } from '../../src/metrics/types.js';
import {
  CSV_COLUMNS,
  measuredHistograms,
  renderCsv,
  renderHgrm,
} from '../../src/report/exports.js';
import { pageData } from '../../src/report/html-data.js';
import { escapeHtml, renderHtml } from '../../src/report/html.js';
import { sampleReport, sampleSnapshot } from './report-fixture.js';

const S = 1_000_000_000n;

/** A report with a two-interval time series. */
function withSeries() {
  const r = new MetricsRecorder({ startNs: 10n * S });
  try {
    const intervals: MetricsSnapshot[] = [];
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < 100 * (k + 1); i++) {
        r.count('connect.ok');
        r.count('messages.received');
        r.record('roundtrip', 1000 + i * 10);
      }
      r.gauge('devices.connected', 50 * (k + 1));
      intervals.push(r.takeInterval(10n * S + BigInt(k + 1) * S));
    }
    return sampleReport({
      timeSeries: {
        intervalMs: 1000,
        startNs: String(10n * S),
        startedAt: '2026-12-04T01:00:00.000Z',
        intervals,
      },
    });
  } finally {
    r.destroy();
  }
}

describe('report exports', () => {
  it('writes the HdrHistogram percentile distribution of each histogram, in ms', () => {
    const report = sampleReport();
    assert.deepEqual(measuredHistograms(report), [
      'connect',
      'tcp',
      'tls',
      'connack',
      'puback',
      'roundtrip',
    ]);
    const text = renderHgrm(report, 'roundtrip');
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^\s+Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)$/);
    assert.match(text, /#\[Max {5}= +4\.\d+, Total count {4}= +2000\]/);
    assert.equal(renderHgrm(report, 'pubcomp'), '');
  });

  it('writes the time series as CSV, one row per interval', () => {
    const csv = renderCsv(withSeries()).trimEnd().split('\n');
    assert.equal(csv[0], CSV_COLUMNS.join(','));
    assert.equal(csv.length, 3);
    const row = (csv[2] ?? '').split(',');
    const col = (name: (typeof CSV_COLUMNS)[number]) => row[CSV_COLUMNS.indexOf(name)];
    assert.equal(col('interval_start_s'), '1.000');
    assert.equal(col('interval_end_s'), '2.000');
    assert.equal(col('wall_clock_end'), '2026-12-04T01:00:02.000Z');
    assert.equal(col('devices_connected'), '100');
    assert.equal(col('connect_ok'), '200');
    assert.equal(col('received_per_s'), '200.00');
    assert.equal(col('roundtrip_count'), '200');
    assert.equal(renderCsv(sampleReport()), `${CSV_COLUMNS.join(',')}\n`);
  });
});

describe('the HTML page', () => {
  it('is self-contained: inline scripts and styles, the data embedded, nothing loaded', () => {
    const html = renderHtml(withSeries());
    assert.doesNotMatch(html, /<script[^>]+src=/i);
    assert.doesNotMatch(html, /<link[^>]*>/i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.match(html, /<script type="application\/json" id="fleetbench-data">\{"series":/);
    assert.match(html, /uPlot/);
  });

  it('escapes what the report says, so a failure message cannot inject markup', () => {
    const metrics = sampleSnapshot();
    metrics.counters['connect.failed.tls'] = 3;
    const evil = '</script><img src=x onerror=alert(1)>';
    const html = renderHtml(
      sampleReport({
        metrics,
        warnings: [evil],
        failures: [{ category: 'tls', message: evil, deviceId: 'd', count: 3 }],
      }),
    );
    assert.ok(!html.includes('<img src=x'), 'raw markup from the report');
    assert.ok(html.includes(escapeHtml(evil)));
  });

  it('plots the percentile distribution to 99.999 in the HdrHistogram convention', () => {
    const data = pageData(withSeries());
    const rt = data.distributions.find((d) => d.name === 'roundtrip') ?? assert.fail('no rt');
    assert.equal(rt.x[0], 1, '0th percentile at x = 1');
    assert.ok(Math.abs((rt.x.at(-1) ?? 0) - 100_000) < 1, 'the last point at 99.999%');
    assert.ok(
      rt.x.every((x, i) => i === 0 || x > (rt.x[i - 1] ?? 0)),
      'x increases',
    );
    assert.deepEqual(data.series?.connected, [50, 100]);
    assert.deepEqual(data.series?.t, [1, 2]);
  });
});
