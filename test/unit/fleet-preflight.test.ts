import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { checkDevice, parseAnchors } from '../../src/fleet/device-check.js';
import type { ManifestDevice } from '../../src/fleet/manifest.js';
import { DeviceMinter } from '../../src/fleet/mint.js';
import { preflightDevices, preflightError } from '../../src/fleet/preflight.js';
import { createCa, issueDeviceCert } from '../../src/fleet/pki.js';

const FULL = { validity: true, chain: true };

test('checkDevice: a good device passes; each fault gets its own class', async () => {
  const root = await createCa();
  const other = await createCa({ commonName: 'other CA' });
  const anchors = parseAnchors(root.certPem);
  const minter = new DeviceMinter(root.certPem, root.keyPem);
  const good = minter.mint('good');
  const twin = minter.mint('twin');
  const now = new Date();
  const past = { notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') };
  const future = { notBefore: new Date('2099-01-01'), notAfter: new Date('2099-06-01') };
  const check = (cert: string, key: string, scope = FULL) =>
    checkDevice(cert, key, anchors, scope, now)?.problem ?? 'ok';

  assert.equal(check(good.certPem, good.keyPem), 'ok');
  assert.equal(check(good.certPem, twin.keyPem), 'key-mismatch');
  assert.equal(check('not a certificate', good.keyPem), 'unparsable-certificate');
  assert.equal(
    check(good.certPem, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    'unparsable-key',
  );
  const expired = minter.mint('old', past);
  assert.equal(check(expired.certPem, expired.keyPem), 'expired');
  assert.equal(check(expired.certPem, expired.keyPem, { validity: false, chain: true }), 'ok');
  const early = minter.mint('early', future);
  assert.equal(check(early.certPem, early.keyPem), 'not-yet-valid');
  const foreign = new DeviceMinter(other.certPem, other.keyPem).mint('foreign');
  assert.equal(check(foreign.certPem, foreign.keyPem), 'not-signed-by-ca');
  assert.equal(check(foreign.certPem, foreign.keyPem, { validity: true, chain: false }), 'ok');
});

test('checkDevice: the slow path (RSA keys, @peculiar/x509 certificates) agrees', async () => {
  const root = await createCa({ algorithm: 'rsa' });
  const anchors = parseAnchors(root.certPem);
  const device = await issueDeviceCert(root.ca, { deviceId: 'rsa-device' });
  const other = await issueDeviceCert(root.ca, { deviceId: 'rsa-other' });
  assert.equal(checkDevice(device.certPem, device.keyPem, anchors, FULL, new Date()), null);
  assert.equal(
    checkDevice(device.certPem, other.keyPem, anchors, FULL, new Date())?.problem,
    'key-mismatch',
  );
});

test('preflightDevices: problems by class with counts and at most 3 examples each', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetbench-preflight-'));
  try {
    const root = await createCa();
    const minter = new DeviceMinter(root.certPem, root.keyPem);
    const devices: ManifestDevice[] = [];
    for (let i = 0; i < 30; i++) {
      const id = `d${i}`;
      const minted =
        i < 5
          ? minter.mint(id, { notBefore: new Date(2020, 0), notAfter: new Date(2021, 0) })
          : minter.mint(id);
      const certFile = join(dir, `${id}.crt`);
      const keyFile = join(dir, `${id}.key`);
      await writeFile(certFile, minted.certPem);
      if (i !== 29) await writeFile(keyFile, minted.keyPem);
      devices.push({ deviceId: id, clientId: id, username: id, certFile, keyFile });
    }
    const result = await preflightDevices(
      [{ setting: 'identity.manifest', caPem: root.certPem, devices, scope: FULL }],
      { threads: 1 },
    );
    assert.equal(result.devices, 30);
    assert.deepEqual(
      result.problems.map((p) => [p.problem, p.count, p.examples.length]),
      [
        ['expired', 5, 3],
        ['unreadable', 1, 1],
      ],
    );
    assert.match(
      result.problems[1]?.examples[0] ?? '',
      /device d29: .*d29\.crt cannot be read \(ENOENT\)/,
    );
    const err = preflightError(result);
    assert.equal(err.code, 'E_CERTS');
    assert.match(
      err.message,
      /6 of 30 device certificates are not usable; no device was connected/,
    );
    assert.match(err.problems[0] ?? '', /^expired: 5 devices$/);
    assert.doesNotMatch(JSON.stringify(err.problems), /PRIVATE KEY/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
