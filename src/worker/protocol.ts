/**
 * Everything that crosses between the coordinator and a worker thread. Plain, cloneable data
 * only. The coordinator starts one long task per worker with a `WorkerTask`; the worker
 * answers over the task's MessagePort with `WorkerMessage`s and returns a `WorkerResult`.
 */

import type { MessagePort } from 'node:worker_threads';
import type { WorkerHealth } from '../metrics/health.js';
import type { MetricsSnapshot } from '../metrics/types.js';
import type { ManifestDevice } from '../fleet/manifest.js';
import type { Plan } from '../scenario/plan.js';

/** Failure categories of a connect or of an established connection. */
export type FailureCategory =
  'tcp' | 'tls' | 'websocket' | 'refused' | 'timeout' | 'closed' | 'other';

/**
 * Key material of one group. Never logged, never in a report. A group sharing one certificate
 * has `cert` and `key`; a group with a certificate per device has `devices` (its manifest rows,
 * in group order) instead, whose files each worker reads for its own devices.
 */
export interface IdentityMaterial {
  /** CA certificate(s) the broker's certificate must chain to, PEM. */
  ca: string;
  /** The shared certificate, PEM; with `devices`, the first device's (for a probe). */
  cert: string;
  /** The shared private key, PEM; with `devices`, the first device's (for a probe). */
  key: string;
  devices?: ManifestDevice[];
  /** Passphrase of the devices' PKCS#12 files (`devices` rows with `pkcs12`). */
  passphrase?: string;
  /** Run-time minting: each worker signs its own devices' certificates with this CA. */
  mint?: MintMaterial;
}

/** The CA a worker mints with. Never logged, never in a report. */
export interface MintMaterial {
  /** The signing CA's certificate, PEM. */
  caCertPem: string;
  /** Its private key, unencrypted PKCS#8 PEM (decrypted by the coordinator if need be). */
  caKeyPem: string;
  /** Validity of every minted certificate, ms since the epoch (one period for the run). */
  notBeforeMs: number;
  notAfterMs: number;
}

/** What a worker's preparation (its devices' secure contexts) cost, sent before the start. */
export interface PreparationStats {
  /** Per-device secure contexts built. */
  contexts: number;
  /** Of the devices, those whose certificate was minted in memory (`identity.mint`). */
  minted: number;
  /** Wall time of the preparation, ms. */
  wallMs: number;
  /** CPU time of the worker's process during it, ms (all threads: an upper bound). */
  cpuMs: number;
  /** Devices whose files could not be read or made no context. */
  failed: number;
  /** The first few of those, one line each (paths and device ids, never key material). */
  problems: string[];
}

/** The start of one worker's long task. */
export interface WorkerTask {
  workerId: number;
  /** Worker threads of this process. */
  workers: number;
  /**
   * This worker's place among every worker of the run across shards
   * (`shard.index + shard.count * workerId`; `workerId` when unsharded): it runs the fleet's
   * ordinals and ramp ranks `lane, lane + lanes, ...`.
   */
  lane: number;
  /** Workers of the run across shards (`shard.count * workers`). */
  lanes: number;
  /** The plan, with an embedded target already resolved to its host and port. */
  plan: Plan;
  /** Key material of each group, in the order of `plan.groups`. */
  identities: IdentityMaterial[];
  /** How often to send an interval snapshot, ms. */
  snapshotIntervalMs: number;
  /**
   * The run's board, shared by every worker (see board.ts): the workers that have drained and
   * a 32-bit word per device, or empty when every group just publishes telemetry.
   */
  board: SharedArrayBuffer;
  /** The port for the messages below (transferred). */
  port: MessagePort;
}

/**
 * Coordinator → worker. `start` comes once every worker has prepared, with the common start
 * instant (`process.hrtime.bigint()` ns as a decimal string).
 */
export type CoordinatorMessage =
  { type: 'stop'; reason: string } | { type: 'start'; startAtNs: string };

/** One sample of a failure, counted by category and message. */
export interface FailureSample {
  category: FailureCategory;
  /** For `refused`: the CONNACK code. */
  code?: number;
  message: string;
  /** The first device it happened to. */
  deviceId: string;
  count: number;
}

/**
 * Worker → coordinator. Every snapshot carries the worker's own health over the same interval
 * (event-loop delay, CPU), so the coordinator can tell a saturated harness from a slow broker.
 */
export type WorkerMessage =
  | {
      type: 'snapshot';
      workerId: number;
      snapshot: MetricsSnapshot;
      /**
       * The worker's failure samples so far (cumulative, at most 50 kinds), so the report keeps
       * them even when the worker dies before it returns its result.
       */
      failures: FailureSample[];
      /** The worker's event-loop delay and CPU over the snapshot's interval. */
      health: WorkerHealth;
    }
  | { type: 'stage'; workerId: number; step: number; stage: RunStage };

/** Worker → coordinator, once, before the start: the worker is ready to connect. */
export interface PreparedMessage {
  type: 'prepared';
  workerId: number;
  preparation: PreparationStats;
}

/**
 * A step of a run: the name of one of the plan's phases, then `drain`, `disconnect`, `done`.
 * Its position in that list is the `step` of a stage message.
 */
export type RunStage = string;

/** The run's steps in order: its phases, then drain, disconnect, done. */
export function runSteps(plan: Plan): RunStage[] {
  return [...plan.phases.map((p) => p.name), 'drain', 'disconnect', 'done'];
}

/** One worker's measurements of one phase (the last one also covers drain and disconnect). */
export interface PhaseResult {
  /** The phase's position in `plan.phases`. */
  index: number;
  /** Counters, gauges and histograms from the phase's start to its end (`startNs`, `endNs`). */
  metrics: MetricsSnapshot;
}

/** What a worker's task returns. */
export interface WorkerResult {
  workerId: number;
  total: MetricsSnapshot;
  /** The phases this worker entered, in order. */
  phases: PhaseResult[];
  failures: FailureSample[];
  /** Set when the worker stopped early because it was asked to. */
  stoppedBy: string | null;
  /** The stage reached. */
  stage: RunStage;
}
