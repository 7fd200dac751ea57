/**
 * One device of a worker's slice: its identity, topic and state, and how the slice's devices
 * are built from the plan (their identities and secure contexts come from FleetIdentities).
 */

import { groupConnectOptions } from '../client/connect-options.js';
import type { DeviceConnectOptions, DeviceConnection } from '../client/device-connection.js';
import { StreamLedger } from '../metrics/stream-ledger.js';
import type { FleetIdentities, SliceMember } from '../fleet/fleet-identities.js';
import type { TargetPlan } from '../scenario/plan.js';
import { sourceAddressOf } from '../scenario/shard.js';
import { compileTemplate, type DeviceIdentity } from '../scenario/template.js';
import type { WorkerTask } from './protocol.js';

/** Bytes of the payload header: sequence (4), device ordinal (4), send instant in ns (8). */
export const HEADER_BYTES = 16;

/** Where a device is in its life. */
export type DeviceState = 'offline' | 'connecting' | 'online' | 'backoff';

export interface Device {
  /** Position in the fleet's connect order, 0-based. */
  ordinal: number;
  group: GroupRun;
  identity: DeviceIdentity;
  topic: string;
  /** Where it publishes: its own `topic`, or its group's `publishTopic`. */
  publishTopic: string;
  state: DeviceState;
  conn: DeviceConnection | null;
  seq: number;
  /** Publishes of the current connection not yet acknowledged. */
  unacked: number;
  /** The source address its socket binds to (the plan's pool, in turn); undefined: any. */
  localAddress: string | undefined;
  /** With several targets: the one this device connects to (ordinal mod n); else null. */
  target: TargetPlan | null;
  /** Its position in `plan.targets`, or -1 with a single target. */
  targetIndex: number;
  /** Accounting of the device's own stream (it subscribes to what it publishes). */
  ledger: StreamLedger;
  /** Bumped when a connection's pending messages are written off: their callbacks are stale. */
  gen: number;
  /** Reconnect attempts in the current outage (0 outside one). */
  attempts: number;
  /** When the current outage began, ns; for the `downtime` histogram. */
  downSinceNs: bigint;
}

/** What the devices of one group share. */
export interface GroupRun {
  name: string;
  /** Position in `plan.groups`. */
  index: number;
  connectBase: Omit<DeviceConnectOptions, 'clientId' | 'username' | 'secureContext'>;
  /** Counter prefix, `groups.<name>.`. */
  prefix: string;
}

/** The devices of the worker in lane `task.lane`: ordinals l, l + L, ... of every group. */
export function buildDevices(task: WorkerTask, identities: FleetIdentities): Device[] {
  const { plan } = task;
  const topic =
    plan.traffic === false
      ? null
      : compileTemplate(plan.traffic.topic, ['i', 'deviceId', 'clientId', 'username'], 'topic');
  // No identity here: each device's secure context comes from FleetIdentities at connect time.
  const base = groupConnectOptions(plan, undefined);
  const groups: GroupRun[] = plan.groups.map((g, index) => ({
    name: g.name,
    index,
    connectBase: base,
    prefix: `groups.${g.name}.`,
  }));
  const publishTopics = plan.groups.map((g) =>
    g.publishTopic === null
      ? undefined
      : compileTemplate(g.publishTopic, ['i', 'deviceId', 'clientId', 'username'], 'publishTopic'),
  );
  return sliceMembers(task).map((m) => {
    const identity = identities.identityOf(m.group, m.ordinal);
    const values = { ...identity, i: identity.index };
    const t = topic ? topic.render(values) : '';
    const p = publishTopics[m.group]?.render(values) ?? t;
    const group = groups[m.group] as GroupRun;
    return {
      ...{ ordinal: m.ordinal, group, identity, topic: t, publishTopic: p, conn: null },
      state: 'offline' as const,
      ...{ seq: 0, unacked: 0, gen: 0, attempts: 0, downSinceNs: 0n },
      ledger: new StreamLedger(plan.traffic === false ? 0 : plan.traffic.lateAfterMs),
      localAddress: sourceAddressOf(plan, m.ordinal),
      target:
        plan.targets.length > 1 ? (plan.targets[m.ordinal % plan.targets.length] ?? null) : null,
      targetIndex: plan.targets.length > 1 ? m.ordinal % plan.targets.length : -1,
    };
  });
}

/**
 * The devices of one worker's slice, in connect order: the worker in lane l of L (across
 * shards) takes each group's ordinals l, l + L, ..., so every worker's share of a rate is
 * uniform and shards never share a device.
 */
export function sliceMembers(task: Pick<WorkerTask, 'plan' | 'lane' | 'lanes'>): SliceMember[] {
  const members: SliceMember[] = [];
  task.plan.groups.forEach((g, gi) => {
    const end = g.firstOrdinal + g.devices;
    const first = g.firstOrdinal + mod(task.lane - g.firstOrdinal, task.lanes);
    for (let k = first; k < end; k += task.lanes) members.push({ group: gi, ordinal: k });
  });
  return members;
}

/** The options one device connects with: its own secure context, or its group's. */
export function connectOptionsFor(
  device: Device,
  identities: FleetIdentities,
): DeviceConnectOptions {
  return {
    ...device.group.connectBase,
    secureContext: identities.contextFor(device.group.index, device.ordinal),
    clientId: device.identity.clientId,
    username: device.identity.username,
    ...(device.localAddress === undefined ? {} : { localAddress: device.localAddress }),
    ...(device.target === null ? {} : targetOptions(device.target, device.group.connectBase)),
  };
}

/** Host, port and the name checked for a device's own target (one of several). */
function targetOptions(
  t: TargetPlan,
  base: { servername: string; host: string },
): { host: string; port: number; servername: string } {
  // A servername set in the scenario applies to every target; otherwise each its own host.
  const servername = base.servername === base.host ? t.host : base.servername;
  return { host: t.host, port: t.port, servername };
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
