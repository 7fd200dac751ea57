/**
 * A lean MQTT client for one device, on MQTT.js's own packet layer (mqtt-packet). It keeps
 * only what a load-test device needs (CONNECT with a last will, SUBSCRIBE, PUBLISH at QoS 0-2
 * both ways with retain, keepalive, DISCONNECT; MQTT 3.1.1 and 5, with session expiry and user
 * properties), so a held connection costs little beyond its TLS
 * socket: measured by `npm run bench`, MQTT.js's MqttClient (streams, stores, option copies)
 * added about 11 KB of heap per connection over the bare socket.
 *
 * It mirrors the part of MqttClient's interface device-connection.ts uses: `connect`,
 * `message`, `error` (a refusing CONNACK's code as a numeric `code`) and `close` events,
 * `publish`, `subscribe` and `end`.
 */

import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { IConnectPacket, IPublishPacket, Packet } from 'mqtt-packet';
import { keepaliveWheel, type KeepaliveTarget } from './keepalive-wheel.js';
import { leanParser } from './lean-parser.js';
import { generate } from './packet-layer.js';

/** Options of {@link LeanMqttClient}. */
export interface LeanMqttOptions {
  clientId: string;
  username?: string;
  /** 4 for MQTT 3.1.1, 5 for MQTT 5. */
  protocolVersion: 4 | 5;
  /** Keepalive interval, s; 0 turns keepalive off. */
  keepalive: number;
  /** Clean session (3.1.1) or clean start (5). */
  clean: boolean;
  /** MQTT 5: how long the broker keeps the session after the connection ends, s. */
  sessionExpirySec?: number;
  /** The last will the broker publishes when the connection ends without DISCONNECT. */
  will?: LeanWill;
  /** MQTT 5: user properties sent on CONNECT (and on each publish that passes its own). */
  userProperties?: Record<string, string>;
}

/** A last will: published by the broker for a device whose connection ends abruptly. */
export interface LeanWill {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** Per-publish flags beyond the QoS. */
export interface LeanPublishOptions {
  qos: 0 | 1 | 2;
  /** Ask the broker to keep the message for later subscribers. Default false. */
  retain?: boolean;
  /** MQTT 5: user properties of the PUBLISH. Default none. */
  userProperties?: Record<string, string>;
}

/** Called when a publish completes: on PUBACK / PUBCOMP (QoS 1 / 2) or once written (QoS 0). */
type PublishDone = (err?: Error) => void;
/** Called with the SUBACK's granted QoS (or reason codes, MQTT 5). */
type SubscribeDone = (err: Error | null, granted?: { topic: string; qos: number }[]) => void;

interface Pending {
  kind: 'publish' | 'subscribe';
  topic: string;
  done: PublishDone | SubscribeDone;
}

/** The CONNECT packet of a session: MQTT 5 properties only when speaking MQTT 5. */
function connectPacket(o: LeanMqttOptions): IConnectPacket {
  const packet: IConnectPacket = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: o.protocolVersion,
    clientId: o.clientId,
    clean: o.clean,
    keepalive: o.keepalive,
  };
  if (o.username !== undefined) packet.username = o.username;
  if (o.will !== undefined) packet.will = { ...o.will };
  if (o.protocolVersion === 5) {
    const properties: NonNullable<IConnectPacket['properties']> = {};
    if (o.sessionExpirySec !== undefined) properties.sessionExpiryInterval = o.sessionExpirySec;
    if (o.userProperties !== undefined) properties.userProperties = o.userProperties;
    if (Object.keys(properties).length > 0) packet.properties = properties;
  }
  return packet;
}

