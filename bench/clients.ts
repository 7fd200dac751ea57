/**
 * The clients the bench compares, behind one small interface: the bare node:tls floor with
 * hand-written MQTT packets, plain MQTT.js, and fleetbench's own client path. Every kind gets
 * the same shared secure context, so the figures differ only by the client's own cost.
 *
 * All three speak MQTT through the same mqtt-packet, loaded first through fleetbench's packet
 * layer (its debug calls silenced, as in a run's worker threads), so no client gains or loses
 * by that alone.
 */

import { generate, packetDebugSilenced, parser } from '../src/client/packet-layer.js';
import tls from 'node:tls';
import mqtt from 'mqtt';
import type { Packet } from 'mqtt-packet';
import { connectDevice } from '../src/client/device-connection.js';
import { recordHandshake } from '../src/worker/device-sessions.js';
import type { MetricsRecorder } from '../src/metrics/recorder.js';
import type { BenchTarget, ClientKind } from './protocol.js';

if (!packetDebugSilenced) {
  process.emitWarning('mqtt-packet was loaded before the packet layer: its debug calls cost CPU');
}

/** One connected device, whatever the client. */
export interface BenchClient {
  /** Resolves on SUBACK. */
  subscribe(topic: string, qos: 0 | 1): Promise<void>;
  /** `done` runs on PUBACK (QoS 1) or once handed to the socket (QoS 0). */
  publish(topic: string, payload: Buffer, qos: 0 | 1, done: () => void): void;
  /** Called with the payload of every message received. */
  onMessage(handler: (payload: Buffer) => void): void;
  /** Closes at once, without DISCONNECT: the bench only needs the socket gone. */
  close(): void;
  /** The latest TLS session the broker issued (a TLS 1.3 ticket arrives after CONNACK). */
  tlsSession(): Buffer | undefined;
  /** Whether this connection's handshake resumed a session. */
  resumed(): boolean;
}

/**
 * Opens one device connection to `target` and resolves after its CONNACK; with `session`, the
 * TLS handshake offers that session for resumption.
 */
export type Connector = (
  target: BenchTarget,
  clientId: string,
  session?: Buffer,
) => Promise<BenchClient>;

/** Keeps the latest session a TLS socket was issued. */
function sessionOf(socket: tls.TLSSocket): () => Buffer | undefined {
  let session: Buffer | undefined;
  socket.on('session', (s: Buffer) => (session = s));
  return () => session;
}

/** What every connector is given. */
export interface ConnectorSetup {
  secureContext: tls.SecureContext;
  /** Socket start to CONNACK, ms. */
  timeoutMs: number;
  /** fleetbench only: records the connect phases as a worker does. */
  recorder?: MetricsRecorder;
}

/** The connector of a client kind. */
export function connectorFor(kind: ClientKind, setup: ConnectorSetup): Connector {
  switch (kind) {
    case 'bare-tls':
      return (target, clientId, session) => connectBare(target, clientId, setup, session);
    case 'mqttjs':
      return (target, clientId, session) => connectMqttJs(target, clientId, setup, session);
    case 'fleetbench':
      return (target, clientId, session) => connectFleetbench(target, clientId, setup, session);
  }
}

function connectBare(
  t: BenchTarget,
  clientId: string,
  s: ConnectorSetup,
  session?: Buffer,
): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: t.host,
      port: t.port,
      secureContext: s.secureContext,
      rejectUnauthorized: true,
      ...(session ? { session } : {}),
    });
    const latestSession = sessionOf(socket);
    socket.setNoDelay(true);
    const timer = setTimeout(
      () => fail(new Error(`no CONNACK within ${s.timeoutMs} ms`)),
      s.timeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('secureConnect', () => {
      socket.write(
        generate({ cmd: 'connect', clientId, protocolVersion: 4, clean: true, keepalive: 60 }),
      );
    });
    socket.once('error', fail);
    socket.once('close', () => fail(new Error('closed before CONNACK')));
    // CONNACK is 4 bytes (0x20 0x02 flags code) and arrives alone: nothing else was asked for.
    socket.once('data', (d: Buffer) => {
      if (d.length !== 4 || d[0] !== 0x20 || d[3] !== 0) return fail(new Error('bad CONNACK'));
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      socket.on('error', () => undefined);
      resolve(new BareClient(socket, latestSession));
    });
  });
}

/** A minimal MQTT 3.1.1 client on mqtt-packet: the least a client can do per message. */
class BareClient implements BenchClient {
  private nextId = 0;
  private readonly pending = new Map<number, () => void>();
  private handler: (payload: Buffer) => void = () => undefined;
  private parsing = false;

  constructor(
    private readonly socket: tls.TLSSocket,
    readonly tlsSession: () => Buffer | undefined,
  ) {}

  resumed(): boolean {
    return this.socket.isSessionReused();
  }

