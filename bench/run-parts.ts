/**
 * The bench's schedule: in every round, each part runs once per client kind, one probe process
 * at a time, after the brokers have gone idle. Rounds interleave the kinds, so a busy spell on
 * the shared machine spreads over all of them rather than landing on one.
 */

import type { CertsLayout } from '../src/fleet/certs-init.js';
import type { RunningMosquitto } from '../test/helpers/mosquitto.js';
import type { BenchResults } from './figures.js';
import type { BenchOptions } from './options.js';
import type {
  BenchIdentity,
  BenchTarget,
  ClientKind,
  ConnectProbeResult,
  FanoutProbeResult,
  ProbeResult,
  ProbeSpec,
  ReconnectProbeResult,
  RoundtripProbeResult,
} from './protocol.js';
import { runProbe, waitBrokersIdle } from './run-probe.js';

/** Every probe is bounded: this much beyond its planned work, ms. */
const PROBE_SLACK_MS = 60_000;

interface Context {
  o: BenchOptions;
  identity: BenchIdentity;
  targets: BenchTarget[];
  pids: number[];
  log: (line: string) => void;
}

function push<R>(map: Partial<Record<ClientKind, R[]>>, client: ClientKind, r: R): void {
  (map[client] ??= []).push(r);
}

async function step<R extends ProbeResult>(
  c: Context,
  spec: ProbeSpec,
  workMs: number,
  pids: number[],
) {
  await waitBrokersIdle(c.pids);
  return runProbe<R>(spec, pids, workMs + PROBE_SLACK_MS, c.o.profileDir);
}

async function runRound(c: Context, results: BenchResults): Promise<void> {
  const { o, identity, targets } = c;
  const first = targets.slice(0, 1)[0] as BenchTarget;
  // Message probes use the first Mosquitto only.
  const firstPid = c.pids.slice(0, 1);
  for (const client of o.parts.includes('connect') ? o.clients : []) {
    const spec: ProbeSpec = {
      ...{ probe: 'connect', client, targets, identity, connections: o.connections },
      // A tiny run (the smoke test) settles for less than the default second.
      ...{ inFlight: o.inFlight, timeoutMs: 20_000, settleMs: Math.min(1000, o.connections * 10) },
    };
    const out = await step<ConnectProbeResult>(c, spec, o.connections * 20, c.pids);
    push(results.connect, client, out);
    const r = out.result;
    const why = r.firstError ? ` (first: ${r.firstError})` : '';
    c.log(`connect ${client}: ${r.connected} held, ${r.failed} failed${why}`);
  }
  for (const client of o.parts.includes('reconnect') ? o.clients : []) {
    const spec: ProbeSpec = {
      ...{ probe: 'reconnect', client, targets, identity, connections: o.connections },
      ...{ inFlight: o.inFlight, timeoutMs: 20_000 },
    };
    const out = await step<ReconnectProbeResult>(c, spec, o.connections * 40, c.pids);
    push(results.reconnect, client, out);
    const r = out.result;
    c.log(`reconnect ${client}: ${r.reconnected} back, ${r.resumed} resumed, ${r.failed} failed`);
  }
  for (const client of o.parts.includes('fanout') ? o.clients : []) {
    const spec: ProbeSpec = {
      ...{ probe: 'fanout', client, target: first, identity, payloadBytes: 64 },
      ...{ publishers: o.publishers, subscribers: o.subscribers },
      ...{ publishRatePerSec: o.publishRatePerSec, durationMs: o.fanoutSec * 1000 },
    };
    const out = await step<FanoutProbeResult>(c, spec, o.fanoutSec * 1000, firstPid);
    push(results.fanout, client, out);
    c.log(`fanout ${client}: ${out.result.received} of ${out.result.expected} received`);
  }
  for (const client of o.parts.includes('roundtrip') ? o.clients : []) {
    const spec: ProbeSpec = {
      ...{ probe: 'roundtrip', client, target: first, identity },
      ...{ count: o.roundtrips, payloadBytes: 64 },
    };
    const out = await step<RoundtripProbeResult>(c, spec, o.roundtrips * 10, firstPid);
    push(results.roundtrip, client, out);
    c.log(`roundtrip ${client}: p50 ${(out.result.p50Us / 1000).toFixed(3)} ms`);
  }
}

/** Runs every round of every part against the given brokers. */
export async function runBenchParts(
  o: BenchOptions,
  layout: CertsLayout,
  brokers: readonly RunningMosquitto[],
  log: (line: string) => void,
): Promise<BenchResults> {
  const c: Context = {
    o,
    identity: {
      ...{ caFile: layout.caCert, certFile: layout.deviceCert, keyFile: layout.deviceKey },
      maxVersion: o.tlsMax,
    },
    targets: brokers.map((b) => ({ host: '127.0.0.1', port: b.port })),
    pids: brokers.map((b) => b.pid),
    log,
  };
  const results: BenchResults = { connect: {}, reconnect: {}, fanout: {}, roundtrip: {} };
  for (let round = 1; round <= o.rounds; round++) {
    log(`round ${round} of ${o.rounds}`);
    await runRound(c, results);
  }
  return results;
}
