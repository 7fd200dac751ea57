/**
 * Host-name resolution for device sockets: `dns.lookup`, except for names under the
 * special-use `invalid` domain, which fail at once with ENOTFOUND without asking a DNS server,
 * as RFC 6761 (section 6.4) asks of resolver libraries; glibc's getaddrinfo would send them
 * to the configured server.
 */

import dns from 'node:dns';
import type { LookupFunction } from 'node:net';

/** True for `invalid` and the names under it (`broker.invalid`), in any case. */
export function isInvalidName(hostname: string): boolean {
  return /(^|\.)invalid\.?$/i.test(hostname);
}

/** A `lookup` for `net.connect` / `tls.connect`. */
export const lookupHost: LookupFunction = (hostname, options, callback) => {
  if (!isInvalidName(hostname)) {
    dns.lookup(hostname, options, callback);
    return;
  }
  const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
    code: 'ENOTFOUND',
    syscall: 'getaddrinfo',
    hostname,
  });
  process.nextTick(() => callback(err, '', 0));
};
