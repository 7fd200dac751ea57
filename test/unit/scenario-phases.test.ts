import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetbenchError } from '../../src/errors.js';
import { planScenario } from '../../src/scenario/load.js';
import { describePlan, type Plan } from '../../src/scenario/plan.js';
import {
  backoffDelayMs,
  DEFAULT_RECONNECT,
  rampLengthMs,
  rampOffsetMs,
  workerShare,
  type RampPhasePlan,
} from '../../src/scenario/phases.js';

function plan(scenario: Record<string, unknown>, overrides = {}): Plan {
  return planScenario(
    { name: 'p', devices: 100, ...scenario },
    { file: null, sha256: null, label: 'inline', overrides },
  );
}

function problems(scenario: Record<string, unknown>): string[] {
  try {
    plan(scenario);
  } catch (err) {
    assert.ok(err instanceof FleetbenchError);
    return err.problems;
  }
  return assert.fail('expected a validation error');
}

describe('phases in a scenario', () => {
  test('without phases: a ramp at connect.ratePerSec, then steady for durationSec', () => {
    const p = plan({ connect: { ratePerSec: 50 }, durationSec: 7 });
    assert.deepEqual(p.phases, [
      {
        type: 'ramp',
        name: 'ramp',
        traffic: true,
        devices: 100,
        fromRatePerSec: 50,
        toRatePerSec: 50,
      },
      { type: 'steady', name: 'steady', traffic: true, durationSec: 7 },
    ]);
    assert.equal(p.reconnect, null);
    const quiet = plan({ traffic: false, durationSec: 3 });
    assert.deepEqual(quiet.phases[1], {
      type: 'hold',
      name: 'hold',
      traffic: false,
      durationSec: 3,
    });
  });

  test('counts and rates are resolved through the sequence', () => {
    const p = plan({
      phases: [
        { name: 'half', type: 'ramp', share: 0.5, durationSec: 10 },
        { name: 'rest', type: 'ramp', fromRatePerSec: 10, toRatePerSec: 30 },
        { name: 'quiet', type: 'hold' },
        { name: 'outage', type: 'storm', share: 0.25 },
        { name: 'down', type: 'ramp-down', devices: 40, ratePerSec: 20 },
      ],
      durationSec: 4,
      reconnect: { initialDelayMs: 100 },
    });
    const [half, rest, quiet, outage, down] = p.phases;
    assert.deepEqual(half, {
      ...{ type: 'ramp', name: 'half', traffic: true, devices: 50 },
      ...{ fromRatePerSec: 5, toRatePerSec: 5 },
    });
    assert.equal(rest?.type === 'ramp' && rest.devices, 50);
    assert.deepEqual(quiet, { type: 'hold', name: 'quiet', traffic: false, durationSec: 4 });
    assert.deepEqual(outage, {
      ...{
        type: 'storm',
        name: 'outage',
        traffic: true,
        share: 0.25,
        maxDurationSec: 120,
        groups: null,
      },
    });
    assert.equal(down?.type === 'ramp-down' && down.devices, 40);
    assert.deepEqual(p.reconnect, { ...DEFAULT_RECONNECT, initialDelayMs: 100 });
  });

  test('--duration sets every steady and hold phase', () => {
    const p = plan(
      {
        phases: [
          { name: 'r', type: 'ramp' },
          { name: 's', type: 'steady', durationSec: 60 },
          { name: 'h', type: 'hold', durationSec: 60 },
        ],
      },
      { durationSec: 2 },
    );
    assert.deepEqual(
      p.phases.map((ph) => ('durationSec' in ph ? ph.durationSec : null)),
      [null, 2, 2],
    );
  });

  test('bad phase keys are reported together, each with its path', () => {
    const all = problems({
      phases: [
        { name: 'x', type: 'explode' },
        { name: 'drain', type: 'hold' },
        { name: 's', type: 'steady', colour: 'red' },
      ],
    }).join('\n');
    assert.match(
      all,
      /phases\[0\]\.type: type must be one of ramp, steady, hold, storm, ramp-down/,
    );
    assert.match(all, /phases\[1\]\.name: drain, disconnect and done are the names/);
    assert.match(all, /phases\[2\]\.colour is not a known setting/);
  });

  test('phases that cannot work are reported together, each with its path', () => {
    const all = problems({
      phases: [
        { name: 'storm-first', type: 'storm' },
        { name: 'r', type: 'ramp', ratePerSec: 10, durationSec: 5 },
        { name: 'r', type: 'ramp', fromRatePerSec: 5 },
        { name: 'd', type: 'ramp-down', devices: 500 },
      ],
    }).join('\n');
    assert.match(all, /phases\[0\] \(storm\) comes when no device is connected/);
    assert.match(
      all,
      /phases\[1\] takes one of ratePerSec, fromRatePerSec\/toRatePerSec or durationSec/,
    );
    assert.match(all, /phases\[2\]\.name repeats "r"/);
    assert.match(all, /phases\[2\] has no device to connect/);
    assert.match(all, /phases\[2\] needs both fromRatePerSec and toRatePerSec/);
    assert.match(all, /phases\[3\] would disconnect 500 devices but only 100 are available/);
  });

  test('the plan prints one line per group and per phase', () => {
    const lines = describePlan(
      plan({
        phases: [
          { name: 'up', type: 'ramp', fromRatePerSec: 10, toRatePerSec: 30 },
          { name: 'outage', type: 'storm' },
          { name: 'down', type: 'ramp-down', ratePerSec: 25 },
        ],
      }),
    );
    assert.ok(
      lines.includes('  phase up (ramp): connect 100 devices at 10/s rising to 30/s (~5.0 s)'),
    );
    assert.ok(lines.some((l) => l.startsWith('  phase outage (storm): drop 100% of connections')));
    assert.ok(lines.includes('  phase down (ramp-down): disconnect 100 devices at 25/s'));
    assert.ok(lines.some((l) => l.startsWith('  group fleet: 100 devices')));
    assert.ok(lines.some((l) => l.startsWith('  reconnect: none')));
  });
});

