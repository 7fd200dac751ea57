import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { resolveStartAt, startDelayMs } from '../../src/coordinator/start-at.js';
import { resolveShardArgs } from '../../src/cli/shard-options.js';
import { shardArgs } from '../helpers/shard-args.js';
import { FleetbenchError } from '../../src/errors.js';
import { resolveMetric } from '../../src/report/metric-path.js';
import type { RunIdentity } from '../../src/report/run-identity.js';
import { evaluateThreshold, parseThreshold } from '../../src/scenario/thresholds.js';

const NOW = new Date('2026-12-04T03:30:00.000Z');

const usage = (pattern: RegExp) => (e: unknown) =>
  e instanceof FleetbenchError && e.code === 'E_USAGE' && pattern.test(e.message);

describe('agreed start', () => {
  test('an ISO time with a zone ahead of now, or a delay from now', () => {
    assert.equal(
      resolveStartAt({ startAt: '2026-12-04T03:31:00Z' }, NOW)?.toISOString(),
      '2026-12-04T03:31:00.000Z',
    );
    assert.equal(
      resolveStartAt({ startAt: '2026-12-04T04:31:00+01:00' }, NOW)?.toISOString(),
      '2026-12-04T03:31:00.000Z',
    );
    assert.equal(
      resolveStartAt({ startDelaySec: 30 }, NOW)?.toISOString(),
      '2026-12-04T03:30:30.000Z',
    );
    assert.equal(resolveStartAt({}, NOW), undefined);
  });

  test('past, too far ahead, zoneless, unparsable or both: usage errors with the value', () => {
    const cases: [Parameters<typeof resolveStartAt>[0], RegExp][] = [
      [
        { startAt: '2026-12-04T03:29:50Z' },
        /--start-at 2026-12-04T03:29:50Z is 10\.0 s in the past/,
      ],
      [{ startAt: '2026-12-04T05:30:00Z' }, /is 120 min ahead; at most 60 minutes/],
      [
        { startAt: '2026-12-04T03:31:00' },
        /ISO 8601 time with a zone, .* \(got "2026-12-04T03:31:00"\)/,
      ],
      [{ startAt: 'soon' }, /\(got "soon"\)/],
      [{ startDelaySec: 0 }, /--start-delay must be 0 to 3600 s \(got 0\)/],
      [{ startAt: '2026-12-04T03:31:00Z', startDelaySec: 5 }, /not both/],
    ];
    for (const [input, pattern] of cases) {
      assert.throws(() => resolveStartAt(input, NOW), usage(pattern), String(pattern));
    }
  });

  test('the workers wait for the agreed start; once it has passed, only the minimum', () => {
    const agreed = new Date(NOW.getTime() + 2500);
    assert.equal(startDelayMs(agreed, 300, NOW.getTime()), 2500);
    assert.equal(startDelayMs(agreed, 300, NOW.getTime() + 4000), 300);
    assert.equal(startDelayMs(undefined, 300, NOW.getTime()), 300);
  });
});

describe('run options of sharded runs', () => {
  const args = shardArgs;

  test('an Indexed Job pod: index, total and run id from the environment', () => {
    const env = { JOB_COMPLETION_INDEX: '2', FLEETBENCH_SHARDS: '4', FLEETBENCH_RUN_ID: 'uid-1' };
    const s = resolveShardArgs(args({}), env);
    assert.deepEqual(s.shard, { index: 2, count: 4 });
    assert.equal(s.runId, 'uid-1');
    assert.equal(s.startAt, undefined);
  });

  test('--local-shards starts its own shards and ignores a stray completion index', () => {
    const s = resolveShardArgs(args({ 'local-shards': 3 }), { JOB_COMPLETION_INDEX: '1' });
    assert.equal(s.shard, null);
    assert.equal(s.localShards, 3);
    assert.throws(
      () => resolveShardArgs(args({ 'local-shards': 3, shard: '0/3' }), {}),
      usage(/--local-shards starts its own shards/),
    );
    assert.throws(
      () => resolveShardArgs(args({ 'local-shards': 0 }), {}),
      usage(/--local-shards must be a whole number 1 to 10000 \(got 0\)/),
    );
    assert.throws(
      () => resolveShardArgs(args({}), { FLEETBENCH_RUN_ID: 'a b' }),
      usage(/FLEETBENCH_RUN_ID must be/),
    );
  });
});

describe('per-shard metric paths', () => {
  const run: RunIdentity = {
    id: 'r',
    idSource: 'given',
    shard: { index: 1, count: 2, devices: 10 },
    start: { at: NOW.toISOString(), latenessMs: 750, readyBeforeMs: -700 },
    clock: { server: 'ntp:123', offsetMs: -12.5, roundTripMs: 1 },
  };
  const source = {
    metrics: { startNs: '0', endNs: '1', counters: {}, gauges: {}, histograms: {} },
    durationMs: 1000,
  };

  test('shard.startLatenessMs and shard.clockOffsetMs resolve from the run section', () => {
    assert.equal(resolveMetric({ ...source, run }, 'shard.startLatenessMs').value, 750);
    assert.equal(resolveMetric({ ...source, run }, 'shard.clockOffsetMs').value, -12.5);
    assert.equal(resolveMetric(source, 'shard.startLatenessMs').value, null);
    const rule = parseThreshold('shard.startLatenessMs < 500ms', '--threshold');
    const verdict = evaluateThreshold(rule, { ...source, run });
    assert.equal(verdict.ok, false);
    assert.equal(verdict.actual, 750);
  });
});
