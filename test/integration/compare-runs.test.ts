/**
 * `fleetbench compare` on real runs against the embedded broker: a run against itself, two runs
 * of the same scenario, and a run with half the fleet, which a `--fail-on` rule must catch.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { Comparison } from '../../src/report/compare.js';
import { runCli } from '../helpers/cli.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { runScenario } from '../helpers/run.js';

function scenario(devices: number): Record<string, unknown> {
  return {
    name: 'compare',
    devices,
    workers: 2,
    connect: { ratePerSec: 400, maxInFlight: 64 },
    traffic: { qos: 1, intervalMs: 250, payloadBytes: 64 },
    durationSec: 1,
    drainMs: 2000,
  };
}

describe('compare on real runs', () => {
  let pki: TestPki;
  let first: string;
  let second: string;
  let half: string;

  before(async () => {
    pki = await makeTestPki();
    first = (await runScenario(scenario(120), pki.dir)).reportPath;
    second = (await runScenario(scenario(120), pki.dir)).reportPath;
    half = (await runScenario(scenario(60), pki.dir)).reportPath;
  });
  after(async () => pki.cleanup());

  test('a run against itself: every change zero, no warning, exit 0', async () => {
    const r = await runCli(['compare', first, first, '--json', '--fail-on', 'roundtrip.p99>+0%']);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout) as Comparison;
    assert.ok(c.rows.length > 40);
    for (const row of c.rows) {
      assert.equal(row.change, 0, row.path);
      assert.equal(row.verdict, 'same', row.path);
    }
    assert.deepEqual(c.warnings, []);
    assert.equal(c.failed, false);
  });

  test('two runs of one scenario: a table of every metric, exit 0 without rules', async () => {
    const r = await runCli(['compare', first, second]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /│ roundtrip\.p99 +│ +[\d.]+ ms │ +[\d.]+ ms │/);
    assert.match(r.stdout, /│ connect\.ok +│ +120 │ +120 │ +0 │ +0% │/);
    assert.doesNotMatch(r.stdout, /warning:/);
    for (const line of r.stdout.split('\n')) assert.ok(line.length <= 100, line);
  });

  test('half the fleet: a --fail-on rule trips (exit 3), the fleet sizes are warned', async () => {
    const r = await runCli([
      'compare',
      first,
      half,
      '--fail-on',
      'connect.ok<-10%',
      '--fail-on',
      'connect.failed.rate>1%',
    ]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /warning: fleet sizes differ \([^)]*: 120,\s+[^)]*: 60\)/);
    assert.match(r.stdout, /TRIPPED connect\.ok<-10%: 60 against 108/);
    assert.match(r.stdout, /ok {6}connect\.failed\.rate>1%/);
    assert.match(r.stdout, /│ connect\.ok +│ +120 │ +60 │ +-60 │ +-50% │ WORSE/);
  });

  test('bad input: a missing report and a bad rule exit 2 naming the problem', async () => {
    const missing = await runCli(['compare', first, '/nonexistent/report.json']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /report \/nonexistent\/report\.json does not exist/);
    const rule = await runCli(['compare', first, second, '--fail-on', 'roundtrip.p99>fast']);
    assert.equal(rule.code, 2);
    assert.match(rule.stderr, /--fail-on "roundtrip\.p99>fast"/);
    const one = await runCli(['compare', first]);
    assert.equal(one.code, 2);
    assert.match(one.stderr, /at least two reports/);
  });
});
