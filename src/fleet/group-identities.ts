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

/**
 * Loads each group's identity. A group expected to be refused skips the chain check: a
 * certificate from another CA is its point.
 * @throws FleetbenchError `E_CERTS` for unusable files or a manifest with too few devices.
 */
export async function loadGroupIdentities(plan: Plan): Promise<IdentityMaterial[]> {
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
