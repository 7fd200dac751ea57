/**
 * The traffic of a worker's devices. Telemetry devices subscribe to their own topic and get
 * their messages back; they publish on the worker's timer wheel (closed model) or take their
 * turn at the fleet's arrival rate (open model). Every message goes through the device's
 * stream ledger, so the report counts what was lost, duplicated, out of order or late, in
 * total and per QoS (`messages.<kind>` and `messages.qos<q>.<kind>`). Command receivers and
 * controllers go to command-traffic.ts, monitors to monitor-traffic.ts.
 */

import type { DeviceConnection } from '../client/device-connection.js';
import type { FleetIdentities } from '../fleet/fleet-identities.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { AccountingKind } from '../metrics/stream-ledger.js';
import type { Plan } from '../scenario/plan.js';
import type { Scenario } from '../scenario/schema.js';
import { CommandTraffic } from './command-traffic.js';
import type { FailureLog } from './failures.js';
import { MonitorTraffic } from './monitor-traffic.js';
import { OpenSchedule } from './open-schedule.js';
import { headerOf, jsonValues } from './payload.js';
import { PublishWheel } from './publish-wheel.js';
import { HEADER_BYTES, valuesOf, type Device } from './slice-device.js';
import { subscribeCounted } from './subscribe.js';

/** Open model: the payload also carries the scheduled instant, ns, at this offset. */
const SCHEDULED_AT = HEADER_BYTES;
/** Open model: a send this far behind its scheduled instant counts as late, ms (two ticks). */
const SEND_LATE_MS = 10;

type Traffic = Exclude<Scenario['traffic'], false>;

export class DeviceTraffic {
  /** Publishes not acknowledged yet, over online devices. */
  unacked = 0;
  /** Messages sent and not received yet, over every device's ledger. */
  outstanding = 0;
  /** Closed model: each subscribed device's turn once per interval. */
  private readonly wheel: PublishWheel<Device> | null = null;
  /** Open model: the worker's share of the fleet's arrival rate. */
  private readonly open: OpenSchedule | null = null;
  /** Open model: subscribed devices, taking the scheduled publishes in turn. */
  private readonly ready: Device[] = [];
  private readonly readyAt = new Map<Device, number>();
  private turn = 0;
  private paused = true;
  /** Controllers and receivers of this worker; null when no group has them. */
  private readonly commands: CommandTraffic | null;
  /** Monitors of this worker; null when no group has them. */
  private readonly monitors: MonitorTraffic | null;
  private readonly traffic: Traffic;

  /**
   * @param worker.startNs the run's common start instant (the clock of `nowMs`), ns
   * @param worker.board the run's shared board of command receivers
   */
  constructor(
    plan: Plan,
    worker: { lane: number; lanes: number; startNs: bigint; board: SharedArrayBuffer },
    identities: FleetIdentities,
    private readonly recorder: MetricsRecorder,
    private readonly failures: FailureLog,
    private readonly nowMs: () => number,
  ) {
    const traffic = plan.traffic as Traffic;
    this.traffic = traffic;
    this.startNs = worker.startNs;
    const metrics = { recorder, failures };
    const has = (b: string) => plan.groups.some((g) => g.behaviour === b);
    this.commands = has('commands')
      ? new CommandTraffic(plan, worker.board, identities, metrics, traffic.lateAfterMs)
      : null;
    this.monitors = has('monitor') ? new MonitorTraffic(metrics) : null;
    if (traffic.model === 'open') {
      const fleetIntervalMs = 1000 / (traffic.ratePerSec ?? 1);
      this.open = new OpenSchedule(
        fleetIntervalMs * worker.lanes,
        fleetIntervalMs * worker.lane,
        traffic.maxLagMs,
      );
    } else {
      this.wheel = new PublishWheel<Device>(traffic.intervalMs, 0);
    }
  }

  private readonly startNs: bigint;

  /** Whether anything is still in flight: publishes unacknowledged, messages not back. */
  get busy(): boolean {
    const c = this.commands;
    return (
      this.outstanding > 0 || this.unacked > 0 || (c !== null && c.outstanding + c.unacked > 0)
    );
  }

  /** Whether the current phase publishes. */
  get publishing(): boolean {
    return !this.paused;
  }

