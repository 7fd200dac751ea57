/**
 * The reconnect probe, run in a child process: connect every device once and keep its own TLS
 * session (never shared: the broker would see another device's certificate), close them all,
 * then take this process's CPU while every device reconnects offering its session.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { Connector } from './clients.js';
import { connectMeasured, type PhaseHooks } from './connect-probe.js';
import type { ReconnectProbeResult, ReconnectProbeSpec } from './protocol.js';

/** How long connected devices wait for their TLS 1.3 tickets (sent after CONNACK), ms. */
const TICKET_WAIT_MS = 300;

/**
 * Runs the probe. Device i always reconnects with device i's own session; a device whose first
 * connect failed has none and makes a full handshake (counted: `resumed` stays below it).
 */
export async function runReconnectProbe(
  spec: ReconnectProbeSpec,
  connect: Connector,
  hooks: PhaseHooks,
): Promise<ReconnectProbeResult> {
  const first = await connectMeasured(spec, spec.connections, connect);
  if (first.connected === 0) {
    throw new Error(`no device connected: ${first.firstError ?? 'unknown error'}`);
  }
  await sleep(TICKET_WAIT_MS);
  const sessions = first.clients.map((c) => c?.tlsSession());
  for (const c of first.clients) c?.close();
  await sleep(200);
  await hooks.ready();

  const again = await connectMeasured(spec, spec.connections, connect, sessions);
  hooks.measured();

  const resumed = again.clients.filter((c) => c?.resumed() === true).length;
  for (const c of again.clients) c?.close();
  return {
    reconnected: again.connected,
    resumed,
    failed: again.failed,
    firstError: again.firstError,
    cpuUs: again.cpuUs,
    wallMs: again.wallMs,
  };
}
