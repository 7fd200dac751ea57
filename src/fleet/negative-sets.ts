/**
 * Negative identities for security testing: device sets a broker must refuse, written beside
 * the layout, each with its own manifest, for groups with `expect: refuse`:
 *
 * - `expired`: signed by the CA, validity ended yesterday;
 * - `unknown-ca`: signed by a CA the broker does not trust (made here, its key discarded);
 * - `revoked`: signed by the CA and listed in `crl.pem`, the CA's revocation list (Mosquitto
 *   reads it with `crlfile`);
 * - `mismatch`: signed by the CA, but its manifest gives a client id that is not the
 *   certificate's CN (platforms that bind the client id to the certificate refuse it).
 */

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { FleetbenchError } from '../errors.js';
import { type CertsLayout, ensureDefaultCerts } from './certs-init.js';
import { clearOrRefuse } from './device-set.js';
import { formatManifest, type ManifestDevice } from './manifest.js';
import { type DeviceMinter as Minter, DeviceMinter, type MintOptions } from './mint.js';
import { createCa } from './pki.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** The kinds of negative device sets, as directory names under `negative/`. */
export const NEGATIVE_KINDS = ['expired', 'unknown-ca', 'revoked', 'mismatch'] as const;
export type NegativeKind = (typeof NEGATIVE_KINDS)[number];

/** Options of {@link initNegativeSets}. */
export interface NegativeSetsOptions {
  /** Certificate directory; its layout is reused or created. */
  dir: string;
  /** Devices per set. Default 5. */
  devices?: number;
  /** Replace existing sets and CRL. Default `false`. */
  force?: boolean;
}

/** What {@link initNegativeSets} wrote. */
export interface NegativeSetsResult {
  layout: CertsLayout;
  /** The manifest of each set, absolute. */
  manifests: Record<NegativeKind, string>;
  /** The CA's CRL (PEM), revoking the `revoked` set. */
  crl: string;
}

const DAY_MS = 86_400_000;

/**
 * Writes the four negative sets under `<dir>/negative/` and the CRL `<dir>/crl.pem`.
 * @throws FleetbenchError `E_CERTS_EXIST` when they exist and `force` is not given.
 */
export async function initNegativeSets(options: NegativeSetsOptions): Promise<NegativeSetsResult> {
  const count = options.devices ?? 5;
  if (!Number.isInteger(count) || count < 1) {
    throw new FleetbenchError('E_USAGE', `--devices must be a whole number >= 1 (got ${count})`);
  }
  const { layout } = await ensureDefaultCerts(options.dir);
  const root = join(layout.dir, 'negative');
  const crl = join(layout.dir, 'crl.pem');
  await clearOrRefuse(
    [root, crl],
    options.force ?? false,
    `negative device sets in ${options.dir}`,
  );

  const caCertPem = await readFile(layout.caCert, 'utf8');
  const caKeyPem = await readFile(layout.caKey, 'utf8');
  const trusted = new DeviceMinter(caCertPem, caKeyPem);
  const stranger = await createCa({ commonName: 'fleetbench unknown CA' });
  const untrusted = new DeviceMinter(stranger.certPem, stranger.keyPem);
  const now = Date.now();
  const expired = { notBefore: new Date(now - 30 * DAY_MS), notAfter: new Date(now - DAY_MS) };

  const manifests = {} as Record<NegativeKind, string>;
  const revokedSerials: string[] = [];
  for (const kind of NEGATIVE_KINDS) {
    const minter: Minter = kind === 'unknown-ca' ? untrusted : trusted;
    const mint: MintOptions = kind === 'expired' ? expired : {};
    const dir = join(root, kind);
    await mkdir(dir, { recursive: true });
    const rows: ManifestDevice[] = [];
    for (let i = 1; i <= count; i++) {
      const deviceId = `${kind}-${i}`;
      const minted = minter.mint(deviceId, mint);
      if (kind === 'revoked') revokedSerials.push(minted.serialHex);
      const certFile = join(dir, `${deviceId}.crt`);
      const keyFile = join(dir, `${deviceId}.key`);
      await writeFileAtomic(keyFile, minted.keyPem, { mode: 0o600 });
      await writeFileAtomic(certFile, minted.certPem);
      const clientId = kind === 'mismatch' ? `not-${deviceId}` : deviceId;
      rows.push({ deviceId, clientId, username: deviceId, certFile, keyFile });
    }
    manifests[kind] = join(dir, 'devices.csv');
    await writeFileAtomic(manifests[kind], formatManifest(manifests[kind], rows));
  }
  await writeFileAtomic(crl, trusted.signCrl(revokedSerials));
  return { layout, manifests, crl };
}
