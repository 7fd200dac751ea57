/**
 * Every group's key material, loaded and checked before any worker starts: a shared
 * certificate is read and checked as a broker would; a manifest is read and its rows handed
 * out to the groups that use it, in group order, so two groups never share a device.
 */

import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { FleetbenchError } from '../errors.js';
import { DEFAULT_COLUMNS } from '../scenario/identity-plan.js';
import type { GroupPlan, IdentitySource, MintPlan, Plan } from '../scenario/plan.js';
import { compileIdentity, compileIdentityOf } from '../scenario/template.js';
import type { IdentityMaterial, MintMaterial } from '../worker/protocol.js';
import { loadTlsIdentity } from './identity-files.js';
import { assertPrivateKeyFile, keyFileExposure, readPassphrase } from './key-secrets.js';
import { type ManifestDevice, type ManifestOptions, readManifest } from './manifest.js';
import { DeviceMinter } from './mint.js';
import { checkCaPair } from './pki.js';
import { decodePkcs12, Pkcs12Error } from './pkcs12.js';
import {
  preflightDevices,
  preflightError,
  type PreflightResult,
  type PreflightSet,
} from './preflight.js';

/** Each group's key material, and the preflight of the per-device certificates among them. */
export interface GroupIdentities {
  /** In `plan.groups` order. */
  material: IdentityMaterial[];
  /** Null when no group has files per device. */
  preflight: PreflightResult | null;
  /** Key files others can read, one line each: printed and kept in the report. */
  warnings: string[];
}

/**
 * Loads each group's identity and preflights every per-device certificate on every core. A
 * group expected to be refused skips the chain and validity checks: a certificate from
 * another CA, or an expired one, is its point.
 * @throws FleetbenchError `E_CERTS` for unusable files (per-device ones by class, with counts
 *   and examples) or a manifest with too few devices. Nothing has connected yet.
 */
export async function loadGroupIdentities(plan: Plan): Promise<GroupIdentities> {
  const warnings: string[] = [];
  const material = await loadMaterial(plan, warnings);
  const sets: PreflightSet[] = [];
  material.forEach((m, i) => {
    const g = plan.groups[i];
    if (m.devices === undefined || g === undefined) return;
    const strict = g.expect === 'accept';
    const setting = `${settingOf(plan, g, i)}.manifest`;
    // A shard checks only its own devices: the others are checked by their shards.
    const { index, count } = plan.shard;
    const devices =
      count === 1 ? m.devices : m.devices.filter((_, r) => (g.firstOrdinal + r) % count === index);
    sets.push({
      setting,
      caPem: m.ca,
      devices,
      ...(m.passphrase === undefined ? {} : { passphrase: m.passphrase }),
      scope: { validity: strict, chain: strict },
    });
  });
  if (sets.length === 0) return { material, preflight: null, warnings };
  const preflight = await preflightDevices(sets);
  if (preflight.problems.length > 0) throw preflightError(preflight);
  return { material, preflight, warnings };
}

async function loadMaterial(plan: Plan, warnings: string[]): Promise<IdentityMaterial[]> {
  const manifests = new Map<string, { rows: ManifestDevice[]; taken: number }>();
  const material: IdentityMaterial[] = [];
  for (const [i, g] of plan.groups.entries()) {
    const setting = settingOf(plan, g, i);
    const passphrase = await readPassphrase(g.identity.passphrase, setting);
    const file = g.identity.manifestFile;
    if (g.identity.mint !== null) {
      material.push(await mintMaterial(g, setting, passphrase));
      continue;
    }
    if (file === null) {
      material.push(await sharedIdentity(plan, g, setting, passphrase, warnings));
      continue;
    }
    let m = manifests.get(file);
    if (m === undefined) {
      m = { rows: await readManifest(file, manifestOptions(g, setting)), taken: 0 };
      manifests.set(file, m);
    }
    const devices = m.rows.slice(m.taken, m.taken + g.devices);
    if (devices.length < g.devices)
      throw tooFewDevices(file, setting, m.rows.length, m.taken + g.devices);
    m.taken += g.devices;
    material.push({
      ca: await readCa(g, setting),
      ...(await firstDevicePem(devices, passphrase)),
      devices,
      ...(passphrase === undefined ? {} : { passphrase }),
    });
  }
  return material;
}

