import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import { decodeHistogram } from '../../src/metrics/histogram.js';
import { directionOf } from '../../src/report/metric-direction.js';
import { listMetricPaths } from '../../src/report/metric-list.js';
import { parseMetricPath, resolveMetric } from '../../src/report/metric-path.js';
import { sampleReport, sampleSnapshot } from './report-fixture.js';

function withCounters(extra: Record<string, number>) {
  const metrics = sampleSnapshot();
  Object.assign(metrics.counters, extra);
  return sampleReport({ metrics });
}

function usageError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FleetbenchError);
    assert.equal(err.code, 'E_USAGE');
    assert.match(err.message, message);
    assert.match(err.hint ?? '', /connect\.failed\.rate/);
    return true;
  });
}

describe('resolveMetric', () => {
  const report = sampleReport();
  const roundtrip = decodeHistogram(report.metrics.histograms.roundtrip ?? '');

  it('reads histogram statistics in µs, the same as the summary and the histogram itself', () => {
    const summary = report.metrics.latency.roundtrip ?? assert.fail('no summary');
    const cases: [string, number][] = [
      ['roundtrip.count', summary.count],
      ['roundtrip.min', summary.minUs],
      ['roundtrip.mean', summary.meanUs],
      ['roundtrip.p50', summary.p50Us],
      ['roundtrip.median', summary.p50Us],
      ['roundtrip.p99', summary.p99Us],
      ['roundtrip.p99.9', summary.p999Us],
      ['roundtrip.max', summary.maxUs],
      ['roundtrip.p99.99', roundtrip.getValueAtPercentile(99.99)],
      ['roundtrip.p75', roundtrip.getValueAtPercentile(75)],
    ];
    for (const [path, expected] of cases) {
      const m = resolveMetric(report, path);
      assert.equal(m.value, expected, path);
      assert.equal(m.unit, path.endsWith('.count') ? 'count' : 'us', path);
    }
    assert.equal(resolveMetric(report, 'roundtrip.p99').direction, 'lower-is-better');
    // The fixture's round trips run 1200..4197 µs: the p99 must sit near the top.
    const p99 = resolveMetric(report, 'roundtrip.p99').value ?? 0;
    assert.ok(p99 > 4100 && p99 < 4200, `p99 ${p99}`);
  });

  it('tells the connect histogram from the connect counters', () => {
    assert.equal(resolveMetric(report, 'connect.p99').unit, 'us');
    assert.equal(resolveMetric(report, 'connect.count').value, 200);
    const ok = resolveMetric(report, 'connect.ok');
    assert.deepEqual(ok, {
      path: 'connect.ok',
      value: 200,
      unit: 'count',
      direction: 'higher-is-better',
    });
  });

  it('gives null for a histogram that measured nothing, and count 0', () => {
    assert.equal(resolveMetric(report, 'pubcomp.p99').value, null);
    assert.equal(resolveMetric(report, 'pubcomp.count').value, 0);
  });

  it('reads absent counters of known families as 0, and sums connect.failed', () => {
    assert.equal(resolveMetric(report, 'connect.failed.tls').value, 0);
    assert.equal(resolveMetric(report, 'messages.lost').value, 0);
    assert.equal(resolveMetric(report, 'connect.failed').value, 0);

    const failing = withCounters({
      'connect.attempted': 220,
      'connect.failed.tls': 15,
      'connect.failed.refused.5': 5,
      'groups.foreign.connect.attempted': 20,
      'groups.foreign.connect.failed.tls': 15,
    });
    assert.equal(resolveMetric(failing, 'connect.failed').value, 20);
    assert.equal(resolveMetric(failing, 'groups.foreign.connect.failed').value, 15);
    assert.equal(resolveMetric(failing, 'connect.failed.refused.5').value, 5);
  });

  it('derives rates over each family’s denominator', () => {
    const failing = withCounters({
      'connect.attempted': 250,
      'connect.failed.tls': 50,
      'messages.failed': 20,
      'connection.lost': 10,
      'subscribe.ok': 180,
      'subscribe.failed': 20,
      'groups.a.connect.attempted': 10,
      'groups.a.connect.failed.timeout': 4,
    });
    const cases: [string, number][] = [
      ['connect.failed.rate', 50 / 250],
      ['connect.failed.tls.rate', 50 / 250],
      ['connect.ok.rate', 200 / 250],
      ['messages.failed.rate', 20 / 2000],
      ['messages.received.rate', 1],
      ['connection.lost.rate', 10 / 200],
      ['subscribe.failed.rate', 20 / 200],
      ['groups.a.connect.failed.rate', 4 / 10],
    ];
    for (const [path, expected] of cases) {
      const m = resolveMetric(failing, path);
      assert.equal(m.value, expected, path);
      assert.equal(m.unit, 'ratio', path);
    }
    assert.equal(resolveMetric(failing, 'connect.failed.rate').direction, 'lower-is-better');
    assert.equal(resolveMetric(failing, 'connect.ok.rate').direction, 'higher-is-better');
    // Nothing attempted: no rate to speak of.
    assert.equal(resolveMetric(report, 'subscribe.failed.rate').value, null);
  });

  it('derives per-second rates from the duration', () => {
    const m = resolveMetric(report, 'messages.received.perSec');
    assert.equal(m.value, 2000 / (report.durationMs / 1000));
    assert.equal(m.unit, 'per-sec');
    assert.equal(resolveMetric({ ...report, durationMs: 0 }, 'connect.ok.perSec').value, null);
    assert.deepEqual(resolveMetric(report, 'duration'), {
      path: 'duration',
      value: report.durationMs,
      unit: 'ms',
      direction: 'neutral',
    });
  });

  it('refuses what is not a metric, saying which forms exist', () => {
    usageError(() => resolveMetric(report, 'roundtrip.p999'), /percentile 999, outside 0\.\.100/);
    usageError(() => resolveMetric(report, 'roundtrip.p50x'), /no statistic "p50x"/);
    usageError(() => resolveMetric(report, 'tls.fast'), /no statistic "fast"/);
    usageError(() => resolveMetric(report, 'conect.ok'), /counter "conect.ok", which the report/);
    usageError(() => parseMetricPath('roundtrip p99'), /is not a metric path/);
    usageError(() => parseMetricPath(''), /is not a metric path/);
  });

  it('accepts counters outside the known families when the report has them', () => {
    const custom = withCounters({ 'custom.widgets': 7 });
    assert.equal(resolveMetric(custom, 'custom.widgets').value, 7);
  });
});

