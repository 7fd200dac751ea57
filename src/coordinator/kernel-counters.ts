/**
 * The kernel's TCP counters around a run on loopback: listen-queue overflows and drops (a
 * broker's backlog full, SYNs dropped) and SYN retransmits (clients retrying a dropped SYN,
 * a second later). They explain a connect p99 of about a second as the kernel's doing, not the
 * broker's. Machine-wide counters, so other traffic on the machine adds to them.
 */

import { readFile } from 'node:fs/promises';
import type { KernelTcpCounters } from '../report/document.js';

/** Counters from /proc/net/netstat (TcpExt) and /proc/net/snmp (Tcp), as the report keeps them. */
export type TcpCounters = KernelTcpCounters;

/** Reads the counters now; null where /proc cannot be read (not Linux, a sandbox). */
export async function readTcpCounters(): Promise<TcpCounters | null> {
  const [netstat, snmp] = await Promise.all([
    readFile('/proc/net/netstat', 'utf8').catch(() => null),
    readFile('/proc/net/snmp', 'utf8').catch(() => null),
  ]);
  if (netstat === null || snmp === null) return null;
  const ext = table(netstat, 'TcpExt');
  const tcp = table(snmp, 'Tcp');
  const n = (t: Map<string, number>, key: string) => t.get(key) ?? 0;
  return {
    listenOverflows: n(ext, 'ListenOverflows'),
    listenDrops: n(ext, 'ListenDrops'),
    synRetrans: n(ext, 'TCPSynRetrans'),
    retransSegs: n(tcp, 'RetransSegs'),
  };
}

/** The `Prefix:` header line and the value line after it, as a map. */
function table(text: string, prefix: string): Map<string, number> {
  const lines = text.split('\n').filter((l) => l.startsWith(`${prefix}:`));
  const keys = (lines[0] ?? '').split(/\s+/).slice(1);
  const values = (lines[1] ?? '').split(/\s+/).slice(1);
  return new Map(keys.map((k, i) => [k, Number(values[i] ?? 0)]));
}

/** What changed between two readings (counters only grow; a wrap reads as 0). */
export function tcpCountersDelta(before: TcpCounters, after: TcpCounters): TcpCounters {
  const d = (k: keyof TcpCounters) => Math.max(0, after[k] - before[k]);
  return {
    listenOverflows: d('listenOverflows'),
    listenDrops: d('listenDrops'),
    synRetrans: d('synRetrans'),
    retransSegs: d('retransSegs'),
  };
}

/** A warning when the kernel dropped SYNs during the run, or null. */
export function kernelWarning(delta: TcpCounters): string | null {
  if (delta.listenDrops === 0 && delta.synRetrans === 0) return null;
  return (
    `the kernel dropped ${delta.listenDrops} SYN(s) at a full listen queue and clients ` +
    `retransmitted ${delta.synRetrans} SYN(s) during the run: connects that waited for a SYN ` +
    'retry (about 1 s) raise the connect p99; lower connect.maxInFlight below the broker backlog'
  );
}

/** Whether a host is on loopback, where these counters describe the broker's side too. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
