import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import { readCertFields } from '../../src/fleet/cert-fields.js';
import { readTime, readTlv, time } from '../../src/fleet/der.js';
import { initDeviceSet, MANIFEST_NAME } from '../../src/fleet/device-set.js';
import { formatManifest, parseManifest, readManifest } from '../../src/fleet/manifest.js';
import { DeviceMinter } from '../../src/fleet/mint.js';
import { createCa } from '../../src/fleet/pki.js';

for (const algorithm of ['ec', 'rsa'] as const) {
  test(`a minted device certificate (${algorithm} CA) is what a broker expects`, async () => {
    const root = await createCa({ algorithm });
    const minter = new DeviceMinter(root.certPem, root.keyPem, 'ec');
    const device = minter.mint('dev,=1/é');
    const cert = new X509Certificate(device.certPem);
    const ca = new X509Certificate(root.certPem);

    assert.equal(readCertFields(cert.raw).commonName, 'dev,=1/é', 'the id is one CN, unsplit');
    assert.ok(cert.verify(ca.publicKey), 'signed by the CA');
    assert.ok(cert.checkIssued(ca));
    assert.ok(cert.checkPrivateKey(createPrivateKey(device.keyPem)), 'the key is its own');
    assert.equal(cert.ca, false);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'clientAuth');
    assert.equal(cert.serialNumber.toLowerCase(), device.serialHex.replace(/^0+/, ''));
    assert.ok(new Date(cert.validTo) > new Date());
  });
}

test('minted serials and keys differ between devices', async () => {
  const root = await createCa();
  const minter = new DeviceMinter(root.certPem, root.keyPem);
  const a = minter.mint('a');
  const b = minter.mint('b');
  assert.notEqual(a.serialHex, b.serialHex);
  assert.notEqual(a.keyPem, b.keyPem);
});

test('a past validity period makes an expired cert; an inverted one is refused', async () => {
  const root = await createCa();
  const minter = new DeviceMinter(root.certPem, root.keyPem);
  const old = minter.mint('old', {
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2021-01-01T00:00:00Z'),
  });
  assert.equal(new X509Certificate(old.certPem).validTo, 'Jan  1 00:00:00 2021 GMT');
  assert.throws(
    () => minter.mint('x', { notBefore: new Date(2030, 0), notAfter: new Date(2029, 0) }),
    FleetbenchError,
  );
  assert.throws(() => minter.mint(''), /non-empty/);
});

test('DER times: UTCTime through 2049, GeneralizedTime from 2050, both read back', () => {
  for (const iso of [
    '2026-12-04T01:02:03.000Z',
    '2049-12-31T23:59:59.000Z',
    '2050-01-01T00:00:00.000Z',
  ]) {
    const der = time(new Date(iso));
    assert.equal(der[0], iso.startsWith('2050') ? 0x18 : 0x17);
    assert.equal(readTime(der, readTlv(der, 0)).toISOString(), iso);
  }
});

test('a manifest round-trips ids with commas and quotes, paths relative to itself', () => {
  const file = '/srv/certs/devices.csv';
  const text = formatManifest(file, [
    {
      deviceId: 'a,"b"',
      clientId: 'c',
      username: 'u',
      certFile: '/srv/certs/devices/0/a.crt',
      keyFile: '/srv/certs/devices/0/a.key',
    },
  ]);
  assert.match(text, /^device_id,client_id,username,cert,key\n/);
  assert.match(text, /devices\/0\/a\.crt/);
  const rows = parseManifest(text, file, 'identity.manifest');
  assert.equal(rows[0]?.deviceId, 'a,"b"');
  assert.equal(rows[0]?.keyFile, '/srv/certs/devices/0/a.key');
});

test('a bad manifest: every problem with its line', () => {
  const text = 'device_id,client_id,username,cert,key\nd1,c1,,a.crt,a.key\nd1,c2,u,,b.key\n';
  assert.throws(
    () => parseManifest(text, '/m.csv', 'identity.manifest'),
    (err: unknown) => {
      assert.ok(err instanceof FleetbenchError);
      assert.equal(err.code, 'E_CERTS');
      const all = err.problems.join('\n');
      assert.match(all, /\/m\.csv row 2 \(line 3\), column "cert": empty/);
      assert.match(all, /row 2 \(line 3\): deviceId "d1" repeats row 1/);
      assert.doesNotMatch(all, /row 1 /, 'an empty username is allowed');
      return true;
    },
  );
  assert.throws(
    () => parseManifest('id,cert\nx,y\n', '/m.csv', 's'),
    (err: FleetbenchError) => /has no column "device_id" .*"key"/.test(err.problems.join('')),
  );
});

test('initDeviceSet: buckets of 1000, keys 0600, a manifest row each, no overwrite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetbench-set-'));
  try {
    const set = await initDeviceSet({ dir, devices: 1005, idTemplate: 'sensor/{i}', threads: 2 });
    assert.equal(set.layoutCreated, true);
    assert.deepEqual((await readdir(join(dir, 'devices'))).sort(), ['0', '1']);
    assert.equal((await readdir(join(dir, 'devices', '1'))).length, 10);
    const rows = await readManifest(join(dir, MANIFEST_NAME));
    assert.equal(rows.length, 1005);
    const last = rows[1004];
    assert.ok(last);
    assert.equal(last.deviceId, 'sensor/1005');
    assert.match(last.certFile, /devices\/1\/row-1005\.crt$/, 'an id with / is not a file name');
    assert.equal((await stat(last.keyFile)).mode & 0o777, 0o600);
    const cert = new X509Certificate(await readFile(last.certFile, 'utf8'));
    const ca = new X509Certificate(await readFile(set.layout.caCert, 'utf8'));
    assert.ok(cert.verify(ca.publicKey));
    assert.equal(readCertFields(cert.raw).commonName, 'sensor/1005');

    await assert.rejects(initDeviceSet({ dir, devices: 3 }), { code: 'E_CERTS_EXIST' });
    assert.equal((await readManifest(join(dir, MANIFEST_NAME))).length, 1005, 'left as it was');
    const again = await initDeviceSet({ dir, devices: 3, force: true });
    assert.equal(again.devices, 3);
    assert.deepEqual(await readdir(join(dir, 'devices')), ['0']);
    assert.ok(!(await readdir(dir)).some((n) => n.endsWith('.tmp')), 'no staging left behind');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('initDeviceSet refuses a template that gives devices the same id', async () => {
  await assert.rejects(
    initDeviceSet({ dir: '/nonexistent-never-written', devices: 2, idTemplate: 'same' }),
    {
      code: 'E_USAGE',
    },
  );
});
