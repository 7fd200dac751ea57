/**
 * The plan: a validated scenario with every file resolved, the target parsed and all units
 * fixed. It is plain data, so a slice of it can be sent to a worker thread as it is.
 */

import { describeBehaviour, type GroupBehaviourPlan } from './group-behaviour.js';
import type { ReconnectPolicy } from './phase-schema.js';
import type { ShardPlan } from './shard.js';
import { describePhase, type PhasePlan } from './phases.js';
import type { Scenario } from './schema.js';
import type { CapacityPlan } from './capacity.js';
import type { ThresholdPlan } from './thresholds.js';
import { transportOf, type TargetScheme } from './transport.js';

export type { PhasePlan } from './phases.js';
export type { ReconnectPolicy } from './phase-schema.js';
export type { ShardPlan } from './shard.js';

/** Where the load goes. */
export interface TargetPlan {
  /** `embedded` when fleetbench starts its own broker; the URL is filled in at start. */
  kind: 'embedded' | 'url';
  /** The transport, by its URL scheme (`mqtts`: TLS, `wss`, `mqtt`: plain TCP, `ws`). */
  protocol: TargetScheme;
  host: string;
  port: number;
  /** For `wss` and `ws`: the path of the WebSocket upgrade (`/mqtt`). */
  path?: string;
}

/**
 * Where a group's device certificates come from: one shared `cert`/`key`, a platform download,
 * a shared PKCS#12 file, a manifest with files per device, or minted in memory at run time.
 */
export type IdentitySource = 'shared' | 'platform' | 'pkcs12' | 'manifest' | 'mint';

/** Run-time minting: the CA that signs the devices' certificates in the workers. */
export interface MintPlan {
  /** The signing CA's certificate, absolute. */
  caFile: string;
  /** Its private key, absolute. Read by the coordinator, held only in the threads' memory. */
  caKeyFile: string;
  /** Lifetime of each minted certificate, days. */
  validityDays: number;
}

/** Column names of a device manifest (ours unless the scenario maps a foreign CSV's). */
export interface ManifestColumns {
  deviceId: string;
  clientId: string;
  username: string;
  cert: string;
  key: string;
  pkcs12: string;
}

/** Where a passphrase is read from; its value never enters the plan. */
export type PassphraseSource = { env: string } | { file: string };

/** Identity files resolved to absolute paths, and the identity templates. */
export interface IdentityPlan {
  source: IdentitySource;
  caFile: string;
  /** The shared certificate (`shared`, `platform`); unused by the other sources. */
  certFile: string;
  keyFile: string;
  /** True when the files are the default layout that `certs init` writes. */
  defaultFiles: boolean;
  /** Device manifest, absolute; null when the devices share `certFile`. */
  manifestFile: string | null;
  /** The manifest's column names. */
  columns: ManifestColumns;
  /** The shared PKCS#12 file, absolute (`pkcs12`); null otherwise. */
  pkcs12File: string | null;
  /** Run-time minting (`mint`); null otherwise. */
  mint: MintPlan | null;
  /** Passphrase of PKCS#12 files, an encrypted key or the minting CA key; null: none. */
  passphrase: PassphraseSource | null;
  /** Whether per-device secure contexts are kept after the handshake or released. */
  contexts: 'keep' | 'release';
  deviceId: string;
  clientId: string;
  username: string;
  firstIndex: number;
}

/**
 * A group of devices: a contiguous range of the fleet's connect order, with its behaviour,
 * traffic and MQTT session.
 */
export interface GroupPlan extends GroupBehaviourPlan {
  name: string;
  /** Position of its first device in the fleet's connect order, 0-based. */
  firstOrdinal: number;
  devices: number;
  identity: IdentityPlan;
  expect: 'accept' | 'refuse';
  /** Topic template the devices publish to instead of their own; null: their own topic. */
  publishTopic: string | null;
}

export interface Plan {
  /** The scenario file, absolute; `null` for a scenario built in code. */
  file: string | null;
  /** SHA-256 of the file's bytes, hex; `null` for a scenario built in code. */
  sha256: string | null;
  name: string;
  description: string | undefined;
  /** The first (or only) target. */
  target: TargetPlan;
  /** Every target, device k connecting to `targets[k mod n]`; `[target]` when there is one. */
  targets: TargetPlan[];
  /** Devices of the whole fleet (every shard); this process runs `shard.devices` of them. */
  devices: number;
  /** Worker threads of this process (at most one per device of its shard). */
  workers: number;
  /** The part of the fleet this process runs: shard 0 of 1 unless `--shard` says otherwise. */
  shard: ShardPlan;
  /** The top-level identity (the default of every group). */
  identity: IdentityPlan;
  /** The groups, in connect order; together exactly `devices` devices. */
  groups: GroupPlan[];
  tls: Scenario['tls'];
  /** WebSocket settings, used by `wss` and `ws` targets. */
  websocket: { subprotocol: string };
  mqtt: Scenario['mqtt'];
  connect: Scenario['connect'];
  traffic: Scenario['traffic'];
  /** Default length of steady and hold phases, s. */
  durationSec: number;
  drainMs: number;
  /** The phases in order, every count and rate resolved. */
  phases: PhasePlan[];
  /**
   * Local addresses device sockets bind to in turn (the shard's own part of the scenario's
   * pool; see `sourceAddressOf`); empty: any.
   */
  sourceAddresses: string[];
  /** Rules checked at the end (and, with `abortOnFail`, during the run). */
  thresholds: ThresholdPlan[];
  /** How dropped connections come back; `null`: they do not (storms use the defaults). */
  reconnect: ReconnectPolicy | null;
  /** A capacity search: steps of rising rate instead of `phases`; null for a plain run. */
  capacity: CapacityPlan | null;
}

