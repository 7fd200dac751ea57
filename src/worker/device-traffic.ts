/**
 * The traffic of a worker's devices: each subscribes to its own topic and gets its messages
 * back; it publishes on the worker's timer wheel (closed model) or takes its turn at the
 * fleet's arrival rate (open model). Every message goes through the device's
 * stream ledger, so the report counts what was lost, duplicated, out of order or late, in
 * total and per QoS (`messages.<kind>` and `messages.qos<q>.<kind>`).
 */

import type { DeviceConnection } from '../client/device-connection.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { Scenario } from '../scenario/schema.js';
import type { FailureLog } from './failures.js';
import { OpenSchedule } from './open-schedule.js';
import { PublishWheel } from './publish-wheel.js';
import { HEADER_BYTES, type Device } from './slice-device.js';

/** Open model: the payload also carries the scheduled instant, ns, at this offset. */
const SCHEDULED_AT = HEADER_BYTES;
/** Open model: a send this far behind its scheduled instant counts as late, ms (two ticks). */
const SEND_LATE_MS = 10;

type Traffic = Exclude<Scenario['traffic'], false>;

/** Accounting counters kept in total and per QoS. */
type Kind =
  | 'published'
  | 'received'
  | 'lost'
  | 'duplicated'
  | 'outOfOrder'
  | 'late'
  | 'interrupted'
  | 'unmatched';

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

  /**
   * @param startNs the run's common start instant (the clock of `nowMs`), ns
   */
  constructor(
    private readonly traffic: Traffic,
    worker: { lane: number; lanes: number; startNs: bigint },
    private readonly recorder: MetricsRecorder,
    private readonly failures: FailureLog,
    private readonly nowMs: () => number,
  ) {
    this.startNs = worker.startNs;
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

  /** Publishing goes on (a phase with traffic begins): no turn missed while quiet is owed. */
  resume(nowMs: number): void {
    if (!this.paused) return;
    this.paused = false;
    this.wheel?.resume(nowMs);
    this.open?.resume(nowMs);
  }

  /** Publishing stops (a phase without traffic). */
  pause(): void {
    this.paused = true;
    this.open?.pause();
  }

  /** Sends what is due by `nowMs`. */
  advance(nowMs: number): void {
    if (this.paused) return;
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

  private count(kind: Kind, n = 1): void {
    this.recorder.count(`messages.${kind}`, n);
    this.recorder.count(`messages.qos${this.traffic.qos}.${kind}`, n);
  }

  /** Subscribes a freshly connected device; it joins the wheel once the SUBACK is in. */
  async start(device: Device, conn: DeviceConnection): Promise<void> {
    const { traffic } = this;
    conn.onMessage((_topic, payload) => this.received(device, payload));
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
    if (granted && device.conn === conn) this.join(device);
  }

  /**
   * One publish of a device.
   * @param scheduledNs open model: the instant it was due (carried in the payload), or null
   */
  private publish(device: Device, scheduledNs: bigint | null): void {
    const { traffic } = this;
    const conn = device.conn;
    if (conn === null) return;
    const seq = device.seq++ >>> 0;
    const payload = Buffer.alloc(traffic.payloadBytes);
    payload.writeUInt32BE(seq, 0);
    payload.writeUInt32BE(device.ordinal, 4);
    const sentNs = process.hrtime.bigint();
    payload.writeBigUInt64BE(sentNs, 8);
    if (scheduledNs !== null) payload.writeBigUInt64BE(scheduledNs, SCHEDULED_AT);
    this.count('published');
    // A publish under another device's topic never comes back: it is no round trip.
    const roundTrip = device.publishTopic === device.topic;
    if (roundTrip) {
      device.ledger.sent(seq);
      this.outstanding++;
    }
    if (traffic.qos > 0) {
      device.unacked++;
      this.unacked++;
    }
    const gen = device.gen;
    conn.publish(device.publishTopic, payload, traffic.qos, (err) => {
      // A callback of a connection that has since ended was written off already.
      if (device.gen !== gen) return;
      if (traffic.qos > 0) {
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
      else if (traffic.qos > 0) this.recorder.count(`${device.group.prefix}messages.foreign.acked`);
      if (traffic.qos === 0) return;
      this.recorder.count('messages.acked');
      const us = Number(process.hrtime.bigint() - sentNs) / 1000;
      this.recorder.record(traffic.qos === 1 ? 'puback' : 'pubcomp', us);
    });
  }

  /** A PUBACK/PUBCOMP reason code of 0x80 or more (MQTT 5), e.g. 135 (0x87) Not authorized. */
  private countRefusal(device: Device, err: Error & { code?: unknown }): void {
    if (typeof err.code !== 'number' || err.code < 0x80) return;
    this.recorder.count(`messages.refused.${err.code}`);
    this.recorder.count(`${device.group.prefix}messages.refused.${err.code}`);
  }

  private received(device: Device, payload: Buffer): void {
    const now = process.hrtime.bigint();
    this.recorder.count('messages.received');
    this.recorder.count(`messages.qos${this.traffic.qos}.received`);
    if (payload.length < HEADER_BYTES || payload.readUInt32BE(4) !== device.ordinal) {
      this.count('unmatched');
      return;
    }
    const latencyUs = Number(now - payload.readBigUInt64BE(8)) / 1000;
    this.recorder.record('roundtrip', latencyUs);
    if (this.open !== null && payload.length >= SCHEDULED_AT + 8) {
      const fromScheduleUs = Number(now - payload.readBigUInt64BE(SCHEDULED_AT)) / 1000;
      this.recorder.record('roundtripCorrected', fromScheduleUs);
    }
    const arrival = device.ledger.received(payload.readUInt32BE(0), latencyUs / 1000);
    if (arrival.first) this.outstanding--;
    if (arrival.duplicate) this.count('duplicated');
    if (arrival.unknown) this.count('unmatched');
    if (arrival.outOfOrder) this.count('outOfOrder');
    if (arrival.late) this.count('late');
  }

  /**
   * A device's connection ended: its unacknowledged publishes failed, and the messages the
   * broker completed but could not deliver any more are interrupted.
   */
  writeOff(device: Device): void {
    device.gen++;
    this.unacked -= device.unacked;
    if (device.unacked > 0) this.recorder.count('messages.failed', device.unacked);
    device.unacked = 0;
    this.outstanding -= device.ledger.pendingCount;
    const interrupted = device.ledger.interrupt();
    if (interrupted > 0) this.count('interrupted', interrupted);
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
      if (missing > 0) this.count(stoppedEarly ? 'interrupted' : 'lost', missing);
    }
  }
}
