import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import assert from 'node:assert/strict';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { FleetbenchError, formatError } from '../../src/errors.js';
import { loadTlsIdentity } from '../../src/fleet/identity-files.js';
import { createCa, issueDeviceCert, loadCa, type PemBundle } from '../../src/fleet/pki.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

let pki: TestPki;
let expiredFiles: { certFile: string; keyFile: string };

before(async () => {
  pki = await makeTestPki();
  const ca = await loadCa(
    await readFile(pki.layout.caCert, 'utf8'),
    await readFile(pki.layout.caKey, 'utf8'),
  );
  const expired = await issueDeviceCert(ca, {
    deviceId: 'expired-device',
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2021-01-01T00:00:00Z'),
  });
  expiredFiles = await writeBundle('expired', expired);
});

after(async () => {
  await pki.cleanup();
});

async function writeBundle(name: string, bundle: PemBundle) {
  const files = { certFile: join(pki.dir, `${name}.crt`), keyFile: join(pki.dir, `${name}.key`) };
  await writeFile(files.certFile, bundle.certPem);
  await writeFile(files.keyFile, bundle.keyPem, { mode: 0o600 });
  return files;
}

/** Runs loadTlsIdentity expecting failure; returns the error's problems. */
async function problemsOf(options: Parameters<typeof loadTlsIdentity>[0]): Promise<string[]> {
  try {
    await loadTlsIdentity(options);
  } catch (err) {
    assert.ok(err instanceof FleetbenchError);
    assert.equal(err.code, 'E_CERTS');
    assert.equal(err.problems.length > 0, true);
    return err.problems;
  }
  assert.fail('loadTlsIdentity accepted a bad identity');
}

test('a good identity loads with its PEM contents, subject and expiry', async () => {
  const identity = await loadTlsIdentity(pki.device);

  assert.equal(identity.ca, await readFile(pki.layout.caCert, 'utf8'));
  assert.equal(identity.cert, await readFile(pki.layout.deviceCert, 'utf8'));
  assert.equal(identity.key, await readFile(pki.layout.deviceKey, 'utf8'));
  assert.equal(identity.subject, 'CN=fleetbench-device');
  assert.ok(identity.notAfter.getTime() > Date.now());
});

test('a missing file is named with its setting and source', async () => {
  const missing = join(pki.dir, 'nope', 'device.key');
  const problems = await problemsOf({
    ...pki.device,
    keyFile: missing,
    settingPrefix: 'identity',
    source: 'scenarios/soak.yaml',
  });

  assert.deepEqual(problems, [
    `identity.key: ${missing} does not exist (set in scenarios/soak.yaml)`,
  ]);
});

const isRoot = process.getuid?.() === 0;

test(
  'an unreadable file is reported as such',
  { skip: isRoot && 'root reads any file' },
  async () => {
    const locked = join(pki.dir, 'locked.key');
    await writeFile(locked, await readFile(pki.layout.deviceKey), { mode: 0o000 });
    await chmod(locked, 0o000);

    const problems = await problemsOf({ ...pki.device, keyFile: locked });

    assert.match(problems.join('\n'), /keyFile: .*locked\.key is not readable/);
  },
);

test('a directory given as a file is reported as such', async () => {
  const problems = await problemsOf({ ...pki.device, certFile: pki.dir });

  assert.deepEqual(problems, [`certFile: ${pki.dir} is a directory, not a file`]);
});

test('a key that is not the certificate key is reported', async () => {
  const problems = await problemsOf({ ...pki.device, keyFile: pki.layout.serverKey });

  assert.deepEqual(problems, [
    `keyFile: ${pki.layout.serverKey} is not the key of ${pki.layout.deviceCert}`,
  ]);
});

test('a certificate from another CA is reported, even when the CA names are equal', async () => {
  const foreign = await problemsOf({ ...pki.device, ...pki.foreign, caFile: pki.layout.caCert });
  assert.equal(foreign.length, 1);
  assert.match(foreign[0] ?? '', /certFile: .*foreign\.crt .*is not signed by the CA in/);

  // Same subject as the real CA: only a signature check tells them apart.
  const twin = await createCa();
  const twinFiles = await writeBundle('twin', await issueDeviceCert(twin.ca, { deviceId: 'x' }));
  const problems = await problemsOf({ caFile: pki.layout.caCert, ...twinFiles });
  assert.match(problems.join('\n'), /twin\.crt .*issuer CN=fleetbench local CA.*not signed/);
});

