/** The capacity search's plan: the steps' rates, the problems of a bad search, each step's run. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capacityStepPlan, MEASURE_PHASE } from '../../src/scenario/capacity.js';
import { planScenario } from '../../src/scenario/load.js';
import type { Plan } from '../../src/scenario/plan.js';
import { scenarioProblems } from '../helpers/scenario-problems.js';

const plan = (s: Record<string, unknown>): Plan =>
  planScenario({ name: 'cap', devices: 500, ...s }, { file: null, sha256: null, label: 'c.yaml' });

const problems = (s: Record<string, unknown>) =>
  scenarioProblems({ name: 'cap', devices: 500, ...s });

describe('capacity search plan', () => {
  it('steps by factor (default 2) or by step up to the maximum, inclusive', () => {
    const rates = (c: Record<string, unknown>) =>
      plan({ capacity: { mode: 'connect', ...c } }).capacity?.rates;
    assert.deepEqual(rates({ startRatePerSec: 50, maxRatePerSec: 400 }), [50, 100, 200, 400]);
    assert.deepEqual(rates({ startRatePerSec: 50, maxRatePerSec: 399 }), [50, 100, 200]);
    assert.deepEqual(
      rates({ startRatePerSec: 10, factor: 1.5, maxRatePerSec: 33.75 }),
      [10, 15, 22.5, 33.75],
    );
    assert.deepEqual(
      rates({ startRatePerSec: 100, stepRatePerSec: 50, maxRatePerSec: 250 }),
      [100, 150, 200, 250],
    );
  });

  it('has default SLOs per mode, the publish ones on the measured phase', () => {
    const connect = plan({ capacity: { mode: 'connect', startRatePerSec: 1, maxRatePerSec: 2 } });
    assert.deepEqual(
      connect.capacity?.slo.map((t) => [t.expression, t.phase]),
      [
        ['connect.p99 < 500ms', null],
        ['connect.failed.rate < 1%', null],
      ],
    );
    const publish = plan({ capacity: { mode: 'publish', startRatePerSec: 1, maxRatePerSec: 2 } });
    assert.ok(publish.capacity?.slo.every((t) => t.phase === MEASURE_PHASE));
  });

  it('reports every problem of a bad search with its setting', () => {
    const text = problems({
      phases: [{ name: 'a', type: 'hold', durationSec: 1 }],
      traffic: false,
      capacity: {
        mode: 'publish',
        startRatePerSec: 500,
        maxRatePerSec: 100,
        factor: 2,
        stepRatePerSec: 10,
        slo: ['connect.p99 < fast'],
      },
    });
    assert.match(text, /give factor or stepRatePerSec, not both/);
    assert.match(text, /capacity.startRatePerSec \(500\) is above capacity.maxRatePerSec \(100\)/);
    assert.match(text, /capacity replaces phases/);
    assert.match(text, /capacity.mode publish needs traffic/);
    assert.match(text, /capacity.slo\[0\]/);
    assert.match(
      problems({
        capacity: { mode: 'connect', startRatePerSec: 1, stepRatePerSec: 1, maxRatePerSec: 100 },
      }),
      /100 steps .* more than 40/,
    );
  });

  it('plans a connect step as a fresh fleet of rate x duration devices at that rate', () => {
    const p = plan({
      workers: 4,
      groups: [
        { name: 'a', devices: 30 },
        { name: 'b', share: 1 },
      ],
      capacity: { mode: 'connect', startRatePerSec: 20, maxRatePerSec: 1000, stepDurationSec: 2 },
    });
    const c = p.capacity ?? assert.fail('no capacity');
    const first = capacityStepPlan(p, c, 0);
    assert.equal(first.devices, 40);
    assert.equal(first.shard.devices, 40);
    assert.deepEqual(
      first.groups.map((g) => [g.name, g.devices]),
      [
        ['a', 30],
        ['b', 10],
      ],
    );
    assert.equal(first.traffic, false);
    assert.deepEqual(first.phases, [
      {
        type: 'ramp',
        name: 'step',
        traffic: false,
        devices: 40,
        fromRatePerSec: 20,
        toRatePerSec: 20,
      },
    ]);
    // A step past the fleet size takes the whole fleet, at its rate.
    const last = capacityStepPlan(p, c, c.rates.length - 1);
    assert.equal(last.devices, 500);
    assert.equal(last.workers, 4);
  });

  it('plans a publish step as the fleet publishing in the open model at the rate', () => {
    const p = plan({
      traffic: { qos: 1, payloadBytes: 32 },
      capacity: { mode: 'publish', startRatePerSec: 100, maxRatePerSec: 400, stepDurationSec: 3 },
    });
    const step = capacityStepPlan(p, p.capacity ?? assert.fail('no capacity'), 1);
    assert.equal(step.devices, 500);
    assert.ok(step.traffic !== false);
    assert.equal(step.traffic.model, 'open');
    assert.equal(step.traffic.ratePerSec, 200);
    assert.deepEqual(
      step.phases.map((ph) => ph.name),
      ['connect', MEASURE_PHASE],
    );
  });

  it('takes --duration as the length of each step', () => {
    const p = planScenario(
      {
        name: 'cap',
        devices: 10,
        capacity: { mode: 'connect', startRatePerSec: 1, maxRatePerSec: 2 },
      },
      { file: null, sha256: null, label: 'c.yaml', overrides: { durationSec: 7 } },
    );
    assert.equal(p.capacity?.stepDurationSec, 7);
  });
});
