/**
 * One worker's slice of the fleet, run along the plan's timeline: connect each device at its
 * planned instant (bounded in flight), subscribe it to its own topic, publish on a shared
 * timer wheel, record every round trip, drain, disconnect. It never prints: it sends
 * snapshots and stage changes over its port.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import type { MessagePort } from 'node:worker_threads';
import {
  ConnectFailure,
  connectDevice,
  type DeviceConnectOptions,
  type DeviceConnection,
} from '../client/device-connection.js';
import { MetricsRecorder } from '../metrics/recorder.js';
import { rampDurationMs, type Plan } from '../scenario/plan.js';
import { compileIdentity, compileTemplate, type DeviceIdentity } from '../scenario/template.js';
import { FailureLog } from './failures.js';
import type {
  CoordinatorMessage,
  IdentityMaterial,
  RunStage,
  WorkerResult,
  WorkerTask,
} from './protocol.js';
import { PublishWheel } from './publish-wheel.js';

/** The worker's tick: due connects start and due publishes go out at this granularity. */
const TICK_MS = 5;
/** Bytes of the payload header: sequence (4), device ordinal (4), send instant in ns (8). */
const HEADER_BYTES = 16;

interface Device {
  /** Position in the fleet's connect order, 0-based. */
  ordinal: number;
  group: GroupRun;
  identity: DeviceIdentity;
  topic: string;
  conn: DeviceConnection | null;
  seq: number;
}

/** What the devices of one group share. */
interface GroupRun {
  name: string;
  connectBase: Omit<DeviceConnectOptions, 'clientId' | 'username'>;
  /** Counter prefix, `groups.<name>.`. */
  prefix: string;
}

export class SliceRun {
  private readonly plan: Plan;
  private readonly port: MessagePort;
  private readonly startNs: bigint;
  private readonly recorder: MetricsRecorder;
  private readonly failures = new FailureLog();
  private readonly devices: Device[] = [];
  private readonly connected = new Set<Device>();
  private readonly wheel: PublishWheel<Device> | null;
  private readonly maxInFlight: number;
  private stage: RunStage = 'ramp';
  private stoppedBy: string | null = null;
  private next = 0;
  private inFlight = 0;
  /** Round-trip messages published and not yet received back, and unacknowledged publishes. */
  private outstanding = 0;
  private unacked = 0;

