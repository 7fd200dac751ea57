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
import type { IdentityMaterial, PreparationStats } from '../worker/protocol.js';
import type { ManifestDevice } from './manifest.js';

/** A device of the worker's slice: its group (index in `plan.groups`) and fleet ordinal. */
export interface SliceMember {
  group: number;
  ordinal: number;
}

/** Problems kept per worker; the rest are only counted. */
const MAX_PROBLEMS = 20;
/** Files read at once while preparing. */
const READ_CONCURRENCY = 32;

interface GroupIdentities {
  firstOrdinal: number;
  identityOf: (ordinal: number) => DeviceIdentity;
  /** The group's shared context; null for per-device groups (and plain TCP). */
  shared: tls.SecureContext | null;
  /** Per-device groups: the manifest rows, in group order. */
  devices: ManifestDevice[] | null;
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
      const templated = compileIdentity(g.identity);
      return {
        firstOrdinal: g.firstOrdinal,
        identityOf:
          devices === null
            ? (k: number) => templated(g.identity.firstIndex + k)
            : (k: number) => manifestIdentity(devices, k - g.firstOrdinal, g.identity.firstIndex),
        shared:
          this.tlsOn && m !== undefined && devices === null
            ? this.build(m.ca, m.cert, m.key)
            : null,
        devices,
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
    const own = members.filter((m) => this.group(m.group).devices !== null);
    const problems: string[] = [];
    let failed = 0;
    let next = 0;
    const work = async () => {
      while (next < own.length) {
        const m = own[next++] as SliceMember;
        const problem = await this.prepareOne(m);
        if (problem === null) continue;
        failed++;
        if (problems.length < MAX_PROBLEMS) problems.push(problem);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, own.length) }, work));
    const used = process.cpuUsage(cpu);
    return {
      contexts: own.length - failed,
      wallMs: Number(process.hrtime.bigint() - started) / 1e6,
      cpuMs: (used.user + used.system) / 1000,
      failed,
      problems,
    };
  }

  private async prepareOne(m: SliceMember): Promise<string | null> {
    const g = this.group(m.group);
    const row = g.devices?.[m.ordinal - g.firstOrdinal];
    if (row === undefined) return `no manifest row for device #${m.ordinal + 1}`;
    let pem: OwnPem;
    try {
      const [cert, key] = await Promise.all([
        readFile(row.certFile, 'utf8'),
        readFile(row.keyFile, 'utf8'),
      ]);
      pem = { cert, key };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return `device ${row.deviceId}: ${row.certFile} or ${row.keyFile} cannot be read (${code})`;
    }
    if (!this.tlsOn) return null;
    try {
      this.contexts.set(m.ordinal, this.build(g.ca, pem.cert, pem.key));
    } catch {
      // OpenSSL's message is not shown: it can quote nothing useful and we never echo keys.
      return `device ${row.deviceId}: ${row.certFile} and ${row.keyFile} do not make a TLS identity (unparsable, or the key is not the certificate's)`;
    }
    if (g.release) this.pems.set(m.ordinal, pem);
    return null;
  }

  /**
   * The secure context a device connects with; rebuilt from its kept PEM when it was released.
   * Undefined for plain TCP.
   */
  contextFor(group: number, ordinal: number): tls.SecureContext | undefined {
    const g = this.group(group);
    if (!this.tlsOn) return undefined;
    if (g.devices === null) return g.shared ?? undefined;
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

function manifestIdentity(devices: ManifestDevice[], row: number, index: number): DeviceIdentity {
  const d = devices[row];
  return {
    index: index + row,
    deviceId: d?.deviceId ?? '',
    clientId: d?.clientId ?? '',
    username: d?.username ?? '',
  };
}
