/**
 * The coordinator: validates the setup, starts the embedded broker when no target is given,
 * splits the fleet across worker threads, relays stop requests, merges their snapshots and
 * writes the report. It never touches a device socket.
 */

import { startBrokerThread } from '../broker/broker-thread.js';
import type { EmbeddedBroker } from '../broker/embedded-broker.js';
import { FleetbenchError } from '../errors.js';
import { ensureDefaultCerts, certsLayout } from '../fleet/certs-init.js';
import { loadTlsIdentity } from '../fleet/identity-files.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ReportDocument } from '../report/document.js';
import { checkWritable, writeReport } from '../report/write.js';
import type { Plan } from '../scenario/plan.js';
import type { IdentityMaterial, WorkerResult } from '../worker/protocol.js';
import { FleetPool } from './pool.js';
import { ProgressTracker, type RunProgress } from './progress.js';
import { assembleReport } from './assemble-report.js';

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
  /** Aborting it stops the run gracefully; the report is then marked partial. */
  signal?: AbortSignal;
  /** Interval of worker snapshots and progress, ms. Default 1000. */
  snapshotIntervalMs?: number;
}

export interface RunLoadTestResult {
  report: ReportDocument;
  /** Where the report was written. */
  reportPath: string;
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
  await checkWritable(outDir);

  const plan = structuredClone(options.plan);
  const warnings: string[] = [];
  if (plan.tls.insecure) {
    warnings.push('tls.insecure is set: the broker certificate host name is not checked');
    log.warn(warnings[warnings.length - 1] ?? '');
  }
  let broker: EmbeddedBroker | null = null;
  if (plan.identity.defaultFiles || plan.target.kind === 'embedded') {
    const { created, layout } = await ensureDefaultCerts(certsDir);
    if (created) log.info(`generated a CA and certificates in ${layout.dir}`);
  }
  const identities = await preflightIdentities(plan);
  try {
    if (plan.target.kind === 'embedded') {
      broker = await startEmbedded(certsDir);
      plan.target.host = broker.host;
      plan.target.port = broker.port;
      log.info(`embedded broker listening on mqtts://${broker.host}:${broker.port}`);
    }
    return await execute(plan, identities, {
      ...options,
      logger: log,
      outDir,
      warnings,
    });
  } finally {
    await broker?.close();
  }
}

/**
 * Loads and checks every group's certificate before any connection. A group expected to be
 * refused skips the chain check: a certificate from another CA is its point.
 */
async function preflightIdentities(plan: Plan): Promise<IdentityMaterial[]> {
  return Promise.all(
    plan.groups.map(async (g, i) => {
      const id = await loadTlsIdentity({
        caFile: g.identity.caFile,
        certFile: g.identity.certFile,
        keyFile: g.identity.keyFile,
        settingPrefix:
          plan.groups.length > 1 || g.name !== 'fleet' ? `groups[${i}].identity` : 'identity',
        source: plan.file ?? undefined,
        checkChain: g.expect === 'accept',
      });
      return { ca: id.ca, cert: id.cert, key: id.key };
    }),
  );
}

async function startEmbedded(certsDir: string): Promise<EmbeddedBroker> {
  const layout = certsLayout(certsDir);
  return startBrokerThread({
    caFile: layout.caCert,
    certFile: layout.serverCert,
    keyFile: layout.serverKey,
  });
}

interface ExecuteOptions extends RunLoadTestOptions {
  logger: Logger;
  outDir: string;
  warnings: string[];
}

async function execute(
  plan: Plan,
  identities: IdentityMaterial[],
  options: ExecuteOptions,
): Promise<RunLoadTestResult> {
  const snapshotIntervalMs = options.snapshotIntervalMs ?? 1000;
  const startedAt = new Date();
  const startAtNs = process.hrtime.bigint() + BigInt(START_DELAY_MS) * 1_000_000n;
  const tracker = new ProgressTracker(plan, startAtNs, options.onProgress);
  const pool = new FleetPool(plan.workers);
  const tasks = Array.from({ length: plan.workers }, (_, workerId) =>
    pool.start(
      {
        workerId,
        workers: plan.workers,
        plan,
        identities,
        startAtNs: String(startAtNs),
        snapshotIntervalMs,
      },
      (m) => tracker.accept(m),
    ),
  );
  const stopAll = (reason: string) => tasks.forEach((t) => t.stop(reason));
  const onAbort = () => stopAll(String(options.signal?.reason ?? 'stopped'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const ticker = setInterval(() => tracker.tick(), snapshotIntervalMs);

  const settled = await Promise.allSettled(
    tasks.map((t) =>
      t.result.catch((err: unknown) => {
        // One failed worker stops the others, so the run ends with what it has.
        stopAll(`worker ${t.workerId} failed`);
        throw err;
      }),
    ),
  );
  clearInterval(ticker);
  options.signal?.removeEventListener('abort', onAbort);
  await pool.close();

  const results: WorkerResult[] = [];
  const workerErrors: string[] = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') results.push(s.value);
    else workerErrors.push(`worker ${i}: ${errorText(s.reason)}`);
  });
  const report = assembleReport({
    plan,
    startedAt,
    endedAt: new Date(),
    results,
    workerErrors,
    stopReason: options.signal?.aborted ? String(options.signal.reason ?? 'stopped') : null,
    stageReached: tracker.stage,
    warnings: options.warnings,
    startNs: startAtNs,
  });
  const reportPath = await writeReport(options.outDir, report);
  if (workerErrors.length > 0 && results.length === 0) {
    throw new FleetbenchError('E_WORKER', `every worker failed: ${workerErrors.join('; ')}`, {
      hint: `a partial report was written to ${reportPath}`,
    });
  }
  return { report, reportPath };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
