/**
 * Kernel TCP counters (listen-queue overflows and drops, SYN and segment retransmits) put
 * together: over several spans of one machine, or across the shards of a merged run.
 */

import type { KernelTcpCounters } from './document.js';

/** One shard's reading of its machine's kernel counters (over the run, or one phase). */
export interface KernelReading {
  /** The shard's host (`host.hostname`): shards on one host read the same counters. */
  hostname: string;
  kernel: KernelTcpCounters | undefined;
}

/**
 * The shards' kernel TCP counters as one figure, or undefined when no shard read them. The
 * counters are the machine's (its network namespace's), not the shard's: shards on one host
 * read the same counters over about the same span, so adding them would count every drop once
 * per shard; a host counts once, with its largest reading of each counter (the shard whose
 * window was widest). Hosts (machines, or pods with their own network namespace) are added up.
 */
export function mergedKernel(readings: readonly KernelReading[]): KernelTcpCounters | undefined {
  const byHost = new Map<string, KernelTcpCounters>();
  for (const { hostname, kernel } of readings) {
    if (kernel === undefined) continue;
    const seen = byHost.get(hostname);
    byHost.set(hostname, seen === undefined ? { ...kernel } : eachCounter(seen, kernel, Math.max));
  }
  return addKernelCounters([...byHost.values()]);
}

/** Counters of separate spans or machines added up; undefined for none. */
export function addKernelCounters(
  list: readonly (KernelTcpCounters | undefined)[],
): KernelTcpCounters | undefined {
  const present = list.filter((k): k is KernelTcpCounters => k !== undefined);
  const [first, ...rest] = present;
  if (first === undefined) return undefined;
  return rest.reduce((sum, k) => eachCounter(sum, k, (a, b) => a + b), { ...first });
}

function eachCounter(
  a: KernelTcpCounters,
  b: KernelTcpCounters,
  op: (x: number, y: number) => number,
): KernelTcpCounters {
  return {
    listenOverflows: op(a.listenOverflows, b.listenOverflows),
    listenDrops: op(a.listenDrops, b.listenDrops),
    synRetrans: op(a.synRetrans, b.synRetrans),
    retransSegs: op(a.retransSegs, b.retransSegs),
  };
}