test('a certificate naming the CA as issuer but signed by another key is reported', async () => {
  // Without key identifiers, names alone would match: only the signature check refuses it.
  const realCa = new x509.X509Certificate(await readFile(pki.layout.caCert, 'utf8'));
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const impostor = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const leafKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const forged = await x509.X509CertificateGenerator.create(
    {
      subject: 'CN=forged',
      issuer: realCa.subjectName,
      publicKey: leafKeys.publicKey,
      signingKey: impostor.privateKey,
      signingAlgorithm: alg,
    },
    webcrypto,
  );
  const keyDer = await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey);
  const files = await writeBundle('forged', {
    certPem: forged.toString('pem'),
    keyPem: x509.PemConverter.encode(keyDer, 'PRIVATE KEY'),
  });

  const problems = await problemsOf({ caFile: pki.layout.caCert, ...files });

  assert.equal(
    new X509Certificate(forged.toString('pem')).checkIssued(
      new X509Certificate(await readFile(pki.layout.caCert, 'utf8')),
    ),
    true,
    'names match',
  );
  assert.deepEqual(problems.length, 1);
  assert.match(problems[0] ?? '', /forged\.crt .*is not signed by the CA/);
});

test('checkChain: false accepts a device from another CA', async () => {
  const identity = await loadTlsIdentity({
    ...pki.foreign,
    caFile: pki.layout.caCert,
    checkChain: false,
  });

  assert.equal(identity.subject, 'CN=foreign-device');
});

test('an expired certificate is reported with its expiry', async () => {
  const problems = await problemsOf({ caFile: pki.layout.caCert, ...expiredFiles });

  assert.deepEqual(problems, [
    `certFile: ${expiredFiles.certFile} certificate CN=expired-device expired on ` +
      '2021-01-01T00:00:00.000Z',
  ]);
});

test('a certificate not yet valid is reported', async () => {
  const problems = await problemsOf({ ...pki.device, now: new Date('2001-01-01T00:00:00Z') });

  assert.match(problems.join('\n'), /certFile: .*common\.crt .* is not valid until/);
});

test('every problem is reported at once, without key material', async () => {
  const other = await createCa();
  const stale = await issueDeviceCert(other.ca, {
    deviceId: 'stale',
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2021-01-01T00:00:00Z'),
  });
  const { certFile } = await writeBundle('stale', stale);
  const options = { caFile: pki.layout.caCert, certFile, keyFile: pki.layout.deviceKey };

  const err = await loadTlsIdentity(options).then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );

  assert.ok(err instanceof FleetbenchError);
  assert.equal(err.problems.length, 3);
  const text = formatError(err);
  assert.match(text, /stale\.crt certificate CN=stale expired on 2021-01-01/);
  assert.match(text, /common\.key is not the key of .*stale\.crt/);
  assert.match(text, /stale\.crt certificate CN=stale .*is not signed by the CA/);
  assert.match(text, /hint: /);
  const keyBody = (await readFile(pki.layout.deviceKey, 'utf8')).split('\n').slice(1, -2);
  for (const line of keyBody) assert.equal(text.includes(line), false, 'key material leaked');
});

test('swapped cert and key files are recognised', async () => {
  const problems = await problemsOf({
    caFile: pki.layout.caCert,
    certFile: pki.layout.deviceKey,
    keyFile: pki.layout.deviceCert,
  });

  assert.equal(problems.length, 2);
  for (const p of problems) assert.match(p, /swapped/);
});

test('an encrypted key needs the right passphrase and is returned as it was', async () => {
  const encrypted = createPrivateKey(await readFile(pki.layout.deviceKey, 'utf8'))
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'open sesame' })
    .toString();
  const keyFile = join(pki.dir, 'encrypted.key');
  await writeFile(keyFile, encrypted, { mode: 0o600 });

  const none = await problemsOf({ ...pki.device, keyFile });
  const wrong = await problemsOf({ ...pki.device, keyFile, passphrase: 'nope' });
  const identity = await loadTlsIdentity({ ...pki.device, keyFile, passphrase: 'open sesame' });

  assert.match(none.join(), /is encrypted and no passphrase was given/);
  assert.match(wrong.join(), /cannot be decrypted with the given passphrase/);
  assert.equal(identity.key, encrypted);
});

test('a file with no PEM certificate is reported', async () => {
  const junk = join(pki.dir, 'junk.crt');
  await writeFile(junk, 'hello\n');

  const problems = await problemsOf({ ...pki.device, caFile: junk });

  assert.deepEqual(problems, [
    `caFile: ${junk} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
  ]);
});