/** One line per phase and group of the run, printed before it starts. */
export function describePlan(plan: Plan): string[] {
  const t = plan.target;
  const over = t.protocol === 'mqtts' ? '' : ` over ${transportOf(t.protocol) ?? t.protocol}`;
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  const where =
    t.kind === 'embedded'
      ? `embedded broker on loopback${over}`
      : `${t.protocol}://${host}:${t.port}${t.path ?? ''}`;
  const sh = plan.shard;
  const fleet =
    sh.count === 1
      ? `${plan.devices} devices`
      : `shard ${sh.index}/${sh.count}: ${sh.devices} of ${plan.devices} devices ` +
        `(ordinals ${sh.index}, ${sh.index + sh.count}, ...)`;
  const lines = [
    `scenario ${plan.name}: ${fleet}, ${plan.workers} workers, target ${where}` +
      (plan.targets.length > 1
        ? ` and ${plan.targets.length - 1} more (devices spread over all ${plan.targets.length})`
        : ''),
    ...(sh.count === 1
      ? []
      : [
          `  shard ${sh.index}/${sh.count}: the counts and rates below are the whole fleet's; ` +
            `this shard runs its devices and ramp ranks ${sh.index}, ${sh.index + sh.count}, ` +
            `${sh.index + 2 * sh.count}, ...`,
        ]),
    ...plan.groups.map(
      (g, _, all) =>
        `  group ${g.name}: ${g.devices} devices, ` +
        `${describeBehaviour(
          g,
          all.map((o) => o.name),
        )}; ${identityLabel(g)}` +
        (g.expect === 'refuse' ? ' (expected to be refused)' : ''),
    ),
  ];
  if (plan.traffic !== false) {
    const tr = plan.traffic;
    const plain = plan.groups.every(
      (g) => g.behaviour === 'telemetry' && g.traffic?.topic === tr.topic,
    );
    lines.push(
      plain
        ? `  traffic: each device publishes ${tr.payloadBytes} B at QoS ${tr.qos} every ` +
            `${tr.intervalMs} ms to ${tr.topic} and receives it back`
        : `  traffic: telemetry devices publish every ${tr.intervalMs} ms and receive each ` +
            'message back; each group line above says what its devices do',
    );
  }
  const pool = plan.sourceAddresses;
  const from =
    pool.length === 0
      ? ''
      : `, from ${pool.length} source address${pool.length === 1 ? '' : 'es'} ` +
        `(${pool[0] ?? ''}${pool.length > 1 ? ` .. ${pool[pool.length - 1] ?? ''}` : ''})`;
  const shared = sh.sharedSources ? ' shared with other shards' : '';
  lines.push(
    `  connects: at most ${plan.connect.maxInFlight} in flight across the fleet${from}${shared}`,
  );
  const r = plan.reconnect;
  lines.push(
    r === null
      ? '  reconnect: none (dropped connections are counted as lost; storms use the defaults)'
      : `  reconnect: backoff ${r.initialDelayMs} ms x${r.multiplier} up to ${r.maxDelayMs} ms, ` +
          `jitter ${r.jitter}, ${r.maxAttempts === 0 ? 'no limit' : `${r.maxAttempts} attempts`}`,
  );
  if (plan.capacity !== null) lines.push(...describeCapacity(plan, plan.capacity));
  else for (const p of plan.phases) lines.push(`  ${describePhase(p, plan.traffic !== false)}`);
  lines.push(`  drain: up to ${plan.drainMs} ms, then disconnect`);
  for (const t of plan.thresholds) {
    const scope = t.phase === null ? '' : ` in phase ${t.phase}`;
    const abort = t.abortOnFail ? ' (stops the run when broken)' : '';
    lines.push(`  threshold: ${t.expression}${scope}${abort}`);
  }
  return lines;
}

function identityLabel(g: GroupPlan): string {
  const id = g.identity;
  return id.manifestFile === null
    ? `certificate ${id.certFile}`
    : `a certificate each from ${id.manifestFile}`;
}

function describeCapacity(plan: Plan, c: CapacityPlan): string[] {
  const each =
    c.mode === 'connect'
      ? `a fresh fleet of rate x ${c.stepDurationSec} s devices (at most ${plan.devices}) ` +
        'connects at the rate, then disconnects'
      : `the fleet connects at ${plan.connect.ratePerSec}/s, then publishes at the rate for ` +
        `${c.stepDurationSec} s (open model)`;
  return [
    `  capacity search (${c.mode}): steps at ${c.rates.join(', ')} per s; in each, ${each}`,
    `  each step must keep ${c.slo.map((t) => t.expression).join(', ')} and reach ` +
      `${Math.round(c.minAchievedShare * 100)}% of its rate; the search stops at the first ` +
      'that does not',
  ];
}
