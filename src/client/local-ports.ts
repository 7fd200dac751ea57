/**
 * Local ports for connections from a source-address pool, chosen here rather than by the
 * kernel. A socket bound to a source address with port 0 makes Linux search, at bind time, for
 * a port that no socket on that address uses, whatever the destination, and the search grows
 * with the ports taken: measured on this machine, 130-150 µs of CPU per connect up to 6,000
 * connections from one address, 1,270 µs at 9,000, where a given port stayed at 100-150 µs. In
 * the 100,000-device scale run it was 70% of a shard's worker thread late in the ramp.
 *
 * Each worker thread takes its own share of the kernel's ephemeral range (every `stride`th
 * port from `offset`), so the workers of one process never choose the same port, and hands the
 * ports of its share out in turn, skipping those its open sockets hold. A port some other
 * socket holds makes that connect fail with EADDRINUSE or EADDRNOTAVAIL, and the device then
 * connects again with a port the kernel picks (device-connection.ts).
 */

import { readFileSync } from 'node:fs';

/** The kernel's ephemeral port range, from /proc; Linux's default when it cannot be read. */
export function ephemeralPortRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined && low > 0 && high >= low && high < 65536) {
      return { low, high };
    }
  } catch {
    // Not Linux, or /proc is not mounted: Linux's default range.
  }
  return { low: 32768, high: 60999 };
}

/** One thread's share of the local ports of every source address. */
export class LocalPorts {
  /** Ports of the share; slot i is port `low + offset + i * stride`. */
  private readonly slots: number;
  private readonly used = new Map<string, { taken: Uint8Array; next: number }>();

  constructor(
    private readonly range: { low: number; high: number },
    private readonly stride: number,
    private readonly offset: number,
  ) {
    const span = range.high - range.low - offset;
    this.slots = span < 0 ? 0 : Math.floor(span / stride) + 1;
  }

  /** A free port of this share on `address`, now taken; undefined when all are taken. */
  take(address: string): number | undefined {
    let state = this.used.get(address);
    if (state === undefined) {
      state = { taken: new Uint8Array(this.slots), next: 0 };
      this.used.set(address, state);
    }
    for (let k = 0; k < this.slots; k++) {
      const slot = (state.next + k) % this.slots;
      if (state.taken[slot] === 1) continue;
      state.taken[slot] = 1;
      state.next = slot + 1;
      return this.range.low + this.offset + slot * this.stride;
    }
    return undefined;
  }

  /** Gives a port taken on `address` back. */
  release(address: string, port: number): void {
    const state = this.used.get(address);
    const slot = (port - this.range.low - this.offset) / this.stride;
    if (state !== undefined && Number.isInteger(slot) && slot >= 0 && slot < this.slots) {
      state.taken[slot] = 0;
    }
  }
}

/** This thread's ports (module state: one per worker thread); null: the kernel chooses. */
let threadPorts: LocalPorts | null = null;

/** Makes this thread choose the local ports of its source-address connections (or not). */
export function chooseLocalPorts(ports: LocalPorts | null): void {
  threadPorts = ports;
}

/** This thread's ports, if it chooses them. */
export function localPorts(): LocalPorts | null {
  return threadPorts;
}
