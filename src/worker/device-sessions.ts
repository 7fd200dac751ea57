/**
 * Per-device TLS session resumption, and the record of every handshake (full or resumed, what
 * was negotiated). Each device keeps only the sessions the broker issued to it: a session
 * carries the certificate the device authenticated with, so a device resuming another's
 * session would reach the broker as that other device.
 */

import type { DeviceConnectOptions } from '../client/device-connection.js';
import type { TlsHandshake } from '../client/tls-handshake.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { Plan } from '../scenario/plan.js';
import { usesTls } from '../scenario/transport.js';

type SessionOptions = Pick<DeviceConnectOptions, 'session' | 'onSession'>;

const NONE: SessionOptions = {};

/** The latest TLS session of each device of a slice, by fleet ordinal. */
export class DeviceSessions {
  /** ~1-2 KB per device (the serialised session holds the broker's certificate). */
  private readonly sessions = new Map<number, Buffer>();
  private readonly enabled: boolean;

  /**
   * Sessions are kept only when the plan resumes them (`tls.sessionResumption`, on by default)
   * over TLS and a device can come back: a reconnect policy, or a storm phase.
   */
  constructor(plan: Plan) {
    const canReconnect = plan.reconnect !== null || plan.phases.some((p) => p.type === 'storm');
    this.enabled = usesTls(plan.target.protocol) && plan.tls.sessionResumption && canReconnect;
  }

  /**
   * The session options of a device's next connect: its own session, and where to keep new
   * ones.
   */
  optionsFor(ordinal: number): SessionOptions {
    if (!this.enabled) return NONE;
    const session = this.sessions.get(ordinal);
    const onSession = (s: Buffer) => void this.sessions.set(ordinal, s);
    return session === undefined ? { onSession } : { session, onSession };
  }
}

/**
 * Counts a handshake as full or resumed, with its protocol, cipher and group
 * (`tls.full`, `tls.resumed`, `tls.protocol.TLSv1_3`, `tls.cipher.<name>`, `tls.group.<name>`),
 * and records its duration in `tlsFull` or `tlsResumed`.
 *
 * @param tlsUs TCP connected to handshake done, µs.
 */
export function recordHandshake(r: MetricsRecorder, h: TlsHandshake, tlsUs: number): void {
  for (const key of h.counters) r.count(key);
  r.record(h.resumed ? 'tlsResumed' : 'tlsFull', tlsUs);
}
