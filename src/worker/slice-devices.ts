/**
 * The devices of one worker's slice and everything that happens to one of them: connect,
 * subscribe, publish, receive, drop, reconnect by backoff, disconnect. The timeline
 * (slice-run.ts) decides when; this module does it and records what happened.
 */

import tls from 'node:tls';
import {
  ConnectFailure,
  connectDevice,
  type DeviceConnectOptions,
  type DeviceConnection,
} from '../client/device-connection.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { Plan } from '../scenario/plan.js';
import { backoffDelayMs, DEFAULT_RECONNECT } from '../scenario/phases.js';
import { compileIdentity, compileTemplate, type DeviceIdentity } from '../scenario/template.js';
import { DueQueue } from './due-queue.js';
import type { FailureLog } from './failures.js';
import type { IdentityMaterial, WorkerTask } from './protocol.js';
import { PublishWheel } from './publish-wheel.js';

/** Bytes of the payload header: sequence (4), device ordinal (4), send instant in ns (8). */
const HEADER_BYTES = 16;

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
  /** Publishes of the current connection not yet acknowledged, and not yet received back. */
  unacked: number;
  outstanding: number;
  /** Bumped when a connection's pending messages are written off: their callbacks are stale. */
  gen: number;
  /** Reconnect attempts in the current outage (0 outside one). */
  attempts: number;
  /** When the current outage began, ns; for the `downtime` histogram. */
  downSinceNs: bigint;
}

/** What the devices of one group share. */
interface GroupRun {
  name: string;
  connectBase: Omit<DeviceConnectOptions, 'clientId' | 'username'>;
  /** Counter prefix, `groups.<name>.`. */
  prefix: string;
}

/** Why a connect is made: a phase's planned connect, or the return after a drop. */
type ConnectKind = 'connect' | 'reconnect';

export class SliceDevices {
  readonly devices: Device[] = [];
  /** Connects (and reconnects) waiting for their instant, then for a free in-flight slot. */
  readonly connects = new DueQueue<{ device: Device; kind: ConnectKind }>();
  readonly wheel: PublishWheel<Device> | null;
  /** Devices dropped by the running storm phase and not back yet. */
  readonly stormWaiting = new Set<Device>();
  private readonly online = new Set<Device>();
  private readonly maxInFlight: number;
  private readonly policy;
  inFlight = 0;
  /** Ramp connects started and not finished; the ramp ends when this is 0 and none queued. */
  rampPending = 0;
  /** Totals over online devices, for the drain. */
  unacked = 0;
  outstanding = 0;
  /** Set once the run is ending: no new connects, late arrivals are disconnected at once. */
  closing = false;
  /** Whether connected devices publish (the current phase's `traffic`). */
  publishing = false;

  constructor(
    private readonly task: WorkerTask,
    private readonly recorder: MetricsRecorder,
    private readonly failures: FailureLog,
    private readonly nowMs: () => number,
  ) {
    const plan = task.plan;
    this.maxInFlight = Math.max(1, Math.floor(plan.connect.maxInFlight / task.workers));
    this.policy = plan.reconnect ?? DEFAULT_RECONNECT;
    this.wheel =
      plan.traffic === false ? null : new PublishWheel<Device>(plan.traffic.intervalMs, 0);
    this.prepare();
  }

  private get plan(): Plan {
    return this.task.plan;
  }

  get connectedCount(): number {
    return this.online.size;
  }

  /** Online devices in ordinal order. */
  onlineDevices(): Device[] {
    return this.devices.filter((d) => d.state === 'online');
  }

  private prepare(): void {
    const { plan, task } = this;
    const topic =
      plan.traffic === false
        ? null
        : compileTemplate(plan.traffic.topic, ['i', 'deviceId', 'clientId', 'username'], 'topic');
    plan.groups.forEach((g, gi) => {
      const group: GroupRun = {
        name: g.name,
        connectBase: this.connectOptions(task.identities[gi]),
        prefix: `groups.${g.name}.`,
      };
      const identityOf = compileIdentity(g.identity);
      const end = g.firstOrdinal + g.devices;
      // Worker w takes ordinals w, w + W, ...: every worker's share of a rate is uniform.
      const first = g.firstOrdinal + mod(task.workerId - g.firstOrdinal, task.workers);
      for (let k = first; k < end; k += task.workers) {
        const identity = identityOf(g.identity.firstIndex + k);
        const t = topic ? topic.render({ ...identity, i: identity.index }) : '';
        this.devices.push({
          ...{ ordinal: k, group, identity, topic: t, state: 'offline', conn: null },
          ...{ seq: 0, unacked: 0, outstanding: 0, gen: 0, attempts: 0, downSinceNs: 0n },
        });
      }
    });
  }

