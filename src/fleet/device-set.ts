/**
 * A fleet of per-device certificates on disk: `certs init --devices N`. Every device gets its
 * own key and certificate (CN = device id) signed by the layout's CA, spread over
 * subdirectories of at most {@link BUCKET_SIZE} devices, and one manifest (devices.csv) lists
 * them. The files are written into a staging directory that takes its final name only when
 * every device is done, and the manifest is written last: a set on disk is always complete.
 */

import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { FleetbenchError } from '../errors.js';
import { compileIdentity } from '../scenario/template.js';
import { CertPool } from './cert-pool.js';
import { type CertsLayout, certsLayout, ensureDefaultCerts, initCerts } from './certs-init.js';
import { formatManifest, type ManifestDevice } from './manifest.js';
import type { KeyAlgorithm, RsaBits } from './pki.js';
import { checkCaPair } from './pki.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** Devices per subdirectory: 2,000 files each, so no directory gets slow to list. */
export const BUCKET_SIZE = 1000;
/** The manifest's file name inside the certificate directory. */
export const MANIFEST_NAME = 'devices.csv';
/** The directory of the device files inside the certificate directory. */
export const DEVICES_DIR = 'devices';

/** Options of {@link initDeviceSet}. */
export interface DeviceSetOptions {
  /** Certificate directory. Its layout (CA, broker, shared device) is reused or created. */
  dir: string;
  /** Number of devices, at least 1. */
  devices: number;
  /** Device id template: `{i}` the device number, `{i:06}` zero-padded. Default `device-{i:05}`. */
  idTemplate?: string;
  /** Number of the first device. Default 1. */
  firstIndex?: number;
  /** Device key algorithm. Default: the CA's. */
  algorithm?: KeyAlgorithm;
  /** RSA modulus of `rsa` keys (devices, and a layout created here), bits. Default 2048. */
  rsaBits?: RsaBits;
  /**
   * Replace what is there: a new layout (new CA) and a new device set. Default `false`: an
   * existing layout is reused, an existing device set is an `E_CERTS_EXIST` error.
   */
  force?: boolean;
  /** Signing threads. Default: the number of cores. */
  threads?: number;
  /** Called after each bucket with the devices done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link initDeviceSet} wrote. */
export interface DeviceSetResult {
  layout: CertsLayout;
  /** Whether the layout (CA) was created by this call. */
  layoutCreated: boolean;
  /** The manifest, absolute. */
  manifest: string;
  devices: number;
  threads: number;
  /** Wall time of minting and writing the devices, ms (layout excluded). */
  elapsedMs: number;
}

/**
 * Writes a device set. Throws FleetbenchError `E_USAGE` for a template that does not give
 * every device its own id, `E_CERTS_EXIST` when a set exists and `force` is not given.
 */
export async function initDeviceSet(options: DeviceSetOptions): Promise<DeviceSetResult> {
  const ids = renderIds(options);
  const manifest = join(certsLayout(options.dir).dir, MANIFEST_NAME);
  const finalDir = join(certsLayout(options.dir).dir, DEVICES_DIR);
  await clearOrRefuse(
    [manifest, finalDir],
    options.force ?? false,
    `a device set in ${options.dir}`,
  );
  const { layout, created } = options.force
    ? {
        layout: await initCerts({
          dir: options.dir,
          force: true,
          algorithm: options.algorithm,
          rsaBits: options.rsaBits,
        }),
        created: true,
      }
    : await ensureDefaultCerts(options.dir);

  const caCertPem = await readFile(layout.caCert, 'utf8');
  const caKeyPem = await readFile(layout.caKey, 'utf8');
  const algorithm = options.algorithm ?? checkCaPair(caCertPem, caKeyPem).algorithm;
  const staging = join(layout.dir, `.${DEVICES_DIR}-${randomBytes(4).toString('hex')}.tmp`);
  const pool = new CertPool(options.threads);
  const started = performance.now();
  try {
    const devices = await mintBuckets(
      pool,
      ids,
      { caCertPem, caKeyPem, algorithm, staging },
      options,
    );
    await rename(staging, finalDir);
    const rows = devices.map((d) => ({
      ...d,
      certFile: d.certFile.replace(staging, finalDir),
      keyFile: d.keyFile.replace(staging, finalDir),
    }));
    await writeFileAtomic(manifest, formatManifest(manifest, rows), { overwrite: false });
    return {
      layout,
      layoutCreated: created,
      manifest,
      devices: rows.length,
      threads: pool.threads,
      elapsedMs: performance.now() - started,
    };
  } finally {
    await pool.close();
    await rm(staging, { recursive: true, force: true });
  }
}

interface MintSetup {
  caCertPem: string;
  caKeyPem: string;
  algorithm: KeyAlgorithm;
  staging: string;
}

async function mintBuckets(
  pool: CertPool,
  ids: string[],
  setup: MintSetup,
  options: DeviceSetOptions,
): Promise<ManifestDevice[]> {
  await mkdir(setup.staging, { mode: 0o755 });
  const buckets = Math.ceil(ids.length / BUCKET_SIZE);
  const width = String(Math.max(0, buckets - 1)).length;
  let done = 0;
  const results = await Promise.all(
    Array.from({ length: buckets }, async (_, b) => {
      const slice = ids.slice(b * BUCKET_SIZE, (b + 1) * BUCKET_SIZE);
      const result = await pool.mint({
        kind: 'mint',
        caCertPem: setup.caCertPem,
        caKeyPem: setup.caKeyPem,
        algorithm: setup.algorithm,
        rsaBits: options.rsaBits,
        dir: join(setup.staging, String(b).padStart(width, '0')),
        devices: slice.map((deviceId, k) => ({
          deviceId,
          fileName: fileNameFor(deviceId, b * BUCKET_SIZE + k),
        })),
      });
      done += slice.length;
      options.onProgress?.(done, ids.length);
      return result.files.map((f, k) => ({
        deviceId: slice[k] ?? '',
        clientId: slice[k] ?? '',
        username: slice[k] ?? '',
        certFile: f.certFile,
        keyFile: f.keyFile,
      }));
    }),
  );
  return results.flat();
}

/** The device's id when it is a safe file name, else its row: ids may hold `/` or `..`. */
function fileNameFor(deviceId: string, row: number): string {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(deviceId) ? deviceId : `row-${row + 1}`;
}

function renderIds(options: DeviceSetOptions): string[] {
  if (!Number.isInteger(options.devices) || options.devices < 1) {
    throw new FleetbenchError(
      'E_USAGE',
      `--devices must be a whole number >= 1 (got ${options.devices})`,
    );
  }
  const template = options.idTemplate ?? 'device-{i:05}';
  const identityOf = compileIdentity(
    { deviceId: template, clientId: '{deviceId}', username: '{deviceId}' },
    '--id',
  );
  const first = options.firstIndex ?? 1;
  const ids = Array.from({ length: options.devices }, (_, k) => identityOf(first + k).deviceId);
  const unique = new Set(ids);
  if (unique.size !== ids.length) {
    throw new FleetbenchError(
      'E_USAGE',
      `--id must give each device its own id (got "${template}")`,
      {
        hint: "put the device number in it, e.g. --id 'dev-{i}' or --id 'sensor-{i:06}'",
      },
    );
  }
  return ids;
}

/**
 * Removes `paths` when `force`; otherwise refuses (E_CERTS_EXIST) if any exists.
 * @param what What exists, for the message, e.g. `a device set in certs`.
 */
export async function clearOrRefuse(paths: string[], force: boolean, what: string): Promise<void> {
  const present: string[] = [];
  for (const p of paths) {
    try {
      await access(p);
      present.push(p);
    } catch {
      // absent: nothing to clear
    }
  }
  if (present.length === 0) return;
  if (!force) {
    throw new FleetbenchError('E_CERTS_EXIST', `${what} already exists; nothing was written`, {
      problems: present.map((p) => `${p} exists`),
      hint: 'to replace it (and the CA) run the same command with --force',
    });
  }
  for (const p of present) await rm(p, { recursive: true, force: true });
}
