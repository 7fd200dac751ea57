/**
 * The coordinator: validates the setup, starts the embedded broker when no target is given,
 * splits the fleet across worker threads, relays stop requests, merges their snapshots and
 * writes the report. It never touches a device socket.
 */

import { startBrokerThread } from '../broker/broker-thread.js';
import type { EmbeddedBroker } from '../broker/embedded-broker.js';
import { ensureDefaultCerts, certsLayout } from '../fleet/certs-init.js';
import { loadGroupIdentities } from '../fleet/group-identities.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ReportDocument } from '../report/document.js';
import { checkWritable } from '../report/write.js';
import type { Plan, TargetPlan } from '../scenario/plan.js';
import { plainTransportWarning, transportOf, usesTls } from '../scenario/transport.js';
import type { IdentityMaterial } from '../worker/protocol.js';
import { assembleReport, targetUrl } from './assemble-report.js';
import { runCapacitySearch } from './capacity-run.js';
import { runFleet, type FleetRunOptions, type FleetRunOutcome } from './fleet-run.js';
import {
  isLoopback,
  kernelWarning,
  readTcpCounters,
  tcpCountersDelta,
  type TcpCounters,
} from './kernel-counters.js';
import type { LiveMetrics } from './live-metrics.js';
import { checkPortRange, readPortRange } from './port-preflight.js';
import { checkOpenFiles, preflightTarget, readOpenFileLimit } from './preflight.js';
import { FleetbenchError } from '../errors.js';
import { measureClockOffset } from './clock-offset.js';
import { resolveRunId, type RunIdSource } from './run-id.js';
import type { StartRecord } from './start-at.js';
import { saveReport, type SavedReport } from './save-report.js';
import type { RunProgress } from './progress.js';

export type { RunProgress } from './progress.js';

/** Options of {@link runLoadTest}. */
export interface RunLoadTestOptions {
  plan: Plan;
  /** Directory of the default certificate layout (embedded broker, default identity). */
  certsDir?: string;
  /** Directory the report is written to. Default `reports`. */
  outDir?: string;
  logger?: Logger;
  /** Called about once a second with the run's progress. */
  onProgress?: (progress: RunProgress) => void;
  /**
   * Aborting it stops the run gracefully: devices drain and disconnect, the report is marked
   * partial with the abort reason (the CLI uses `interrupted`) and the stage reached. Workers
   * still busy after 10 s plus 1 ms per device of this process are ended as by `forceSignal`.
   */
  signal?: AbortSignal;
  /**
   * Aborting it ends the worker threads at once; the report is built from the interval
   * snapshots received (missing at most the last interval) and its reason gets `-at-once`.
   */
  forceSignal?: AbortSignal;
  /**
   * Cap of each worker thread's JavaScript heap, MB: a worker past it ends with an
   * out-of-memory error, reported, instead of exhausting the machine. Default: Node's.
   */
  workerHeapMb?: number;
  /** Interval of worker snapshots and progress, ms. Default 1000. */
  snapshotIntervalMs?: number;
  /**
   * The run id every shard of the run shares (`--run-id`). Default: derived from the
   * scenario's digest and the start; a sharded run (`plan.shard.count > 1`) must be given one.
   */
  runId?: string;
  /**
   * The agreed start of a synchronised sharded run (`--start-at`): the workers prepare, then
   * wait for it; the report records how late this process was. Default: start when ready.
   */
  startAt?: Date;
  /**
   * An SNTP server (`host[:port]`) to measure this machine's clock offset against before the
   * run (`--clock-server`); the agreed start is then kept by the server's clock. Default none.
   */
  clockServer?: string;
  /**
   * Fed the run's worker snapshots as they arrive, for a metrics endpoint (see
   * `startMetricsEndpoint`); the caller owns the endpoint, so it can serve the final figures
   * after the run.
   */
  metrics?: LiveMetrics;
}

/**
 * The run's report and where it went. A report that could not be written to `outDir` (a disk
 * that filled during the run) is in the OS temp directory instead, and `writeError` says why;
 * `reportPath` is null only when that failed too: the report is then only in memory.
 */
