import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { MAX_VALUE_US, OUT_OF_RANGE_COUNTER } from '../../src/metrics/histogram.js';
import { mergeSnapshots, percentileDistribution, summarize } from '../../src/metrics/merge.js';
import { MetricsRecorder } from '../../src/metrics/recorder.js';

describe('MetricsRecorder', () => {
  let recorder: MetricsRecorder;

  beforeEach(() => {
    recorder = new MetricsRecorder({ startNs: 1_000n });
  });

  afterEach(() => {
    recorder.destroy();
  });

  it('reports each interval on its own and everything in the total', () => {
    for (let v = 1; v <= 100; v++) recorder.record('puback', v * 10);
    recorder.count('messages.published', 100);
    recorder.gauge('devices.connected', 10);
    const first = recorder.takeInterval(2_000n);

    for (let v = 1; v <= 50; v++) recorder.record('puback', 5000 + v);
    recorder.record('tls', 1500);
    recorder.count('messages.published', 50);
    recorder.count('connect.ok');
    recorder.gauge('devices.connected', 12);
    const second = recorder.takeInterval(3_000n);
    const total = recorder.total(3_500n);

    assert.deepEqual([first.startNs, first.endNs], ['1000', '2000']);
    assert.deepEqual([second.startNs, second.endNs], ['2000', '3000']);
    assert.deepEqual([total.startNs, total.endNs], ['1000', '3500']);

    assert.equal(summarize(first.histograms.puback ?? '').count, 100);
    assert.equal(summarize(first.histograms.puback ?? '').maxUs, 1000);
    assert.equal(first.histograms.tls, undefined);
    assert.equal(summarize(second.histograms.puback ?? '').count, 50);
    assert.ok(summarize(second.histograms.puback ?? '').minUs >= 5000);
    assert.equal(summarize(total.histograms.puback ?? '').count, 150);
    assert.equal(summarize(total.histograms.tls ?? '').count, 1);

    assert.deepEqual(first.counters, { 'messages.published': 100 });
    assert.deepEqual(second.counters, { 'messages.published': 50, 'connect.ok': 1 });
    assert.deepEqual(total.counters, { 'messages.published': 150, 'connect.ok': 1 });
    assert.deepEqual(first.gauges, { 'devices.connected': 10 });
    assert.deepEqual(total.gauges, { 'devices.connected': 12 });
  });

  it('keeps every counter key in later intervals, at zero when it did not move', () => {
    recorder.count('connect.failed.tls');
    recorder.takeInterval(2_000n);
    assert.deepEqual(recorder.takeInterval(3_000n).counters, { 'connect.failed.tls': 0 });
  });

  it('includes the open interval in the total and still reports it afterwards', () => {
    recorder.record('connect', 700);
    recorder.takeInterval(2_000n);
    recorder.record('connect', 900);

    assert.equal(summarize(recorder.total(2_500n).histograms.connect ?? '').count, 2);
    const open = recorder.takeInterval(3_000n);
    assert.equal(summarize(open.histograms.connect ?? '').count, 1);
    assert.equal(summarize(recorder.total(3_000n).histograms.connect ?? '').count, 2);
  });

  it('has a total equal to its intervals merged', () => {
    const intervals = [];
    for (let i = 0; i < 5; i++) {
      for (let v = 0; v < 1000; v++)
        recorder.record('roundtrip', (v * 7919 + i * 104_729) % 90_000);
      recorder.count('messages.received', 1000);
      intervals.push(recorder.takeInterval(BigInt(2_000 + i * 1_000)));
    }
    const merged = mergeSnapshots(intervals, { gauges: 'latest' });
    const total = recorder.total(6_000n);

    assert.equal(merged.startNs, total.startNs);
    assert.deepEqual(merged.counters, total.counters);
    assert.deepEqual(
      percentileDistribution(merged.histograms.roundtrip ?? ''),
      percentileDistribution(total.histograms.roundtrip ?? ''),
    );
  });

  it('clamps values outside 0 .. 1 hour, counts them, and keeps the event count', () => {
    recorder.record('connect', -5);
    recorder.record('connect', Number.NaN);
    recorder.record('connect', MAX_VALUE_US * 2);
    recorder.record('connect', 12.6);

    const s = recorder.takeInterval(2_000n);
    const summary = summarize(s.histograms.connect ?? '');
    assert.equal(summary.count, 4);
    assert.equal(summary.minUs, 0);
    assert.ok(summary.maxUs >= MAX_VALUE_US && summary.maxUs <= MAX_VALUE_US * 1.001);
    assert.equal(s.counters[OUT_OF_RANGE_COUNTER], 3);
  });

  it('produces snapshots that survive structured cloning (they cross a MessagePort)', () => {
    recorder.record('tcp', 300);
    recorder.count('connect.attempted');
    const s = recorder.takeInterval(2_000n);
    assert.deepEqual(structuredClone(s), s);
  });

  it('is unusable after destroy, and destroy is idempotent', () => {
    recorder.record('tcp', 300);
    recorder.destroy();
    recorder.destroy();
    assert.throws(() => recorder.takeInterval(2_000n), { code: 'E_INTERNAL' });
    assert.throws(() => recorder.record('tls', 1), { code: 'E_INTERNAL' });
  });
});
