/**
 * The preparation of a run with `identity.mint`, measured as `run` does it: the plan and the
 * minting CA loaded by the coordinator's code, then one worker thread per core preparing its
 * slice of the fleet with FleetIdentities (minting every certificate in memory and, for a TLS
 * target, building each device's secure context). Nothing connects. This file is both the
 * probe (main thread) and the worker that runs it.
 */

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import { FleetIdentities } from '../src/fleet/fleet-identities.js';
import { loadGroupIdentities } from '../src/fleet/group-identities.js';
import { planScenario } from '../src/scenario/load.js';
import type { Plan } from '../src/scenario/plan.js';
import { sliceMembers } from '../src/worker/slice-device.js';
import type { IdentityMaterial, PreparationStats } from '../src/worker/protocol.js';

/** What a minting preparation of the fleet took. */
export interface MintPreparation {
  devices: number;
  workers: number;
  /** Certificates minted, all workers. */
  minted: number;
  /** Wall time of the slowest worker's preparation, ms. */
  wallMs: number;
  /** CPU of the process while the workers prepared (all its threads), ms. */
  cpuMs: number;
}

interface WorkerInput {
  plan: Plan;
  material: IdentityMaterial[];
  /** This worker's lane (one shard: its index), of `lanes`. */
  lane: number;
  lanes: number;
}

/**
 * Prepares `devices` minted identities on `workers` threads.
 * @param contexts Build each device's secure context too (a TLS target), or only mint.
 */
export async function measureMintPreparation(
  ca: { caCert: string; caKey: string },
  devices: number,
  workers: number,
  contexts: boolean,
): Promise<MintPreparation> {
  const plan = planScenario(
    {
      name: 'mint-bench',
      // Never connected to: it only decides whether secure contexts are built.
      target: contexts ? 'mqtts://127.0.0.1:1' : 'mqtt://127.0.0.1:1',
      devices,
      workers,
      identity: { ca: ca.caCert, mint: { caKey: ca.caKey }, deviceId: 'dev-{i}' },
    },
    { file: null, sha256: null, label: 'mint bench', certsDir: '.' },
  );
  const { material } = await loadGroupIdentities(plan);
  const stats = await Promise.all(
    Array.from({ length: workers }, (_, lane) =>
      runWorker({ plan, material, lane, lanes: workers }),
    ),
  );
  return {
    devices,
    workers,
    minted: stats.reduce((n, s) => n + s.minted, 0),
    wallMs: Math.max(...stats.map((s) => s.wallMs)),
    // Each worker reports its whole process's CPU over its own preparation: the longest one
    // covers both threads' work.
    cpuMs: Math.max(...stats.map((s) => s.cpuMs)),
  };
}

function runWorker(input: WorkerInput): Promise<PreparationStats> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: input });
    worker.once('message', (s: PreparationStats) => {
      resolve(s);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

if (!isMainThread && parentPort !== null) {
  const input = workerData as WorkerInput;
  const identities = new FleetIdentities(input.plan, input.material);
  const stats = await identities.prepare(sliceMembers(input));
  if (stats.failed > 0) throw new Error(`minting failed: ${stats.problems.join('; ')}`);
  parentPort.postMessage(stats);
}
