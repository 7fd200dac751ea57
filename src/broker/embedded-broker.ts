/**
 * The embedded broker: aedes behind a TLS server that requires a client certificate signed
 * by the fleet's CA. For zero-setup runs and tests; binds to loopback unless told otherwise.
 */

import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';

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
  const server = tls.createServer(
    { ca, cert, key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    (socket) => {
      // Nagle's algorithm would hold each small CONNACK and PUBACK for ~40 ms.
      socket.setNoDelay(true);
      aedes.handle(socket);
    },
  );
  // A failed handshake is the device's problem, counted on the client side; keep serving.
  server.on('tlsClientError', () => undefined);
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
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await closed;
    },
  };
}
