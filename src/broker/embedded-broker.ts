/**
 * The embedded broker: aedes behind a TLS server that requires a client certificate signed
 * by the fleet's CA, or behind secure WebSockets (the same TLS server under an HTTP upgrade),
 * or on plain TCP or WebSockets to measure what TLS costs. For zero-setup runs and tests;
 * binds to loopback unless told otherwise.
 */

import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Transport } from '../scenario/transport.js';

/** Options of the embedded broker. */
export interface EmbeddedBrokerOptions {
  /** Address to bind. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** CA certificate file that device certificates must chain to. */
  caFile: string;
  /** The broker's certificate file (PEM). */
  certFile: string;
  /** The broker's private key file (PEM). */
  keyFile: string;
  /** `tls` (default), `wss`, or plain `tcp` or `ws` (no certificates asked for). */
  transport?: Transport;
  /** For `wss` and `ws`: the only path upgraded. Default `/mqtt`. */
  webSocketPath?: string;
  /**
   * Connections held at most; more are closed at once, as a broker's connection limit does
   * (Mosquitto's `max_connections`). Default: no limit.
   */
  maxConnections?: number;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  host: string;
  port: number;
  /** Stops accepting, closes every client and the broker. */
  close(): Promise<void>;
}

/** Starts the embedded broker and resolves once it listens. */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const [ca, cert, key] = await Promise.all([
    readFile(options.caFile),
    readFile(options.certFile),
    readFile(options.keyFile),
  ]);
  const aedes = await Aedes.createBroker();
  const handle = (stream: Duplex) => aedes.handle(stream);
  const server = createServer(options.transport ?? 'tls', { ca, cert, key }, handle);
  const wss = upgradeWebSockets(server, options, handle);
  if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
  aedes.on('clientError', () => undefined);
  aedes.on('connectionError', () => undefined);

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port ?? 0, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    host,
    port,
    close: async () => {
      wss?.clients.forEach((ws) => ws.terminate());
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await closed;
    },
  };
}

type Listener = net.Server | http.Server;

/** The server a transport listens with; `handle` gets each MQTT byte stream. */
function createServer(
  transport: Transport,
  pem: { ca: Buffer; cert: Buffer; key: Buffer },
  handle: (stream: Duplex) => void,
): Listener {
  const mtls = {
    ...pem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2' as const,
  };
  // Nagle's algorithm would hold each small CONNACK and PUBACK for ~40 ms.
  const onSocket = (socket: net.Socket) => {
    socket.setNoDelay(true);
    handle(socket);
  };
  let server: Listener;
  if (transport === 'tls') server = tls.createServer(mtls, onSocket);
  else if (transport === 'tcp') server = net.createServer({ noDelay: true }, onSocket);
  else if (transport === 'wss') server = https.createServer({ ...mtls, noDelay: true });
  else server = http.createServer({ noDelay: true });
  // A failed handshake is the device's problem, counted on the client side; keep serving.
  server.on('tlsClientError', () => undefined);
  server.on('clientError', (_err: Error, socket: Duplex) => socket.destroy());
  return server;
}

/** For wss and ws: upgrades requests for the path and hands each WebSocket's bytes to aedes. */
function upgradeWebSockets(
  server: Listener,
  options: EmbeddedBrokerOptions,
  handle: (stream: Duplex) => void,
): WebSocketServer | null {
  if (options.transport !== 'wss' && options.transport !== 'ws') return null;
  const wss = new WebSocketServer({
    server: server as http.Server,
    path: options.webSocketPath ?? '/mqtt',
    perMessageDeflate: false,
    // MQTT over WebSockets names its subprotocol; a client offering none is served too.
    handleProtocols: (offered) => (offered.has('mqtt') ? 'mqtt' : false),
  });
  wss.on('connection', (ws) => {
    const stream = createWebSocketStream(ws);
    stream.on('error', () => undefined);
    handle(stream);
  });
  wss.on('error', () => undefined);
  return wss;
}
