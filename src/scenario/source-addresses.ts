/**
 * The source-address pool: local IPv4 addresses the devices' sockets bind to in turn, so a
 * fleet can pass the ephemeral ports of one address (32768-60999 here, about 28,000 per
 * source address and target). Written as a list or as a range, `127.0.0.2-127.0.0.9`.
 */

import net from 'node:net';

/** Most addresses a pool may hold. */
export const MAX_SOURCE_ADDRESSES = 256;

/**
 * Expands `sourceAddresses` into a list.
 * @returns the addresses, or a problem naming the setting and the bad value
 */
export function expandSourceAddresses(
  value: string | string[],
): { addresses: string[] } | { problem: string } {
  const items = Array.isArray(value) ? value : [value];
  const addresses: string[] = [];
  for (const item of items) {
    const range = /^\s*([\d.]+)\s*-\s*([\d.]+)\s*$/.exec(item);
    if (range === null) {
      if (!net.isIP(item.trim()))
        return bad(item, 'is not an IP address or a range a.b.c.d-a.b.c.e');
      addresses.push(item.trim());
      continue;
    }
    const from = ipv4ToInt(range[1] ?? '');
    const to = ipv4ToInt(range[2] ?? '');
    if (from === null || to === null) return bad(item, 'is not a range of IPv4 addresses');
    if (to < from) return bad(item, 'ends before it starts');
    if (to - from + 1 + addresses.length > MAX_SOURCE_ADDRESSES) {
      return bad(item, `holds more than ${MAX_SOURCE_ADDRESSES} addresses`);
    }
    for (let a = from; a <= to; a++) addresses.push(intToIpv4(a));
  }
  if (addresses.length === 0 || addresses.length > MAX_SOURCE_ADDRESSES) {
    return bad(String(value), `must hold 1 to ${MAX_SOURCE_ADDRESSES} addresses`);
  }
  return { addresses };
}

function bad(value: string, why: string): { problem: string } {
  return { problem: `connect.sourceAddresses ${why} (got "${value}")` };
}

function ipv4ToInt(text: string): number | null {
  if (net.isIPv4(text) === false) return null;
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
