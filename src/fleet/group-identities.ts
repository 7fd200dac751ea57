/**
 * Every group's key material, loaded and checked before any worker starts: a shared
 * certificate is read and checked as a broker would; a manifest is read and its rows handed
 * out to the groups that use it, in group order, so two groups never share a device.
 */

import { readFile } from 'node:fs/promises';

import { FleetbenchError } from '../errors.js';
import type { GroupPlan, Plan } from '../scenario/plan.js';
import type { IdentityMaterial } from '../worker/protocol.js';
import { loadTlsIdentity } from './identity-files.js';
import { type ManifestDevice, readManifest } from './manifest.js';
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
  /** Null when every group shares a certificate. */
  preflight: PreflightResult | null;
}

/**
 * Loads each group's identity and preflights every per-device certificate on every core. A
 * group expected to be refused skips the chain and validity checks: a certificate from
 * another CA, or an expired one, is its point.
 * @throws FleetbenchError `E_CERTS` for unusable files (per-device ones by class, with counts
 *   and examples) or a manifest with too few devices. Nothing has connected yet.
 */
export async function loadGroupIdentities(plan: Plan): Promise<GroupIdentities> {
  const material = await loadMaterial(plan);
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
    sets.push({ setting, caPem: m.ca, devices, scope: { validity: strict, chain: strict } });
  });
  if (sets.length === 0) return { material, preflight: null };
  const preflight = await preflightDevices(sets);
  if (preflight.problems.length > 0) throw preflightError(preflight);
  return { material, preflight };
}

async function loadMaterial(plan: Plan): Promise<IdentityMaterial[]> {
  const manifests = new Map<string, { rows: ManifestDevice[]; taken: number }>();
  const material: IdentityMaterial[] = [];
  for (const [i, g] of plan.groups.entries()) {
    const setting = settingOf(plan, g, i);
    const file = g.identity.manifestFile;
    if (file === null) {
      material.push(await sharedIdentity(plan, g, setting));
      continue;
    }
    let m = manifests.get(file);
    if (m === undefined) {
      m = { rows: await readManifest(file, `${setting}.manifest`), taken: 0 };
      manifests.set(file, m);
    }
    const devices = m.rows.slice(m.taken, m.taken + g.devices);
    if (devices.length < g.devices)
      throw tooFewDevices(file, setting, m.rows.length, m.taken + g.devices);
    m.taken += g.devices;
    material.push({ ca: await readCa(g, setting), ...(await firstDevicePem(devices)), devices });
  }
  return material;
}

function settingOf(plan: Plan, g: GroupPlan, i: number): string {
  return plan.groups.length > 1 || g.name !== 'fleet' ? `groups[${i}].identity` : 'identity';
}

async function sharedIdentity(
  plan: Plan,
  g: GroupPlan,
  setting: string,
): Promise<IdentityMaterial> {
  const id = await loadTlsIdentity({
    caFile: g.identity.caFile,
    certFile: g.identity.certFile,
    keyFile: g.identity.keyFile,
    settingPrefix: setting,
    source: plan.file ?? undefined,
    checkChain: g.expect === 'accept',
  });
  return { ca: id.ca, cert: id.cert, key: id.key };
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

/** The first device's files: what a probe of the target connects with for the group. */
async function firstDevicePem(devices: ManifestDevice[]): Promise<{ cert: string; key: string }> {
  const first = devices[0];
  if (first === undefined) return { cert: '', key: '' };
  try {
    return {
      cert: await readFile(first.certFile, 'utf8'),
      key: await readFile(first.keyFile, 'utf8'),
    };
  } catch {
    // The preflight of the devices reports it, with every other unreadable file.
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
      hint: `write a larger set (\`fleetbench certs init --devices ${needed} --force\`) or run fewer devices`,
    },
  );
}
