/**
 * One TCP connect and TLS handshake to the target before the fleet starts, with a group's
 * own identity, so that a broker that is down, a wrong port or host, a plain-TCP port given
 * as TLS or a broker certificate the CA does not vouch for is one clear error instead of a
 * report of thousands of identical failures. It sends no MQTT.
 */

import type { GroupConnectOptions } from './connect-options.js';
import { describeSocketError, openSocket } from './device-connection.js';

/** How far the probe got and why it stopped. */
export type ProbeOutcome =
  | { ok: true }
  | {
      ok: false;
      /** `dns`: the name did not resolve; `tcp`: no connection; `tls`: the handshake failed. */
      stage: 'dns' | 'tcp' | 'tls';
      /** The socket error code (`ECONNREFUSED`, `ERR_SSL_WRONG_VERSION_NUMBER`, ...) or `TIMEOUT`. */
      code: string;
      /** One line, without addresses or source locations. */
      message: string;
    };

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);

/**
 * Connects to the target and, for `mqtts`, completes the TLS handshake; then closes.
 *
 * @param timeoutMs the whole probe's budget, ms
 */
export function probeTarget(o: GroupConnectOptions, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let connected = false;
    const socket = openSocket(o);
    const finish = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(outcome);
    };
    const fail = (code: string, message: string) => {
      const stage = DNS_CODES.has(code) ? 'dns' : connected ? 'tls' : 'tcp';
      finish({ ok: false, stage, code, message });
    };
    const timer = setTimeout(() => {
      const what = connected ? 'no TLS handshake' : 'no TCP connection';
      fail('TIMEOUT', `${what} within ${timeoutMs} ms`);
    }, timeoutMs);

    socket.once('connect', () => {
      connected = true;
      if (o.protocol === 'mqtt') finish({ ok: true });
    });
    socket.once('secureConnect', () => finish({ ok: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      fail(err.code ?? 'ERROR', describeSocketError(err));
    });
    socket.once('close', () => fail('ECONNRESET', 'the connection was closed'));
  });
}