describe('directionOf', () => {
  it('marks failures and losses lower-is-better and successes higher-is-better', () => {
    assert.equal(directionOf('connect.failed.tls'), 'lower-is-better');
    assert.equal(directionOf('groups.fleet.connect.failed.refused.5'), 'lower-is-better');
    assert.equal(directionOf('connection.lost'), 'lower-is-better');
    assert.equal(directionOf('messages.lost'), 'lower-is-better');
    assert.equal(directionOf('metrics.outOfRange'), 'lower-is-better');
    assert.equal(directionOf('connect.ok'), 'higher-is-better');
    assert.equal(directionOf('messages.received.rate'), 'higher-is-better');
    assert.equal(directionOf('connect.ok.rate'), 'higher-is-better');
    assert.equal(directionOf('messages.received'), 'neutral', 'set by the scenario');
    assert.equal(directionOf('connect.attempted'), 'neutral');
  });
});

describe('listMetricPaths', () => {
  it('lists every histogram statistic and counter, each of which resolves', () => {
    const report = withCounters({ 'connect.failed.tls': 3 });
    const paths = listMetricPaths([report]);
    assert.ok(paths.includes('roundtrip.p99.9'));
    assert.ok(paths.includes('connect.failed.rate'));
    assert.ok(paths.includes('connect.failed.tls'));
    assert.ok(paths.includes('messages.received.perSec'));
    assert.ok(!paths.some((p) => p.startsWith('pubcomp.')), 'no empty histograms');
    assert.equal(paths.at(-1), 'duration');
    for (const path of paths) assert.doesNotThrow(() => resolveMetric(report, path), path);
  });
});

