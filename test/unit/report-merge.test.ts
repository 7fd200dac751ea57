import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import { percentileDistribution, summarize } from '../../src/metrics/merge.js';
import { MetricsRecorder } from '../../src/metrics/recorder.js';
import type { MetricsSnapshot } from '../../src/metrics/types.js';
import type { ReportDocument } from '../../src/report/document.js';
import { mergeReports } from '../../src/report/merge-reports.js';
import { sampleReport } from './report-fixture.js';

const S = 1_000_000_000n;

interface Traffic {
  /** One event: which shard sends it, in which second, and its latencies. */
  shard: 0 | 1;
  second: number;
  connectUs: number;
  roundtripUs: number;
  failed: boolean;
}

/** Deterministic, uneven traffic over 4 seconds from two shards. */
function traffic(): Traffic[] {
  const events: Traffic[] = [];
  for (let i = 0; i < 3000; i++) {
    events.push({
      shard: i % 3 === 0 ? 1 : 0,
      second: Math.floor((i * 4) / 3000),
      connectUs: 2000 + ((i * 7919) % 50_000),
      roundtripUs: 900 + ((i * 104_729) % 9000) + (i % 97 === 0 ? 400_000 : 0),
      failed: i % 101 === 0,
    });
  }
  return events;
}

/**
 * A report of the events `keep` selects, recorded the way a run records them, with its time
 * series. `originNs` and `wall` place it on a clock.
 */
function reportOf(
  events: Traffic[],
  keep: (e: Traffic) => boolean,
  clock: { originNs: bigint; wall: string; hostname: string; devices: number },
): ReportDocument {
  const r = new MetricsRecorder({ startNs: clock.originNs });
  const intervals: MetricsSnapshot[] = [];
  let connected = 0;
  try {
    for (let second = 0; second < 4; second++) {
      for (const e of events.filter((x) => x.second === second && keep(x))) {
        r.count('connect.attempted');
        if (e.failed) {
          r.count('connect.failed.tls');
          continue;
        }
        r.count('connect.ok');
        r.record('connect', e.connectUs);
        r.count('messages.received');
        r.record('roundtrip', e.roundtripUs);
        connected++;
      }
      r.gauge('devices.connected', connected);
      intervals.push(r.takeInterval(clock.originNs + BigInt(second + 1) * S));
    }
    const metrics = r.total(clock.originNs + 4n * S);
    const base = sampleReport({ metrics });
    return {
      ...sampleReport({
        metrics,
        startedAt: clock.wall,
        endedAt: new Date(Date.parse(clock.wall) + 4000).toISOString(),
        durationMs: 4000,
        host: { ...base.host, hostname: clock.hostname },
        options: { ...base.options, devices: clock.devices, workers: 2 },
        phases: [{ name: 'steady', type: 'steady', startMs: 0, durationMs: 4000, metrics }],
        timeSeries: {
          intervalMs: 1000,
          startNs: String(clock.originNs),
          startedAt: clock.wall,
          intervals,
        },
      }),
    };
  } finally {
    r.destroy();
  }
}

function assertSameMetrics(a: MetricsSnapshot, b: MetricsSnapshot, what: string): void {
  assert.deepEqual(a.counters, b.counters, `${what} counters`);
  assert.deepEqual(a.gauges, b.gauges, `${what} gauges`);
  assert.deepEqual(Object.keys(a.histograms).sort(), Object.keys(b.histograms).sort());
  for (const [name, encoded] of Object.entries(a.histograms)) {
    const other = b.histograms[name as keyof typeof b.histograms] ?? '';
    assert.deepEqual(summarize(encoded), summarize(other), `${what} ${name}`);
    assert.deepEqual(percentileDistribution(encoded), percentileDistribution(other));
  }
}

const WALL = '2026-12-04T01:00:00.000Z';

/** `report` as shard `index` of `count` of run `id`. */
function asShard(report: ReportDocument, index: number, count = 2, id = 'run-1'): ReportDocument {
  const devices = report.options.devices;
  return { ...report, run: { id, idSource: 'given', shard: { index, count, devices } } };
}