function manifestOptions(g: GroupPlan, setting: string): ManifestOptions {
  const fill = compileIdentityOf(g.identity, setting);
  const columnsGiven = Object.entries(g.identity.columns).some(
    ([k, v]) => DEFAULT_COLUMNS[k as keyof typeof DEFAULT_COLUMNS] !== v,
  );
  return {
    setting: `${setting}.manifest`,
    columns: g.identity.columns,
    columnsGiven,
    firstIndex: g.identity.firstIndex,
    // A foreign CSV without client ids or usernames: the templates, with the row's device id.
    fill: (deviceId, index) => {
      const id = fill(deviceId, index);
      return { clientId: id.clientId, username: id.username };
    },
  };
}

function settingOf(plan: Plan, g: GroupPlan, i: number): string {
  return plan.groups.length > 1 || g.name !== 'fleet' ? `groups[${i}].identity` : 'identity';
}

/** One certificate for the whole group: its own files, a platform download or a PKCS#12 file. */
async function sharedIdentity(
  plan: Plan,
  g: GroupPlan,
  setting: string,
  passphrase: string | undefined,
  warnings: string[],
): Promise<IdentityMaterial> {
  const id = g.identity;
  const p12 = id.pkcs12File;
  const names = SETTING_NAMES[id.source];
  const keyFile = p12 ?? id.keyFile;
  const exposed = await keyFileExposure(keyFile, `${setting}.${names.key ?? 'key'}`);
  if (exposed !== null) warnings.push(exposed);
  const loaded = await loadTlsIdentity({
    caFile: id.caFile,
    certFile: p12 ?? id.certFile,
    keyFile,
    ...(passphrase === undefined ? {} : { passphrase }),
    settingPrefix: setting,
    settingNames: names,
    source: plan.file ?? undefined,
    // A platform's common certificate is bound to the device by the platform, and is often
    // self-signed: root_ca.crt verifies the broker, not it.
    checkChain: g.expect === 'accept' && id.source !== 'platform',
    ...(p12 === null ? {} : { pem: await readPkcs12(p12, passphrase, `${setting}.pkcs12`) }),
  });
  return { ca: loaded.ca, cert: loaded.cert, key: decryptedKey(loaded.key, passphrase) };
}

/** How each source's files are named in messages, under the identity's setting path. */
const SETTING_NAMES: Record<IdentitySource, Partial<Record<'ca' | 'cert' | 'key', string>>> = {
  shared: {},
  manifest: {},
  mint: {},
  platform: { ca: 'platform', cert: 'platform', key: 'platform' },
  pkcs12: { cert: 'pkcs12', key: 'pkcs12' },
};

/**
 * Reads and decodes a PKCS#12 file into the PEM texts of its certificate and key.
 * @throws FleetbenchError `E_CERTS` naming the setting and file, never the passphrase.
 */
async function readPkcs12(
  file: string,
  passphrase: string | undefined,
  label: string,
): Promise<{ cert: string; key: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new FleetbenchError('E_CERTS', `${label}: ${file} cannot be read (${code})`, {
      hint: 'point it at the .p12/.pfx file that holds the device certificate and key',
    });
  }
  try {
    const decoded = decodePkcs12(bytes, passphrase ?? '');
    return { cert: decoded.certPem, key: decoded.keyPem };
  } catch (err) {
    if (!(err instanceof Pkcs12Error)) throw err;
    const hint =
      err.reason === 'bad-passphrase'
        ? passphrase === undefined
          ? 'the file has a passphrase: set passphraseEnv (a variable name) or passphraseFile'
          : 'check the passphrase in passphraseEnv / passphraseFile'
        : 'export the device identity again as PKCS#12 (openssl pkcs12 -export -inkey k -in c)';
    throw new FleetbenchError('E_CERTS', `${label}: ${file} ${err.message}`, { hint });
  }
}

