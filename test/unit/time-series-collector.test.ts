import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TimeSeriesCollector } from '../../src/coordinator/time-series.js';
import { mergeSnapshots, summarize } from '../../src/metrics/merge.js';
import { MetricsRecorder } from '../../src/metrics/recorder.js';
import type { MetricsSnapshot } from '../../src/metrics/types.js';

const S = 1_000_000_000n;
const ORIGIN = 50n * S;

/** Interval snapshots of one worker: `n` per second-long interval, ends at the given offsets. */
function workerSnapshots(endsSec: number[], connectedAt: (i: number) => number) {
  const r = new MetricsRecorder({ startNs: ORIGIN });
  try {
    return endsSec.map((end, i) => {
      for (let k = 0; k <= i; k++) {
        r.count('messages.received');
        r.record('roundtrip', 1000 * (i + 1) + k);
      }
      r.gauge('devices.connected', connectedAt(i));
      return r.takeInterval(ORIGIN + BigInt(Math.round(end * 1e9)));
    });
  } finally {
    r.destroy();
  }
}

describe('TimeSeriesCollector', () => {
  it('lines up two workers on the grid, a phase-change snapshot included, losing nothing', () => {
    // Worker 0 ticks on the grid; worker 1 also closed a short interval at 1.4 s (a phase change).
    const w0 = workerSnapshots([1.001, 2.002, 3.001], (i) => 10 * (i + 1));
    const w1 = workerSnapshots([1.003, 1.4, 2.001, 3.004], (i) => [5, 7, 9, 11][i] ?? 0);
    const c = new TimeSeriesCollector(ORIGIN, new Date('2026-12-04T00:00:00Z'), 1000, 2);
    const sent: MetricsSnapshot[] = [];
    // Interleaved the way messages arrive.
    for (const [w, s] of [
      [0, w0[0]],
      [1, w1[0]],
      [1, w1[1]],
      [0, w0[1]],
      [1, w1[2]],
      [0, w0[2]],
      [1, w1[3]],
    ] as const) {
      c.accept(w, s as MetricsSnapshot);
      sent.push(s as MetricsSnapshot);
    }
    c.workerDone(0);
    c.workerDone(1);
    const series = c.result();

    assert.equal(series.intervalMs, 1000);
    assert.equal(series.startNs, String(ORIGIN));
    assert.equal(series.startedAt, '2026-12-04T00:00:00.000Z');
    assert.equal(series.intervals.length, 3);
    // Interval 1 holds worker 1's two snapshots: its gauge is the later one (9),
    // plus worker 0's 20.
    assert.deepEqual(
      series.intervals.map((i) => i.gauges['devices.connected']),
      [10 + 5, 20 + 9, 30 + 11],
    );
    assert.deepEqual(
      series.intervals.map((i) => i.counters['messages.received']),
      [1 + 1, 2 + (2 + 3), 3 + 4],
    );

    const all = mergeSnapshots(sent);
    const again = mergeSnapshots(series.intervals);
    assert.deepEqual(again.counters, all.counters);
    assert.deepEqual(
      summarize(again.histograms.roundtrip ?? ''),
      summarize(all.histograms.roundtrip ?? ''),
    );
  });

  it('merges an interval once every running worker has moved past it', () => {
    const [a0, a1] = workerSnapshots([1.0, 2.0], () => 1);
    const [b0] = workerSnapshots([1.0], () => 1);
    const c = new TimeSeriesCollector(ORIGIN, new Date(0), 1000, 2);
    c.accept(0, a0 as MetricsSnapshot);
    c.accept(0, a1 as MetricsSnapshot);
    const open = (c as unknown as { open: Map<number, unknown> }).open;
    assert.equal(open.size, 2, 'worker 1 has not reported yet');
    c.accept(1, b0 as MetricsSnapshot);
    assert.equal(open.size, 2, 'worker 1 is still in interval 0');
    c.workerDone(1);
    assert.equal(open.size, 1, 'only the latest interval stays open');
  });

  it('keeps the connected devices of a worker whose tick came late', () => {
    const w0 = workerSnapshots([1.0, 2.0, 3.0], () => 10);
    // Worker 1's event loop was blocked: one snapshot covers 1 s .. 3 s.
    const w1 = workerSnapshots([1.0, 3.0], () => 7);
    const c = new TimeSeriesCollector(ORIGIN, new Date(0), 1000, 2);
    c.accept(0, w0[0] as MetricsSnapshot);
    c.accept(1, w1[0] as MetricsSnapshot);
    c.accept(0, w0[1] as MetricsSnapshot);
    c.accept(1, w1[1] as MetricsSnapshot);
    c.accept(0, w0[2] as MetricsSnapshot);
    const series = c.result();
    assert.deepEqual(
      series.intervals.map((i) => i.gauges['devices.connected']),
      [17, 17, 17],
    );
  });
});