  /** Publishing goes on (a phase with traffic begins): no turn missed while quiet is owed. */
  resume(nowMs: number): void {
    if (!this.paused) return;
    this.paused = false;
    this.wheel?.resume(nowMs);
    this.open?.resume(nowMs);
    this.commands?.resume(nowMs);
  }

  /** Publishing stops (a phase without traffic). */
  pause(): void {
    this.paused = true;
    this.open?.pause();
    this.commands?.pause();
  }

  /** Sends what is due by `nowMs`. */
  advance(nowMs: number): void {
    if (this.paused) return;
    this.commands?.advance(nowMs);
    this.wheel?.advance(nowMs, (d) => this.publish(d, null));
    this.open?.advance(
      nowMs,
      (scheduledMs) => this.publishScheduled(scheduledMs, nowMs),
      (n) => this.recorder.count('schedule.skipped', n),
    );
  }

  /** Open model: one scheduled publish on the next subscribed device, or skipped if none. */
  private publishScheduled(scheduledMs: number, nowMs: number): void {
    if (this.ready.length === 0) {
      this.recorder.count('schedule.noDevice');
      return;
    }
    this.turn = (this.turn + 1) % this.ready.length;
    const device = this.ready[this.turn] as Device;
    const lagMs = nowMs - scheduledMs;
    if (lagMs > SEND_LATE_MS) this.recorder.count('schedule.late');
    this.recorder.record('scheduleLag', Math.max(0, lagMs) * 1000);
    this.publish(device, this.startNs + BigInt(Math.round(scheduledMs * 1e6)));
  }

  private join(device: Device): void {
    this.wheel?.add(device, this.nowMs());
    if (this.open !== null && !this.readyAt.has(device)) {
      this.readyAt.set(device, this.ready.length);
      this.ready.push(device);
    }
  }

  /** A device's connection ended: no more turns. */
  leave(device: Device): void {
    this.wheel?.remove(device);
    const at = this.readyAt.get(device);
    if (at === undefined) return;
    // Swap with the last: O(1), and the turn order of the others barely changes.
    const last = this.ready.pop() as Device;
    this.readyAt.delete(device);
    if (last !== device) {
      this.ready[at] = last;
      this.readyAt.set(last, at);
    }
  }

  private count(kind: AccountingKind, qos: number, n = 1): void {
    this.recorder.count(`messages.${kind}`, n);
    this.recorder.count(`messages.qos${qos}.${kind}`, n);
  }

  /**
   * Starts a freshly connected device's traffic by its group's behaviour. A telemetry device
   * subscribes to its own topic and joins the wheel once the SUBACK is in.
   */
  async start(device: Device, conn: DeviceConnection): Promise<void> {
    switch (device.group.plan.behaviour) {
      case 'commands':
        return this.commands?.startReceiver(device, conn);
      case 'controller':
        return this.commands?.startController(device, conn, this.nowMs);
      case 'monitor':
        return this.monitors?.start(device, conn);
      case 'telemetry':
        break;
    }
    conn.onMessage((_topic, payload, retained) => this.received(device, payload, retained));
    const qos = qosOf(device);
    const metrics = { recorder: this.recorder, failures: this.failures };
    const granted = await subscribeCounted(
      conn,
      [device.topic],
      qos,
      device.identity.deviceId,
      metrics,
    );
    if (granted && device.conn === conn) this.join(device);
  }