/** A protocol error or a refusing CONNACK, as MqttClient emits them. */
function mqttError(message: string, code?: number): Error & { code?: number } {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

/** Connections corked in this turn of the event loop (one per thread: module state). */
const corkedClients: LeanMqttClient[] = [];

/** Uncorks every connection corked in this turn: one Immediate for all of a thread's. */
function uncorkAll(): void {
  for (const client of corkedClients.splice(0)) client.uncork();
}

export class LeanMqttClient extends EventEmitter implements KeepaliveTarget {
  /** Publishes and subscribes awaiting their acknowledgement; created on first use. */
  private pending: Map<number, Pending> | null = null;
  /** Incoming QoS 2 messages held until their PUBREL, as MqttClient delivers them. */
  private incoming: Map<number, IPublishPacket> | null = null;
  private nextId = 0;
  /** Something was sent since the last keepalive tick (then no PINGREQ is needed). */
  private sent = false;
  /** Keepalive ticks since the unanswered PINGREQ was sent; 0 when none is outstanding. */
  private pingTicks = 0;
  private closed = false;
  private disconnecting = false;
  /** Writes are held until the end of this turn of the event loop. */
  private corked = false;

  /** Starts the MQTT session on `socket` at once: CONNECT is queued until TLS is up. */
  constructor(
    private readonly socket: Duplex,
    private readonly o: LeanMqttOptions,
  ) {
    super();
    const parser = leanParser(o.protocolVersion);
    parser.on('packet', (p: Packet) => this.handle(p));
    parser.on('error', (err: Error) => this.fail(mqttError(`malformed packet: ${err.message}`)));
    socket.on('data', (chunk: Buffer) => {
      this.corkForThisTurn();
      parser.parse(chunk);
    });
    socket.on('error', (err: Error) => this.emit('error', err));
    socket.on('close', () => this.onClose());
    this.send(connectPacket(o));
  }

  /**
   * Holds this connection's writes until the current turn of the event loop ends. Node's TLS
   * socket emits one 'data' per TLS record, and Mosquitto sends each message in its own
   * record, so corking per chunk still wrote (and encrypted) one PUBACK per message; held to
   * the end of the turn, the acknowledgements of everything one socket read brought leave in
   * one write.
   */
  private corkForThisTurn(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    if (corkedClients.length === 0) setImmediate(uncorkAll);
    corkedClients.push(this);
  }

  /** Releases the writes held by {@link corkForThisTurn}. */
  uncork(): void {
    this.corked = false;
    this.socket.uncork();
  }

  private send(packet: Packet): void {
    if (this.closed) return;
    this.sent = true;
    this.socket.write(generate(packet, { protocolVersion: this.o.protocolVersion }));
  }

  private id(): number {
    // Ids in use by a long-unanswered publish are skipped, so no two pending share one.
    for (let i = 0; i < 0xffff; i++) {
      this.nextId = (this.nextId % 0xffff) + 1;
      if (!this.pending?.has(this.nextId)) return this.nextId;
    }
    throw mqttError('no free packet identifier: 65535 publishes and subscribes in flight');
  }

  private handle(p: Packet): void {
    switch (p.cmd) {
      case 'connack':
        return this.onConnack(p.returnCode ?? p.reasonCode ?? 0);
      case 'publish':
        return this.onPublish(p);
      case 'puback':
      case 'pubcomp':
      case 'suback':
        return this.settle(p.messageId, p.cmd, p);
      case 'pubrec':
        return this.onPubrec(p.messageId ?? 0, p.reasonCode ?? 0);
      case 'pubrel':
        return this.onPubrel(p.messageId ?? 0);
      case 'pingresp':
        this.pingTicks = 0;
        return;
      case 'disconnect':
        return this.fail(mqttError(`disconnected by the broker (reason ${p.reasonCode ?? 0})`));
      default:
        return;
    }
  }

  private onConnack(code: number): void {
    if (code !== 0) {
      this.emit('error', mqttError(`Connection refused: ${code}`, code));
      this.socket.destroy();
      return;
    }
    // One timer for the whole thread's connections, not one per device.
    if (this.o.keepalive > 0) keepaliveWheel.add(this, this.o.keepalive * 500);
    this.emit('connect');
  }

  /**
   * Runs every half keepalive period (from the thread's keepalive wheel), so the gap between
   * two packets sent stays under one period (MQTT's rule): PINGREQ when nothing else went out
   * since the last tick. A PINGREQ
   * still unanswered a whole period later fails the connection.
   *
   * @returns false once the connection has ended, so the keepalive wheel lets it go.
   */
  keepaliveTick(): boolean {
    if (this.closed) return false;
    if (this.pingTicks > 0 && ++this.pingTicks > 2) {
      this.fail(mqttError('keepalive timeout: no PINGRESP from the broker'));
      return false;
    }
    if (this.sent) {
      this.sent = false;
      return true;
    }
    if (this.pingTicks === 0) {
      this.pingTicks = 1;
      this.send({ cmd: 'pingreq' });
    }
    return true;
  }

  private onPublish(p: IPublishPacket): void {
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    if (p.qos === 2 && p.messageId !== undefined) {
      (this.incoming ??= new Map()).set(p.messageId, p);
      this.send({ cmd: 'pubrec', messageId: p.messageId });
      return;
    }
    if (p.qos === 1 && p.messageId !== undefined)
      this.send({ cmd: 'puback', messageId: p.messageId });
    this.emit('message', p.topic, payload, p);
  }

  private onPubrel(messageId: number): void {
    const p = this.incoming?.get(messageId);
    this.incoming?.delete(messageId);
    this.send({ cmd: 'pubcomp', messageId });
    if (p === undefined) return;
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    this.emit('message', p.topic, payload, p);
  }

  private onPubrec(messageId: number, reasonCode: number): void {
    if (reasonCode >= 0x80) {
      this.settle(messageId, 'pubcomp', { reasonCode });
      return;
    }
    this.send({ cmd: 'pubrel', messageId });
  }

  private settle(
    messageId: number | undefined,
    cmd: 'puback' | 'pubcomp' | 'suback',
    p: { reasonCode?: number; granted?: unknown },
  ): void {
    const entry = this.pending?.get(messageId ?? -1);
    if (entry === undefined || (entry.kind === 'subscribe') !== (cmd === 'suback')) return;
    this.pending?.delete(messageId ?? -1);
    if (entry.kind === 'subscribe') {
      const granted = Array.isArray(p.granted) ? (p.granted as number[]) : [];
      (entry.done as SubscribeDone)(
        null,
        granted.map((qos) => ({ topic: entry.topic, qos })),
      );
      return;
    }
    const code = p.reasonCode ?? 0;
    (entry.done as PublishDone)(
      code >= 0x80 ? mqttError(`${cmd} reason ${code}`, code) : undefined,
    );
  }

  /**
   * Publishes `payload` to `topic`. `done` runs on PUBACK (QoS 1), PUBCOMP (QoS 2) or once
   * handed to the socket (QoS 0); with an error when the broker refuses it or the connection
   * closes first.
   */
  publish(topic: string, payload: Buffer, opts: LeanPublishOptions, done: PublishDone): void {
    if (this.closed) return done(mqttError('connection closed'));
    const { qos } = opts;
    const messageId = qos > 0 ? this.id() : undefined;
    if (messageId !== undefined) {
      (this.pending ??= new Map()).set(messageId, { kind: 'publish', topic, done });
    }
    const retain = opts.retain ?? false;
    const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos, retain, dup: false };
    if (messageId !== undefined) packet.messageId = messageId;
    if (opts.userProperties !== undefined && this.o.protocolVersion === 5) {
      packet.properties = { userProperties: opts.userProperties };
    }
    this.send(packet);
    if (messageId === undefined) done();
  }

  /** Subscribes to one topic filter; `done` gets the SUBACK's granted QoS list. */
  subscribe(topic: string, opts: { qos: 0 | 1 | 2 }, done: SubscribeDone): void {
    if (this.closed) return done(mqttError('connection closed'));
    const messageId = this.id();
    (this.pending ??= new Map()).set(messageId, { kind: 'subscribe', topic, done });
    this.send({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos: opts.qos }] });
  }

  /**
   * Ends the session: at once when `force` (the socket is destroyed), else with DISCONNECT and
   * a half-close; `done` runs once the socket has closed.
   */
  end(force = false, _opts: object = {}, done?: () => void): void {
    if (done) {
      if (this.closed) queueMicrotask(done);
      else this.once('close', done);
    }
    if (this.closed) return;
    if (force) {
      this.socket.destroy();
      return;
    }
    if (this.disconnecting) return;
    this.disconnecting = true;
    this.send({ cmd: 'disconnect' });
    this.socket.end();
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.emit('error', err);
    this.socket.destroy();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    const lost = mqttError('connection closed');
    for (const entry of this.pending?.values() ?? []) {
      if (entry.kind === 'publish') (entry.done as PublishDone)(lost);
      else (entry.done as SubscribeDone)(lost);
    }
    this.pending = null;
    this.emit('close');
  }
}
