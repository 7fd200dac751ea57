/**
 * The connect probe, run in a child process: connect many devices with bounded connects in
 * flight, take this process's CPU over the connect phase, then read memory while holding them.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchClient, Connector } from './clients.js';
import type { ConnectProbeResult, ConnectProbeSpec } from './protocol.js';

/** Hooks the probe calls at the edges of its measured phase (the parent samples the broker). */
export interface PhaseHooks {
  /** Resolves when the measured phase may start. */
  ready(): Promise<void>;
  /** The measured phase ended. */
  measured(): void;
}

/** Runs a full GC (the probe runs with --expose-gc) and reads memory. */
export async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(50);
  }
  return process.memoryUsage();
}

/** What {@link connectMeasured} returns. */
export interface MeasuredConnects {
  /** By device: `clients[i]` is device i's connection, undefined when it failed. */
  clients: (BenchClient | undefined)[];
  connected: number;
  failed: number;
  firstError: string | null;
  /** This process's CPU (user + system) over the connects, µs. */
  cpuUs: number;
  wallMs: number;
}

/**
 * Connects devices 0..count-1 (device i to `targets[i mod n]`, offering `sessions[i]` when
 * given) with at most `inFlight` at once, and takes this process's CPU over it. A failed
 * connect is counted, never thrown.
 */
export async function connectMeasured(
  spec: Pick<ConnectProbeSpec, 'client' | 'targets' | 'inFlight'>,
  count: number,
  connect: Connector,
  sessions?: readonly (Buffer | undefined)[],
): Promise<MeasuredConnects> {
  const clients: (BenchClient | undefined)[] = new Array<BenchClient | undefined>(count);
  let connected = 0;
  let failed = 0;
  let firstError: string | null = null;
  let next = 0;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const target = spec.targets[i % spec.targets.length];
      if (target === undefined) return;
      try {
        clients[i] = await connect(target, `bench-${spec.client}-${i}`, sessions?.[i]);
        connected++;
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(spec.inFlight, count) }, lane));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { clients, connected, failed, firstError, cpuUs: cpu.user + cpu.system, wallMs };
}

/** Connects, holds, measures, closes. Never throws for a failed connect: it is counted. */
export async function runConnectProbe(
  spec: ConnectProbeSpec,
  connect: Connector,
  hooks: PhaseHooks,
): Promise<ConnectProbeResult> {
  const before = await settledMemory();
  await hooks.ready();
  const m = await connectMeasured(spec, spec.connections, connect);
  hooks.measured();

  await sleep(spec.settleMs);
  const heldMemory = await settledMemory();
  for (const c of m.clients) c?.close();
  return {
    connected: m.connected,
    failed: m.failed,
    firstError: m.firstError,
    wallMs: m.wallMs,
    cpuUs: m.cpuUs,
    rssBeforeBytes: before.rss,
    rssHeldBytes: heldMemory.rss,
    heapBeforeBytes: before.heapUsed,
    heapHeldBytes: heldMemory.heapUsed,
    heapTotalBeforeBytes: before.heapTotal,
    heapTotalHeldBytes: heldMemory.heapTotal,
    externalBeforeBytes: before.external,
    externalHeldBytes: heldMemory.external,
  };
}
