/**
 * The transports a fleet connects over, and the target URL scheme of each: MQTT over TLS
 * (`mqtts://`, mutual TLS), over secure WebSockets (`wss://`, mutual TLS under the WebSocket),
 * and their plain counterparts (`mqtt://`, `ws://`), which exist to measure what TLS costs.
 */

/** The transports, as a scenario's `transport` key names them. */
export const TRANSPORTS = ['tls', 'wss', 'tcp', 'ws'] as const;

/** A transport. */
export type Transport = (typeof TRANSPORTS)[number];

/** A target URL's scheme. */
export type TargetScheme = 'mqtts' | 'wss' | 'mqtt' | 'ws';

const SCHEME_OF: Readonly<Record<Transport, TargetScheme>> = {
  tls: 'mqtts',
  wss: 'wss',
  tcp: 'mqtt',
  ws: 'ws',
};

/** The URL scheme of a transport (`tls` → `mqtts`). */
export function schemeOf(transport: Transport): TargetScheme {
  return SCHEME_OF[transport];
}

/** The transport of a URL scheme (`mqtts` → `tls`), or undefined for another scheme. */
export function transportOf(scheme: string): Transport | undefined {
  return TRANSPORTS.find((t) => SCHEME_OF[t] === scheme);
}

/** Whether the scheme runs TLS (and so client certificates). */
export function usesTls(scheme: TargetScheme): boolean {
  return scheme === 'mqtts' || scheme === 'wss';
}

/** Whether the scheme carries MQTT in WebSocket frames. */
export function usesWebSocket(scheme: TargetScheme): boolean {
  return scheme === 'wss' || scheme === 'ws';
}

/** The port a URL without one means: MQTT's 8883 and 1883, the web's 443 and 80. */
export function defaultPort(scheme: TargetScheme): number {
  return { mqtts: 8883, mqtt: 1883, wss: 443, ws: 80 }[scheme];
}

/** The WebSocket path when neither the URL nor `websocket.path` gives one. */
export const DEFAULT_WEBSOCKET_PATH = '/mqtt';

/** The WebSocket subprotocol MQTT registers (RFC 6455 registry; MQTT 3.1.1 §6 and 5 §6). */
export const DEFAULT_WEBSOCKET_SUBPROTOCOL = 'mqtt';

/** The warning a run over a plain transport prints and its report keeps. */
export function plainTransportWarning(scheme: TargetScheme): string {
  return (
    `transport ${transportOf(scheme) ?? scheme} (${scheme}://) has no TLS: nothing is ` +
    'encrypted and devices are not authenticated by certificate (client id and username ' +
    'only); use it to measure what TLS costs, against a tls run of the same scenario'
  );
}
