/**
 * Memory per held connection with a certificate per device against one shared certificate,
 * measured on `fleetbench run` itself: each way is one child process that runs a
 * connect-and-hold scenario against the same Mosquitto (`traffic: false`, a ramp then a hold)
 * and samples its RSS (coordinator and workers: one process) while every device is held.
 * Per device: (RSS while holding - RSS before the run) / devices; the per-device ways are
 * then compared with the shared one of the same run. Run as `node identity-memory.js --child`
 * by {@link measureHeldMemory}.
 */

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { runLoadTest } from '../src/coordinator/run-load-test.js';
import { planScenario } from '../src/scenario/load.js';

/** How the devices identify themselves in one measurement. */
export type MemoryWay = 'shared' | 'mint-keep' | 'mint-release';

/** One way's memory while holding the fleet. */
export interface HeldMemory {
  way: MemoryWay;
  devices: number;
  connected: number;
  /** RSS while every device was held, minus before the run, per device, KB. */
  rssPerDeviceKb: number;
}

interface ChildSpec {
  way: MemoryWay;
  target: string;
  certsDir: string;
  caCert: string;
  caKey: string;
  devices: number;
}

/** Runs each way in its own process, one after the other, against `target`. */
export async function measureHeldMemory(
  spec: Omit<ChildSpec, 'way'>,
  ways: MemoryWay[] = ['shared', 'mint-keep', 'mint-release'],
): Promise<HeldMemory[]> {
  const results: HeldMemory[] = [];
  for (const way of ways) results.push(await runChild({ ...spec, way }));
  return results;
}

function runChild(spec: ChildSpec): Promise<HeldMemory> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: 'inherit' });
    child.once('message', (m: HeldMemory | { error: string }) =>
      'error' in m ? reject(new Error(`${spec.way}: ${m.error}`)) : resolve(m),
    );
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the ${spec.way} memory probe exited with ${code}`));
    });
    child.send(spec);
  });
}

async function child(spec: ChildSpec): Promise<HeldMemory> {
  const identity =
    spec.way === 'shared'
      ? { deviceId: 'mem-{i}' }
      : {
          ca: spec.caCert,
          mint: { caKey: spec.caKey },
          deviceId: 'mem-{i}',
          contexts: spec.way === 'mint-keep' ? 'keep' : 'release',
        };
  const plan = planScenario(
    {
      name: `memory-${spec.way}`,
      target: spec.target,
      devices: spec.devices,
      workers: 2,
      identity,
      connect: { ratePerSec: 400, maxInFlight: 48 },
      traffic: false,
      phases: [
        { name: 'ramp', type: 'ramp' },
        { name: 'hold', type: 'hold', durationSec: 4 },
      ],
      drainMs: 0,
    },
    { file: null, sha256: null, label: 'memory probe', certsDir: spec.certsDir },
  );
  const before = process.memoryUsage().rss;
  const held: number[] = [];
  const { report } = await runLoadTest({
    plan,
    certsDir: spec.certsDir,
    outDir: spec.certsDir,
    onProgress: (p) => {
      if (p.stage === 'hold' && p.connected === spec.devices) held.push(process.memoryUsage().rss);
    },
  });
  held.sort((a, b) => a - b);
  const median = held[Math.floor(held.length / 2)];
  if (median === undefined) throw new Error('the fleet was never held whole');
  return {
    way: spec.way,
    devices: spec.devices,
    connected: report.metrics.counters['connect.ok'] ?? 0,
    rssPerDeviceKb: (median - before) / spec.devices / 1024,
  };
}

if (process.argv.includes('--child')) {
  process.once('message', (spec: ChildSpec) => {
    child(spec).then(
      (r) => process.send?.(r, () => process.exit(0)),
      (err: unknown) => process.send?.({ error: String(err) }, () => process.exit(1)),
    );
  });
}