  /** Connect options shared by a group; one secure context per certificate, built once. */
  private connectOptions(
    identity: IdentityMaterial | undefined,
  ): Omit<DeviceConnectOptions, 'clientId' | 'username'> {
    const { plan } = this;
    const secureContext =
      plan.target.protocol === 'mqtts' && identity
        ? tls.createSecureContext({
            ca: identity.ca,
            cert: identity.cert,
            key: identity.key,
            ciphers: plan.tls.ciphers,
          })
        : undefined;
    return {
      protocol: plan.target.protocol,
      host: plan.target.host,
      port: plan.target.port,
      secureContext,
      servername: plan.tls.servername ?? plan.target.host,
      insecure: plan.tls.insecure,
      minVersion: plan.tls.minVersion,
      maxVersion: plan.tls.maxVersion,
      mqttVersion: plan.mqtt.version,
      keepaliveSec: plan.mqtt.keepaliveSec,
      clean: plan.mqtt.cleanSession,
      connectTimeoutMs: plan.mqtt.connectTimeoutMs,
    };
  }

  /** The options one device connects with. */
  private connectOptionsFor(device: Device): DeviceConnectOptions {
    return {
      ...device.group.connectBase,
      clientId: device.identity.clientId,
      username: device.identity.username,
    };
  }

  /** Queues a ramp connect of `device` at `atMs`. */
  planConnect(device: Device, atMs: number): void {
    device.state = 'connecting';
    this.rampPending++;
    this.connects.push(atMs, { device, kind: 'connect' });
  }

  /** Starts the due connects while the in-flight cap allows. */
  startDueConnects(nowMs: number): void {
    while (this.inFlight < this.maxInFlight && !this.closing) {
      const due = this.connects.popDue(nowMs);
      if (due === undefined) return;
      this.inFlight++;
      void this.connect(due.item.device, due.item.kind);
    }
  }

  private async connect(device: Device, kind: ConnectKind): Promise<void> {
    const key = (k: string) => `${kind}.${k}`;
    this.recorder.count(key('attempted'));
    if (kind === 'connect') this.recorder.count(`${device.group.prefix}connect.attempted`);
    try {
      const conn = await connectDevice(this.connectOptionsFor(device));
      this.connected(device, conn, kind);
    } catch (err) {
      const f = err instanceof ConnectFailure ? err : new ConnectFailure('other', String(err));
      const category = f.category === 'refused' ? `refused.${f.connackCode}` : f.category;
      this.recorder.count(key(`failed.${category}`));
      if (kind === 'connect') {
        this.recorder.count(`${device.group.prefix}connect.failed.${category}`);
      }
      this.failures.add(f.category, f.message, device.identity.deviceId, f.connackCode);
      if (kind === 'reconnect') this.retry(device);
      else device.state = 'offline';
    } finally {
      this.inFlight--;
      if (kind === 'connect') this.rampPending--;
    }
  }

  private connected(device: Device, conn: DeviceConnection, kind: ConnectKind): void {
    const t = conn.timings;
    if (kind === 'connect') {
      this.recorder.count('connect.ok');
      this.recorder.count(`${device.group.prefix}connect.ok`);
      this.recorder.record('connect', t.totalUs);
      this.recorder.record('tcp', t.tcpUs);
      if (this.plan.target.protocol === 'mqtts') this.recorder.record('tls', t.tlsUs);
      this.recorder.record('connack', t.connackUs);
    } else {
      this.recorder.count('reconnect.ok');
      this.recorder.record('reconnect', t.totalUs);
      this.recorder.record('downtime', Number(process.hrtime.bigint() - device.downSinceNs) / 1e3);
      this.stormWaiting.delete(device);
    }
    device.attempts = 0;
    device.conn = conn;
    device.state = 'online';
    this.online.add(device);
    conn.onLost((reason) => this.lost(device, conn, reason));
    if (this.closing) {
      void this.disconnect(device);
      return;
    }
    void this.startTraffic(device, conn);
  }

  /** The connection ended without us asking: count it, and reconnect if the policy says so. */
  private lost(device: Device, conn: DeviceConnection, reason: string): void {
    if (device.conn !== conn) return;
    this.detach(device);
    this.writeOff(device);
    this.recorder.count('connection.lost');
    this.failures.add('closed', `connection lost: ${reason}`, device.identity.deviceId);
    if (this.plan.reconnect !== null && !this.closing) this.beginOutage(device);
    else device.state = 'offline';
  }

  /** Drops a connection abruptly, as an outage would, and queues its return. */
  drop(device: Device): void {
    const conn = device.conn;
    if (conn === null || device.state !== 'online') return;
    this.detach(device);
    this.writeOff(device);
    conn.drop();
    this.recorder.count('storm.dropped');
    this.stormWaiting.add(device);
    this.beginOutage(device);
  }

