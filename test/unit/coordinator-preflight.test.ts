import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkOpenFiles, readOpenFileLimit } from '../../src/coordinator/preflight.js';
import { FleetbenchError } from '../../src/errors.js';
import { planScenario } from '../../src/scenario/load.js';

function plan(devices: number, target?: string) {
  const scenario = { name: 'fds', devices, ...(target ? { target } : {}) };
  return planScenario(scenario, { file: null, sha256: null, label: 'inline' });
}

describe('checkOpenFiles', () => {
  test('one socket per device with a target, two with the embedded broker', () => {
    const limit = { soft: 1100, hard: 1100 };
    checkOpenFiles(plan(1000, 'mqtts://127.0.0.1:8883'), limit);
    assert.throws(
      () => checkOpenFiles(plan(1000), limit),
      (e: unknown) => {
        assert.ok(e instanceof FleetbenchError);
        assert.equal(e.code, 'E_LIMIT');
        assert.match(e.message, /1000 devices need about 2100 open files .* may open 1100/);
        assert.match(e.hint ?? '', /raise the hard limit .*; a separate broker also halves/);
        return true;
      },
    );
  });

  test('a soft limit below the hard one: the hint says how far it can go', () => {
    assert.throws(
      () => checkOpenFiles(plan(5000, 'mqtts://h:1'), { soft: 1024, hard: 20_000 }),
      (e: unknown) => e instanceof FleetbenchError && /ulimit -n 20000/.test(e.hint ?? ''),
    );
  });

  test('no limit known (not Linux): no check', () => {
    checkOpenFiles(plan(10_000_000), null);
  });

  test('reads this process limit on Linux', { skip: process.platform !== 'linux' }, async () => {
    const limit = await readOpenFileLimit();
    assert.ok(limit !== null && limit.soft > 0 && limit.hard >= limit.soft);
  });
});
