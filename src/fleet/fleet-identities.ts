/**
 * The identities of one worker's devices and their TLS secure contexts. A group either shares
 * one certificate (one context for all its devices) or gives each device its own from a
 * manifest; those contexts cost ~1 ms of CPU and ~32 KB each, so each worker builds its own
 * devices' contexts before the run starts, and the time it took is reported apart from the
 * handshakes. The worker asks for a device's identity and context through this class only.
 */

import { readFile } from 'node:fs/promises';
import tls from 'node:tls';

import type { Plan } from '../scenario/plan.js';
import { compileIdentity, type DeviceIdentity } from '../scenario/template.js';
import { tlsContextOptions } from '../scenario/tls-settings.js';
import { usesTls } from '../scenario/transport.js';
import type { IdentityMaterial, MintMaterial, PreparationStats } from '../worker/protocol.js';
import type { ManifestDevice } from './manifest.js';
import { DeviceMinter } from './mint.js';
import { decodePkcs12, Pkcs12Error } from './pkcs12.js';

/** A device of the worker's slice: its group (index in `plan.groups`) and fleet ordinal. */
export interface SliceMember {
  group: number;
  ordinal: number;
}

/** Problems kept per worker; the rest are only counted. */
const MAX_PROBLEMS = 20;
/** Files read at once while preparing. */
const READ_CONCURRENCY = 32;
/** Devices prepared between two turns of the event loop. */
const YIELD_EVERY = 256;

interface GroupIdentities {
  firstOrdinal: number;
  identityOf: (ordinal: number) => DeviceIdentity;
  /** The group's shared context; null for per-device groups (and plain TCP). */
  shared: tls.SecureContext | null;
  /** Per-device groups: the manifest rows, in group order. */
  devices: ManifestDevice[] | null;
  /** Minting groups: the signer, and the validity of what it signs. */
  mint: { minter: DeviceMinter; validity: { notBefore: Date; notAfter: Date } } | null;
  /** Passphrase of the rows' PKCS#12 files. */
  passphrase: string;
  ca: string;
  release: boolean;
}

/** A device's own key material, kept only while its context may have to be rebuilt. */
interface OwnPem {
  cert: string;
  key: string;
}

export class FleetIdentities {
  private readonly groups: GroupIdentities[];
  private readonly contexts = new Map<number, tls.SecureContext>();
  private readonly pems = new Map<number, OwnPem>();
  private readonly tlsOn: boolean;

  /**
   * @param plan The run's plan.
   * @param material Each group's key material, in `plan.groups` order.
   */
  constructor(
    private readonly plan: Plan,
    material: IdentityMaterial[],
  ) {
    this.tlsOn = usesTls(plan.target.protocol);
    this.groups = plan.groups.map((g, gi) => {
      const m = material[gi];
      const devices = m?.devices ?? null;
      const mint = m?.mint === undefined ? null : minterOf(m.mint);
      const templated = compileIdentity(g.identity);
      return {
        firstOrdinal: g.firstOrdinal,
        identityOf:
          devices === null
            ? (k: number) => templated(g.identity.firstIndex + k)
            : (k: number) => manifestIdentity(devices, k - g.firstOrdinal, g.identity.firstIndex),
        shared:
          this.tlsOn && m !== undefined && devices === null && mint === null
            ? this.build(m.ca, m.cert, m.key)
            : null,
        devices,
        mint,
        passphrase: m?.passphrase ?? '',
        ca: m?.ca ?? '',
        release: g.identity.contexts === 'release',
      };
    });
  }

  /** The ids of a device: from its manifest row, or rendered from the group's templates. */
  identityOf(group: number, ordinal: number): DeviceIdentity {
    return this.group(group).identityOf(ordinal);
  }

