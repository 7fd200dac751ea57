/**
 * Running the fleet on the worker pool until it ends or is stopped: a graceful stop (the first
 * Ctrl-C, or a failed worker) lets the workers drain and disconnect; a forced stop (a second
 * Ctrl-C, or workers still busy after the grace period) ends the threads at once. Either way
 * every worker has a result: the one it returned, or the sum of the snapshots it sent.
 */

import type { Logger } from '../logger.js';
import { RunBoard } from '../worker/board.js';
import type { TimeSeries } from '../report/document.js';
import type { LoadGeneratorHealth } from '../metrics/health.js';
import type { Plan } from '../scenario/plan.js';
import { laneOf } from '../scenario/shard.js';
import { startDelayMs, type StartRecord } from './start-at.js';
import type {
  IdentityMaterial,
  RunStage,
  WorkerMessage,
  WorkerResult,
} from '../worker/protocol.js';
import { isLoopback, type TcpCounters } from './kernel-counters.js';
import { PhaseKernelCounters } from './phase-kernel.js';
import type { LiveMetrics } from './live-metrics.js';
import { FleetPool } from './pool.js';
import {
  describePreparation,
  PreparationBarrier,
  preparationError,
  type PreparationSummary,
} from './preparation.js';
import { ProgressTracker, type RunProgress } from './progress.js';
import { brokenAbortRule } from './thresholds.js';
import { TimeSeriesCollector } from './time-series.js';
import { WorkerTally } from './worker-tally.js';

/**
 * How long stopped workers get to drain and disconnect before they are ended, ms: 10 s, plus
 * 1 ms per device of this process, since every device sends DISCONNECT and closes its TLS
 * socket. At scale, 16,667 devices of one shard took over 10 s to disconnect with five other
 * shards on the same two cores, and ending them at once loses the per-phase metrics.
 */
export function gracefulStopMs(devices: number): number {
  return 10_000 + Math.max(0, devices);
}

/** Options of {@link runFleet}. */
export interface FleetRunOptions {
  logger: Logger;
  /**
   * Delay between the last worker's preparation and the first connect, ms; with `startAt`,
   * only when that instant has passed.
   */
  startDelayMs: number;
  /** The agreed start of a synchronised run (`--start-at`): the workers wait for it. */
  startAt?: Date;
  snapshotIntervalMs: number;
  /** Aborting it stops the run gracefully; its reason becomes the stop reason. */
  signal?: AbortSignal;
  /** Aborting it ends the worker threads at once. */
  forceSignal?: AbortSignal;
  /** Cap of each worker's JavaScript heap, MB. Default: Node's. */
  workerHeapMb?: number;
  onProgress?: (progress: RunProgress) => void;
  /** Fed every worker message, for a metrics endpoint; ended when the workers are. */
  metrics?: LiveMetrics;
}

/** How the fleet's run ended. */
export interface FleetRunOutcome {
  /** One per worker, in worker order. */
  results: WorkerResult[];
  /** Workers that failed, one line each with the cause. */
  workerErrors: string[];
  /** Why the run stopped before its plan ended, or null. */
  stopReason: string | null;
  /** The stage when the run was first asked to stop, or the last one reached. */
  stageReached: RunStage;
  /** Sentences for the report's warnings. */
  warnings: string[];
  /** The `abortOnFail` threshold that stopped the run, or null. */
  abortedBy: string | null;
  /** The workers' interval snapshots on the run's grid, merged per interval. */
  timeSeries: TimeSeries;
  /** The workers' self-monitoring over the run, and this process's CPU. */
  loadGenerator: LoadGeneratorHealth;
  /** The common start instant, `process.hrtime.bigint()` ns. */
  startAtNs: bigint;
  /** Wall-clock time of `startAtNs`: the run's start, after the devices were prepared. */
  startedAt: Date;
  /** The workers' preparation of their devices' identities, before the start. */
  preparation: PreparationSummary;
  /** How the agreed start went; null without one. */
  start: StartRecord | null;
  /** The kernel's TCP counters of each phase (loopback targets; else empty). */
  phaseKernel: (TcpCounters | null)[];
}

