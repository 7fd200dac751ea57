/**
 * One connect to the target before the fleet starts, as far as its transport goes (TCP, the
 * TLS handshake with a group's own identity, the WebSocket upgrade), so that a broker that is
 * down, a wrong port or host, a port of another transport (a TLS port given as mqtt://, a
 * WebSocket listener given as mqtts://) or a broker certificate the CA does not vouch for is
 * one clear error instead of a report of thousands of identical failures. It sends no CONNECT.
 */

import net from 'node:net';
import tls from 'node:tls';
import { usesTls, usesWebSocket } from '../scenario/transport.js';
import type { GroupConnectOptions } from './connect-options.js';
import { describeSocketError } from './device-connection.js';
import { httpAnswerMessage, openSocket } from './open-socket.js';
import { openTransport } from './transport-socket.js';

/** How far the probe got and why it stopped. */
export type ProbeOutcome =
  | { ok: true }
  | {
      ok: false;
      /**
       * `dns`: the name did not resolve; `tcp`: no connection; `tls`: the handshake failed;
       * `websocket`: the upgrade failed; `transport`: the port speaks another transport.
       */
      stage: 'dns' | 'tcp' | 'tls' | 'websocket' | 'transport';
      /**
       * The socket error code (`ECONNREFUSED`, `ERR_SSL_WRONG_VERSION_NUMBER`, ...), `TIMEOUT`,
       * `HTTP_<status>` for a refused upgrade, `SPEAKS_TLS` or `SPEAKS_HTTP` for a port of
       * another transport.
       */
      code: string;
      /** One line, without addresses or source locations. */
      message: string;
    };

/** Options of {@link probeTarget}. */
export interface ProbeOptions {
  /** The whole probe's budget, ms. */
  timeoutMs: number;
  /** Only connect TCP (when every group is expected to be refused). Default false. */
  tcpOnly?: boolean;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);

/** How long a sniff for another transport waits for an answer, ms. */
const SNIFF_MS = 1000;

/** Connects to the target as far as its transport goes; then checks its port's language. */
export async function probeTarget(o: GroupConnectOptions, p: ProbeOptions): Promise<ProbeOutcome> {
  const reached = await reach(o, p);
  if (!reached.ok || p.tcpOnly === true) return reached;
  if (!usesTls(o.protocol) && (await speaksTls(o))) {
    return {
      ok: false,
      stage: 'transport',
      code: 'SPEAKS_TLS',
      message: 'the port answered a TLS handshake',
    };
  }
  return reached;
}

function reach(o: GroupConnectOptions, p: ProbeOptions): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let connected = false;
    let secured = false;
    const link = p.tcpOnly
      ? openTransport({ ...o, protocol: 'mqtt' }, () => openSocket({ ...o, protocol: 'mqtt' }))
      : openTransport(o, () => openSocket(o));
    const { socket } = link;
    const finish = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      link.webSocket?.removeAllListeners();
      socket.on('error', () => undefined);
      link.webSocket?.on('error', () => undefined);
      socket.destroy();
      resolve(outcome);
    };
    const fail = (code: string, message: string) => {
      const stage = DNS_CODES.has(code)
        ? 'dns'
        : !connected
          ? 'tcp'
          : usesTls(o.protocol) && !secured
            ? 'tls'
            : 'websocket';
      finish({ ok: false, stage, code, message });
    };
    const timer = setTimeout(() => {
      const what = !connected ? 'TCP connection' : !secured ? 'TLS handshake' : 'WebSocket upgrade';
      fail('TIMEOUT', `no ${what} within ${p.timeoutMs} ms`);
    }, p.timeoutMs);

    const transportUp = () => {
      if (p.tcpOnly || usesWebSocket(o.protocol)) return;
      if (!usesTls(o.protocol)) finish({ ok: true });
      else sniffHttp(socket, finish);
    };
    socket.once('connect', () => {
      connected = true;
      if (p.tcpOnly) finish({ ok: true });
      else if (!usesTls(o.protocol)) transportUp();
    });
    socket.once('secureConnect', () => {
      secured = true;
      transportUp();
    });
    const ws = link.webSocket;
    ws?.once('open', () => finish({ ok: true }));
    ws?.once('unexpected-response', (_req, res) => {
      fail(`HTTP_${res.statusCode ?? 0}`, `the upgrade was answered ${res.statusCode ?? 0}`);
    });
    (ws ?? socket).once('error', (err: NodeJS.ErrnoException) => {
      fail(err.code ?? 'ERROR', describeSocketError(err));
    });
    socket.once('close', () => fail('ECONNRESET', 'the connection was closed'));
  });
}

/**
 * After an mqtts:// handshake: a PINGREQ before CONNECT makes an MQTT broker close, while a
 * WebSocket listener answers it with an HTTP error page.
 */
function sniffHttp(socket: net.Socket, done: (o: ProbeOutcome) => void): void {
  const timer = setTimeout(() => done({ ok: true }), SNIFF_MS);
  // The TLS handshake is done: whatever the broker does now (close, an alert for a refused
  // certificate, which TLS 1.3 sends after the client's handshake) is not a wrong transport.
  const ok = () => {
    clearTimeout(timer);
    done({ ok: true });
  };
  socket.removeAllListeners('close').removeAllListeners('error');
  socket.once('close', ok).once('error', ok);
  socket.once('data', (chunk: Buffer) => {
    clearTimeout(timer);
    const http = httpAnswerMessage(chunk);
    done(
      http === null
        ? { ok: true }
        : { ok: false, stage: 'transport', code: 'SPEAKS_HTTP', message: http },
    );
  });
  socket.write(Buffer.from([0xc0, 0x00]));
}

/**
 * For a plain target: whether the port answers a TLS handshake (a ServerHello, or an alert,
 * which is TLS too). A plain MQTT port closes on the ClientHello instead.
 */
function speaksTls(o: GroupConnectOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: o.host,
      port: o.port,
      localAddress: o.localAddress,
      rejectUnauthorized: false,
      servername: net.isIP(o.servername) ? undefined : o.servername,
    } as tls.ConnectionOptions);
    const done = (yes: boolean) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(yes);
    };
    const timer = setTimeout(() => done(false), SNIFF_MS);
    socket.once('secureConnect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => done(/ALERT/.test(err.code ?? '')));
    socket.once('close', () => done(false));
  });
}
