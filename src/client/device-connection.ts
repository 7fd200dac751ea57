/**
 * One device's MQTT connection over TLS or secure WebSockets (or their plain counterparts, for
 * comparison). It opens the socket itself, so the TCP, TLS, WebSocket upgrade and CONNACK
 * instants are observed directly rather than inferred, and speaks MQTT through the lean client
 * on MQTT.js's packet layer (lean-mqtt.ts).
 */

import type tls from 'node:tls';
import { usesTls, usesWebSocket, type TargetScheme } from '../scenario/transport.js';
import type { FailureCategory } from '../worker/protocol.js';
import type { IPublishPacket } from 'mqtt-packet';
import { LeanMqttClient, type LeanPublishOptions, type LeanWill } from './lean-mqtt.js';
import { localPorts } from './local-ports.js';
import { httpAnswerMessage, openSocket, type SocketOptions } from './open-socket.js';
import { describeHandshake, type TlsHandshake } from './tls-handshake.js';
import { openTransport, type WebSocketOptions } from './transport-socket.js';

/** Everything needed to connect one device. */
export interface DeviceConnectOptions extends SocketOptions {
  /** Path and subprotocol of the upgrade; required for `wss` and `ws`. */
  webSocket?: WebSocketOptions;
  clientId: string;
  username: string;
  mqttVersion: 4 | 5;
  keepaliveSec: number;
  clean: boolean;
  /** Socket start to CONNACK, ms. */
  connectTimeoutMs: number;
  /** MQTT 5: session expiry interval sent on CONNECT, s. Default: none (the broker's 0). */
  sessionExpirySec?: number;
  /** The device's last will, published by the broker when the connection ends abruptly. */
  will?: LeanWill;
  /** MQTT 5: user properties sent on CONNECT. */
  userProperties?: Record<string, string>;
}

/** Per-publish flags beyond the QoS: retain and MQTT 5 user properties. */
export type PublishExtras = Omit<LeanPublishOptions, 'qos'>;

/** The instants of one successful connect, in µs since the socket was started. */
export interface ConnectTimings {
  tcpUs: number;
  /** 0 without TLS. */
  tlsUs: number;
  /** TLS (or TCP) done → WebSocket upgrade answered; 0 without WebSockets. */
  webSocketUs: number;
  /** CONNECT sent (once the transport is up) → CONNACK. */
  connackUs: number;
  totalUs: number;
}

/** Why a connect failed, in the report's categories. */
export class ConnectFailure extends Error {
  /** The chosen local port was held by another socket (the connect is then made again). */
  portTaken = false;

  constructor(
    readonly category: FailureCategory,
    message: string,
    /** CONNACK return or reason code, for `refused`. */
    readonly connackCode?: number,
  ) {
    super(message);
  }
}

/**
 * Why a connect was refused, as a counter key: the TLS alert the broker sent
 * (`certificate-expired`, `unknown-ca`, `certificate-revoked`, `bad-certificate`, ...),
 * `connack-<code>` for a refusing CONNACK, or else the failure's category.
 */
