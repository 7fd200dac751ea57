/**
 * The device's TCP or TLS socket (the one under a WebSocket too), with the broker's certificate
 * verified unless the scenario says `insecure`.
 */

import net from 'node:net';
import tls from 'node:tls';
import { usesTls, type TargetScheme } from '../scenario/transport.js';
import { lookupHost } from './lookup.js';

/** What opening a device's socket needs. */
export interface SocketOptions {
  protocol: TargetScheme;
  host: string;
  port: number;
  /** Prepared once per certificate: building one per connection costs ~1 ms of CPU. */
  secureContext?: tls.SecureContext;
  /** SNI name and the name checked in the broker's certificate. */
  servername: string;
  /** Skip the host-name check (the chain is still verified). */
  insecure: boolean;
  /** Used only without `secureContext`: Node takes the version range from a given context. */
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
  /** The device's own TLS session from an earlier connection, offered for resumption. */
  session?: Buffer;
  /** Called with every session the broker issues (TLS 1.3 tickets come after the handshake). */
  onSession?: (session: Buffer) => void;
  /** Source address to bind (for a source-address pool). */
  localAddress?: string;
  /** Local port to bind with `localAddress` (see local-ports.ts); default: the kernel's pick. */
  localPort?: number;
}

type IdentityCheck = (host: string, cert: tls.PeerCertificate) => Error | undefined;

const skipIdentityCheck: IdentityCheck = () => undefined;
const identityChecks = new Map<string, IdentityCheck>();

/**
 * The check of the broker's name, one function per name: a closure per socket would keep the
 * device's whole options object alive for as long as the connection is held.
 */
function identityCheckFor(servername: string): IdentityCheck {
  let check = identityChecks.get(servername);
  if (check === undefined) {
    check = (_host, cert) => tls.checkServerIdentity(servername, cert);
    identityChecks.set(servername, check);
  }
  return check;
}

/**
 * Node's client asks for the broker's whole chain as JavaScript objects
 * (`getPeerCertificate(true)`) on every full handshake, only to hand it to the name check,
 * which reads nothing but the leaf's `subjectaltname` and subject CN. Building the chain looks
 * each issuer up in the context's trust store and converts every certificate: measured here,
 * 170-190 µs per call when the broker sends its certificate alone (as Mosquitto does), 350-420
 * µs when it sends its chain, against 17-23 µs for the leaf: 8% or more of a connect's CPU.
 * OpenSSL has verified the chain before the check runs, so a detailed request on a fleetbench
 * socket gets the leaf only; the check stays Node's `tls.checkServerIdentity`, on the same leaf
 * fields, so what passes is exactly what passed before (test/unit/open-socket.test.ts).
 * (`getPeerX509Certificate()` would be cheaper still, but in Node 20 it leaves the socket
 * without its peer certificate: every later `getPeerCertificate` returns `{}`.)
 */
function leafForCheck(this: tls.TLSSocket): tls.PeerCertificate {
  return tls.TLSSocket.prototype.getPeerCertificate.call(this, false);
}

/** Opens the device's TCP or TLS socket, verifying the broker's certificate unless insecure. */
export function openSocket(o: SocketOptions): net.Socket {
  if (!usesTls(o.protocol)) {
    return net.connect({
      host: o.host,
      port: o.port,
      localAddress: o.localAddress,
      localPort: o.localPort,
      lookup: lookupHost,
      noDelay: true,
    });
  }
  // localAddress and localPort are passed on to net.connect; @types/node leaves them out.
  const socket = tls.connect({
    host: o.host,
    port: o.port,
    lookup: lookupHost,
    secureContext: o.secureContext,
    servername: net.isIP(o.servername) ? undefined : o.servername,
    minVersion: o.minVersion,
    maxVersion: o.maxVersion,
    ...({ localAddress: o.localAddress, localPort: o.localPort } as tls.ConnectionOptions),
    rejectUnauthorized: true,
    checkServerIdentity: o.insecure ? skipIdentityCheck : identityCheckFor(o.servername),
    ...(o.session === undefined ? {} : { session: o.session }),
  });
  socket.getPeerCertificate = leafForCheck as tls.TLSSocket['getPeerCertificate'];
  if (o.onSession !== undefined) socket.on('session', o.onSession);
  // TLS client sockets ignore the `noDelay` option; without this Nagle adds ~44 ms per CONNACK.
  socket.setNoDelay(true);
  return socket;
}

/**
 * An MQTT device talking to a WebSocket listener gets an HTTP error page back: say so and
 * name the scheme to use, rather than report a malformed packet.
 */
export function httpAnswerMessage(chunk: Buffer): string | null {
  if (!chunk.subarray(0, 5).equals(Buffer.from('HTTP/'))) return null;
  const status = (chunk.toString('latin1').split('\r\n')[0] ?? '').slice(0, 60);
  return (
    `the broker answered in HTTP ("${status}"): this port is a WebSocket listener; ` +
    'connect with wss:// (or ws://) and its path, e.g. wss://host:port/mqtt'
  );
}
