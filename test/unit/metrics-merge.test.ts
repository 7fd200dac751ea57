import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import {
  createRecordingHistogram,
  decodeHistogram,
  encodeHistogram,
  MAX_VALUE_US,
} from '../../src/metrics/histogram.js';
import {
  mergeEncoded,
  mergeSnapshots,
  percentileDistribution,
  summarize,
} from '../../src/metrics/merge.js';
import { MetricsRecorder } from '../../src/metrics/recorder.js';
import type { MetricsSnapshot } from '../../src/metrics/types.js';

/** mulberry32: a seeded generator, so a failing case can be replayed from its seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Latency-like values spread log-uniformly over 1 µs .. 1 hour. */
function randomLatencies(random: () => number, n: number): number[] {
  const logMax = Math.log(MAX_VALUE_US);
  return Array.from({ length: n }, () => Math.round(Math.exp(random() * logMax)));
}

function encodeAll(values: number[]): string {
  const h = createRecordingHistogram();
  try {
    for (const v of values) h.recordValue(v);
    return encodeHistogram(h);
  } finally {
    h.destroy();
  }
}

function snapshot(partial: Partial<MetricsSnapshot>): MetricsSnapshot {
  return { startNs: '0', endNs: '0', counters: {}, gauges: {}, histograms: {}, ...partial };
}

describe('mergeSnapshots', () => {
  it('merges N workers exactly: percentiles and count equal one histogram fed every value', () => {
    for (const seed of [1, 2, 3]) {
      const random = seededRandom(seed);
      const workers = 2 + Math.floor(random() * 7);
      const recorders = Array.from({ length: workers }, () => new MetricsRecorder());
      const all: number[] = [];
      try {
        for (let i = 0; i < 50_000; i++) {
          const [value] = randomLatencies(random, 1) as [number];
          all.push(value);
          recorders[Math.floor(random() * workers)]?.record('roundtrip', value);
        }
        const now = process.hrtime.bigint();
        const merged = mergeSnapshots(recorders.map((r) => r.total(now)));
        const encoded = merged.histograms.roundtrip ?? assert.fail('no merged histogram');
        const reference = encodeAll(all);

        assert.deepEqual(summarize(encoded), summarize(reference), `seed ${seed}`);
        assert.deepEqual(
          percentileDistribution(encoded),
          percentileDistribution(reference),
          `seed ${seed}`,
        );
        assert.equal(summarize(encoded).count, all.length);
      } finally {
        recorders.forEach((r) => r.destroy());
      }
    }
  });

  it('keeps percentiles within 0.1% of the exact values (3 significant digits)', () => {
    const values = randomLatencies(seededRandom(42), 20_000);
    const sorted = [...values].sort((a, b) => a - b);
    const s = summarize(
      mergeEncoded([encodeAll(values.slice(0, 7000)), encodeAll(values.slice(7000))]),
    );

    for (const [p, got] of [
      [50, s.p50Us],
      [90, s.p90Us],
      [99, s.p99Us],
      [99.9, s.p999Us],
    ] as const) {
      const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1] ?? 0;
      assert.ok(Math.abs(got - exact) <= exact * 0.001 + 1, `p${p}: ${got} vs exact ${exact}`);
    }
    const [min, max] = [sorted[0] ?? 0, sorted.at(-1) ?? 0];
    assert.ok(s.maxUs >= max && s.maxUs <= max * 1.001, `max ${s.maxUs} vs exact ${max}`);
    assert.ok(s.minUs <= min && s.minUs >= min * 0.999, `min ${s.minUs} vs exact ${min}`);
  });

  it('sums counters and gauges, takes the earliest start and the latest end', () => {
    const merged = mergeSnapshots([
      snapshot({ startNs: '200', endNs: '900', counters: { a: 1, b: 2 }, gauges: { g: 5 } }),
      snapshot({ startNs: '100', endNs: '800', counters: { b: 3, c: 4 }, gauges: { g: 7 } }),
    ]);
    assert.equal(merged.startNs, '100');
    assert.equal(merged.endNs, '900');
    assert.deepEqual(merged.counters, { a: 1, b: 5, c: 4 });
    assert.deepEqual(merged.gauges, { g: 12 });
  });

  it("takes the latest gauge value across time with gauges: 'latest'", () => {
    const later = snapshot({ startNs: '100', endNs: '200', gauges: { g: 9, h: 1 } });
    const earlier = snapshot({ startNs: '0', endNs: '100', gauges: { g: 3, k: 2 } });
    const merged = mergeSnapshots([later, earlier], { gauges: 'latest' });
    assert.deepEqual(merged.gauges, { g: 9, h: 1, k: 2 });
  });

  it('compares instants beyond 2^53 ns exactly', () => {
    const merged = mergeSnapshots([
      snapshot({ startNs: '9007199254740993', endNs: '9007199254740995' }),
      snapshot({ startNs: '9007199254740992', endNs: '9007199254740994' }),
    ]);
    assert.equal(merged.startNs, '9007199254740992');
    assert.equal(merged.endNs, '9007199254740995');
  });

  it('refuses an empty list and reports an invalid histogram as E_REPORT', () => {
    assert.throws(() => mergeSnapshots([]), { code: 'E_INTERNAL' });
    const bad = snapshot({ histograms: { tls: 'not-a-histogram' } });
    assert.throws(
      () => mergeSnapshots([bad, bad]),
      (err: unknown) => err instanceof FleetbenchError && err.code === 'E_REPORT',
    );
  });
});

describe('encoding', () => {
  it('round-trips a histogram through compressed base64 without loss', () => {
    const values = randomLatencies(seededRandom(7), 5000);
    const encoded = encodeAll(values);
    const decoded = decodeHistogram(encoded);

    assert.equal(decoded.totalCount, values.length);
    const max = Math.max(...values);
    assert.ok(decoded.maxValue >= max && decoded.maxValue <= max * 1.001);
    const reencoded = encodeHistogram(decoded);
    assert.deepEqual(percentileDistribution(reencoded), percentileDistribution(encoded));
    assert.deepEqual(summarize(reencoded), summarize(encoded));
  });

  it('summarises an empty histogram as zeros', () => {
    assert.deepEqual(summarize(encodeAll([])), {
      count: 0,
      minUs: 0,
      meanUs: 0,
      p50Us: 0,
      p90Us: 0,
      p99Us: 0,
      p999Us: 0,
      maxUs: 0,
    });
    assert.deepEqual(percentileDistribution(encodeAll([])), []);
  });

  it('gives a percentile distribution that rises to 100% and every value', () => {
    const points = percentileDistribution(encodeAll([100, 200, 300, 400, 1000]));
    assert.equal(points.at(-1)?.percentile, 100);
    assert.equal(points.at(-1)?.totalCount, 5);
    assert.ok(Math.abs((points.at(-1)?.valueUs ?? 0) - 1000) <= 1);
    for (let i = 1; i < points.length; i++) {
      assert.ok((points[i]?.percentile ?? 0) >= (points[i - 1]?.percentile ?? 0));
    }
  });
});