export function refusalReason(f: ConnectFailure): string {
  if (f.category === 'refused') return `connack-${f.connackCode ?? 'unknown'}`;
  const alert =
    /ALERT_([A-Z_]+)/.exec(f.message)?.[1]?.toLowerCase() ??
    /\balert ([a-z0-9 ]+?)(?: \(|$)/.exec(f.message)?.[1];
  return alert === undefined ? f.category : alert.replaceAll(/[_ ]/g, '-');
}

/** A connected device. */
export interface DeviceConnection {
  readonly timings: ConnectTimings;
  /** What the TLS handshake negotiated and whether it resumed a session; null for plain TCP. */
  readonly handshake: TlsHandshake | null;
  /** Publishes; `done` is called on PUBACK/PUBCOMP (QoS 1/2) or once written (QoS 0). */
  publish(
    topic: string,
    payload: Buffer,
    qos: 0 | 1 | 2,
    done: (err?: Error) => void,
    extras?: PublishExtras,
  ): void;
  /** Subscribes; `done` gets the granted QoS or an error. */
  subscribe(topic: string, qos: 0 | 1 | 2, done: (err: Error | null, qos?: number) => void): void;
  /**
   * Called for every message the device receives; `retained` is set for a message the broker
   * kept and sends because of a new subscription.
   */
  onMessage(handler: (topic: string, payload: Buffer, retained: boolean) => void): void;
  /** Called once when the connection ends without `end` having been called. */
  onLost(handler: (reason: string) => void): void;
  /** Sends DISCONNECT and closes; resolves when closed (or after `timeoutMs`). */
  end(timeoutMs?: number): Promise<void>;
  /**
   * Closes the socket at once, without DISCONNECT, as a network outage would (the broker
   * then publishes the device's will). `onLost` is not called for it.
   */
  drop(): void;
}

const TCP_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EADDRINUSE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const CLOSED_AFTER_HANDSHAKE =
  'closed after the TLS handshake, before CONNACK: the broker most likely refused the ' +
  'client certificate';

/** An OpenSSL error line inside a socket error's message; group 1 is its reason. */
const OPENSSL_ERROR = /[0-9A-F]{8,}:error:[0-9A-F]{8}:[^:]*:[^:]*:([^:]+)/;

/**
 * A socket error as one stable line: OpenSSL's messages carry a per-thread address and a
 * source location that would split one failure kind into many samples.
 */
export function describeSocketError(err: Error & { code?: unknown; reason?: unknown }): string {
  const code = typeof err.code === 'string' ? err.code : undefined;
  if (typeof err.reason === 'string' && err.reason !== '') {
    return code ? `${err.reason} (${code})` : err.reason;
  }
  const first = (err.message.split('\n')[0] ?? err.message).replace(/^[0-9A-F]{8,}:error:/, '');
  // `write EPROTO C0B6...:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake
  // failure:../deps/...:1601:SSL alert number 40`: the reason is the part worth keeping.
  const openssl = OPENSSL_ERROR.exec(first)?.[1];
  if (openssl !== undefined) return code ? `${openssl} (${code})` : openssl;
  return code && !first.includes(code) ? `${first} (${code})` : first;
}

/** How far a connect had come: the transport's steps, then MQTT. */
export type ConnectStage = 'tcp' | 'tls' | 'websocket' | 'mqtt';

/** Puts a socket error into a failure category, given how far the connect had come. */
export function classifySocketError(
  err: NodeJS.ErrnoException,
  stage: ConnectStage,
): FailureCategory {
  const code = err.code ?? '';
  if (TCP_CODES.has(code)) return 'tcp';
  if (/^ERR_(SSL|TLS)_|CERT|SELF_SIGNED|UNABLE_TO_/.test(code)) return 'tls';
  if (stage === 'mqtt') return 'closed';
  return stage;
}

/** The instants of a connect as they happen, `process.hrtime.bigint()` ns (0n: not yet). */
class ConnectClock {
  readonly t0 = process.hrtime.bigint();
  tcp = 0n;
  tls = 0n;
  webSocket = 0n;

  constructor(private readonly protocol: TargetScheme) {}

  /** How far the connect has come. */
  stage(): ConnectStage {
    if (this.tcp === 0n) return 'tcp';
    if (usesTls(this.protocol) && this.tls === 0n) return 'tls';
    if (usesWebSocket(this.protocol) && this.webSocket === 0n) return 'websocket';
    return 'mqtt';
  }

  /** The phase timings, CONNACK received now. */
  timings(): ConnectTimings {
    const now = process.hrtime.bigint();
    const us = (a: bigint, b: bigint) => (a === 0n ? 0 : Number(b - a) / 1000);
    const tls = usesTls(this.protocol);
    const transportUp = tls ? this.tls : this.tcp;
    const ws = usesWebSocket(this.protocol);
    return {
      tcpUs: us(this.t0, this.tcp),
      tlsUs: tls ? us(this.tcp, this.tls) : 0,
      webSocketUs: ws ? us(transportUp, this.webSocket) : 0,
      connackUs: us(ws ? this.webSocket : transportUp, now),
      totalUs: us(this.t0, now),
    };
  }
}

/**
 * Connects one device and resolves after its CONNACK, with the phase timings.
 * @throws ConnectFailure with the category (tcp, tls, websocket, refused, timeout, closed)
 */
export async function connectDevice(o: DeviceConnectOptions): Promise<DeviceConnection> {
  const address = o.localAddress;
  const ports = address === undefined || o.localPort !== undefined ? null : localPorts();
  const port = address === undefined ? undefined : ports?.take(address);
  if (ports === null || address === undefined || port === undefined) return connectOnce(o);
  const free = () => ports.release(address, port);
  try {
    return await connectOnce({ ...o, localPort: port }, free);
  } catch (err) {
    // Another socket holds the port (another process on the address, or a closed connection
    // of ours still in TIME_WAIT): the kernel picks one instead.
    if (err instanceof ConnectFailure && err.portTaken) return connectOnce(o);
    throw err;
  }
}

/** One connect attempt; `onClose` is called once the socket has closed, whatever happened. */
function connectOnce(o: DeviceConnectOptions, onClose?: () => void): Promise<DeviceConnection> {
  return new Promise((resolve, reject) => {
    const clock = new ConnectClock(o.protocol);
    let settled = false;
    const link = openTransport(o, () => openSocket(o));
    const { socket, stream } = link;
    if (onClose !== undefined) socket.once('close', onClose);
    socket.once('connect', () => (clock.tcp = process.hrtime.bigint()));
    let handshake: TlsHandshake | null = null;
    socket.once('secureConnect', () => {
      clock.tls = process.hrtime.bigint();
      handshake = describeHandshake(socket as tls.TLSSocket);
    });
    link.webSocket?.once('open', () => (clock.webSocket = process.hrtime.bigint()));
    if (link.webSocket === null) {
      stream.prependOnceListener('data', (chunk: Buffer) => {
        const http = httpAnswerMessage(chunk);
        if (http !== null) fail(new ConnectFailure('other', http));
      });
    }

    const client = new LeanMqttClient(stream, {
      clientId: o.clientId,
      username: o.username,
      protocolVersion: o.mqttVersion,
      keepalive: o.keepaliveSec,
      clean: o.clean,
      ...(o.sessionExpirySec === undefined ? {} : { sessionExpirySec: o.sessionExpirySec }),
      ...(o.will === undefined ? {} : { will: o.will }),
      ...(o.userProperties === undefined ? {} : { userProperties: o.userProperties }),
    });

    const fail = (f: ConnectFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end(true);
      stream.destroy();
      reject(f);
    };
    const timer = setTimeout(() => {
      fail(new ConnectFailure('timeout', `no CONNACK within ${o.connectTimeoutMs} ms`));
    }, o.connectTimeoutMs);

    client.on('error', (err: Error & { code?: string | number }) => {
      if (typeof err.code === 'number') {
        fail(new ConnectFailure('refused', err.message, err.code));
        return;
      }
      const stage = clock.stage();
      // A wss broker that refuses the certificate closes before answering the upgrade.
      if (stage === 'websocket' && clock.tls !== 0n && err.code === 'ECONNRESET') {
        fail(new ConnectFailure('tls', CLOSED_AFTER_HANDSHAKE));
        return;
      }
      const category = classifySocketError(err as NodeJS.ErrnoException, stage);
      const failure = new ConnectFailure(category, describeSocketError(err));
      failure.portTaken =
        o.localPort !== undefined && (err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL');
      fail(failure);
    });
    client.once('close', () => {
      // With TLS 1.3 the client's handshake ends before the broker has checked the client
      // certificate; a broker that refuses it may just close (Node's TLS server does).
      if (clock.tls !== 0n) {
        fail(new ConnectFailure('tls', CLOSED_AFTER_HANDSHAKE));
      } else if (clock.stage() === 'websocket') {
        fail(new ConnectFailure('websocket', 'closed before the WebSocket upgrade was answered'));
      } else {
        fail(new ConnectFailure('closed', 'closed before CONNACK'));
      }
    });
    client.once('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('error');
      client.removeAllListeners('close');
      resolve(new ConnectedDevice(client, clock.timings(), handshake));
    });
  });
}

/**
 * A connected device. A class rather than an object of closures: with thousands of held
 * connections per worker, methods on the prototype save about 0.6 KB per connection.
 */
class ConnectedDevice implements DeviceConnection {
  private ending = false;

  constructor(
    private readonly client: LeanMqttClient,
    readonly timings: ConnectTimings,
    readonly handshake: TlsHandshake | null,
  ) {
    // Errors after CONNACK end in 'close'; the listener keeps them from being thrown.
    client.on('error', ignore);
  }

  publish(
    topic: string,
    payload: Buffer,
    qos: 0 | 1 | 2,
    done: (err?: Error) => void,
    extras?: PublishExtras,
  ): void {
    this.client.publish(topic, payload, extras === undefined ? { qos } : { ...extras, qos }, done);
  }

  subscribe(topic: string, qos: 0 | 1 | 2, done: (err: Error | null, qos?: number) => void) {
    this.client.subscribe(topic, { qos }, (err, granted) => {
      if (err) return done(err);
      const g = granted?.[0]?.qos;
      if (g === undefined || g >= 0x80) return done(new Error(`SUBACK refused (${g})`));
      done(null, g);
    });
  }

  onMessage(handler: (topic: string, payload: Buffer, retained: boolean) => void): void {
    this.client.on('message', (topic: string, payload: Buffer, p: IPublishPacket) =>
      handler(topic, payload, p.retain),
    );
  }

  onLost(handler: (reason: string) => void): void {
    this.client.once('close', () => {
      if (!this.ending) handler('connection closed');
    });
  }

  drop(): void {
    this.ending = true;
    this.client.end(true);
  }

  end(timeoutMs = 2000): Promise<void> {
    return new Promise<void>((resolve) => {
      this.ending = true;
      const timer = setTimeout(() => {
        this.client.end(true);
        resolve();
      }, timeoutMs);
      this.client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function ignore(): void {}
