/**
 * What one device's TLS handshake negotiated, and whether it resumed the device's own session.
 * Read once per handshake from the socket; the result is interned, so a held connection keeps
 * a pointer to one shared object per distinct combination rather than its own strings.
 */

import type tls from 'node:tls';

/** One negotiated combination, shared by every handshake that got it. */
export interface TlsHandshake {
  /** The device offered a session and the broker took it: an abbreviated handshake. */
  resumed: boolean;
  /** `TLSv1.2` or `TLSv1.3`. */
  protocol: string;
  /** OpenSSL's name of the cipher (`TLS_AES_128_GCM_SHA256`, `ECDHE-ECDSA-AES128-GCM-SHA256`). */
  cipher: string;
  /**
   * The key-exchange group (`X25519`, `prime256v1`), or `none` where there was no exchange
   * (a resumed TLS 1.2 handshake).
   */
  group: string;
  /** Counter keys of this combination: `tls.full` or `tls.resumed`, protocol, cipher, group. */
  counters: readonly string[];
}

/** At most this many combinations are interned; a fleet sees a handful. */
const MAX_INTERNED = 256;
const interned = new Map<string, TlsHandshake>();

/** Describes a client socket's completed handshake (call it on `secureConnect`). */
export function describeHandshake(socket: tls.TLSSocket): TlsHandshake {
  const resumed = socket.isSessionReused();
  const protocol = socket.getProtocol() ?? 'unknown';
  const cipher = socket.getCipher()?.name ?? 'unknown';
  const key = socket.getEphemeralKeyInfo();
  const group = (key !== null && 'name' in key ? key.name : undefined) ?? 'none';
  const id = `${resumed ? 'r' : 'f'} ${protocol} ${cipher} ${group}`;
  const known = interned.get(id);
  if (known !== undefined) return known;
  const h: TlsHandshake = {
    resumed,
    protocol,
    cipher,
    group,
    counters: [
      resumed ? 'tls.resumed' : 'tls.full',
      `tls.protocol.${counterPart(protocol)}`,
      `tls.cipher.${counterPart(cipher)}`,
      ...(group === 'none' ? [] : [`tls.group.${counterPart(group)}`]),
    ],
  };
  if (interned.size < MAX_INTERNED) interned.set(id, h);
  return h;
}

/**
 * A name as one segment of a dotted counter key: `TLSv1.3` becomes `TLSv1_3`, so metric paths
 * (`tls.protocol.TLSv1_3`) split on dots the way they read.
 */
export function counterPart(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}
