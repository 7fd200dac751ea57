/**
 * The report's time series on a real run: per-second intervals on the run's grid that add up,
 * counter by counter and histogram by histogram, to the run's totals.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { mergeSnapshots, summarize } from '../../src/metrics/merge.js';
import type { ReportDocument } from '../../src/report/document.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { runScenario } from '../helpers/run.js';

describe('the time series of a real run', () => {
  let pki: TestPki;
  let report: ReportDocument;

  before(async () => {
    pki = await makeTestPki();
    const scenario = {
      name: 'series',
      devices: 100,
      workers: 2,
      connect: { ratePerSec: 200, maxInFlight: 32 },
      traffic: { qos: 1, intervalMs: 200, payloadBytes: 64 },
      // 0.5 s of ramp and 3 s of traffic: at least three whole intervals however busy the machine.
      durationSec: 3,
      drainMs: 2000,
    };
    report = (await runScenario(scenario, pki.dir)).report;
  });
  after(async () => pki.cleanup());

  test('intervals lie on the grid of the run and in time order', () => {
    const series = report.timeSeries ?? assert.fail('no time series');
    assert.equal(series.intervalMs, 1000);
    assert.ok(series.intervals.length >= 3, `intervals: ${series.intervals.length}`);
    assert.equal(series.startNs, report.metrics.startNs);
    const origin = BigInt(series.startNs);
    let previous = -1;
    for (const interval of series.intervals) {
      const index = Number((BigInt(interval.startNs) - origin) / 1_000_000_000n);
      assert.ok(index > previous, 'one entry per interval, in order');
      previous = index;
      assert.ok(BigInt(interval.endNs) > BigInt(interval.startNs));
    }
    const wall = Date.parse(series.startedAt);
    assert.ok(Math.abs(wall - Date.parse(report.startedAt)) < 2000, 'wall clock of the origin');
    const connected = series.intervals.map((i) => i.gauges['devices.connected'] ?? 0);
    assert.equal(Math.max(...connected), 100, 'the whole fleet was connected at some interval');
  });

  test('intervals add up to the totals: every counter, every histogram', () => {
    const intervals = report.timeSeries?.intervals ?? [];
    const sum = mergeSnapshots(intervals);
    assert.deepEqual(sum.counters, report.metrics.counters);
    assert.deepEqual(
      Object.keys(sum.histograms).sort(),
      Object.keys(report.metrics.histograms).sort(),
    );
    for (const [name, encoded] of Object.entries(sum.histograms)) {
      const total = report.metrics.histograms[name as keyof typeof sum.histograms] ?? '';
      assert.deepEqual(summarize(encoded), summarize(total), name);
    }
    assert.ok((report.metrics.counters['messages.received'] ?? 0) > 500);
  });
});
