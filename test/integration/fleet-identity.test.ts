/**
 * A certificate per device, end to end: `certs init --devices` writes the set, a scenario
 * names its manifest, every worker builds its devices' secure contexts before the start, and
 * the broker sees each device under its own name. Mosquitto maps the certificate's CN to the
 * username and an ACL lets each device use only its own topics, so a round trip proves the
 * device presented its own certificate.
 */

import assert from 'node:assert/strict';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import type { DeviceSetResult } from '../../src/fleet/device-set.js';
import { formatManifest, type ManifestDevice, readManifest } from '../../src/fleet/manifest.js';
import { DeviceMinter } from '../../src/fleet/mint.js';
import { createCa } from '../../src/fleet/pki.js';
import { ownTopicFleetSuite } from '../helpers/mosquitto-suite.js';
import type { TestPki } from '../helpers/pki.js';
import { counter, runScenario } from '../helpers/run.js';

const DEVICES = 150;

/** Writes `count` devices signed by `ca` (default: the test CA) and their manifest. */
async function writeDevices(
  pki: TestPki,
  name: string,
  count: number,
  validity: { notBefore?: Date; notAfter?: Date },
  ca?: { certPem: string; keyPem: string },
): Promise<string> {
  const signer = ca ?? {
    certPem: await readFile(pki.layout.caCert, 'utf8'),
    keyPem: await readFile(pki.layout.caKey, 'utf8'),
  };
  const minter = new DeviceMinter(signer.certPem, signer.keyPem);
  const dir = join(pki.dir, name);
  await mkdir(dir);
  const rows: ManifestDevice[] = [];
  for (let i = 1; i <= count; i++) {
    const id = `${name}-${i}`;
    const minted = minter.mint(id, validity);
    const row = {
      deviceId: id,
      clientId: id,
      username: id,
      certFile: join(dir, `${id}.crt`),
      keyFile: join(dir, `${id}.key`),
    };
    await writeFile(row.certFile, minted.certPem);
    await writeFile(row.keyFile, minted.keyPem, { mode: 0o600 });
    rows.push(row);
  }
  const manifest = join(dir, 'devices.csv');
  await writeFile(manifest, formatManifest(manifest, rows));
  return manifest;
}

function scenario(set: DeviceSetResult, target?: string, devices = DEVICES) {
  return {
    name: 'per-device',
    ...(target ? { target } : {}),
    devices,
    workers: 2,
    identity: { manifest: set.manifest },
    connect: { ratePerSec: 300, maxInFlight: 40 },
    traffic: { topic: 'fleet/{deviceId}/telemetry', qos: 1, intervalMs: 500 },
    durationSec: 1.5,
    drainMs: 2000,
  };
}

describe('a fleet with a certificate per device', async () => {
  const fleet = await ownTopicFleetSuite(DEVICES);
  const { skip } = fleet;

  test('certs init --devices reused the layout and wrote one row per device', async () => {
    const { set } = fleet;
    assert.equal(set.layoutCreated, false);
    const rows = await readManifest(set.manifest);
    assert.equal(rows.length, DEVICES);
    assert.equal(rows[0]?.deviceId, 'dev-0001');
    assert.equal(rows[DEVICES - 1]?.clientId, `dev-${String(DEVICES).padStart(4, '0')}`);
  });

  test('the embedded broker: every device connects and its messages come back', async () => {
    const { pki, set } = fleet;
    const { report } = await runScenario(scenario(set), pki.dir);
    assert.equal(report.partial, null);
    assert.equal(counter(report, 'connect.ok'), DEVICES);
    assert.equal(report.preparation?.contexts, DEVICES, 'one secure context per device');
    assert.ok((report.preparation?.wallMs ?? -1) >= 0);
    const published = counter(report, 'messages.published');
    assert.ok(published >= DEVICES);
    assert.equal(counter(report, 'messages.received'), published);
  });

  test(
    'Mosquitto maps each certificate to its device: ' +
      'the own-topic ACL lets every round trip through',
    { skip },
    async () => {
      const { pki, set, broker } = fleet;
      const { report } = await runScenario(scenario(set, broker.url), pki.dir);
      assert.equal(counter(report, 'connect.ok'), DEVICES);
      const published = counter(report, 'messages.published');
      assert.ok(published >= DEVICES);
      assert.equal(counter(report, 'messages.received'), published);
    },
  );

  test(
    'the control: with one shared certificate the same ACL lets nothing through',
    { skip },
    async () => {
      const { pki, set, broker } = fleet;
      const shared = { ...scenario(set, broker.url, 20), identity: { deviceId: 'dev-{i:04}' } };
      const { report } = await runScenario(shared, pki.dir);
      assert.equal(counter(report, 'connect.ok'), 20);
      assert.ok(counter(report, 'messages.published') > 0);
      assert.equal(counter(report, 'messages.received'), 0);
    },
  );

  test('a negative group of expired certificates runs; the broker refuses every one', async () => {
    const { pki, set } = fleet;
    const expired = await writeDevices(pki, 'expired', 6, {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const withNegative = {
      ...scenario(set, undefined, 40),
      groups: [
        { name: 'fleet', devices: 34 },
        { name: 'expired', devices: 6, expect: 'refuse', identity: { manifest: expired } },
      ],
    };
    const { report } = await runScenario(withNegative, pki.dir);
    assert.equal(counter(report, 'groups.fleet.connect.ok'), 34);
    assert.equal(counter(report, 'groups.expired.connect.ok'), 0);
    assert.equal(counter(report, 'groups.expired.connect.attempted'), 6);
  });

  test('preflight: bad device certs stop the run, by class, before any connection', async () => {
    const { pki, set } = fleet;
    const foreign = await writeDevices(pki, 'other-ca', 2, {}, await createCa({ commonName: 'x' }));
    const rows = [
      ...(await readManifest(set.manifest)).slice(0, 20),
      ...(await readManifest(foreign)),
    ];
    const mixed = join(pki.dir, 'mixed.csv');
    await writeFile(mixed, formatManifest(mixed, rows));
    const victim = rows[7];
    assert.ok(victim);
    await unlink(victim.keyFile);
    const bad = { ...scenario(set, undefined, 22), identity: { manifest: mixed } };
    await assert.rejects(runScenario(bad, pki.dir), (err: unknown) => {
      assert.ok(err instanceof FleetbenchError);
      assert.equal(err.code, 'E_CERTS');
      assert.match(
        err.message,
        /3 of 22 device certificates are not usable; no device was connected/,
      );
      const all = err.problems.join('\n');
      assert.match(all, /not-signed-by-ca: 2 devices/);
      assert.match(all, new RegExp(`unreadable: 1 device\\n.*device ${victim.deviceId}: .*ENOENT`));
      return true;
    });
  });
});