describe('mergeReports', () => {
  const events = traffic();
  /** The larger shard, on host `one`. */
  const shardA = () =>
    reportOf(events, (e) => e.shard === 0, {
      originNs: 100n * S,
      wall: WALL,
      hostname: 'one',
      devices: 2000,
    });
  const single = reportOf(events, () => true, {
    originNs: 100n * S,
    wall: WALL,
    hostname: 'one',
    devices: 3000,
  });

  for (const [label, second] of [
    ['two shards on one host', { originNs: 100n * S, hostname: 'one' }],
    [
      'two shards on two hosts with unrelated monotonic clocks',
      { originNs: 777n * S, hostname: 'two' },
    ],
  ] as const) {
    it(`${label}: equal to a single report of the same traffic`, () => {
      const a = shardA();
      const b = reportOf(events, (e) => e.shard === 1, { ...second, wall: WALL, devices: 1000 });
      const merged = mergeReports([
        { file: 'b.json', report: asShard(b, 1) },
        { file: 'a.json', report: asShard(a, 0) },
      ]);

      assertSameMetrics(merged.metrics, single.metrics, 'run');
      assert.deepEqual(merged.metrics.latency, single.metrics.latency);
      assert.equal(merged.options.devices, 3000);
      assert.equal(merged.options.workers, 4);
      // Instants are on the clock of one of the shards: compare them from the series' origin.
      const series = merged.timeSeries ?? assert.fail('no time series');
      const expected = single.timeSeries ?? assert.fail('no time series');
      const fromOrigin = (ns: string, origin: string) => BigInt(ns) - BigInt(origin);
      assert.equal(
        fromOrigin(merged.metrics.startNs, series.startNs),
        fromOrigin(single.metrics.startNs, expected.startNs),
      );
      assert.equal(
        fromOrigin(merged.metrics.endNs, series.startNs),
        fromOrigin(single.metrics.endNs, expected.startNs),
      );

      assert.equal(series.intervals.length, 4);
      assert.equal(series.startedAt, expected.startedAt);
      series.intervals.forEach((interval, i) => {
        const want = expected.intervals[i] as MetricsSnapshot;
        assertSameMetrics(interval, want, `interval ${i}`);
        assert.equal(
          fromOrigin(interval.startNs, series.startNs),
          fromOrigin(want.startNs, expected.startNs),
        );
      });

      assert.equal(merged.phases?.length, 1);
      assertSameMetrics(merged.phases?.[0]?.metrics as MetricsSnapshot, single.metrics, 'phase');
      assert.deepEqual(
        merged.mergedFrom?.map((m) => [m.file, m.devices, m.shard?.index]),
        [
          ['b.json', 1000, 1],
          ['a.json', 2000, 0],
        ],
      );
      assert.deepEqual(merged.run, {
        id: 'run-1',
        idSource: 'given',
        shard: null,
        shards: [0, 1],
        missingShards: [],
        shardCount: 2,
      });
      assert.equal(merged.partial, null);
    });
  }

  it('aligns a shard that started two seconds later on the wall clock', () => {
    const a = shardA();
    const late = '2026-12-04T01:00:02.000Z';
    const b = reportOf(events, (e) => e.shard === 1, {
      originNs: 5n * S,
      wall: late,
      hostname: 'two',
      devices: 1000,
    });
    const merged = mergeReports([
      { file: 'a.json', report: asShard(a, 0) },
      { file: 'b.json', report: asShard(b, 1) },
    ]);
    const series = merged.timeSeries?.intervals ?? [];
    assert.equal(series.length, 6);
    const received = series.map((i) => i.counters['messages.received'] ?? 0);
    const own = (r: ReportDocument) =>
      (r.timeSeries?.intervals ?? []).map((i) => i.counters['messages.received'] ?? 0);
    const [a0, a1, a2, a3] = own(a);
    const [b0, b1, b2, b3] = own(b);
    assert.deepEqual(received, [a0, a1, (a2 ?? 0) + (b0 ?? 0), (a3 ?? 0) + (b1 ?? 0), b2, b3]);
    assert.equal(merged.durationMs, 6000);
  });

  it('undoes a host clock 2 s ahead when both shards measured it against one server', () => {
    // Shard b ran at the same moment as a, but its host's clock read 2 s later.
    const b = reportOf(events, (e) => e.shard === 1, {
      originNs: 5n * S,
      wall: '2026-12-04T01:00:02.000Z',
      hostname: 'two',
      devices: 1000,
    });
    const clock = (offsetMs: number) => ({ server: 'ntp:123', offsetMs, roundTripMs: 1 });
    const withClock = (r: ReportDocument, index: number, offsetMs: number): ReportDocument => {
      const run = asShard(r, index).run ?? assert.fail('no run');
      return { ...r, run: { ...run, clock: clock(offsetMs) } };
    };
    const merged = mergeReports([
      { file: 'a.json', report: withClock(shardA(), 0, 0) },
      { file: 'b.json', report: withClock(b, 1, -2000) },
    ]);
    const series = merged.timeSeries ?? assert.fail('no time series');
    const expected = single.timeSeries ?? assert.fail('no time series');
    assert.equal(series.intervals.length, 4);
    series.intervals.forEach((interval, i) => {
      assertSameMetrics(interval, expected.intervals[i] as MetricsSnapshot, `interval ${i}`);
    });
    assert.deepEqual(
      merged.mergedFrom?.map((m) => m.clockOffsetMs),
      [0, -2000],
    );
    assert.ok(!merged.warnings.some((w) => /clock offsets were not measured/.test(w)));

    // Without the offsets, the same shards are 2 s apart, and the merge says why.
    const unmeasured = mergeReports([
      { file: 'a.json', report: asShard(shardA(), 0) },
      { file: 'b.json', report: asShard(b, 1) },
    ]);
    assert.equal(unmeasured.timeSeries?.intervals.length, 6);
    assert.ok(
      unmeasured.warnings.some((w) => /2 hosts whose clock offsets were not measured/.test(w)),
    );
  });

  it('refuses other scenarios, other runs, a shard twice or missing, naming the files', () => {
    const a = asShard(sampleReport(), 0);
    const other = sampleReport({ scenario: { name: 'soak', file: null, sha256: null } });
    const later = sampleReport({
      startedAt: '2026-12-05T00:00:00.000Z',
      endedAt: '2026-12-05T00:01:00.000Z',
    });
    const cases: [ReportDocument, RegExp][] = [
      [
        asShard(other, 1),
        /b\.json is a report of scenario "soak", a\.json of "quickstart" \(sha256 abab/,
      ],
      [asShard(sampleReport(), 1, 2, 'run-2'), /b\.json is from run run-2, a\.json from run run-1/],
      [asShard(later, 1), /b\.json ran 2026-12-05T00:00:00\.000Z .* not shards of one run/],
      [a, /b\.json and a\.json are both shard 0\/2 of run run-1/],
      [asShard(sampleReport(), 1, 3), /b\.json is shard 1\/3, a\.json shard 0\/2/],
      [sampleReport(), /b\.json names no run id/],
    ];
    for (const [b, message] of cases) {
      assert.throws(
        () =>
          mergeReports([
            { file: 'a.json', report: a },
            { file: 'b.json', report: b },
          ]),
        (err: unknown) =>
          err instanceof FleetbenchError && err.code === 'E_REPORT' && message.test(err.message),
        String(message),
      );
    }
    assert.throws(() => mergeReports([{ file: 'a.json', report: a }]), /at least two reports/);
  });

  it('refuses a missing shard, or merges what there is as partial when asked', () => {
    const shards = [0, 1, 3].map((i) => ({
      file: `s${i}.json`,
      report: asShard(sampleReport(), i, 4),
    }));
    assert.throws(
      () => mergeReports(shards),
      (err: unknown) =>
        err instanceof FleetbenchError &&
        /run run-1 has 4 shards but shard 2 is missing/.test(err.message) &&
        /--allow-partial/.test(err.hint ?? ''),
    );
    const merged = mergeReports(shards, { allowMissing: true });
    assert.deepEqual(merged.run?.shards, [0, 1, 3]);
    assert.deepEqual(merged.run?.missingShards, [2]);
    assert.match(merged.partial?.reason ?? '', /^missing-shards: 2 of 4/);
    assert.equal(merged.metrics.counters['connect.ok'], 3 * 200);
    const alone = mergeReports(shards.slice(0, 1), { allowMissing: true });
    assert.deepEqual(alone.run?.missingShards, [1, 2, 3]);
  });

  it('judges thresholds again on the merged numbers', () => {
    const a = shardA();
    const b = reportOf(events, (e) => e.shard === 1, {
      originNs: 900n * S,
      wall: WALL,
      hostname: 'two',
      devices: 1000,
    });
    const rule = 'connect.ok > 2500';
    a.thresholds = [{ expression: rule, ok: false, actual: 1980, unit: '', phase: null }];
    const merged = mergeReports([
      { file: 'a.json', report: asShard(a, 0) },
      { file: 'b.json', report: asShard(b, 1) },
    ]);
    assert.deepEqual(merged.thresholds?.[0]?.ok, true);
    assert.equal(merged.thresholds?.[0]?.actual, single.metrics.counters['connect.ok']);
  });
});

describe('mergeReports: load-generator health', () => {
  it('keeps every shard’s workers and says saturated if any shard was', () => {
    const worker = {
      workerId: 0,
      intervals: 4,
      saturatedIntervals: 0,
      loopDelayP99MaxMs: 3,
      loopDelayMaxMs: 5,
      busyMean: 0.2,
      busyMax: 0.3,
      busySource: 'cpu' as const,
    };
    const health = (saturated: boolean, cpu: number) => ({
      saturated,
      limits: { loopDelayP99Ms: 50, busy: 0.9 },
      workers: [worker, { ...worker, workerId: 1 }],
      processCpuCores: cpu,
    });
    const a = sampleReport({ loadGenerator: health(false, 0.5) });
    const b = sampleReport({
      loadGenerator: health(true, 0.75),
      host: { ...a.host, hostname: 'other' },
    });
    const merged = mergeReports([
      { file: 'a.json', report: asShard(a, 0) },
      { file: 'b.json', report: asShard(b, 1) },
    ]);
    const h = merged.loadGenerator ?? assert.fail('no health');
    assert.equal(h.saturated, true);
    assert.deepEqual(
      h.workers.map((w) => w.workerId),
      [0, 1, 2, 3],
    );
    assert.equal(h.processCpuCores, 1.25);
    assert.equal(merged.host.hostname, 'bench-1, other');
    assert.equal(merged.host.cpus, 4);
  });
});

describe('mergeReports: gauges over a shard that missed an interval', () => {
  it('carries the shard’s last gauges into the interval it missed, and nothing else', () => {
    const events = traffic();
    const clock = { originNs: 100n * S, wall: WALL, hostname: 'one' };
    const a = reportOf(events, (e) => e.shard === 0, { ...clock, devices: 2000 });
    const full = reportOf(events, (e) => e.shard === 1, { ...clock, devices: 1000 });
    const series = full.timeSeries ?? assert.fail('no time series');
    // Shard b's coordinator was late: its interval 2 never made it into its series.
    const b = { ...full, timeSeries: { ...series, intervals: series.intervals.toSpliced(2, 1) } };
    const merged = mergeReports([
      { file: 'a.json', report: asShard(a, 0) },
      { file: 'b.json', report: asShard(b, 1) },
    ]);
    const at = (r: ReportDocument, i: number) =>
      r.timeSeries?.intervals[i] ?? assert.fail(`no interval ${i}`);
    const gauge = (s: MetricsSnapshot) => s.gauges['devices.connected'] ?? 0;
    const intervals = merged.timeSeries?.intervals ?? [];
    assert.equal(intervals.length, 4);
    for (const i of [0, 1, 3])
      assert.equal(gauge(at(merged, i)), gauge(at(a, i)) + gauge(at(full, i)));
    // Interval 2: a's own gauge plus b's latest before it; its counters are a's alone.
    assert.equal(gauge(at(merged, 2)), gauge(at(a, 2)) + gauge(at(full, 1)));
    assert.deepEqual(at(merged, 2).counters, at(a, 2).counters);
    assert.ok(gauge(at(full, 1)) > 0, 'the carried value is not zero');
  });
});