/** Runs every worker's slice of `plan` and collects their results. */
export async function runFleet(
  plan: Plan,
  identities: IdentityMaterial[],
  o: FleetRunOptions,
): Promise<FleetRunOutcome> {
  const cpuAtStart = process.cpuUsage();
  const wallAtStart = process.hrtime.bigint();
  const pool = new FleetPool({ threads: plan.workers, heapMb: o.workerHeapMb });
  const barrier = new PreparationBarrier(plan.workers);
  let live: ((m: WorkerMessage) => void) | null = null;
  const behaviours = plan.groups.some((g) => g.behaviour !== 'telemetry');
  const board = RunBoard.create(plan.devices, behaviours);
  const tasks = Array.from({ length: plan.workers }, (_, workerId) =>
    pool.start(
      {
        workerId,
        workers: plan.workers,
        ...laneOf(plan.shard, workerId, plan.workers),
        plan,
        identities,
        snapshotIntervalMs: o.snapshotIntervalMs,
        board,
      },
      (m) => (m.type === 'prepared' ? barrier.accept(m) : live?.(m)),
    ),
  );
  const preparation = await barrier.wait(tasks, o.signal);
  if (preparation.failed > 0) {
    tasks.forEach((t) => t.stop('preflight'));
    await Promise.allSettled(tasks.map((t) => t.result));
    await pool.close();
    throw preparationError(preparation);
  }
  if (preparation.contexts > 0) o.logger.info(describePreparation(preparation, plan.workers));

  const readyMs = Date.now();
  const delayMs = startDelayMs(o.startAt, o.startDelayMs, readyMs);
  const startAtNs = process.hrtime.bigint() + BigInt(Math.round(delayMs * 1e6));
  const startAtWall = new Date(readyMs + delayMs);
  const start = o.startAt === undefined ? null : startRecord(o.startAt, readyMs, startAtWall);
  const watching = plan.thresholds.some((t) => t.abortOnFail);
  const tracker = new ProgressTracker(plan, startAtNs, o.onProgress, watching);
  const tally = new WorkerTally(startAtNs);
  const kernelPhases = new PhaseKernelCounters(plan.targets.some((t) => isLoopback(t.host)));
  const series = new TimeSeriesCollector(
    startAtNs,
    startAtWall,
    o.snapshotIntervalMs,
    plan.workers,
  );
  o.metrics?.begin(startAtNs, () => tracker.stage);
  live = (m) => {
    o.metrics?.accept(m);
    tracker.accept(m);
    tally.accept(m);
    kernelPhases.accept(m);
    if (m.type === 'snapshot') series.accept(m.workerId, m.snapshot);
  };
  tasks.forEach((t) => t.begin(String(startAtNs)));
  const graceMs = gracefulStopMs(plan.shard.devices);
  const stop = new StopControl(tracker, o.logger, graceMs, (reason) =>
    tasks.forEach((t) => t.stop(reason)),
  );
  stop.onForce(() => void pool.terminate());
  const unlisten = stop.listen(o.signal, o.forceSignal);
  let abortedBy: string | null = null;
  const ticker = setInterval(() => {
    tracker.tick();
    const totals = tracker.totals;
    if (abortedBy !== null || totals === null) return;
    const elapsedMs = Number(process.hrtime.bigint() - startAtNs) / 1e6;
    const broken = brokenAbortRule(plan.thresholds, totals, elapsedMs);
    if (broken === null) return;
    abortedBy = broken.expression;
    o.logger.warn(`threshold ${broken.expression} failed: stopping the run`);
    stop.request('threshold');
  }, o.snapshotIntervalMs);

  const workerErrors: string[] = [];
  const settled = await Promise.allSettled(
    tasks.map((t) =>
      // A finished worker no longer holds time-series intervals open.
      t.result
        .finally(() => series.workerDone(t.workerId))
        .catch((err: unknown) => {
          if (!stop.forced) {
            // One failed worker stops the others, so the run ends with what it has.
            const line = `worker ${t.workerId} ${describeWorkerError(err)}`;
            workerErrors.push(line);
            o.logger.warn(`${line}; stopping the other workers`);
            stop.request('worker-failed');
          }
          throw err;
        }),
    ),
  );
  clearInterval(ticker);
  tracker.close();
  o.metrics?.end();
  unlisten();
  if (!stop.forced) await pool.close();

  const warnings: string[] = [];
  const results = settled.map((s, i) => {
    if (s.status === 'fulfilled') return s.value;
    if (stop.forced) {
      warnings.push(
        `worker ${i} was ended at once: its numbers are those of its last snapshot ` +
          `(up to ${o.snapshotIntervalMs} ms missing) and its devices were not disconnected`,
      );
    }
    return tally.resultOf(i, stop.reason ?? 'failed');
  });
  if (stop.timedOut) {
    warnings.push(`workers did not stop within ${graceMs} ms and were ended`);
  }
  return {
    results,
    workerErrors,
    stopReason: stop.reason,
    stageReached: stop.stageAtStop ?? tracker.stage,
    warnings,
    abortedBy,
    timeSeries: series.result(),
    loadGenerator: tracker.health.summary(cpuCoresSince(cpuAtStart, wallAtStart)),
    startAtNs,
    startedAt: startAtWall,
    preparation,
    start,
    phaseKernel: await kernelPhases.perPhase(plan.phases.length),
  };
}

