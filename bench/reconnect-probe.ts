/**
 * The reconnect probe, run in a child process: connect every device once and keep its own TLS
 * session (never shared: the broker would see another device's certificate), close them all,
 * then take this process's CPU while every device reconnects offering its session.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchClient, Connector } from './clients.js';
import type { PhaseHooks } from './connect-probe.js';
import type { ReconnectProbeResult, ReconnectProbeSpec } from './protocol.js';

/** How long connected devices wait for their TLS 1.3 tickets (sent after CONNACK), ms. */
const TICKET_WAIT_MS = 300;

/** Runs `work(i)` for i in 0..n-1 with at most `lanes` at once. */
async function inLanes(n: number, lanes: number, work: (i: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < n) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, n) }, lane));
}

/** Runs the probe; a device whose first connect fails is left out of the reconnects. */
export async function runReconnectProbe(
  spec: ReconnectProbeSpec,
  connect: Connector,
  hooks: PhaseHooks,
): Promise<ReconnectProbeResult> {
  const target = (i: number) => spec.targets[i % spec.targets.length] ?? spec.targets[0];
  const sessions: (Buffer | undefined)[] = new Array<Buffer | undefined>(spec.connections);
  const first: BenchClient[] = [];
  await inLanes(spec.connections, spec.inFlight, async (i) => {
    const t = target(i);
    if (t === undefined) return;
    first.push(await connect(t, `bench-${spec.client}-rc-${i}`));
  });
  await sleep(TICKET_WAIT_MS);
  first.forEach((c, i) => (sessions[i] = c.tlsSession()));
  for (const c of first) c.close();
  await sleep(200);
  await hooks.ready();

  const again: BenchClient[] = [];
  let failed = 0;
  let firstError: string | null = null;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  await inLanes(first.length, spec.inFlight, async (i) => {
    const t = target(i);
    if (t === undefined) return;
    try {
      again.push(await connect(t, `bench-${spec.client}-rc-${i}`, sessions[i]));
    } catch (err) {
      failed++;
      firstError ??= err instanceof Error ? err.message : String(err);
    }
  });
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  hooks.measured();

  const resumed = again.filter((c) => c.resumed()).length;
  for (const c of again) c.close();
  return {
    reconnected: again.length,
    resumed,
    failed,
    firstError,
    cpuUs: cpu.user + cpu.system,
    wallMs,
  };
}
