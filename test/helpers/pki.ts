/**
 * A throwaway PKI per test: the default layout in a fresh temp directory, plus a device bundle
 * from a different CA for tests of devices the broker must refuse.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type CertsLayout, initCerts } from '../../src/fleet/certs-init.js';
import { createCa, issueDeviceCert, type KeyAlgorithm } from '../../src/fleet/pki.js';

/** Options of {@link makeTestPki}. */
export interface TestPkiOptions {
  /** Key algorithm of every key. Default `'ec'`. */
  algorithm?: KeyAlgorithm;
}

/** Paths of a device bundle: CA, certificate, key. */
export interface DeviceFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A PKI on disk for one test. */
export interface TestPki {
  /** The temp directory; everything below is inside it. */
  dir: string;
  /** The `initCerts` layout in `dir`. */
  layout: CertsLayout;
  /** The shared device bundle of `layout` as identity files. */
  device: DeviceFiles;
  /**
   * A device signed by another CA (`caFile` is that other CA, in `dir/foreign/`). A broker
   * trusting `layout.caCert` must refuse it.
   */
  foreign: DeviceFiles & { deviceId: string };
  /** Removes `dir` and everything in it. */
  cleanup(): Promise<void>;
}

/** Creates a temp directory under the OS temp dir holding a full layout and a foreign device. */
export async function makeTestPki(opts: TestPkiOptions = {}): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetbench-pki-'));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });

  try {
    const layout = await initCerts({ dir, algorithm: opts.algorithm });
    const foreign = await writeForeignDevice(join(dir, 'foreign'), opts.algorithm);
    return {
      dir,
      layout,
      device: { caFile: layout.caCert, certFile: layout.deviceCert, keyFile: layout.deviceKey },
      foreign,
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function writeForeignDevice(
  dir: string,
  algorithm: KeyAlgorithm | undefined,
): Promise<TestPki['foreign']> {
  const deviceId = 'foreign-device';
  const other = await createCa({ commonName: 'fleetbench foreign CA', algorithm });
  const device = await issueDeviceCert(other.ca, { deviceId });
  const files = {
    caFile: join(dir, 'foreign_ca.crt'),
    certFile: join(dir, 'foreign.crt'),
    keyFile: join(dir, 'foreign.key'),
  };

  await mkdir(dir);
  await writeFile(files.caFile, other.certPem);
  await writeFile(files.certFile, device.certPem);
  await writeFile(files.keyFile, device.keyPem, { mode: 0o600 });
  return { ...files, deviceId };
}
