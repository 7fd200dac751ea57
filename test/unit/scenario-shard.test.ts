import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { resolveRunId } from '../../src/coordinator/run-id.js';
import { FleetbenchError } from '../../src/errors.js';
import { planScenario } from '../../src/scenario/load.js';
import { workerShare } from '../../src/scenario/phases.js';
import type { Plan } from '../../src/scenario/plan.js';
import { laneOf, resolveShardSpec, shardPlan, sourceAddressOf } from '../../src/scenario/shard.js';
import { sliceMembers } from '../../src/worker/slice-device.js';

const plan = (scenario: Record<string, unknown>): Plan =>
  planScenario({ name: 's', ...scenario }, { file: null, sha256: null, label: 'inline' });

const usage = (pattern: RegExp) => (e: unknown) =>
  e instanceof FleetbenchError && e.code === 'E_USAGE' && pattern.test(e.message);

/** Every worker's devices of one shard, as fleet ordinals. */
function shardOrdinals(p: Plan): number[][] {
  return Array.from({ length: p.workers }, (_, w) =>
    sliceMembers({ plan: p, ...laneOf(p.shard, w, p.workers) }).map((m) => m.ordinal),
  );
}

describe('shard spec', () => {
  test('--shard i/n, or JOB_COMPLETION_INDEX with --shards / FLEETBENCH_SHARDS', () => {
    assert.deepEqual(resolveShardSpec({ shard: '2/8' }), { index: 2, count: 8 });
    assert.deepEqual(resolveShardSpec({ completionIndex: '3', shards: '4' }), {
      index: 3,
      count: 4,
    });
    assert.deepEqual(resolveShardSpec({ shard: '0/4', completionIndex: '3', shards: 4 }), {
      index: 0,
      count: 4,
    });
    assert.equal(resolveShardSpec({}), null);
  });

  test('bad values are usage errors naming the option and the value', () => {
    const cases: [Parameters<typeof resolveShardSpec>[0], RegExp][] = [
      [{ shard: '4/4' }, /--shard 4\/4: the shard index must be below .* \(got 4 of 4\)/],
      [{ shard: 'two/4' }, /--shard must be i\/n, e\.g\. 0\/4 \(got "two\/4"\)/],
      [{ shard: '1/0' }, /number of shards must be 1 to 10000 \(got 0\)/],
      [{ shard: '1/4', shards: 3 }, /--shard 1\/4 says 4 shards but --shards .* says 3/],
      [{ completionIndex: '2' }, /JOB_COMPLETION_INDEX is 2 but the number of shards is not given/],
      [{ shards: '3' }, /--shards .* is 3 but no shard index is given/],
      [
        { completionIndex: 'x', shards: '3' },
        /JOB_COMPLETION_INDEX must be 0, 1, \.\.\. \(got "x"\)/,
      ],
      [{ completionIndex: '1', shards: 'three' }, /must be a whole number \(got "three"\)/],
      [{ completionIndex: '5', shards: '5' }, /shard 5 of 5: the shard index must be below/],
    ];
    for (const [input, pattern] of cases) {
      assert.throws(() => resolveShardSpec(input), usage(pattern), String(pattern));
    }
  });
});

