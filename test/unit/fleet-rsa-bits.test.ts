import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import { initCerts } from '../../src/fleet/certs-init.js';
import { DeviceMinter } from '../../src/fleet/mint.js';

const modulusOf = (pem: string) =>
  new X509Certificate(pem).publicKey.asymmetricKeyDetails?.modulusLength;

describe('RSA key sizes', () => {
  test('certs init --key-type rsa --rsa-bits 3072 makes every layout key 3072-bit', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-rsa-'));
    try {
      const layout = await initCerts({ dir, algorithm: 'rsa', rsaBits: 3072 });
      for (const file of [layout.caCert, layout.serverCert, layout.deviceCert]) {
        assert.equal(modulusOf(await readFile(file, 'utf8')), 3072, file);
      }
      const key = createPrivateKey(await readFile(layout.deviceKey, 'utf8'));
      assert.equal(key.asymmetricKeyDetails?.modulusLength, 3072);

      // Device keys minted from that CA take their own size; 2048 unless told.
      const minter = new DeviceMinter(
        await readFile(layout.caCert, 'utf8'),
        await readFile(layout.caKey, 'utf8'),
        'rsa',
      );
      assert.equal(modulusOf(minter.mint('dev-1', { rsaBits: 4096 }).certPem), 4096);
      assert.equal(modulusOf(minter.mint('dev-2').certPem), 2048);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
