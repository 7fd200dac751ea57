/**
 * The lean MQTT client (src/client/lean-mqtt.ts) through connectDevice against a real
 * Mosquitto 2: QoS 2 both ways, MQTT 5, keepalive on an idle connection, a refusing CONNACK,
 * a clean DISCONNECT, the last will, retained messages, MQTT 5 session expiry and user
 * properties. The QoS 1 fleet paths are covered by run-fleet.test.ts.
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { IPublishPacket } from 'mqtt-packet';
import {
  ConnectFailure,
  connectDevice,
  type DeviceConnectOptions,
  type DeviceConnection,
} from '../../src/client/device-connection.js';
import { openSocket } from '../../src/client/open-socket.js';
import { LeanMqttClient } from '../../src/client/lean-mqtt.js';
import { haveMosquitto, startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

const available = await haveMosquitto();
const skip = available ? false : 'mosquitto is not installed (.ci/run installs it)';

describe('the lean MQTT client against Mosquitto 2', { skip }, () => {
  let pki: TestPki;
  let broker: RunningMosquitto;
  let base: Omit<DeviceConnectOptions, 'clientId' | 'username'>;
  const open: DeviceConnection[] = [];

  before(async () => {
    pki = await makeTestPki();
    // Only client ids starting with fb- are accepted: Mosquitto 2.0 refuses others with 5.
    broker = await startMosquitto({
      caFile: pki.layout.caCert,
      certFile: pki.layout.serverCert,
      keyFile: pki.layout.serverKey,
      extraConfig: ['clientid_prefixes fb-'],
    });
    const secureContext = tls.createSecureContext({
      ca: await readFile(pki.layout.caCert),
      cert: await readFile(pki.layout.deviceCert),
      key: await readFile(pki.layout.deviceKey),
    });
    base = {
      ...{ protocol: 'mqtts', host: '127.0.0.1', port: broker.port, secureContext },
      ...{ servername: '127.0.0.1', insecure: false, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' },
      ...{ mqttVersion: 4, keepaliveSec: 30, clean: true, connectTimeoutMs: 5000 },
    };
  });
  after(async () => {
    await Promise.all(open.map((c) => c.end(500)));
    await broker?.stop();
    await pki?.cleanup();
  });

  async function connect(clientId: string, over: Partial<DeviceConnectOptions> = {}) {
    const conn = await connectDevice({ ...base, clientId, username: clientId, ...over });
    open.push(conn);
    return conn;
  }

  /** Subscribes to `topic` at `qos`, publishes one message to it and waits for it back. */
  async function roundTrip(conn: DeviceConnection, topic: string, qos: 0 | 1 | 2) {
    const got: Buffer[] = [];
    conn.onMessage((t, payload) => t === topic && got.push(payload));
    const granted = await new Promise<number | undefined>((resolve, reject) =>
      conn.subscribe(topic, qos, (err, g) => (err ? reject(err) : resolve(g))),
    );
    const payload = Buffer.from(`hello at QoS ${qos}`);
    await new Promise<void>((resolve, reject) =>
      conn.publish(topic, payload, qos, (err) => (err ? reject(err) : resolve())),
    );
    for (let i = 0; i < 100 && got.length === 0; i++) await sleep(20);
    await sleep(100);
    return { granted, got, payload };
  }

  test('QoS 2 both ways: PUBCOMP completes the publish, the message arrives once', async () => {
    const conn = await connect('fb-qos2');
    assert.ok(conn.timings.tlsUs > 0 && conn.timings.connackUs > 0);
    const { granted, got, payload } = await roundTrip(conn, 'fb/qos2', 2);
    assert.equal(granted, 2);
    assert.deepEqual(got, [payload]);
  });

  test('MQTT 5: CONNACK, SUBACK reason codes and a QoS 1 round trip', async () => {
    const conn = await connect('fb-v5', { mqttVersion: 5 });
    const { granted, got, payload } = await roundTrip(conn, 'fb/v5', 1);
    assert.equal(granted, 1);
    assert.deepEqual(got, [payload]);
  });

  test('keepalive: an idle connection outlives 1.5 keepalive periods', async () => {
    const conn = await connect('fb-idle', { keepaliveSec: 1 });
    let lost: string | null = null;
    conn.onLost((reason) => (lost = reason));
    // Mosquitto drops a client silent for 1.5 x keepalive; only PINGREQs keep this one.
    await sleep(2600);
    assert.equal(lost, null);
    const { got } = await roundTrip(conn, 'fb/idle', 1);
    assert.equal(got.length, 1);
  });

  test('a refusing CONNACK is a refused connect with its code', async () => {
    await assert.rejects(
      connectDevice({ ...base, clientId: 'not-allowed', username: 'x' }),
      (err: unknown) =>
        err instanceof ConnectFailure && err.category === 'refused' && err.connackCode === 5,
    );
  });

  test('end() sends DISCONNECT and resolves once closed, without calling onLost', async () => {
    const conn = await connectDevice({ ...base, clientId: 'fb-end', username: 'fb-end' });
    let lost = false;
    conn.onLost(() => (lost = true));
    const t0 = Date.now();
    await conn.end(2000);
    assert.ok(Date.now() - t0 < 1500, 'closed by the broker, not by the timeout');
    await sleep(50);
    assert.equal(lost, false);
    await new Promise<void>((resolve) =>
      conn.publish('fb/after', Buffer.from('x'), 1, (err) => {
        assert.ok(err, 'a publish after end fails');
        resolve();
      }),
    );
  });

  /** Subscribes and resolves once the SUBACK is in. */
  function subscribe(conn: DeviceConnection, topic: string, qos: 0 | 1 | 2) {
    return new Promise<void>((resolve, reject) =>
      conn.subscribe(topic, qos, (err) => (err ? reject(err) : resolve())),
    );
  }

  async function waitFor(done: () => boolean): Promise<void> {
    for (let i = 0; i < 150 && !done(); i++) await sleep(20);
  }

  test('the last will reaches a subscriber if a connection drops, not on DISCONNECT', async () => {
    const monitor = await connect('fb-will-monitor');
    const wills: string[] = [];
    monitor.onMessage((topic, payload) => wills.push(`${topic} ${payload.toString()}`));
    await subscribe(monitor, 'fb/will/+', 1);
    const will = (id: string) => ({
      will: {
        topic: `fb/will/${id}`,
        payload: Buffer.from('gone'),
        qos: 1 as const,
        retain: false,
      },
    });
    const dropped = await connectDevice({
      ...base,
      clientId: 'fb-w1',
      username: 'x',
      ...will('w1'),
    });
    const ended = await connectDevice({ ...base, clientId: 'fb-w2', username: 'x', ...will('w2') });
    await ended.end(2000);
    dropped.drop();
    await waitFor(() => wills.length > 0);
    await sleep(200);
    assert.deepEqual(wills, ['fb/will/w1 gone']);
  });

  test('retain: a later subscriber gets the kept message flagged as retained', async () => {
    const publisher = await connect('fb-retain-pub');
    await new Promise<void>((resolve, reject) =>
      publisher.publish('fb/retained', Buffer.from('kept'), 1, (e) => (e ? reject(e) : resolve()), {
        retain: true,
      }),
    );
    const late = await connect('fb-retain-sub');
    const got: [string, boolean][] = [];
    late.onMessage((_t, payload, retained) => got.push([payload.toString(), retained]));
    await subscribe(late, 'fb/retained', 1);
    await waitFor(() => got.length > 0);
    publisher.publish('fb/retained', Buffer.from('live'), 1, () => {});
    await waitFor(() => got.length > 1);
    assert.deepEqual(got, [
      ['kept', true],
      ['live', false],
    ]);
  });

  test('MQTT 5 session expiry keeps a persistent session across a reconnect', async () => {
    const v5 = { mqttVersion: 5 as const, clean: false };
    const kept = await connectDevice({
      ...{ ...base, ...v5, clientId: 'fb-keep', username: 'x', sessionExpirySec: 60 },
    });
    await subscribe(kept, 'fb/session/kept', 1);
    await kept.end(2000);
    const gone = await connectDevice({ ...base, ...v5, clientId: 'fb-gone', username: 'x' });
    await subscribe(gone, 'fb/session/gone', 1);
    await gone.end(2000);
    const publisher = await connect('fb-session-pub');
    for (const topic of ['fb/session/kept', 'fb/session/gone']) {
      await new Promise<void>((resolve) =>
        publisher.publish(topic, Buffer.from(topic), 1, () => resolve()),
      );
    }
    const got: string[] = [];
    for (const [id, expiry] of [
      ['fb-keep', 60],
      ['fb-gone', undefined],
    ] as const) {
      const again = await connect(id, {
        ...v5,
        ...(expiry === undefined ? {} : { sessionExpirySec: expiry }),
      });
      again.onMessage((topic) => got.push(topic));
    }
    await waitFor(() => got.length > 0);
    await sleep(300);
    // Session expiry 0 (not sent) ends the session with the connection: nothing was queued.
    assert.deepEqual(got, ['fb/session/kept']);
  });

  test('MQTT 5 user properties: CONNECT with them is accepted, PUBLISH delivers them', async () => {
    const props = { site: 'lab', fleet: 'fb' };
    const publisher = await connect('fb-props-pub', { mqttVersion: 5, userProperties: props });
    const socket = openSocket(base);
    const raw = new LeanMqttClient(socket, {
      ...{ clientId: 'fb-props-sub', username: 'x', protocolVersion: 5, keepalive: 30 },
      clean: true,
    });
    const got: IPublishPacket[] = [];
    raw.on('message', (_t: string, _p: Buffer, packet: IPublishPacket) => got.push(packet));
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    await new Promise<void>((resolve) => raw.subscribe('fb/props', { qos: 1 }, () => resolve()));
    publisher.publish('fb/props', Buffer.from('x'), 1, () => {}, { userProperties: props });
    await waitFor(() => got.length > 0);
    raw.end();
    assert.deepEqual({ ...got[0]?.properties?.userProperties }, props);
  });
});
