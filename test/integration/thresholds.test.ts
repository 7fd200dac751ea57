/**
 * Thresholds end to end through the command line against Mosquitto 2: a run whose rules hold
 * exits 0, one with a broken rule exits 3 with the verdicts in the summary and the report, an
 * `abortOnFail` rule stops the run early, and --dry-run / validate print the plan only.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { onlyReport, runCli } from '../helpers/cli.js';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';

const SCENARIO = [
  'name: thresholds',
  'devices: 40',
  'workers: 2',
  'connect: { ratePerSec: 400 }',
  'traffic: { qos: 1, intervalMs: 250 }',
  'durationSec: 1',
  'drainMs: 2000',
  'thresholds:',
  '  - connect.p99 < 10s',
  '  - connect.failed.rate < 0.1%',
  '  - { expression: "connect.ok == 40", phase: ramp }',
  '  - messages.received >= 40',
].join('\n');

async function setup(text: string): Promise<{ file: string; out: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-thresholds-'));
  const file = path.join(dir, 'scenario.yaml');
  await writeFile(file, `${text}\n`);
  return { file, out: path.join(dir, 'reports') };
}

describe('thresholds through the CLI against Mosquitto 2', async () => {
  const suite = await mosquittoSuite();
  const skip = suite.skip;
  const common = () => ['--target', suite.broker.url, '--certs', suite.pki.dir, '--quiet'];

  test(
    'rules that hold: exit 0, each printed as pass and kept in the report',
    { skip },
    async () => {
      const { file, out } = await setup(SCENARIO);
      const r = await runCli(['run', file, ...common(), '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /thresholds: all passed/);
      assert.match(r.stdout, /pass {2}connect\.ok == 40 in phase ramp: 40\n/);
      const report = await onlyReport(out);
      assert.equal(report.thresholds?.length, 4);
      assert.ok(report.thresholds?.every((t) => t.ok));
      const rate = report.thresholds?.find((t) => t.expression.startsWith('connect.failed.rate'));
      assert.deepEqual([rate?.actual, rate?.unit], [0, '%']);
    },
  );

  test(
    'a broken rule from --threshold: exit 3, FAIL with the measured value',
    { skip },
    async () => {
      const { file, out } = await setup(SCENARIO);
      const args = ['run', file, ...common(), '--out', out, '--threshold', 'roundtrip.p99 < 1us'];
      const r = await runCli(args);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stdout, /thresholds: 1 failed/);
      assert.match(r.stdout, /FAIL {2}roundtrip\.p99 < 1us: [\d.]+ us\n/);
      const report = await onlyReport(out);
      const failed = report.thresholds?.filter((t) => !t.ok) ?? [];
      assert.deepEqual(
        failed.map((t) => t.expression),
        ['roundtrip.p99 < 1us'],
      );
      assert.ok((failed[0]?.actual ?? 0) > 1);
      assert.equal(report.partial, null);
    },
  );

  test('an abortOnFail rule stops the run early, partial, exit 3', { skip }, async () => {
    const text = SCENARIO.replace('durationSec: 1', 'durationSec: 60').concat(
      '\n  - { expression: "messages.published < 20", abortOnFail: true }',
    );
    const { file, out } = await setup(text);
    const started = Date.now();
    const r = await runCli(['run', file, ...common(), '--out', out]);
    assert.equal(r.code, 3, r.stderr);
    assert.ok(Date.now() - started < 30_000, 'the 60 s run was stopped early');
    assert.match(r.stderr, /threshold messages\.published < 20 failed: stopping the run/);
    const report = await onlyReport(out);
    assert.deepEqual(report.partial, { reason: 'threshold', phase: 'steady' });
    const verdict = report.thresholds?.find((t) => t.aborted === true);
    assert.equal(verdict?.expression, 'messages.published < 20');
    assert.equal(verdict?.ok, false);
  });
});

describe('validate and run --dry-run', () => {
  test('print one line per phase, group and threshold, and start nothing', async () => {
    const { file, out } = await setup(SCENARIO);
    for (const args of [
      ['validate', file],
      ['run', file, '--dry-run', '--out', out],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.ok(lines.includes('  phase ramp (ramp): connect 40 devices at 400/s (~0.1 s)'));
      assert.ok(lines.includes('  phase steady (steady): 1 s of traffic'));
      assert.ok(lines.some((l) => l.startsWith('  group fleet: 40 devices')));
      assert.ok(lines.includes('  threshold: connect.ok == 40 in phase ramp'));
    }
    await assert.rejects(readdir(out), /ENOENT/, '--dry-run writes no report');
  });

  test('a bad threshold is a scenario error, exit 2, naming its place', async () => {
    const { file } = await setup(SCENARIO.concat('\n  - connect.p99 < fast'));
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /thresholds\[4\] is not of the form <metric> <op> <value>\[unit\]/);
    const cli = await runCli(['run', file, '--dry-run', '--threshold', 'nope.p99 < 5ms']);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /--threshold: metric "nope\.p99"/);
  });
});
