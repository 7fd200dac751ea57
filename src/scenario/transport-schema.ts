/** The scenario keys of the transport: `transport` and `websocket` (see transport.ts). */

import { z } from 'zod';
import { DEFAULT_WEBSOCKET_SUBPROTOCOL, TRANSPORTS } from './transport.js';

/**
 * `tls` (MQTT over TLS, mutual), `wss` (MQTT over secure WebSockets, mutual TLS under it), or
 * plain `tcp` or `ws` to measure what TLS costs. A URL target's scheme says it already
 * (`mqtts`, `wss`, `mqtt`, `ws`); this key then must agree. Default: the target's scheme, and
 * `tls` for the embedded broker (which serves the transport chosen).
 */
export const TransportSchema = z.enum(TRANSPORTS, {
  error: `must be one of ${TRANSPORTS.join(', ')}`,
});

export const WebSocketSchema = z.strictObject({
  /**
   * Path of the upgrade request, starting with `/`. Default: the target URL's path, else
   * `/mqtt` (EMQX's, HiveMQ's and Mosquitto's usual one).
   */
  path: z
    .string()
    .regex(/^\/[^\s?#]*$/, 'must start with / and hold no spaces, ? or #')
    .optional(),
  /** Offered in `Sec-WebSocket-Protocol`. Default `mqtt` (MQTT 3.1.1 and 5 both use it). */
  subprotocol: z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP token such as mqtt')
    .default(DEFAULT_WEBSOCKET_SUBPROTOCOL),
});