describe('ramp schedule', () => {
  const ramp = (from: number, to: number, devices: number): RampPhasePlan => ({
    ...{ type: 'ramp', name: 'r', traffic: true, devices },
    ...{ fromRatePerSec: from, toRatePerSec: to },
  });

  test('a constant rate spaces connects evenly', () => {
    const r = ramp(100, 100, 50);
    assert.equal(rampOffsetMs(r, 0), 0);
    assert.equal(rampOffsetMs(r, 10), 100);
    assert.equal(rampLengthMs(r), 490);
  });

  test('a ramping rate follows the integral of the rate', () => {
    // 10/s rising to 30/s over 200 devices: T = 2 * 200 / 40 = 10 s.
    const r = ramp(10, 30, 200);
    const tSec = (k: number) => rampOffsetMs(r, k) / 1000;
    // Connects so far at t: 10 t + t² (since (30 - 10) / (2 * 10) = 1).
    for (const k of [1, 50, 100, 199]) {
      const t = tSec(k);
      assert.ok(Math.abs(10 * t + t * t - k) < 1e-9, `device ${k} at ${t} s`);
    }
    assert.ok(tSec(199) < 10 && tSec(199) > 9.9);
    // Falling rates work the same way.
    const down = ramp(30, 10, 200);
    const t = rampOffsetMs(down, 100) / 1000;
    assert.ok(Math.abs(30 * t - t * t - 100) < 1e-9);
    // Gaps shrink as the rate rises.
    assert.ok(tSec(2) - tSec(1) > tSec(199) - tSec(198));
  });

  test('workers share a count by rank, every rank once', () => {
    for (const [total, workers] of [
      [10, 3],
      [2, 4],
      [100, 1],
    ] as const) {
      const shares = Array.from({ length: workers }, (_, w) => workerShare(total, w, workers));
      assert.equal(
        shares.reduce((a, b) => a + b, 0),
        total,
      );
      assert.ok(Math.max(...shares) - Math.min(...shares) <= 1);
    }
  });
});

describe('reconnect backoff', () => {
  const policy = { ...DEFAULT_RECONNECT, initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 };

  test('grows by the multiplier up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 10].map((n) => backoffDelayMs(policy, n, 0)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  test('jitter takes off up to its share of the delay', () => {
    assert.equal(backoffDelayMs(policy, 2, 0.999999), 200 * (1 - 0.5 * 0.999999));
    for (let i = 0; i < 100; i++) {
      const d = backoffDelayMs(policy, 3);
      assert.ok(d > 200 && d <= 400, `delay ${d}`);
    }
    assert.equal(backoffDelayMs({ ...policy, jitter: 0 }, 3, 0.7), 400);
  });
});