/** An encrypted PEM key decrypted once here, so workers never need the passphrase for it. */
function decryptedKey(keyPem: string, passphrase: string | undefined): string {
  if (passphrase === undefined || !keyPem.includes('ENCRYPTED')) return keyPem;
  const key = createPrivateKey({ key: keyPem, format: 'pem', passphrase });
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * The CA the workers mint with: certificate and key checked as a pair, the key file private
 * to its owner, the CA valid for the whole of the minted certificates' lifetime.
 * @throws FleetbenchError `E_CERTS`
 */
async function mintMaterial(
  g: GroupPlan,
  setting: string,
  passphrase: string | undefined,
): Promise<IdentityMaterial> {
  const mint = g.identity.mint as MintPlan;
  const label = { ca: `${setting}.mint.ca`, caKey: `${setting}.mint.caKey` };
  await assertPrivateKeyFile(mint.caKeyFile, label.caKey);
  const [caCertPem, caKeyText, trust] = await Promise.all([
    readPem(mint.caFile, label.ca, 'the CA certificate that signs the devices'),
    readPem(mint.caKeyFile, label.caKey, 'the private key of mint.ca'),
    readCa(g, setting),
  ]);
  const pair = checkCaPair(caCertPem, caKeyText, passphrase);
  const notBeforeMs = Date.now() - MINT_CLOCK_SKEW_MS;
  const notAfterMs = notBeforeMs + mint.validityDays * 86_400_000;
  if (new Date(pair.cert.validTo).getTime() < Date.now()) {
    throw new FleetbenchError(
      'E_CERTS',
      `${label.ca}: ${mint.caFile} expired on ${new Date(pair.cert.validTo).toISOString()}`,
      { hint: 'mint with a CA that is valid now (`fleetbench certs init --force` makes one)' },
    );
  }
  const material: MintMaterial = {
    caCertPem,
    caKeyPem: pair.key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    notBeforeMs,
    notAfterMs,
  };
  // The target probe connects as the group's first device, minted here like the rest.
  const first = compileIdentity(g.identity, setting)(g.identity.firstIndex + g.firstOrdinal);
  const probe = new DeviceMinter(material.caCertPem, material.caKeyPem).mint(first.deviceId, {
    notBefore: new Date(notBeforeMs),
    notAfter: new Date(notAfterMs),
  });
  return { ca: trust, cert: probe.certPem, key: probe.keyPem, mint: material };
}

/** Minted certificates start this long before now: a broker's clock may lag ours, ms. */
const MINT_CLOCK_SKEW_MS = 5 * 60_000;

async function readPem(file: string, label: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new FleetbenchError('E_CERTS', `${label}: ${file} cannot be read (${code})`, {
      hint: `point it at ${what} (PEM)`,
    });
  }
}

async function readCa(g: GroupPlan, setting: string): Promise<string> {
  try {
    const text = await readFile(g.identity.caFile, 'utf8');
    if (text.includes('-----BEGIN CERTIFICATE-----')) return text;
  } catch {
    // reported below with the same advice as an empty file
  }
  throw new FleetbenchError(
    'E_CERTS',
    `${setting}.ca: ${g.identity.caFile} holds no readable PEM CA certificate`,
    {
      hint: 'point it at the CA that signed the broker certificate (certs/root_ca.crt by default)',
    },
  );
}

/** The first device's certificate and key: what a probe of the target connects with. */
async function firstDevicePem(
  devices: ManifestDevice[],
  passphrase: string | undefined,
): Promise<{ cert: string; key: string }> {
  const first = devices[0];
  if (first === undefined) return { cert: '', key: '' };
  try {
    if (first.pkcs12 === true) {
      const p12 = decodePkcs12(await readFile(first.certFile), passphrase ?? '');
      return { cert: p12.certPem, key: p12.keyPem };
    }
    return {
      cert: await readFile(first.certFile, 'utf8'),
      key: await readFile(first.keyFile, 'utf8'),
    };
  } catch {
    // The preflight of the devices reports it, with every other unusable file.
    return { cert: '', key: '' };
  }
}

function tooFewDevices(
  file: string,
  setting: string,
  rows: number,
  needed: number,
): FleetbenchError {
  return new FleetbenchError(
    'E_CERTS',
    `${setting}.manifest: ${file} lists ${rows} devices but the groups using it need ${needed}`,
    {
      hint:
        `write a larger set (\`fleetbench certs init --devices ${needed} --force\`) ` +
        'or run fewer devices',
    },
  );
}
