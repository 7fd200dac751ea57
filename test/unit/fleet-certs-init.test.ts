import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { test } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import {
  certsLayout,
  ensureDefaultCerts,
  initCerts,
  SHARED_DEVICE_ID,
} from '../../src/fleet/certs-init.js';
import { issueDeviceCert, loadCa } from '../../src/fleet/pki.js';
import { makeTestPki } from '../helpers/pki.js';

const LAYOUT_NAMES = [
  'common.crt',
  'common.key',
  'root_ca.crt',
  'root_ca.key',
  'server.crt',
  'server.key',
];

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetbench-certs-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function hasCode(code: string, pattern?: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof FleetbenchError, `expected FleetbenchError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (pattern) assert.match([err.message, ...err.problems, err.hint].join('\n'), pattern);
    return true;
  };
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

test('initCerts writes the six files, keys 0600, and nothing else', async () => {
  await withTempDir(async (dir) => {
    const layout = await initCerts({ dir: join(dir, 'certs') });

    assert.deepEqual((await readdir(layout.dir)).sort(), LAYOUT_NAMES);
    for (const path of Object.values(layout) as string[]) assert.ok(isAbsolute(path), path);
    for (const key of [layout.caKey, layout.serverKey, layout.deviceKey]) {
      assert.equal(await modeOf(key), 0o600, key);
    }
    assert.equal((await modeOf(layout.caCert)) & 0o022, 0, 'certificates not writable by others');
    const device = new X509Certificate(await readFile(layout.deviceCert, 'utf8'));
    assert.equal(device.subject, `CN=${SHARED_DEVICE_ID}`);
  });
});

test('certsLayout resolves a relative dir to absolute paths with the platform names', () => {
  const layout = certsLayout('certs');

  assert.equal(layout.dir, join(process.cwd(), 'certs'));
  assert.equal(layout.caCert, join(process.cwd(), 'certs', 'root_ca.crt'));
  assert.equal(layout.deviceKey, join(process.cwd(), 'certs', 'common.key'));
});

test('initCerts refuses to overwrite without force and names the files', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'common.key'), 'precious');

    await assert.rejects(
      initCerts({ dir }),
      hasCode('E_CERTS_EXIST', /common\.key exists[\s\S]*--force/),
    );
    assert.equal(await readFile(join(dir, 'common.key'), 'utf8'), 'precious');
    assert.deepEqual(await readdir(dir), ['common.key']);
  });
});

test('initCerts with force replaces every file with a fresh layout', async () => {
  await withTempDir(async (dir) => {
    const first = await initCerts({ dir });
    const oldCa = await readFile(first.caCert, 'utf8');
    // A key left world-readable must come back 0600: the new file replaces it, not chmod.
    await writeFile(first.deviceKey, 'old', { mode: 0o644 });

    const second = await initCerts({ dir, force: true });

    assert.notEqual(await readFile(second.caCert, 'utf8'), oldCa);
    assert.equal(await modeOf(second.deviceKey), 0o600);
    assert.deepEqual((await readdir(dir)).sort(), LAYOUT_NAMES);
  });
});

test('initCerts with rsa writes RSA keys that chain to the CA', async () => {
  const pki = await makeTestPki({ algorithm: 'rsa' });
  try {
    const ca = new X509Certificate(await readFile(pki.layout.caCert, 'utf8'));
    const server = new X509Certificate(await readFile(pki.layout.serverCert, 'utf8'));
    const device = new X509Certificate(await readFile(pki.layout.deviceCert, 'utf8'));

    assert.equal(ca.publicKey.asymmetricKeyType, 'rsa');
    assert.equal(server.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey));
    assert.ok(device.checkIssued(ca) && device.verify(ca.publicKey));
  } finally {
    await pki.cleanup();
  }
});

test('ensureDefaultCerts creates a missing layout, then reuses it unchanged', async () => {
  await withTempDir(async (dir) => {
    const first = await ensureDefaultCerts(join(dir, 'certs'));
    const ca = await readFile(first.layout.caCert, 'utf8');
    const second = await ensureDefaultCerts(join(dir, 'certs'));

    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.deepEqual(second.layout, first.layout);
    assert.equal(await readFile(second.layout.caCert, 'utf8'), ca);
  });
});

test('ensureDefaultCerts reuses a layout made by initCerts', async () => {
  const pki = await makeTestPki();
  try {
    const before = await readFile(pki.layout.deviceCert, 'utf8');
    const result = await ensureDefaultCerts(pki.dir);

    assert.equal(result.created, false);
    assert.equal(await readFile(pki.layout.deviceCert, 'utf8'), before);
  } finally {
    await pki.cleanup();
  }
});

test('ensureDefaultCerts refuses a partial layout, naming the missing file', async () => {
  const pki = await makeTestPki();
  try {
    await unlink(pki.layout.deviceKey);

    await assert.rejects(
      ensureDefaultCerts(pki.dir),
      hasCode('E_CERTS', /common\.key is missing[\s\S]*certs init --dir .* --force/),
    );
  } finally {
    await pki.cleanup();
  }
});

test('ensureDefaultCerts refuses an expired or foreign device certificate', async () => {
  const pki = await makeTestPki();
  try {
    const ca = await loadCa(
      await readFile(pki.layout.caCert, 'utf8'),
      await readFile(pki.layout.caKey, 'utf8'),
    );
    const expired = await issueDeviceCert(ca, {
      deviceId: 'old',
      notBefore: new Date(Date.now() - 2 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    await writeFile(pki.layout.deviceCert, expired.certPem);
    await writeFile(pki.layout.deviceKey, expired.keyPem);
    await assert.rejects(ensureDefaultCerts(pki.dir), hasCode('E_CERTS', /common\.crt.*expired/));

    await writeFile(pki.layout.deviceCert, await readFile(pki.foreign.certFile, 'utf8'));
    await writeFile(pki.layout.deviceKey, await readFile(pki.foreign.keyFile, 'utf8'));
    await assert.rejects(
      ensureDefaultCerts(pki.dir),
      hasCode('E_CERTS', /common\.crt.*not signed by the CA/),
    );
  } finally {
    await pki.cleanup();
  }
});

test('ensureDefaultCerts refuses a CA key that does not match the CA', async () => {
  const pki = await makeTestPki();
  try {
    await writeFile(pki.layout.caKey, await readFile(pki.layout.serverKey, 'utf8'));

    await assert.rejects(
      ensureDefaultCerts(pki.dir),
      hasCode('E_CERTS', /root_ca\.key is not the key of the CA/),
    );
  } finally {
    await pki.cleanup();
  }
});
