/**
 * Wildcard monitors: backend clients subscribed to filters over many devices' traffic, which
 * measure the fan-in: every message they receive (`fanIn.received`, also per group as
 * `groups.<name>.fanIn.received`) and its latency from the publisher's send (`fanIn`, and
 * `groups.<name>.fanIn` per monitor group). A
 * message on one of the wills' filters is a last will (`wills.received`). Monitors count
 * arrivals; loss and duplicates are accounted on each publisher's own stream.
 */

import type { DeviceConnection } from '../client/device-connection.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import { topicMatches } from '../scenario/template.js';
import type { FailureLog } from './failures.js';
import { headerOf } from './payload.js';
import { HEADER_BYTES, type Device } from './slice-device.js';
import { subscribeCounted } from './subscribe.js';

export class MonitorTraffic {
  constructor(private readonly metrics: { recorder: MetricsRecorder; failures: FailureLog }) {}

  /** A monitor connected: it subscribes to its filters and the wills'. */
  async start(device: Device, conn: DeviceConnection): Promise<void> {
    const monitor = device.group.plan.traffic?.monitor;
    if (monitor === null || monitor === undefined) return;
    const wills = monitor.willFilters;
    conn.onMessage((topic, payload, retained) =>
      this.received(device, wills, topic, payload, retained),
    );
    const filters = [...new Set([...monitor.filters, ...wills])];
    const qos = device.group.plan.traffic?.qos ?? 0;
    await subscribeCounted(conn, filters, qos, device.identity.deviceId, this.metrics);
  }

  private received(
    device: Device,
    wills: readonly string[],
    topic: string,
    payload: Buffer,
    retained: boolean,
  ): void {
    const now = process.hrtime.bigint();
    const { recorder } = this.metrics;
    const prefix = device.group.prefix as `groups.${string}.`;
    if (wills.length > 0 && wills.some((f) => topicMatches(f, topic))) {
      const kind = retained ? 'wills.retained' : 'wills.received';
      recorder.count(kind);
      recorder.count(`${prefix}${kind}`);
      return;
    }
    // A retained message was sent before the monitor subscribed: no fan-in latency.
    const kind = retained ? 'fanIn.retained' : 'fanIn.received';
    recorder.count(kind);
    recorder.count(`${prefix}${kind}`);
    if (retained) return;
    const h = headerOf(payload);
    if (h.length < HEADER_BYTES) return;
    const us = Number(now - h.readBigUInt64BE(8)) / 1000;
    recorder.record('fanIn', us);
    recorder.record(`${prefix}fanIn`, us);
  }
}
