/**
 * One device of a worker's slice: its identity, topic and state, and how the slice's devices
 * are built from the plan (each group's secure context made once, shared by its devices).
 */

import { groupConnectOptions } from '../client/connect-options.js';
import type { DeviceConnectOptions, DeviceConnection } from '../client/device-connection.js';
import { StreamLedger } from '../metrics/stream-ledger.js';
import { compileIdentity, compileTemplate, type DeviceIdentity } from '../scenario/template.js';
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
  state: DeviceState;
  conn: DeviceConnection | null;
  seq: number;
  /** Publishes of the current connection not yet acknowledged. */
  unacked: number;
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
  connectBase: Omit<DeviceConnectOptions, 'clientId' | 'username'>;
  /** Counter prefix, `groups.<name>.`. */
  prefix: string;
}

/** The devices of worker `task.workerId`: ordinals w, w + W, ... of every group, in order. */
export function buildDevices(task: WorkerTask): Device[] {
  const { plan } = task;
  const devices: Device[] = [];
  const topic =
    plan.traffic === false
      ? null
      : compileTemplate(plan.traffic.topic, ['i', 'deviceId', 'clientId', 'username'], 'topic');
  plan.groups.forEach((g, gi) => {
    const group: GroupRun = {
      name: g.name,
      connectBase: groupConnectOptions(plan, task.identities[gi]),
      prefix: `groups.${g.name}.`,
    };
    const identityOf = compileIdentity(g.identity);
    const end = g.firstOrdinal + g.devices;
    // Worker w takes ordinals w, w + W, ...: every worker's share of a rate is uniform.
    const first = g.firstOrdinal + mod(task.workerId - g.firstOrdinal, task.workers);
    for (let k = first; k < end; k += task.workers) {
      const identity = identityOf(g.identity.firstIndex + k);
      const t = topic ? topic.render({ ...identity, i: identity.index }) : '';
      devices.push({
        ...{ ordinal: k, group, identity, topic: t, state: 'offline', conn: null },
        ...{ seq: 0, unacked: 0, gen: 0, attempts: 0, downSinceNs: 0n },
        ledger: new StreamLedger(plan.traffic === false ? 0 : plan.traffic.lateAfterMs),
      });
    }
  });
  return devices;
}

/** The options one device connects with. */
export function connectOptionsFor(device: Device): DeviceConnectOptions {
  return {
    ...device.group.connectBase,
    clientId: device.identity.clientId,
    username: device.identity.username,
  };
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
