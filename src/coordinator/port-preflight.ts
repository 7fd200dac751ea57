/**
 * The ephemeral-port preflight: each connection from one source address to one target takes
 * a local port from `net.ipv4.ip_local_port_range` (32768-60999 by default: 28,232 ports). A
 * fleet larger than that from one address would fail midway with EADDRNOTAVAIL; this says so
 * before any device connects, with the exact fix.
 */

import { readFile } from 'node:fs/promises';
import { FleetbenchError } from '../errors.js';
import type { Plan } from '../scenario/plan.js';

/** The local port range, inclusive. */
export interface PortRange {
  low: number;
  high: number;
}

/** Reads net.ipv4.ip_local_port_range; null where it cannot be read. */
export async function readPortRange(): Promise<PortRange | null> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => null);
  const m = text === null ? null : /^\s*(\d+)\s+(\d+)/.exec(text);
  return m === null ? null : { low: Number(m[1]), high: Number(m[2]) };
}

/**
 * Fails when the devices sharing one source address need more ports than the range holds.
 * @throws FleetbenchError `E_LIMIT` with the numbers and the fix
 */
export function checkPortRange(plan: Plan, range: PortRange | null): void {
  if (range === null) return;
  const ports = range.high - range.low + 1;
  const sources = Math.max(1, plan.sourceAddresses.length);
  // Ports are per (source address, target) pair: devices spread over both.
  const pairs = sources * plan.targets.length;
  const devices = plan.shard.devices;
  const perSource = Math.ceil(devices / pairs);
  if (perSource <= ports) return;
  const needed = Math.ceil(devices / plan.targets.length / ports);
  const from = sources === 1 ? 'one source address' : `each of ${sources} source addresses`;
  throw new FleetbenchError(
    'E_LIMIT',
    `${devices} devices need ${perSource} ephemeral ports from ${from}, but ` +
      `net.ipv4.ip_local_port_range (${range.low}-${range.high}) holds ${ports}`,
    {
      hint:
        `set connect.sourceAddresses to at least ${needed} addresses (for a loopback target: ` +
        `127.0.0.2-127.0.0.${needed + 1}), or widen the range: ` +
        "sysctl -w net.ipv4.ip_local_port_range='1024 65535'",
    },
  );
}
