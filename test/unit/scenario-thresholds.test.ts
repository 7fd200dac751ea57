import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateThresholds } from '../../src/coordinator/thresholds.js';
import { FleetbenchError } from '../../src/errors.js';
import { summarize } from '../../src/metrics/merge.js';
import { planScenario } from '../../src/scenario/load.js';
import { evaluateThreshold, parseThreshold } from '../../src/scenario/thresholds.js';
import { sampleSnapshot } from './report-fixture.js';

const run = { metrics: sampleSnapshot(), durationMs: 10_000 };
const verdict = (rule: string) => evaluateThreshold(parseThreshold(rule, 'test'), run);

describe('thresholds', () => {
  test('times take us, ms, s, min; a bare number is ms', () => {
    const p99Us = summarize(run.metrics.histograms.roundtrip ?? '').p99Us;
    const ms = verdict('roundtrip.p99 < 50');
    assert.deepEqual(
      [ms.ok, ms.actual, ms.unit],
      [true, Number((p99Us / 1000).toPrecision(4)), 'ms'],
    );
    assert.equal(verdict(`roundtrip.p99 <= ${p99Us}us`).ok, true);
    assert.equal(verdict(`roundtrip.p99 < ${p99Us}us`).ok, false);
    assert.equal(verdict('roundtrip.p99 < 0.001s').ok, false);
    assert.equal(verdict('roundtrip.max < 1min').ok, true);
  });

  test('rates take a share or a percentage; counts a plain number', () => {
    const metrics = structuredClone(run.metrics);
    Object.assign(metrics.counters, { 'connect.attempted': 2000, 'connect.failed.tls': 3 });
    const source = { metrics, durationMs: 1000 };
    const rate = evaluateThreshold(parseThreshold('connect.failed.rate < 0.1%', 't'), source);
    assert.deepEqual([rate.ok, rate.actual, rate.unit], [false, 0.15, '%']);
    assert.equal(
      evaluateThreshold(parseThreshold('connect.failed.rate < 0.002', 't'), source).ok,
      true,
    );
    assert.equal(verdict('messages.received == 2000').ok, true);
    assert.equal(verdict('messages.received != 2000').ok, false);
    assert.equal(verdict('messages.lost == 0').ok, true, 'a counter that never moved is 0');
    assert.equal(verdict('messages.received.perSec > 199/s').ok, true);
  });

  test('a metric with nothing measured fails the rule', () => {
    const v = verdict('pubcomp.p99 < 1s');
    assert.deepEqual([v.ok, v.actual], [false, null]);
  });

  test('bad rules name their place and the fix', () => {
    const cases: [string, RegExp][] = [
      ['connect.p99 500ms', /is not of the form <metric> <op> <value>\[unit\]/],
      ['connect.p99 < 5 parsecs', /takes a time unit/],
      ['connect.p99 < 5kg', /takes a time unit: us, ms, s, min/],
      ['connect.failed.rate < 5ms', /is a ratio/],
      ['connect.ok > 5%', /takes a plain number, not "%"/],
      ['conect.p99 < 5ms', /metric "conect\.p99".*does not have/],
      ['roundtrip.p101 < 5ms', /outside 0\.\.100/],
    ];
    for (const [rule, message] of cases) {
      assert.throws(
        () => parseThreshold(rule, 'thresholds[3]'),
        (e: unknown) =>
          e instanceof FleetbenchError &&
          e.code === 'E_SCENARIO' &&
          e.message.startsWith('thresholds[3]') &&
          message.test(e.message),
        rule,
      );
    }
  });

  test('the scenario and the command line add up; phases are checked by name', () => {
    const plan = planScenario(
      {
        ...{ name: 't', devices: 10 },
        thresholds: ['connect.p99 < 1s', { expression: 'connect.ok == 10', phase: 'ramp' }],
      },
      { file: null, sha256: null, label: 'x', overrides: { thresholds: ['messages.lost == 0'] } },
    );
    assert.deepEqual(
      plan.thresholds.map((t) => [t.expression, t.phase]),
      [
        ['connect.p99 < 1s', null],
        ['connect.ok == 10', 'ramp'],
        ['messages.lost == 0', null],
      ],
    );
    assert.throws(
      () =>
        planScenario(
          {
            ...{ name: 't', devices: 10 },
            thresholds: [{ expression: 'connect.ok == 1', phase: 'nope', abortOnFail: true }],
          },
          { file: null, sha256: null, label: 'x' },
        ),
      (e: unknown) =>
        e instanceof FleetbenchError &&
        /thresholds\[0\]\.phase names no phase/.test(e.problems.join('\n')) &&
        /abortOnFail works on the whole run/.test(e.problems.join('\n')),
    );
  });

  test('a rule on a phase the run never reached fails; the aborting rule is marked', () => {
    const rules = [
      parseThreshold('connect.ok > 0', 'a', { phase: 'later' }),
      parseThreshold('messages.received < 10', 'b', { abortOnFail: true }),
    ];
    const verdicts = evaluateThresholds(rules, run, [], 'messages.received < 10');
    assert.deepEqual(
      verdicts.map((v) => [v.ok, v.actual, v.aborted ?? false]),
      [
        [false, null, false],
        [false, 2000, true],
      ],
    );
  });
});
