/**
 * The devices of one worker's slice and everything that happens to one of them: connect,
 * subscribe, publish, receive, drop, reconnect by backoff, disconnect. The timeline
 * (slice-run.ts) decides when; this module does it and records what happened.
 */

import {
  ConnectFailure,
  connectDevice,
  refusalReason,
  type DeviceConnection,
} from '../client/device-connection.js';
import { chooseLocalPorts, ephemeralPortRange, LocalPorts } from '../client/local-ports.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { Plan } from '../scenario/plan.js';
import { backoffDelayMs, DEFAULT_RECONNECT } from '../scenario/phases.js';
import { usesTls, usesWebSocket } from '../scenario/transport.js';
import { DueQueue } from './due-queue.js';
import type { FailureLog } from './failures.js';
import type { WorkerTask } from './protocol.js';
import { DeviceTraffic } from './device-traffic.js';
import type { FleetIdentities } from '../fleet/fleet-identities.js';
import { buildDevices, connectOptionsFor, type Device } from './slice-device.js';
import { DeviceSessions, recordHandshake } from './device-sessions.js';

/** Why a connect is made: a phase's planned connect, or the return after a drop. */
type ConnectKind = 'connect' | 'reconnect';

export class SliceDevices {
  readonly devices: Device[];
  /** Connects (and reconnects) waiting for their instant, then for a free in-flight slot. */
  readonly connects = new DueQueue<{ device: Device; kind: ConnectKind }>();
  /** Devices dropped by the running storm phase and not back yet. */
  readonly stormWaiting = new Set<Device>();
  private readonly online = new Set<Device>();
  private readonly maxInFlight: number;
  private readonly policy;
  /** Each device's own TLS session, offered when it reconnects. */
  private readonly sessions: DeviceSessions;
  inFlight = 0;
  /** Ramp connects started and not finished; the ramp ends when this is 0 and none queued. */
  rampPending = 0;
  /** Subscribing, publishing and accounting; null for a connect-only run. */
  readonly traffic: DeviceTraffic | null;
  /** Set once the run is ending: no new connects, late arrivals are disconnected at once. */
  closing = false;

  constructor(
    private readonly task: WorkerTask,
    startNs: bigint,
    private readonly identities: FleetIdentities,
    private readonly recorder: MetricsRecorder,
    private readonly failures: FailureLog,
    private readonly nowMs: () => number,
  ) {
    const plan = task.plan;
    // The limit holds across the fleet: every lane of every shard takes its share.
    this.maxInFlight = Math.max(1, Math.floor(plan.connect.maxInFlight / task.lanes));
    this.policy = plan.reconnect ?? DEFAULT_RECONNECT;
    this.sessions = new DeviceSessions(plan);
    const worker = { ...task, startNs };
    this.traffic =
      plan.traffic === false
        ? null
        : new DeviceTraffic(plan, worker, identities, recorder, failures, nowMs);
    this.devices = buildDevices(task, identities);
    // The shard's own addresses: its workers split their ports (shared ones: the kernel picks).
    const own = plan.sourceAddresses.length > 0 && !plan.shard.sharedSources;
    chooseLocalPorts(
      own ? new LocalPorts(ephemeralPortRange(), plan.workers, task.workerId) : null,
    );
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
      // How late a ramp connect starts: the in-flight cap (or a busy worker) holding it back.
      if (due.item.kind === 'connect')
        this.recorder.record('connectLag', (nowMs - due.atMs) * 1000);
      this.inFlight++;
      void this.connect(due.item.device, due.item.kind);
    }
  }

  private async connect(device: Device, kind: ConnectKind): Promise<void> {
    const key = (k: string) => `${kind}.${k}`;
    this.recorder.count(key('attempted'));
    if (kind === 'connect') this.recorder.count(`${device.group.prefix}connect.attempted`);
    try {
      const conn = await connectDevice({
        ...connectOptionsFor(device, this.identities),
        ...this.sessions.optionsFor(device.ordinal),
      });
      this.connected(device, conn, kind);
    } catch (err) {
      const f = err instanceof ConnectFailure ? err : new ConnectFailure('other', String(err));
      const category = f.category === 'refused' ? `refused.${f.connackCode}` : f.category;
      this.recorder.count(key(`failed.${category}`));
      if (kind === 'connect') {
        this.recorder.count(`${device.group.prefix}connect.failed.${category}`);
        if (device.targetIndex >= 0) {
          this.recorder.count(`targets.${device.targetIndex}.connect.failed.${category}`);
        }
        if (this.plan.groups[device.group.index]?.expect === 'refuse') {
          this.recorder.count(`${device.group.prefix}connect.refusedBy.${refusalReason(f)}`);
        }
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
    this.identities.connected(device.group.index, device.ordinal);
    if (conn.handshake !== null) recordHandshake(this.recorder, conn.handshake, t.tlsUs);
    if (kind === 'connect') {
      this.recorder.count('connect.ok');
      this.recorder.count(`${device.group.prefix}connect.ok`);
      if (device.targetIndex >= 0) this.recorder.count(`targets.${device.targetIndex}.connect.ok`);
      this.recorder.record('connect', t.totalUs);
      this.recorder.record('tcp', t.tcpUs);
      if (usesTls(this.plan.target.protocol)) this.recorder.record('tls', t.tlsUs);
      if (usesWebSocket(this.plan.target.protocol)) {
        this.recorder.record('websocket', t.webSocketUs);
      }
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
    void this.traffic?.start(device, conn);
  }

  /** The connection ended without us asking: count it, and reconnect if the policy says so. */
  private lost(device: Device, conn: DeviceConnection, reason: string): void {
    if (device.conn !== conn) return;
    this.detach(device);
    this.traffic?.writeOff(device);
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
    this.traffic?.writeOff(device);
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
    this.traffic?.leave(device);
    device.conn = null;
  }

  /** Disconnects one device cleanly: DISCONNECT once its publishes in flight are acknowledged. */
  async disconnect(device: Device): Promise<void> {
    const conn = device.conn;
    if (conn === null) return;
    this.detach(device);
    device.state = 'offline';
    await conn.end();
    this.traffic?.writeOff(device);
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
