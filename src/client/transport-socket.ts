/**
 * The one place a device's transport is chosen: a TCP or TLS socket as it is, or a WebSocket
 * (the `ws` package) over such a socket, whose MQTT bytes travel in binary frames. The
 * WebSocket is handed the socket we opened ourselves, so TLS options, client certificates and
 * session resumption are the same over wss as over mqtts, and the TCP and TLS instants are
 * observed on the same socket either way.
 */

import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocket } from 'ws';
import { usesWebSocket, type TargetScheme } from '../scenario/transport.js';

/** The WebSocket settings of a ws/wss device. */
export interface WebSocketOptions {
  /** Path of the upgrade request, e.g. `/mqtt`. */
  path: string;
  /** Offered in `Sec-WebSocket-Protocol`, e.g. `mqtt`. */
  subprotocol: string;
}

/** An opened transport: the socket underneath and the stream MQTT is spoken on. */
export interface TransportLink {
  /** The TCP or TLS socket: its `connect` and `secureConnect` events mark those phases. */
  socket: net.Socket;
  /** Where MQTT is written and read: the socket itself, or the WebSocket's byte stream. */
  stream: Duplex;
  /** For ws/wss: emits `open` once the upgrade is done (`upgrade` with the 101 response). */
  webSocket: WebSocket | null;
}

/** What {@link openTransport} needs beyond the socket's own options. */
export interface TransportTarget {
  protocol: TargetScheme;
  host: string;
  port: number;
  /** Required for ws/wss. */
  webSocket?: WebSocketOptions;
}

/**
 * Opens the transport: `openSocket` makes the TCP or TLS socket; for ws/wss a WebSocket
 * client is started on it at once (the upgrade request goes out when the socket is up).
 * Writes to `stream` before the upgrade is done are held until it is.
 */
export function openTransport(
  target: TransportTarget,
  openSocket: () => net.Socket,
): TransportLink {
  if (!usesWebSocket(target.protocol)) {
    const socket = openSocket();
    return { socket, stream: socket, webSocket: null };
  }
  const ws = target.webSocket;
  if (ws === undefined) throw new Error(`${target.protocol} transport without WebSocket options`);
  let socket: net.Socket | undefined;
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const webSocket = new WebSocket(
    `${target.protocol}://${host}:${target.port}${ws.path}`,
    ws.subprotocol,
    {
      createConnection: () => (socket = openSocket()),
      // Device firmware does not compress MQTT frames; an offer would also cost memory per device.
      perMessageDeflate: false,
      followRedirects: false,
    },
  );
  // http.request calls createConnection synchronously, inside the constructor.
  if (socket === undefined) throw new Error('the WebSocket client did not open a socket');
  return { socket, stream: createWebSocketStream(webSocket), webSocket };
}