  private beginOutage(device: Device): void {
    device.downSinceNs = process.hrtime.bigint();
    device.attempts = 0;
    this.retry(device);
  }

  /** Queues the next reconnect attempt after its backoff, or gives up. */
  private retry(device: Device): void {
    const max = this.policy.maxAttempts;
    if (this.closing || (max > 0 && device.attempts >= max)) {
      if (!this.closing) this.recorder.count('reconnect.gaveUp');
      device.state = 'offline';
      this.stormWaiting.delete(device);
      return;
    }
    device.attempts++;
    device.state = 'backoff';
    const delay = backoffDelayMs(this.policy, device.attempts);
    this.connects.push(this.nowMs() + delay, { device, kind: 'reconnect' });
  }

  /** Forgets a device's connection: no longer online, no more turns on the wheel. */
  private detach(device: Device): void {
    this.online.delete(device);
    this.wheel?.remove(device);
    device.conn = null;
  }

  /**
   * Writes off what a closed connection still had in flight: unacknowledged publishes count as
   * failed, and round trips that cannot come back any more stop holding up the drain.
   */
  private writeOff(device: Device): void {
    device.gen++;
    this.unacked -= device.unacked;
    this.outstanding -= device.outstanding;
    if (device.unacked > 0) this.recorder.count('messages.failed', device.unacked);
    device.unacked = 0;
    device.outstanding = 0;
  }

  private async startTraffic(device: Device, conn: DeviceConnection): Promise<void> {
    const traffic = this.plan.traffic;
    if (traffic === false || this.wheel === null) return;
    const gen = device.gen;
    conn.onMessage((_topic, payload) => this.received(device, gen, payload));
    const sentNs = process.hrtime.bigint();
    const granted = await new Promise<boolean>((resolve) => {
      conn.subscribe(device.topic, traffic.qos, (err) => {
        if (err) {
          this.recorder.count('subscribe.failed');
          this.failures.add('other', `subscribe: ${err.message}`, device.identity.deviceId);
          return resolve(false);
        }
        this.recorder.count('subscribe.ok');
        this.recorder.record('suback', Number(process.hrtime.bigint() - sentNs) / 1000);
        resolve(true);
      });
    });
    if (granted && device.conn === conn) this.wheel.add(device, this.nowMs());
  }

  /** One publish of a device on the wheel. */
  publish(device: Device): void {
    const traffic = this.plan.traffic;
    const conn = device.conn;
    if (traffic === false || conn === null) return;
    const payload = Buffer.alloc(traffic.payloadBytes);
    payload.writeUInt32BE(device.seq++ >>> 0, 0);
    payload.writeUInt32BE(device.ordinal, 4);
    const sentNs = process.hrtime.bigint();
    payload.writeBigUInt64BE(sentNs, 8);
    this.recorder.count('messages.published');
    device.outstanding++;
    this.outstanding++;
    if (traffic.qos > 0) {
      device.unacked++;
      this.unacked++;
    }
    const gen = device.gen;
    conn.publish(device.topic, payload, traffic.qos, (err) => {
      // A callback of a connection that has since been dropped was written off already.
      if (device.gen !== gen) return;
      if (traffic.qos > 0) {
        device.unacked--;
        this.unacked--;
      }
      if (err) {
        this.recorder.count('messages.failed');
        return;
      }
      if (traffic.qos === 0) return;
      this.recorder.count('messages.acked');
      const us = Number(process.hrtime.bigint() - sentNs) / 1000;
      this.recorder.record(traffic.qos === 1 ? 'puback' : 'pubcomp', us);
    });
  }

  private received(device: Device, gen: number, payload: Buffer): void {
    const now = process.hrtime.bigint();
    this.recorder.count('messages.received');
    if (payload.length < HEADER_BYTES) return;
    if (device.gen === gen && device.outstanding > 0) {
      device.outstanding--;
      this.outstanding--;
    }
    this.recorder.record('roundtrip', Number(now - payload.readBigUInt64BE(8)) / 1000);
  }

  /** Disconnects one device cleanly: DISCONNECT once its publishes in flight are acknowledged. */
  async disconnect(device: Device): Promise<void> {
    const conn = device.conn;
    if (conn === null) return;
    this.detach(device);
    device.state = 'offline';
    await conn.end();
    this.writeOff(device);
  }

  /** Ends the run's connections: stops queued connects, disconnects every online device. */
  async disconnectAll(): Promise<void> {
    this.closing = true;
    this.connects.clear();
    for (const d of this.devices) if (d.state === 'backoff') d.state = 'offline';
    this.stormWaiting.clear();
    await Promise.all([...this.online].map((d) => this.disconnect(d)));
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