  /** The parser is attached on first traffic, so a held connection costs only its socket. */
  private parse(): void {
    if (this.parsing) return;
    this.parsing = true;
    const p = parser();
    p.on('packet', (packet: Packet) => this.packet(packet));
    this.socket.on('data', (d: Buffer) => p.parse(d));
  }

  private packet(packet: Packet): void {
    if (packet.cmd === 'publish') {
      if (packet.qos === 1 && packet.messageId !== undefined) {
        this.socket.write(generate({ cmd: 'puback', messageId: packet.messageId }));
      }
      this.handler(packet.payload as Buffer);
    } else if (packet.cmd === 'puback' || packet.cmd === 'suback') {
      const id = packet.messageId ?? -1;
      const done = this.pending.get(id);
      this.pending.delete(id);
      done?.();
    }
  }

  private id(): number {
    this.nextId = (this.nextId % 0xffff) + 1;
    return this.nextId;
  }

  subscribe(topic: string, qos: 0 | 1): Promise<void> {
    this.parse();
    const messageId = this.id();
    return new Promise((resolve) => {
      this.pending.set(messageId, resolve);
      this.socket.write(generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] }));
    });
  }

  publish(topic: string, payload: Buffer, qos: 0 | 1, done: () => void): void {
    this.parse();
    const messageId = qos === 1 ? this.id() : undefined;
    if (messageId !== undefined) this.pending.set(messageId, done);
    const packet = { cmd: 'publish', topic, payload, qos, retain: false, dup: false, messageId };
    this.socket.write(generate(packet as Packet));
    if (messageId === undefined) done();
  }

  onMessage(handler: (payload: Buffer) => void): void {
    this.parse();
    this.handler = handler;
  }

  close(): void {
    this.socket.destroy();
  }
}

function connectMqttJs(
  t: BenchTarget,
  clientId: string,
  s: ConnectorSetup,
  session?: Buffer,
): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({
      protocol: 'mqtts',
      host: t.host,
      port: t.port,
      clientId,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: s.timeoutMs,
      rejectUnauthorized: true,
      // Passed through to tls.connect, as a user sharing one context across clients would.
      ...({ secureContext: s.secureContext, ...(session ? { session } : {}) } as object),
    });
    const stream = client.stream as tls.TLSSocket;
    const latestSession = sessionOf(stream);
    // MQTT.js leaves Nagle on for TLS; with it every round trip waits ~40 ms for a delayed ACK,
    // which would compare fleetbench with a stall, not with MQTT.js's own cost.
    stream.setNoDelay(true);
    const fail = (err: Error) => {
      client.end(true);
      reject(err);
    };
    client.once('error', fail);
    client.once('close', () => fail(new Error('closed before CONNACK')));
    client.once('connect', () => {
      client.removeAllListeners('error');
      client.removeAllListeners('close');
      client.on('error', () => undefined);
      resolve({
        subscribe: (topic, qos) =>
          new Promise((ok, ko) =>
            client.subscribe(topic, { qos }, (err) => (err ? ko(err) : ok())),
          ),
        publish: (topic, payload, qos, done) =>
          client.publish(topic, payload, { qos }, () => done()),
        onMessage: (handler) => client.on('message', (_topic, payload) => handler(payload)),
        close: () => client.end(true),
        tlsSession: latestSession,
        resumed: () => stream.isSessionReused(),
      });
    });
  });
}

async function connectFleetbench(
  t: BenchTarget,
  clientId: string,
  s: ConnectorSetup,
  session?: Buffer,
): Promise<BenchClient> {
  // As a worker keeps it (src/worker/device-sessions.ts): the latest session of this device.
  let latest: Buffer | undefined;
  const conn = await connectDevice({
    protocol: 'mqtts',
    host: t.host,
    port: t.port,
    secureContext: s.secureContext,
    servername: t.host,
    insecure: false,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    clientId,
    username: clientId,
    mqttVersion: 4,
    keepaliveSec: 60,
    clean: true,
    connectTimeoutMs: s.timeoutMs,
    ...(session === undefined ? {} : { session }),
    onSession: (next) => (latest = next),
  });
  const r = s.recorder;
  if (r) {
    // What a worker records per connect (src/worker/slice-devices.ts).
    r.count('connect.ok');
    r.record('connect', conn.timings.totalUs);
    r.record('tcp', conn.timings.tcpUs);
    r.record('tls', conn.timings.tlsUs);
    r.record('connack', conn.timings.connackUs);
    if (conn.handshake !== null) recordHandshake(r, conn.handshake, conn.timings.tlsUs);
  }
  return {
    subscribe: (topic, qos) =>
      new Promise((ok, ko) => conn.subscribe(topic, qos, (err) => (err ? ko(err) : ok()))),
    publish: (topic, payload, qos, done) => conn.publish(topic, payload, qos, () => done()),
    onMessage: (handler) => conn.onMessage((_topic, payload) => handler(payload)),
    close: () => void conn.end(0),
    tlsSession: () => latest,
    resumed: () => conn.handshake?.resumed === true,
  };
}
