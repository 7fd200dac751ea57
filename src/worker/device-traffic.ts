/**
 * The traffic of a worker's devices: each subscribes to its own topic, publishes on the
 * worker's timer wheel and gets its messages back. Every message goes through the device's
 * stream ledger, so the report counts what was lost, duplicated, out of order or late, in
 * total and per QoS (`messages.<kind>` and `messages.qos<q>.<kind>`).
 */

import type { DeviceConnection } from '../client/device-connection.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { Scenario } from '../scenario/schema.js';
import type { FailureLog } from './failures.js';
import type { PublishWheel } from './publish-wheel.js';
import { HEADER_BYTES, type Device } from './slice-device.js';

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

  constructor(
    private readonly traffic: Traffic,
    private readonly wheel: PublishWheel<Device>,
    private readonly recorder: MetricsRecorder,
    private readonly failures: FailureLog,
    private readonly nowMs: () => number,
  ) {}

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
    if (granted && device.conn === conn) this.wheel.add(device, this.nowMs());
  }

  /** One publish of a device on the wheel. */
  publish(device: Device): void {
    const { traffic } = this;
    const conn = device.conn;
    if (conn === null) return;
    const seq = device.seq++ >>> 0;
    const payload = Buffer.alloc(traffic.payloadBytes);
    payload.writeUInt32BE(seq, 0);
    payload.writeUInt32BE(device.ordinal, 4);
    const sentNs = process.hrtime.bigint();
    payload.writeBigUInt64BE(sentNs, 8);
    this.count('published');
    device.ledger.sent(seq);
    this.outstanding++;
    if (traffic.qos > 0) {
      device.unacked++;
      this.unacked++;
    }
    const gen = device.gen;
    conn.publish(device.topic, payload, traffic.qos, (err) => {
      // A callback of a connection that has since ended was written off already.
      if (device.gen !== gen) return;
      if (traffic.qos > 0) {
        device.unacked--;
        this.unacked--;
      }
      if (err) {
        this.recorder.count('messages.failed');
        if (device.ledger.failed(seq)) this.outstanding--;
        return;
      }
      device.ledger.completed(seq);
      if (traffic.qos === 0) return;
      this.recorder.count('messages.acked');
      const us = Number(process.hrtime.bigint() - sentNs) / 1000;
      this.recorder.record(traffic.qos === 1 ? 'puback' : 'pubcomp', us);
    });
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