  /**
   * Reads the certificate and key of every per-device member and builds its secure context.
   * Files that cannot be read or do not make a context are reported, not thrown: the
   * coordinator then stops the run before any connection.
   */
  async prepare(members: SliceMember[]): Promise<PreparationStats> {
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const own = members.filter((m) => isPerDevice(this.group(m.group)));
    const problems: string[] = [];
    let failed = 0;
    let minted = 0;
    let next = 0;
    const work = async () => {
      while (next < own.length) {
        const m = own[next++] as SliceMember;
        const problem = await this.prepareOne(m);
        // Minting never waits for a file: let the port breathe now and then.
        if (next % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
        if (problem === null) {
          if (this.group(m.group).mint !== null) minted++;
          continue;
        }
        failed++;
        if (problems.length < MAX_PROBLEMS) problems.push(problem);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, own.length) }, work));
    const used = process.cpuUsage(cpu);
    return {
      contexts: own.length - failed,
      minted,
      wallMs: Number(process.hrtime.bigint() - started) / 1e6,
      cpuMs: (used.user + used.system) / 1000,
      failed,
      problems,
    };
  }

  private async prepareOne(m: SliceMember): Promise<string | null> {
    const g = this.group(m.group);
    const loaded = g.mint !== null ? this.mintOne(g, m) : await readOwnPem(g, m);
    if ('problem' in loaded) return loaded.problem;
    const { pem, name } = loaded;
    if (!this.tlsOn) return null;
    try {
      this.contexts.set(m.ordinal, this.build(g.ca, pem.cert, pem.key));
    } catch {
      // OpenSSL's message is not shown: it can quote nothing useful and we never echo keys.
      return (
        `device ${name}: not a usable TLS identity ` +
        "(unparsable, or the key is not the certificate's)"
      );
    }
    if (g.release) this.pems.set(m.ordinal, pem);
    return null;
  }

  /** A device's certificate, signed here in memory: CN = its device id. */
  private mintOne(g: GroupIdentities, m: SliceMember): Loaded {
    const deviceId = g.identityOf(m.ordinal).deviceId;
    try {
      const minted = g.mint?.minter.mint(deviceId, g.mint.validity);
      if (minted === undefined) return { problem: `device ${deviceId}: no minting CA` };
      return { pem: { cert: minted.certPem, key: minted.keyPem }, name: `${deviceId} (minted)` };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return { problem: `device ${deviceId}: cannot mint its certificate (${why})` };
    }
  }

  /**
   * The secure context a device connects with; rebuilt from its kept PEM when it was released.
   * Undefined for plain TCP.
   */
  contextFor(group: number, ordinal: number): tls.SecureContext | undefined {
    const g = this.group(group);
    if (!this.tlsOn) return undefined;
    if (!isPerDevice(g)) return g.shared ?? undefined;
    const ready = this.contexts.get(ordinal);
    if (ready !== undefined) return ready;
    const pem = this.pems.get(ordinal);
    if (pem === undefined) return undefined;
    const built = this.build(g.ca, pem.cert, pem.key);
    this.contexts.set(ordinal, built);
    return built;
  }

  /** Called after a device's handshake: drops its context when the group releases them. */
  connected(group: number, ordinal: number): void {
    if (this.group(group).release) this.contexts.delete(ordinal);
  }

  private build(ca: string, cert: string, key: string): tls.SecureContext {
    return tls.createSecureContext({ ca, cert, key, ...tlsContextOptions(this.plan.tls) });
  }

  private group(index: number): GroupIdentities {
    const g = this.groups[index];
    if (g === undefined) throw new Error(`no group #${index}`);
    return g;
  }
}

/** A device's key material, or why it could not be had; `name` says where it came from. */
type Loaded = { pem: OwnPem; name: string } | { problem: string };

function isPerDevice(g: GroupIdentities): boolean {
  return g.devices !== null || g.mint !== null;
}

/** A manifest row's files: PEM certificate and key, or one PKCS#12 file. */
async function readOwnPem(g: GroupIdentities, m: SliceMember): Promise<Loaded> {
  const row = g.devices?.[m.ordinal - g.firstOrdinal];
  if (row === undefined) return { problem: `no manifest row for device #${m.ordinal + 1}` };
  const files = row.pkcs12 === true ? row.certFile : `${row.certFile} and ${row.keyFile}`;
  const name = `${row.deviceId} (${files})`;
  try {
    if (row.pkcs12 === true) {
      const p12 = decodePkcs12(await readFile(row.certFile), g.passphrase);
      return { pem: { cert: p12.certPem, key: p12.keyPem }, name };
    }
    const [cert, key] = await Promise.all([
      readFile(row.certFile, 'utf8'),
      readFile(row.keyFile, 'utf8'),
    ]);
    return { pem: { cert, key }, name };
  } catch (err) {
    const why =
      err instanceof Pkcs12Error
        ? err.message
        : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    return { problem: `device ${name} ${why}` };
  }
}

function minterOf(m: MintMaterial): GroupIdentities['mint'] {
  return {
    minter: new DeviceMinter(m.caCertPem, m.caKeyPem),
    validity: { notBefore: new Date(m.notBeforeMs), notAfter: new Date(m.notAfterMs) },
  };
}

function manifestIdentity(devices: ManifestDevice[], row: number, index: number): DeviceIdentity {
  const d = devices[row];
  return {
    index: index + row,
    deviceId: d?.deviceId ?? '',
    clientId: d?.clientId ?? '',
    username: d?.username ?? '',
  };
}
