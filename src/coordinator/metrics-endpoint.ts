/**
 * The run's metrics endpoint: OpenMetrics or Prometheus text over HTTP at `/metrics`, on a
 * loopback address only. A load generator's figures (devices, failures, latencies of someone's
 * broker) are not for the network at large, and the endpoint has no authentication, so a
 * non-loopback address is refused rather than warned about. Scrapers on another machine reach
 * it through their own tunnel or an agent on this one.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import Negotiator from 'negotiator';

import { FleetbenchError } from '../errors.js';
import {
  CONTENT_TYPES,
  renderExposition,
  type ExpositionFormat,
  type MetricFamily,
} from '../metrics/exposition.js';

/** Options of {@link startMetricsEndpoint}. */
export interface MetricsEndpointOptions {
  /** Address to listen on: a loopback IP (127.0.0.0/8, ::1) or `localhost`. Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one (read it from the result). */
  port: number;
  /** The families to serve, called once per scrape. */
  families: () => MetricFamily[];
}

/** A listening endpoint. */
export interface MetricsEndpoint {
  host: string;
  port: number;
  /** `http://host:port/metrics`. */
  url: string;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/**
 * What can be served. Among equally good matches the first wins, so a bare `*\/*` gets
 * Prometheus text (what people and older scrapers read); Prometheus itself asks for
 * OpenMetrics (1.0.0, or 0.0.1 from Prometheus 3) with the higher q-value.
 */
const OFFERS: readonly [string, ExpositionFormat][] = [
  ['text/plain; version=0.0.4', 'prometheus'],
  ['text/plain', 'prometheus'],
  ['application/openmetrics-text; version=1.0.0', 'openmetrics'],
  ['application/openmetrics-text; version=0.0.1', 'openmetrics'],
];

/**
 * The format for a request's `Accept` header: the best match by q-value, Prometheus text when
 * nothing matches (a bare `curl`, a scraper that names no type).
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  const offers = OFFERS.map(([type]) => type);
  const chosen = new Negotiator({ headers: { accept: accept ?? '*/*' } }).mediaType(offers);
  return OFFERS.find(([type]) => type === chosen)?.[1] ?? 'prometheus';
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Checks an endpoint address: loopback only.
 *
 * @returns the address to bind (`localhost` becomes 127.0.0.1, so it is one known address).
 * @throws FleetbenchError `E_USAGE` for anything else.
 */
export function loopbackBindAddress(host: string, setting = '--metrics-host'): string {
  if (host === 'localhost') return '127.0.0.1';
  const family = net.isIPv4(host) ? 'ipv4' : net.isIPv6(host) ? 'ipv6' : null;
  if (family !== null && LOOPBACK.check(host, family)) return host;
  throw new FleetbenchError(
    'E_USAGE',
    `${setting} must be a loopback address (got "${host}"): the metrics endpoint has no ` +
      'authentication and serves loopback only',
    {
      hint:
        'use 127.0.0.1 (the default) or ::1; to scrape from another machine run Prometheus or ' +
        'an agent on this one, or forward the port (ssh -L)',
    },
  );
}

/**
 * Starts serving `/metrics`.
 *
 * @throws FleetbenchError `E_USAGE` for a bad address or port, `E_OUTPUT` when the port is taken.
 */
export async function startMetricsEndpoint(o: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  const host = loopbackBindAddress(o.host ?? '127.0.0.1');
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
    throw new FleetbenchError('E_USAGE', `--metrics-port must be 0..65535 (got ${o.port})`, {
      hint: 'give a free TCP port, or 0 to let the system pick one (it is printed)',
    });
  }
  const server = createServer((req, res) => serve(req, res, o.families));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, host, o.port)));
    server.listen({ host, port: o.port }, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : o.port;
  const shown = net.isIPv6(host) ? `[${host}]` : host;
  return {
    host,
    port,
    url: `http://${shown}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function serve(req: IncomingMessage, res: ServerResponse, families: () => MetricFamily[]): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found: fleetbench serves /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('method not allowed: use GET\n');
    return;
  }
  const format = negotiateFormat(req.headers.accept);
  const body = renderExposition(families(), format);
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[format],
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    vary: 'Accept',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): FleetbenchError {
  if (err.code === 'EADDRINUSE') {
    return new FleetbenchError('E_OUTPUT', `--metrics-port ${port} is in use on ${host}`, {
      hint: 'pick another port, or 0 to let the system pick a free one (it is printed)',
      cause: err,
    });
  }
  return new FleetbenchError(
    'E_OUTPUT',
    `cannot serve metrics on ${host}:${port}: ${err.message}`,
    { hint: 'check --metrics-host and --metrics-port', cause: err },
  );
}