export interface RunLoadTestResult extends SavedReport {
  report: ReportDocument;
}

/** Delay between planning the common start instant and the first connect, ms. */
const START_DELAY_MS = 300;

/**
 * Runs a plan end to end and writes its report.
 * @throws FleetbenchError for setup problems (certificates, output directory, broker)
 */
export async function runLoadTest(options: RunLoadTestOptions): Promise<RunLoadTestResult> {
  const log = options.logger ?? silentLogger;
  const outDir = options.outDir ?? 'reports';
  const certsDir = options.certsDir ?? 'certs';
  const runId = resolveRunId(options.plan, options.runId, options.startAt, new Date());
  const clock = options.clockServer === undefined ? undefined : await clockOf(options.clockServer);
  options.metrics?.setRunId(runId.id);
  await checkWritable(outDir);
  checkOpenFiles(options.plan, await readOpenFileLimit());
  checkPortRange(options.plan, await readPortRange());

  const plan = structuredClone(options.plan);
  const warnings: string[] = [];
  if (clock !== undefined && clock.offsetMs === null) {
    warnings.push(
      `clock offset not measured against ${clock.server}: ${clock.error ?? 'no answer'}; ` +
        'this shard kept the agreed start by its own clock',
    );
    log.warn(warnings[warnings.length - 1] ?? '');
  }
  if (plan.tls.insecure) {
    warnings.push('tls.insecure is set: the broker certificate host name is not checked');
    log.warn(warnings[warnings.length - 1] ?? '');
  }
  if (!usesTls(plan.target.protocol)) {
    warnings.push(plainTransportWarning(plan.target.protocol));
    log.warn(warnings[warnings.length - 1] ?? '');
  }
  let broker: EmbeddedBroker | null = null;
  if (plan.identity.defaultFiles || plan.target.kind === 'embedded') {
    const { created, layout } = await ensureDefaultCerts(certsDir);
    if (created) log.info(`generated a CA and certificates in ${layout.dir}`);
  }
  const {
    material: identities,
    preflight,
    warnings: keyWarnings,
  } = await loadGroupIdentities(plan);
  for (const w of keyWarnings) {
    warnings.push(w);
    log.warn(w);
  }
  if (preflight !== null) {
    log.info(
      `preflight: ${preflight.devices} device certificates usable ` +
        `(${(preflight.elapsedMs / 1000).toFixed(1)} s on ${preflight.threads} threads)`,
    );
  }
  for (const target of plan.targets) await preflightTarget({ ...plan, target }, identities);
  try {
    if (plan.target.kind === 'embedded') {
      broker = await startEmbedded(certsDir, plan.target);
      plan.target.host = broker.host;
      plan.target.port = broker.port;
      log.info(`embedded broker listening on ${targetUrl(plan.target)}`);
    }
    return await execute(plan, identities, {
      ...options,
      run: runId,
      clock,
      logger: log,
      outDir,
      warnings,
      preflightMs: preflight?.elapsedMs ?? 0,
    });
  } finally {
    await broker?.close();
  }
}

async function startEmbedded(certsDir: string, target: TargetPlan): Promise<EmbeddedBroker> {
  const layout = certsLayout(certsDir);
  return startBrokerThread({
    caFile: layout.caCert,
    certFile: layout.serverCert,
    keyFile: layout.serverKey,
    transport: transportOf(target.protocol),
    webSocketPath: target.path,
  });
}

interface ExecuteOptions extends RunLoadTestOptions {
  logger: Logger;
  outDir: string;
  warnings: string[];
  /** Wall time of the per-device preflight, ms (0 when there was none). */
  preflightMs: number;
  run: { id: string; source: RunIdSource };
  clock: MeasuredClock | undefined;
}