  constructor(private readonly task: WorkerTask) {
    this.plan = task.plan;
    this.port = task.port;
    this.startNs = BigInt(task.startAtNs);
    this.recorder = new MetricsRecorder({ startNs: this.startNs });
    this.maxInFlight = Math.max(1, Math.floor(this.plan.connect.maxInFlight / task.workers));
    this.wheel =
      this.plan.traffic === false
        ? null
        : new PublishWheel<Device>(this.plan.traffic.intervalMs, 0);
    this.prepareDevices();
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

  private prepareDevices(): void {
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
      // Worker w takes ordinals w, w + W, ...: every worker's share of the ramp is uniform.
      const first = g.firstOrdinal + mod(task.workerId - g.firstOrdinal, task.workers);
      for (let k = first; k < end; k += task.workers) {
        const identity = identityOf(g.identity.firstIndex + k);
        const t = topic ? topic.render({ ...identity, i: identity.index }) : '';
        this.devices.push({ ordinal: k, group, identity, topic: t, conn: null, seq: 0 });
      }
    });
  }

  /** Milliseconds since the common start instant. */
  private nowMs(): number {
    return Number(process.hrtime.bigint() - this.startNs) / 1e6;
  }

  private setStage(stage: RunStage): void {
    this.stage = stage;
    this.port.postMessage({ type: 'stage', workerId: this.task.workerId, stage });
  }

  /** Runs the slice to the end (or until stopped) and returns its totals. */
  async execute(): Promise<WorkerResult> {
    this.port.on('message', (m: CoordinatorMessage) => {
      if (m.type === 'stop') this.stoppedBy ??= m.reason;
    });
    const snapshots = setInterval(() => this.sendSnapshot(), this.task.snapshotIntervalMs);
    try {
      const wait = -this.nowMs();
      if (wait > 0) await sleep(wait);
      await this.runRampAndTraffic();
      this.setStage('drain');
      await this.drain();
      this.setStage('disconnect');
      await this.disconnectAll();
      this.setStage('done');
    } finally {
      clearInterval(snapshots);
    }
    this.sendSnapshot();
    const result: WorkerResult = {
      workerId: this.task.workerId,
      total: this.recorder.total(process.hrtime.bigint()),
      failures: this.failures.list(),
      stoppedBy: this.stoppedBy,
      stage: this.stage,
    };
    this.port.close();
    this.recorder.destroy();
    return result;
  }

  private sendSnapshot(): void {
    this.recorder.gauge('devices.connected', this.connected.size);
    const snapshot = this.recorder.takeInterval(process.hrtime.bigint());
    this.port.postMessage({ type: 'snapshot', workerId: this.task.workerId, snapshot });
  }

  private async runRampAndTraffic(): Promise<void> {
    const rampEndMs = rampDurationMs(this.plan);
    const trafficEndMs = rampEndMs + this.plan.durationSec * 1000;
    const msPerDevice = 1000 / this.plan.connect.ratePerSec;
    let trafficAnnounced = false;
    while (this.stoppedBy === null) {
      const now = this.nowMs();
      this.startDueConnects(now, msPerDevice);
      if (this.wheel) this.wheel.advance(now, (d) => this.publish(d));
      const rampDone = this.next >= this.devices.length && this.inFlight === 0;
      if (rampDone && !trafficAnnounced) {
        trafficAnnounced = true;
        this.setStage('traffic');
      }
      if (rampDone && now >= trafficEndMs) return;
      await sleep(TICK_MS);
    }
  }

  private startDueConnects(nowMs: number, msPerDevice: number): void {
    while (this.next < this.devices.length && this.inFlight < this.maxInFlight) {
      const device = this.devices[this.next];
      if (device === undefined || device.ordinal * msPerDevice > nowMs) return;
      this.next++;
      this.inFlight++;
      void this.connect(device);
    }
  }

  private async connect(device: Device): Promise<void> {
    this.recorder.count('connect.attempted');
    this.recorder.count(`${device.group.prefix}connect.attempted`);
    try {
      const conn = await connectDevice({
        ...device.group.connectBase,
        clientId: device.identity.clientId,
        username: device.identity.username,
      });
      const t = conn.timings;
      this.recorder.count('connect.ok');
      this.recorder.count(`${device.group.prefix}connect.ok`);
      this.recorder.record('connect', t.totalUs);
      this.recorder.record('tcp', t.tcpUs);
      if (this.plan.target.protocol === 'mqtts') this.recorder.record('tls', t.tlsUs);
      this.recorder.record('connack', t.connackUs);
      device.conn = conn;
      this.connected.add(device);
      conn.onLost((reason) => this.lost(device, reason));
      if (this.stoppedBy === null) await this.startTraffic(device, conn);
    } catch (err) {
      const f = err instanceof ConnectFailure ? err : new ConnectFailure('other', String(err));
      const key = f.category === 'refused' ? `refused.${f.connackCode}` : f.category;
      this.recorder.count(`connect.failed.${key}`);
      this.recorder.count(`${device.group.prefix}connect.failed.${key}`);
      this.failures.add(f.category, f.message, device.identity.deviceId, f.connackCode);
    } finally {
      this.inFlight--;
    }
  }

  private lost(device: Device, reason: string): void {
    if (!this.connected.delete(device)) return;
    device.conn = null;
    this.wheel?.remove(device);
    this.recorder.count('connection.lost');
    this.failures.add('closed', `connection lost: ${reason}`, device.identity.deviceId);
  }

  private async startTraffic(device: Device, conn: DeviceConnection): Promise<void> {
    const traffic = this.plan.traffic;
    if (traffic === false || this.wheel === null) return;
    conn.onMessage((_topic, payload) => this.received(payload));
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
    if (granted && device.conn !== null) this.wheel.add(device, this.nowMs());
  }

  private publish(device: Device): void {
    const traffic = this.plan.traffic;
    const conn = device.conn;
    if (traffic === false || conn === null) return;
    const payload = Buffer.alloc(traffic.payloadBytes);
    payload.writeUInt32BE(device.seq++ >>> 0, 0);
    payload.writeUInt32BE(device.ordinal, 4);
    const sentNs = process.hrtime.bigint();
    payload.writeBigUInt64BE(sentNs, 8);
    this.recorder.count('messages.published');
    this.outstanding++;
    if (traffic.qos > 0) this.unacked++;
    conn.publish(device.topic, payload, traffic.qos, (err) => {
      if (traffic.qos > 0) this.unacked--;
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

  private received(payload: Buffer): void {
    const now = process.hrtime.bigint();
    this.recorder.count('messages.received');
    if (payload.length < HEADER_BYTES) return;
    this.outstanding--;
    this.recorder.record('roundtrip', Number(now - payload.readBigUInt64BE(8)) / 1000);
  }

  private async drain(): Promise<void> {
    const endMs = this.nowMs() + (this.stoppedBy === null ? this.plan.drainMs : 500);
    while (
      (this.outstanding > 0 || this.unacked > 0 || this.inFlight > 0) &&
      this.nowMs() < endMs
    ) {
      await sleep(TICK_MS);
    }
  }

  private async disconnectAll(): Promise<void> {
    const open = [...this.connected];
    this.connected.clear();
    await Promise.all(open.map((d) => d.conn?.end() ?? Promise.resolve()));
    for (const d of open) d.conn = null;
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
