/**
 * One device of a worker's slice: its identity, topic and state, and how the slice's devices
 * are built from the plan (their identities and secure contexts come from FleetIdentities).
 */

import { groupConnectOptions, type GroupConnectOptions } from '../client/connect-options.js';
import type {
  DeviceConnectOptions,
  DeviceConnection,
  PublishExtras,
} from '../client/device-connection.js';
import type { LeanWill } from '../client/lean-mqtt.js';
import { StreamLedger } from '../metrics/stream-ledger.js';
import type { FleetIdentities, SliceMember } from '../fleet/fleet-identities.js';
import {
  DEVICE_PLACEHOLDERS,
  TOPIC_PLACEHOLDERS,
  type WillPlan,
} from '../scenario/group-behaviour.js';
import type { GroupPlan, TargetPlan } from '../scenario/plan.js';
import { sourceAddressOf } from '../scenario/shard.js';
import {
  compileTemplate,
  wildcardFilter,
  type DeviceIdentity,
  type Template,
} from '../scenario/template.js';
import { PayloadFormat } from './payload.js';
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
  /** The filter it subscribes to for its own messages (its topic; `+` for a `{seq}` level). */
  topic: string;
  /** Where it publishes: its own topic, or its group's `publishTopic` (with `{seq}`: unused). */
  publishTopic: string;
  /** Whether its publishes come back to it: it publishes to its own topic. */
  echo: boolean;
  /** Its last will, rendered; undefined: none. */
  will: LeanWill | undefined;
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
  plan: GroupPlan;
  connectBase: Omit<DeviceConnectOptions, 'clientId' | 'username' | 'secureContext'>;
  /** Counter prefix, `groups.<name>.`. */
  prefix: string;
  /** Its payloads (binary or from the JSON template). */
  payload: PayloadFormat;
  /** A topic with `{seq}`, rendered per publish; null: each device's topic is fixed. */
  seqTopic: Template | null;
  /** Retain and user properties of its publishes; undefined: neither. */
  extras: PublishExtras | undefined;
  /** Its templates, compiled once for all its devices. */
  templates: GroupTemplates;
}

interface GroupTemplates {
  topic: Template | null;
  publish: Template | null;
  will: { topic: Template; payload: Template; plan: WillPlan } | null;
}

/** The placeholder values of a device's templates. */
export function valuesOf(d: Device): Record<string, string | number> {
  return { ...d.identity, i: d.identity.index, group: d.group.name };
}

/** The devices of the worker in lane `task.lane`: ordinals l, l + L, ... of every group. */
export function buildDevices(task: WorkerTask, identities: FleetIdentities): Device[] {
  const { plan } = task;
  // No identity here: each device's secure context comes from FleetIdentities at connect time.
  const base = groupConnectOptions(plan, undefined);
  const groups = plan.groups.map((g, index) => groupRun(g, index, base));
  return sliceMembers(task).map((m) => {
    const identity = identities.identityOf(m.group, m.ordinal);
    const group = groups[m.group] as GroupRun;
    const values = { ...identity, i: identity.index, group: group.name };
    const topics = deviceTopics(group, values);
    return {
      ...{ ordinal: m.ordinal, group, identity, ...topics, conn: null },
      will: renderWill(group, values),
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

function groupRun(g: GroupPlan, index: number, base: GroupConnectOptions): GroupRun {
  const s = g.session;
  const t = g.traffic;
  const topic = t === null ? null : compileTemplate(t.topic, TOPIC_PLACEHOLDERS, 'topic');
  const will = s.will;
  const templates: GroupTemplates = {
    topic,
    publish:
      g.publishTopic === null
        ? null
        : compileTemplate(g.publishTopic, TOPIC_PLACEHOLDERS, 'publishTopic'),
    will:
      will === null
        ? null
        : {
            topic: compileTemplate(will.topic, DEVICE_PLACEHOLDERS, 'will.topic'),
            payload: compileTemplate(will.payload, DEVICE_PLACEHOLDERS, 'will.payload', 'literal'),
            plan: will,
          },
  };
  const userProperties = s.userProperties ?? undefined;
  return {
    name: g.name,
    index,
    plan: g,
    connectBase: {
      ...base,
      keepaliveSec: s.keepaliveSec,
      clean: s.clean,
      ...(s.sessionExpirySec === null ? {} : { sessionExpirySec: s.sessionExpirySec }),
      ...(userProperties === undefined ? {} : { userProperties }),
    },
    prefix: `groups.${g.name}.`,
    payload: new PayloadFormat(t?.payloadBytes ?? HEADER_BYTES, t?.payloadTemplate ?? null),
    seqTopic: topic?.names.has('seq') ? topic : null,
    templates,
    extras:
      t?.retain === true || userProperties !== undefined
        ? {
            retain: t?.retain ?? false,
            ...(userProperties === undefined ? {} : { userProperties }),
          }
        : undefined,
  };
}

/** A device's own topic (the filter it subscribes to) and where it publishes. */
function deviceTopics(group: GroupRun, values: Record<string, string | number>) {
  const { topic: own, publish } = group.templates;
  if (own === null) return { topic: '', publishTopic: '', echo: true };
  const topic = group.seqTopic === null ? own.render(values) : wildcardFilter(own, values, 'topic');
  if (publish === null) return { topic, publishTopic: topic, echo: true };
  return { topic, publishTopic: publish.render(values), echo: false };
}

function renderWill(
  group: GroupRun,
  values: Record<string, string | number>,
): LeanWill | undefined {
  const will = group.templates.will;
  if (will === null) return undefined;
  return {
    topic: will.topic.render(values),
    payload: Buffer.from(will.payload.render(values)),
    qos: will.plan.qos,
    retain: will.plan.retain,
  };
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
    ...(device.will === undefined ? {} : { will: device.will }),
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