async function execute(
  plan: Plan,
  identities: IdentityMaterial[],
  options: ExecuteOptions,
): Promise<RunLoadTestResult> {
  const loopback = plan.targets.some((t) => isLoopback(t.host));
  const fleetOptions: FleetRunOptions = {
    logger: options.logger,
    startDelayMs: START_DELAY_MS,
    // The agreed instant by the time server's clock, on this machine's clock.
    startAt:
      options.startAt === undefined
        ? undefined
        : new Date(options.startAt.getTime() - (options.clock?.offsetMs ?? 0)),
    snapshotIntervalMs: options.snapshotIntervalMs ?? 1000,
    signal: options.signal,
    forceSignal: options.forceSignal,
    workerHeapMb: options.workerHeapMb,
    onProgress: options.onProgress,
    metrics: options.metrics,
  };
  const ran =
    plan.capacity === null
      ? await runOnce(plan, identities, fleetOptions, loopback)
      : await runCapacitySearch(plan, plan.capacity, identities, { ...fleetOptions, loopback });
  const { outcome, kernel } = ran;
  const kernelNote = kernel === undefined ? null : kernelWarning(kernel);
  const report = assembleReport({
    kernel,
    plan: ran.plan,
    startedAt: outcome.startedAt,
    endedAt: new Date(),
    results: outcome.results,
    workerErrors: outcome.workerErrors,
    stopReason: outcome.stopReason,
    stageReached: outcome.stageReached,
    abortedBy: outcome.abortedBy,
    warnings: [
      ...options.warnings,
      ...outcome.warnings,
      ...(kernelNote ? [kernelNote] : []),
      ...lateStartWarning(outcome.start),
    ],
    startNs: outcome.startAtNs,
    preparation: { ...outcome.preparation, preflightMs: options.preflightMs },
    timeSeries: outcome.timeSeries,
    loadGenerator: outcome.loadGenerator,
    phaseKernel: outcome.phaseKernel,
    ...(ran.capacity === undefined ? {} : { capacity: ran.capacity }),
    run: {
      id: options.run.id,
      idSource: options.run.source,
      shard: { index: plan.shard.index, count: plan.shard.count, devices: plan.shard.devices },
      ...(outcome.start === null || options.startAt === undefined
        ? {}
        : { start: { ...outcome.start, at: options.startAt.toISOString() } }),
      ...(options.clock === undefined
        ? {}
        : {
            clock: {
              server: options.clock.server,
              offsetMs: options.clock.offsetMs,
              roundTripMs: options.clock.roundTripMs,
            },
          }),
    },
  });
  return { report, ...(await saveReport(options.outDir, report)) };
}

/** A warning when this shard started after the agreed instant. */
function lateStartWarning(start: StartRecord | null): string[] {
  if (start === null || start.latenessMs <= 0) return [];
  return [
    `this shard started ${Math.round(start.latenessMs)} ms after the agreed start ` +
      `${start.at}: its devices were ready ${Math.round(-start.readyBeforeMs)} ms after it; ` +
      'give the shards more time (a later --start-at), or its phases lag the others',
  ];
}

/** A clock offset, or why it could not be measured. */
interface MeasuredClock {
  server: string;
  offsetMs: number | null;
  roundTripMs: number | null;
  error?: string;
}

async function clockOf(server: string): Promise<MeasuredClock> {
  try {
    return await measureClockOffset(server);
  } catch (err) {
    if (err instanceof FleetbenchError && err.code === 'E_USAGE') throw err;
    const error = err instanceof Error ? err.message : String(err);
    return { server, offsetMs: null, roundTripMs: null, error };
  }
}

/** One run of the plan, with the kernel's counters around it (loopback targets). */
async function runOnce(
  plan: Plan,
  identities: IdentityMaterial[],
  options: FleetRunOptions,
  loopback: boolean,
): Promise<{ plan: Plan; outcome: FleetRunOutcome; kernel?: TcpCounters; capacity?: undefined }> {
  const before = loopback ? await readTcpCounters() : null;
  const outcome = await runFleet(plan, identities, options);
  const after = before === null ? null : await readTcpCounters();
  const kernel = before === null || after === null ? undefined : tcpCountersDelta(before, after);
  return { plan, outcome, ...(kernel === undefined ? {} : { kernel }) };
}
