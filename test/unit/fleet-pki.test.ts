import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { test } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import {
  createCa,
  issueDeviceCert,
  issueServerCert,
  loadCa,
  type KeyAlgorithm,
} from '../../src/fleet/pki.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

function keyUsageOf(pem: string): number | undefined {
  return new x509.X509Certificate(pem).getExtension(x509.KeyUsagesExtension)?.usages;
}

for (const algorithm of ['ec', 'rsa'] as KeyAlgorithm[]) {
  test(`${algorithm}: CA is a self-signed CA that may sign certificates and CRLs`, async () => {
    const root = await createCa({ algorithm });
    const cert = new X509Certificate(root.certPem);

    assert.equal(cert.ca, true);
    assert.equal(cert.subject, 'CN=fleetbench local CA');
    assert.ok(issuedBy(cert, cert), 'CA must verify with its own public key');
    assert.ok(cert.checkPrivateKey(createPrivateKey(root.keyPem)));
    assert.match(root.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(createPrivateKey(root.keyPem).asymmetricKeyType, algorithm);

    const usage = keyUsageOf(root.certPem) ?? 0;
    assert.ok(usage & x509.KeyUsageFlags.keyCertSign, 'keyCertSign');
    assert.ok(usage & x509.KeyUsageFlags.cRLSign, 'cRLSign');
  });

  test(`${algorithm}: server certificate chains to the CA and names the loopback`, async () => {
    const root = await createCa({ algorithm });
    const server = await issueServerCert(root.ca);
    const ca = new X509Certificate(root.certPem);
    const cert = new X509Certificate(server.certPem);

    assert.ok(issuedBy(cert, ca));
    assert.equal(cert.ca, false);
    assert.ok(cert.checkPrivateKey(createPrivateKey(server.keyPem)));
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkIP('::1'), '::1');
    assert.equal(cert.checkHost('example.com'), undefined);
    assert.deepEqual(cert.keyUsage, [SERVER_AUTH]);
    assert.equal(createPrivateKey(server.keyPem).asymmetricKeyType, algorithm);
  });

  test(`${algorithm}: device certificate has the device id as CN and clientAuth`, async () => {
    const root = await createCa({ algorithm });
    const device = await issueDeviceCert(root.ca, { deviceId: 'dev-42' });
    const cert = new X509Certificate(device.certPem);

    assert.ok(issuedBy(cert, new X509Certificate(root.certPem)));
    assert.equal(cert.subject, 'CN=dev-42');
    assert.deepEqual(cert.keyUsage, [CLIENT_AUTH]);
    assert.ok(cert.checkPrivateKey(createPrivateKey(device.keyPem)));
  });
}

test('a device id with DN syntax characters stays one common name', async () => {
  const root = await createCa();
  const device = await issueDeviceCert(root.ca, { deviceId: 'a,b=c+d' });
  const name = new x509.X509Certificate(device.certPem).subjectName;

  assert.deepEqual(name.getField('CN'), ['a,b=c+d']);
  assert.equal(name.toJSON().length, 1);
});

test('leaf algorithm can differ from the CA algorithm', async () => {
  const root = await createCa({ algorithm: 'rsa' });
  const device = await issueDeviceCert(root.ca, { deviceId: 'd', algorithm: 'ec' });

  assert.equal(createPrivateKey(device.keyPem).asymmetricKeyType, 'ec');
  assert.ok(issuedBy(new X509Certificate(device.certPem), new X509Certificate(root.certPem)));
});

test('validity options set notBefore and notAfter; defaults allow for clock skew', async () => {
  const notBefore = new Date('2020-01-01T00:00:00Z');
  const notAfter = new Date('2020-06-01T00:00:00Z');
  const root = await createCa();
  const expired = await issueDeviceCert(root.ca, { deviceId: 'old', notBefore, notAfter });
  const fresh = new X509Certificate((await issueDeviceCert(root.ca, { deviceId: 'new' })).certPem);

  const cert = new X509Certificate(expired.certPem);
  assert.equal(new Date(cert.validFrom).getTime(), notBefore.getTime());
  assert.equal(new Date(cert.validTo).getTime(), notAfter.getTime());
  assert.ok(new Date(fresh.validFrom).getTime() < Date.now() - 60_000);
  assert.ok(new Date(fresh.validTo).getTime() > Date.now() + 365 * 86_400_000);
});

test('notAfter before notBefore is refused', async () => {
  const root = await createCa();
  await assert.rejects(
    issueDeviceCert(root.ca, {
      deviceId: 'd',
      notBefore: new Date('2030-01-01T00:00:00Z'),
      notAfter: new Date('2029-01-01T00:00:00Z'),
    }),
    (err: unknown) => err instanceof FleetbenchError && err.code === 'E_CERTS',
  );
});

test('serial numbers are random, positive and 16 bytes', async () => {
  const root = await createCa();
  const serials = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const pem = (await issueDeviceCert(root.ca, { deviceId: `d${i}` })).certPem;
    serials.add(new X509Certificate(pem).serialNumber);
  }

  assert.equal(serials.size, 5);
  for (const serial of serials) {
    assert.match(serial, /^[4-7][0-9A-F]{31}$/);
  }
});

test('loadCa imports a CA from PEM and issues certificates that chain to it', async () => {
  const root = await createCa({ algorithm: 'rsa' });
  const pkcs1 = createPrivateKey(root.keyPem).export({ type: 'pkcs1', format: 'pem' });
  const ca = await loadCa(root.certPem, pkcs1.toString());
  const device = await issueDeviceCert(ca, { deviceId: 'from-loaded' });

  assert.equal(ca.algorithm, 'rsa');
  assert.ok(issuedBy(new X509Certificate(device.certPem), new X509Certificate(root.certPem)));
});

test('loadCa refuses a key that is not the CA key, and a non-CA certificate', async () => {
  const root = await createCa();
  const other = await createCa();
  const leaf = await issueDeviceCert(root.ca, { deviceId: 'd' });
  const isCertsError = (pattern: RegExp) => (err: unknown) =>
    err instanceof FleetbenchError && err.code === 'E_CERTS' && pattern.test(err.message);

  await assert.rejects(loadCa(root.certPem, other.keyPem), isCertsError(/does not match/));
  await assert.rejects(loadCa(leaf.certPem, leaf.keyPem), isCertsError(/not a CA/));
});

test('an empty device id is refused', async () => {
  const root = await createCa();
  await assert.rejects(issueDeviceCert(root.ca, { deviceId: '' }), FleetbenchError);
});