  /**
   * One publish of a device.
   * @param scheduledNs open model: the instant it was due (carried in the payload), or null
   */
  private publish(device: Device, scheduledNs: bigint | null): void {
    const conn = device.conn;
    if (conn === null) return;
    const { group } = device;
    const qos = qosOf(device);
    const seq = device.seq++ >>> 0;
    const header = group.payload.header(scheduledNs === null ? HEADER_BYTES : SCHEDULED_AT + 8);
    header.writeUInt32BE(seq, 0);
    header.writeUInt32BE(device.ordinal, 4);
    const sentNs = process.hrtime.bigint();
    header.writeBigUInt64BE(sentNs, 8);
    if (scheduledNs !== null) header.writeBigUInt64BE(scheduledNs, SCHEDULED_AT);
    const templated = group.payload.templated || group.seqTopic !== null;
    const values = templated ? { ...valuesOf(device), seq, ts: Date.now() } : null;
    const payload = group.payload.finish(header, () => jsonValues(values ?? {}));
    const topic = group.seqTopic?.render(values ?? {}) ?? device.publishTopic;
    this.count('published', qos);
    // A publish under another device's topic never comes back: it is no round trip.
    const roundTrip = device.echo;
    if (roundTrip) {
      device.ledger.sent(seq);
      this.outstanding++;
    }
    if (qos > 0) {
      device.unacked++;
      this.unacked++;
    }
    const gen = device.gen;
    const done = (err?: Error) => {
      // A callback of a connection that has since ended was written off already.
      if (device.gen !== gen) return;
      if (qos > 0) {
        device.unacked--;
        this.unacked--;
      }
      if (err) {
        this.recorder.count('messages.failed');
        this.countRefusal(device, err);
        if (roundTrip && device.ledger.failed(seq)) this.outstanding--;
        return;
      }
      if (roundTrip) device.ledger.completed(seq);
      // The broker took a publish under another device's topic: with MQTT 5 a finding.
      else if (qos > 0) this.recorder.count(`${device.group.prefix}messages.foreign.acked`);
      if (qos === 0) return;
      this.recorder.count('messages.acked');
      const us = Number(process.hrtime.bigint() - sentNs) / 1000;
      this.recorder.record(qos === 1 ? 'puback' : 'pubcomp', us);
    };
    conn.publish(topic, payload, qos, done, group.extras);
  }

  /** A PUBACK/PUBCOMP reason code of 0x80 or more (MQTT 5), e.g. 135 (0x87) Not authorized. */
  private countRefusal(device: Device, err: Error & { code?: unknown }): void {
    if (typeof err.code !== 'number' || err.code < 0x80) return;
    this.recorder.count(`messages.refused.${err.code}`);
    this.recorder.count(`${device.group.prefix}messages.refused.${err.code}`);
  }

  private received(device: Device, payload: Buffer, retained: boolean): void {
    const now = process.hrtime.bigint();
    const qos = qosOf(device);
    // A retained message comes again with every new subscription: it is no new arrival.
    if (retained) {
      this.recorder.count('messages.retained');
      return;
    }
    this.count('received', qos);
    const h = headerOf(payload);
    if (h.length < HEADER_BYTES || h.readUInt32BE(4) !== device.ordinal) {
      this.count('unmatched', qos);
      return;
    }
    const latencyUs = Number(now - h.readBigUInt64BE(8)) / 1000;
    this.recorder.record('roundtrip', latencyUs);
    if (this.open !== null && h.length >= SCHEDULED_AT + 8) {
      const fromScheduleUs = Number(now - h.readBigUInt64BE(SCHEDULED_AT)) / 1000;
      this.recorder.record('roundtripCorrected', fromScheduleUs);
    }
    const arrival = device.ledger.received(h.readUInt32BE(0), latencyUs / 1000);
    if (arrival.first) this.outstanding--;
    if (arrival.duplicate) this.count('duplicated', qos);
    if (arrival.unknown) this.count('unmatched', qos);
    if (arrival.outOfOrder) this.count('outOfOrder', qos);
    if (arrival.late) this.count('late', qos);
  }

  /**
   * A device's connection ended: its unacknowledged publishes failed, and the messages the
   * broker completed but could not deliver any more are interrupted.
   */
  writeOff(device: Device): void {
    const behaviour = device.group.plan.behaviour;
    if (behaviour === 'commands' || behaviour === 'controller') {
      this.commands?.writeOff(device);
      return;
    }
    device.gen++;
    this.unacked -= device.unacked;
    if (device.unacked > 0) this.recorder.count('messages.failed', device.unacked);
    device.unacked = 0;
    this.outstanding -= device.ledger.pendingCount;
    const interrupted = device.ledger.interrupt();
    if (interrupted > 0) this.count('interrupted', qosOf(device), interrupted);
  }

  /**
   * The run has drained: what every online device still waits for is lost, or interrupted
   * when the run was stopped early (its drain was cut short).
   */
  closeLedgers(devices: readonly Device[], stoppedEarly: boolean): void {
    for (const d of devices) {
      if (d.conn === null) continue;
      this.outstanding -= d.ledger.pendingCount;
      const missing = d.ledger.close();
      if (missing > 0) this.count(stoppedEarly ? 'interrupted' : 'lost', qosOf(d), missing);
    }
    this.commands?.close(stoppedEarly);
  }
}

/** The QoS of a device's publishes and subscriptions: its group's. */
function qosOf(device: Device): 0 | 1 | 2 {
  return device.group.plan.traffic?.qos ?? 0;
}
