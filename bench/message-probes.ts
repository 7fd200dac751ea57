/**
 * The message probes, run in a child process: fan-out throughput (publishers and wildcard
 * subscribers at QoS 1, paced, every received round trip handled) and the idle round trip of
 * one device, one message at a time.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { MetricsRecorder } from '../src/metrics/recorder.js';
import type { BenchClient, Connector } from './clients.js';
import type { PhaseHooks } from './connect-probe.js';
import type {
  FanoutProbeResult,
  FanoutProbeSpec,
  RoundtripProbeResult,
  RoundtripProbeSpec,
} from './protocol.js';

/** Bytes of the payload header, laid out as a worker writes it: seq, device, send instant. */
const HEADER_BYTES = 16;
/** The pacing tick of the fan-out publishers, ms. */
const TICK_MS = 5;
/** Longest wait for the last messages after publishing stopped, ms. */
const DRAIN_MS = 5000;
/** Round trips before the measured ones (JIT warm-up). */
const WARMUP_ROUNDTRIPS = 200;

function payload(bytes: number, seq: number): Buffer {
  const p = Buffer.alloc(Math.max(bytes, HEADER_BYTES));
  p.writeUInt32BE(seq >>> 0, 0);
  p.writeBigUInt64BE(process.hrtime.bigint(), 8);
  return p;
}

/**
 * The receive path per client kind. fleetbench's is a worker's (count, read the send instant,
 * record the round trip in the HDR recorder); the baselines only count.
 */
function receiver(recorder: MetricsRecorder | null, tally: { received: number; recorded: number }) {
  if (recorder === null) {
    return () => {
      tally.received++;
    };
  }
  return (p: Buffer) => {
    const now = process.hrtime.bigint();
    tally.received++;
    recorder.count('messages.received');
    if (p.length < HEADER_BYTES) return;
    recorder.record('roundtrip', Number(now - p.readBigUInt64BE(8)) / 1000);
    tally.recorded++;
  };
}

async function connectAll(connect: Connector, spec: FanoutProbeSpec, role: string, n: number) {
  const clients: BenchClient[] = [];
  for (let i = 0; i < n; i++) {
    clients.push(await connect(spec.target, `bench-${spec.client}-${role}-${i}`));
  }
  return clients;
}

/** Runs the fan-out probe; throws when a device cannot connect or subscribe. */
export async function runFanoutProbe(
  spec: FanoutProbeSpec,
  connect: Connector,
  recorder: MetricsRecorder | null,
  hooks: PhaseHooks,
): Promise<FanoutProbeResult> {
  const tally = { received: 0, recorded: 0 };
  const onPayload = receiver(recorder, tally);
  const subscribers = await connectAll(connect, spec, 'sub', spec.subscribers);
  for (const s of subscribers) {
    s.onMessage(onPayload);
    await s.subscribe('bench/fanout/#', 1);
  }
  const publishers = await connectAll(connect, spec, 'pub', spec.publishers);
  await hooks.ready();

  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const elapsedMs = () => Number(process.hrtime.bigint() - t0) / 1e6;
  let published = 0;
  while (elapsedMs() < spec.durationMs) {
    // Catch up at most one tick's worth, so a stalled loop does not turn into a burst.
    const due = Math.floor((elapsedMs() * spec.publishRatePerSec) / 1000) - published;
    const burst = Math.min(due, Math.ceil((spec.publishRatePerSec * TICK_MS) / 1000) * 2);
    for (let k = 0; k < burst; k++) {
      const i = published++;
      const pub = publishers[i % publishers.length];
      const p = payload(spec.payloadBytes, i);
      const sent = process.hrtime.bigint();
      pub?.publish(`bench/fanout/${i % publishers.length}`, p, 1, () => {
        recorder?.record('puback', Number(process.hrtime.bigint() - sent) / 1000);
      });
    }
    await sleep(TICK_MS);
  }
  const expected = published * subscribers.length;
  const drainEnd = elapsedMs() + DRAIN_MS;
  while (tally.received < expected && elapsedMs() < drainEnd) await sleep(TICK_MS);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = elapsedMs();
  hooks.measured();

  for (const c of [...subscribers, ...publishers]) c.close();
  return {
    published,
    received: tally.received,
    expected,
    wallMs,
    cpuUs: cpu.user + cpu.system,
    recorded: tally.recorded,
  };
}

/** Runs the idle round-trip probe; throws when a message does not come back within 5 s. */
export async function runRoundtripProbe(
  spec: RoundtripProbeSpec,
  connect: Connector,
  recorder: MetricsRecorder | null,
): Promise<RoundtripProbeResult> {
  const client = await connect(spec.target, `bench-${spec.client}-rt`);
  const topic = `bench/roundtrip/${spec.client}`;
  let arrived: ((p: Buffer) => void) | null = null;
  const tally = { received: 0, recorded: 0 };
  const record = receiver(recorder, tally);
  client.onMessage((p) => {
    record(p);
    arrived?.(p);
  });
  await client.subscribe(topic, 1);

  const samples = new Float64Array(spec.count);
  for (let i = 0; i < WARMUP_ROUNDTRIPS + spec.count; i++) {
    const p = payload(spec.payloadBytes, i);
    const back = new Promise<Buffer | null>((resolve) => {
      arrived = resolve;
      setTimeout(() => resolve(null), 5000).unref();
    });
    client.publish(topic, p, 1, () => undefined);
    const got = await back;
    const now = process.hrtime.bigint();
    if (got === null) throw new Error(`round trip ${i} did not come back within 5 s`);
    if (i >= WARMUP_ROUNDTRIPS) {
      samples[i - WARMUP_ROUNDTRIPS] = Number(now - got.readBigUInt64BE(8)) / 1000;
    }
  }
  client.close();
  return summarizeSamples(samples);
}

function summarizeSamples(samples: Float64Array): RoundtripProbeResult {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { count: sorted.length, p50Us: at(0.5), p90Us: at(0.9), p99Us: at(0.99), meanUs: mean };
}
