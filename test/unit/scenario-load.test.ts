import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FleetbenchError } from '../../src/errors.js';
import { loadScenario, planScenario } from '../../src/scenario/load.js';

async function scenarioFile(text: string, name = 's.yaml'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-scenario-'));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function problemsOf(text: string): Promise<FleetbenchError> {
  const file = await scenarioFile(text);
  const err = await loadScenario(file).then(
    () => assert.fail('expected a validation error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof FleetbenchError, `not a FleetbenchError: ${String(err)}`);
  return err;
}

describe('loadScenario', () => {
  test('a good file gets its defaults and resolved paths', async () => {
    const file = await scenarioFile(
      [
        'name: good',
        'devices: 10',
        'identity:',
        '  ca: ca.pem',
        '  cert: c.pem',
        '  key: k.pem',
      ].join('\n'),
    );
    const plan = await loadScenario(file, { overrides: { workers: 2 } });
    assert.equal(plan.name, 'good');
    assert.equal(plan.devices, 10);
    assert.equal(plan.workers, 2);
    assert.equal(plan.target.kind, 'embedded');
    assert.equal(plan.identity.caFile, path.join(path.dirname(file), 'ca.pem'));
    assert.equal(plan.identity.defaultFiles, false);
    assert.equal(plan.mqtt.version, 4);
    assert.equal(plan.connect.ratePerSec, 100);
    assert.ok(plan.traffic !== false && plan.traffic.qos === 1);
    assert.match(plan.sha256 ?? '', /^[0-9a-f]{64}$/);
  });

  test('JSON is accepted and the target is parsed', async () => {
    const file = await scenarioFile(
      JSON.stringify({
        name: 'j',
        devices: 3,
        target: 'mqtts://[::1]:9999',
        mqtt: { version: '3.1.1' },
      }),
      's.json',
    );
    const plan = await loadScenario(file);
    assert.deepEqual(plan.target, { kind: 'url', protocol: 'mqtts', host: '::1', port: 9999 });
    assert.equal(plan.mqtt.version, 4);
  });

  test('every problem is reported at once, each with its path and value', async () => {
    const err = await problemsOf(
      [
        'name: bad',
        'devices: -5',
        'colour: blue',
        'connect:',
        '  ratePerSec: 0',
        'traffic:',
        '  qos: 3',
        '  payloadBytes: 8',
      ].join('\n'),
    );
    assert.equal(err.code, 'E_SCENARIO');
    const all = err.problems.join('\n');
    assert.match(all, /^devices: .*\(got -5\) in /m);
    assert.match(all, /^colour is not a known setting in /m);
    assert.match(all, /^connect\.ratePerSec: .*\(got 0\)/m);
    assert.match(all, /^traffic\.qos: .*\(got 3\)/m);
    assert.match(all, /^traffic\.payloadBytes: .*\(got 8\)/m);
    assert.equal(err.problems.length, 5);
  });

  test('unknown nested keys are rejected with their path', async () => {
    const err = await problemsOf('name: n\ndevices: 1\ntls:\n  insecur: true\n');
    assert.deepEqual(err.problems.length, 1);
    assert.match(err.problems[0] ?? '', /^tls\.insecur is not a known setting in .*s\.yaml$/);
  });

  test('malformed YAML names the line and column', async () => {
    const err = await problemsOf('name: x\ndevices: [1, 2\n');
    assert.equal(err.code, 'E_SCENARIO_PARSE');
    assert.match(err.problems[0] ?? '', /line \d+, column \d+/);
  });

  test('a bad template and a bad target are scenario errors', async () => {
    const err = await problemsOf(
      'name: t\ndevices: 1\ntarget: http://x\nidentity:\n  clientId: "d-{nope}"\n',
    );
    const all = err.problems.join('\n');
    assert.match(all, /identity\.clientId uses unknown placeholder \{nope\}/);
    assert.match(all, /target must use mqtts:\/\//);
  });

  test('CLI overrides go through the same validator', () => {
    assert.throws(
      () =>
        planScenario(
          { name: 'o', devices: 5 },
          { file: null, sha256: null, label: 'inline', overrides: { devices: 0 } },
        ),
      (e: unknown) =>
        e instanceof FleetbenchError && /devices: .*\(got 0\)/.test(e.problems[0] ?? ''),
    );
  });

  test('a missing file is a clear error', async () => {
    await assert.rejects(
      loadScenario('/nonexistent/x.yaml'),
      /cannot read scenario \/nonexistent\/x\.yaml/,
    );
  });
});