function startRecord(agreed: Date, readyMs: number, startAtWall: Date): StartRecord {
  return {
    at: agreed.toISOString(),
    latenessMs: Math.max(0, startAtWall.getTime() - agreed.getTime()),
    readyBeforeMs: agreed.getTime() - readyMs,
  };
}

/** CPU of this process (every thread) since the given instants, in cores. */
function cpuCoresSince(cpu: NodeJS.CpuUsage, wallNs: bigint): number | null {
  const used = process.cpuUsage(cpu);
  const wallMs = Number(process.hrtime.bigint() - wallNs) / 1e6;
  return wallMs > 0 ? (used.user + used.system) / 1000 / wallMs : null;
}

/** The stop requests of one run: the first reason wins; force follows a grace period. */
class StopControl {
  reason: string | null = null;
  stageAtStop: RunStage | null = null;
  forced = false;
  timedOut = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private forceHandlers: (() => void)[] = [];

  constructor(
    private readonly tracker: ProgressTracker,
    private readonly log: Logger,
    private readonly graceMs: number,
    private readonly stopWorkers: (reason: string) => void,
  ) {}

  onForce(handler: () => void): void {
    this.forceHandlers.push(handler);
  }

  /** Asks every worker to drain and disconnect; ends them if they take too long. */
  request(reason: string): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.stageAtStop = this.tracker.stage;
    this.stopWorkers(reason);
    this.graceTimer = setTimeout(() => {
      this.timedOut = true;
      this.log.warn(`workers did not stop within ${this.graceMs} ms: ending them`);
      this.force();
    }, this.graceMs);
  }

  /** Ends the worker threads now. A failed worker stays the reason; others get `-at-once`. */
  force(): void {
    if (this.forced) return;
    this.request('stopped');
    this.forced = true;
    if (this.reason !== 'worker-failed') this.reason = `${this.reason ?? 'stopped'}-at-once`;
    for (const handler of this.forceHandlers) handler();
  }

  /** Follows the caller's signals (already aborted ones too); returns the unsubscribe. */
  listen(signal: AbortSignal | undefined, forceSignal: AbortSignal | undefined): () => void {
    const onStop = () => this.request(String(signal?.reason ?? 'stopped'));
    const onForce = () => this.force();
    signal?.addEventListener('abort', onStop, { once: true });
    forceSignal?.addEventListener('abort', onForce, { once: true });
    if (signal?.aborted) onStop();
    if (forceSignal?.aborted) onForce();
    return () => {
      clearTimeout(this.graceTimer);
      signal?.removeEventListener('abort', onStop);
      forceSignal?.removeEventListener('abort', onForce);
    };
  }
}

/** A worker's failure in words: out of memory, or the error it threw. */
export function describeWorkerError(err: unknown): string {
  const e: NodeJS.ErrnoException = err instanceof Error ? err : new Error(String(err));
  if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `ran out of memory (${e.code}: ${e.message})`;
  }
  const where = e.stack?.split('\n')[1]?.trim();
  return `failed: ${e.name}: ${e.message}${where ? ` (${where})` : ''}`;
}