describe('reconnect metrics', () => {
  it('tells the reconnect histogram from the reconnect counters', () => {
    const report = sampleReport();
    const metrics = { ...report.metrics, counters: { ...report.metrics.counters } };
    Object.assign(metrics.counters, { 'reconnect.attempted': 10, 'reconnect.ok': 8 });
    const source = { metrics, durationMs: report.durationMs };
    assert.equal(resolveMetric(source, 'reconnect.ok').value, 8);
    assert.equal(resolveMetric(source, 'reconnect.ok.rate').value, 0.8);
    assert.equal(resolveMetric(source, 'reconnect.gaveUp').value, 0);
    assert.equal(resolveMetric(source, 'reconnect.gaveUp').direction, 'lower-is-better');
    assert.equal(resolveMetric(source, 'reconnect.p99').unit, 'us');
    assert.equal(resolveMetric(source, 'storm.dropped').value, 0);
  });

  it('sums reconnect failures over their categories, as a rate of the attempts', () => {
    const report = sampleReport();
    const metrics = { ...report.metrics, counters: { ...report.metrics.counters } };
    Object.assign(metrics.counters, {
      'reconnect.attempted': 40,
      'reconnect.failed.tcp': 6,
      'reconnect.failed.timeout': 4,
    });
    const source = { metrics, durationMs: report.durationMs };
    assert.equal(resolveMetric(source, 'reconnect.failed').value, 10);
    assert.equal(resolveMetric(source, 'reconnect.failed.rate').value, 10 / 40);
    assert.equal(resolveMetric(source, 'reconnect.failed.tcp.rate').value, 6 / 40);
    assert.equal(resolveMetric(source, 'reconnect.failed.rate').direction, 'lower-is-better');
  });
});

describe('per-target metrics', () => {
  it('takes a target’s rates over its own outcomes', () => {
    const report = sampleReport();
    const metrics = { ...report.metrics, counters: { ...report.metrics.counters } };
    Object.assign(metrics.counters, {
      'targets.0.connect.ok': 30,
      'targets.1.connect.ok': 10,
      'targets.1.connect.failed.tcp': 5,
      'targets.1.connect.failed.refused.5': 5,
    });
    const source = { metrics, durationMs: report.durationMs };
    assert.equal(resolveMetric(source, 'targets.1.connect.failed').value, 10);
    assert.equal(resolveMetric(source, 'targets.1.connect.failed.rate').value, 0.5);
    assert.equal(resolveMetric(source, 'targets.1.connect.failed.tcp.rate').value, 0.25);
    assert.equal(resolveMetric(source, 'targets.0.connect.failed.rate').value, 0);
    assert.equal(resolveMetric(source, 'targets.0.connect.ok.rate').value, 1);
    assert.equal(resolveMetric(source, 'targets.0.connect.ok.rate').direction, 'higher-is-better');
    // A target that saw nothing has no rate to speak of.
    assert.equal(resolveMetric(source, 'targets.7.connect.failed.rate').value, null);
  });
});

describe('metric paths of group behaviours', () => {
  it('reaches commands, fan-in and wills: counters, rates, per second, histograms', () => {
    const report = withCounters({
      'commands.published': 200,
      'commands.received': 198,
      'commands.interrupted': 2,
      'fanIn.received': 500,
      'groups.monitor.wills.received': 29,
    });
    const value = (path: string) =>
      resolveMetric({ metrics: report.metrics, durationMs: 10_000 }, path).value;
    assert.equal(value('commands.received.rate'), 0.99);
    assert.equal(value('commands.lost'), 0, 'a family counter that never moved is 0');
    assert.equal(value('fanIn.received.perSec'), 50);
    assert.equal(value('groups.monitor.wills.received'), 29);
    assert.equal(value('wills.received'), 0);
    assert.deepEqual(parseMetricPath('commandRoundtrip.p99'), {
      kind: 'histogram',
      path: 'commandRoundtrip.p99',
      histogram: 'commandRoundtrip',
      stat: { percentile: 99 },
    });
    assert.equal(value('fanIn.p99'), null, 'nothing measured');
    assert.deepEqual(parseMetricPath('groups.mon.fanIn.p99.9'), {
      kind: 'histogram',
      path: 'groups.mon.fanIn.p99.9',
      histogram: 'groups.mon.fanIn',
      stat: { percentile: 99.9 },
    });
    assert.equal(parseMetricPath('groups.mon.fanIn.received').kind, 'counter');
    assert.equal(directionOf('commands.lost'), 'lower-is-better');
    assert.equal(directionOf('commands.received.rate'), 'higher-is-better');
    const listed = listMetricPaths([{ metrics: report.metrics, durationMs: 10_000 }]);
    assert.ok(listed.includes('commands.received.rate'));
    assert.ok(listed.includes('fanIn.received.perSec'));
  });
});