describe('shard plan', () => {
  const groups = [
    { name: 'a', devices: 7 },
    { name: 'b', share: 1 },
  ];

  test('shards of n·W lanes run what an unsharded run with n·W workers runs', () => {
    const whole = plan({ devices: 103, workers: 2, groups });
    const wide = plan({ devices: 103, workers: 6, groups });
    const lanes = shardOrdinals(wide);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const p = shardPlan(whole, { index: i, count: 3 });
      assert.equal(p.shard.devices, workerShare(103, i, 3));
      shardOrdinals(p).forEach((ordinals, w) => {
        // Worker w of shard i is worker i + 3w of the wide run.
        assert.deepEqual(ordinals, lanes[i + 3 * w]);
        for (const k of ordinals) assert.equal(k % 3, i);
        seen.push(...ordinals);
      });
    }
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      Array.from({ length: 103 }, (_, k) => k),
    );
  });

  test('ramp ranks are split without gap or overlap, whatever each shard’s worker count', () => {
    const total = 50;
    const ranks: number[] = [];
    for (const [index, workers] of [
      [0, 2],
      [1, 3],
      [2, 1],
    ] as const) {
      for (let w = 0; w < workers; w++) {
        const { lane, lanes } = laneOf({ index, count: 3 }, w, workers);
        const n = workerShare(total, lane, lanes);
        for (let j = 0; j < n; j++) ranks.push(j * lanes + lane);
      }
    }
    assert.deepEqual(
      ranks.sort((a, b) => a - b),
      Array.from({ length: total }, (_, k) => k),
    );
  });

  test('each shard gets its own part of the source-address pool', () => {
    const whole = plan({ devices: 12, connect: { sourceAddresses: '127.0.0.2-127.0.0.7' } });
    const parts = [0, 1, 2].map((i) => shardPlan(whole, { index: i, count: 3 }));
    assert.deepEqual(
      parts.map((p) => p.sourceAddresses),
      [
        ['127.0.0.2', '127.0.0.5'],
        ['127.0.0.3', '127.0.0.6'],
        ['127.0.0.4', '127.0.0.7'],
      ],
    );
    // Shard 1's devices 1, 4, 7, 10 use its two addresses in turn.
    assert.deepEqual(
      [1, 4, 7, 10].map((k) => sourceAddressOf(parts[1] as Plan, k)),
      ['127.0.0.3', '127.0.0.6', '127.0.0.3', '127.0.0.6'],
    );
    assert.equal(
      parts.every((p) => !p.shard.sharedSources),
      true,
    );
    const few = shardPlan(plan({ devices: 12, connect: { sourceAddresses: '127.0.0.2' } }), {
      index: 2,
      count: 3,
    });
    assert.deepEqual(few.sourceAddresses, ['127.0.0.2']);
    assert.equal(few.shard.sharedSources, true);
    assert.equal(
      shardPlan(plan({ devices: 12 }), { index: 1, count: 3 }).sourceAddresses.length,
      0,
    );
  });

  test('workers at most one per device of the shard; more shards than devices is refused', () => {
    const p = shardPlan(plan({ devices: 5, workers: 4 }), { index: 4, count: 5 });
    assert.equal(p.shard.devices, 1);
    assert.equal(p.workers, 1);
    assert.throws(
      () => shardPlan(plan({ devices: 3 }), { index: 3, count: 4 }),
      usage(/4 shards for 3 devices: shard 3 would have none/),
    );
  });
});

describe('run id', () => {
  const whole = plan({ devices: 10 });
  const sharded = (i: number) => shardPlan(whole, { index: i, count: 2 });
  const startAt = new Date('2026-12-04T03:30:00.000Z');

  test('given ids are kept; bad ones are usage errors', () => {
    assert.deepEqual(resolveRunId(sharded(0), 'job-7f3a', undefined, new Date()), {
      id: 'job-7f3a',
      source: 'given',
    });
    assert.throws(
      () => resolveRunId(whole, 'no spaces', undefined, new Date()),
      usage(/--run-id must be 1 to 128 letters.* \(got "no spaces"\)/),
    );
  });

  test('shards with one agreed start derive one id; without id or start they are refused', () => {
    const a = resolveRunId(sharded(0), undefined, startAt, new Date());
    const b = resolveRunId(sharded(1), undefined, startAt, new Date(Date.now() + 5000));
    assert.equal(a.id, b.id);
    assert.match(a.id, /^20261204T033000Z-[0-9a-f]{8}$/);
    assert.equal(a.source, 'derived');
    const later = resolveRunId(sharded(0), undefined, new Date(startAt.getTime() + 1), new Date());
    assert.notEqual(later.id, a.id);
    assert.throws(
      () => resolveRunId(sharded(1), undefined, undefined, new Date()),
      usage(/shard 1\/2 has no run id/),
    );
    const alone = resolveRunId(whole, undefined, undefined, startAt);
    assert.match(alone.id, /^20261204T033000Z-/);
  });
});
