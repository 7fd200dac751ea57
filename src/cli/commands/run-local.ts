/**
 * `fleetbench run <scenario> --local-shards n`: the run as n shard processes on this machine,
 * merged into one report. Without a target the launcher runs the embedded broker itself, so
 * every shard loads the same broker; on a loopback target without a source-address pool each
 * shard binds to its own address (127.0.0.2, 127.0.0.3, ...).
 */

import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startBrokerThread } from '../../broker/broker-thread.js';
import type { EmbeddedBroker } from '../../broker/embedded-broker.js';
import { isLoopback } from '../../coordinator/kernel-counters.js';
import { loopbackBindAddress } from '../../coordinator/metrics-endpoint.js';
import { resolveRunId } from '../../coordinator/run-id.js';
import { certsLayout, ensureDefaultCerts } from '../../fleet/certs-init.js';
import { ExitCode, FleetbenchError, formatError } from '../../errors.js';
import { runLocalShards, type LocalShardsResult } from '../../launch/local-shards.js';
import { renderSummary } from '../../report/table.js';
import type { Plan } from '../../scenario/plan.js';
import { shardPlan } from '../../scenario/shard.js';
import { listenForInterrupts } from '../interrupts.js';
import { stderrLogger } from '../output.js';
import type { ShardSettings } from '../shard-options.js';
import { checkLinger, type RunArgs } from './run.js';

/** Time the shards get to start and prepare before the agreed start, without --start-at, ms. */
export const LOCAL_START_DELAY_MS = 10_000;

/** The CLI entry point the shard processes run. */
const CLI_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/** Runs the launch; sets the exit code from the shards and the merged report. */
export async function runLocal(
  args: RunArgs,
  plan: Plan,
  settings: ShardSettings,
  setExit: (code: number) => void,
): Promise<void> {
  const n = settings.localShards ?? 1;
  shardPlan(plan, { index: n - 1, count: n }); // refuses more shards than devices
  const log = stderrLogger();
  const startAt = settings.startAt ?? new Date(Date.now() + LOCAL_START_DELAY_MS);
  const runId =
    settings.runId ??
    resolveRunId(shardPlan(plan, { index: 0, count: n }), undefined, startAt, startAt).id;
  const runDir = path.join(args.out, `${plan.name}-${runId}`);
  const sources = ownSourceAddresses(plan, args, n);
  const metrics = shardMetrics(args, n);
  const childArgs = (target: string | undefined) => [
    ...['--certs', path.resolve(args.certs)],
    ...(target === undefined ? [] : ['--target', target]),
    ...(args.devices === undefined ? [] : ['--devices', String(args.devices)]),
    ...(args.duration === undefined ? [] : ['--duration', String(args.duration)]),
    ...['--workers', String(workersPerShard(plan, args, n))],
    ...(args['worker-heap-mb'] === undefined
      ? []
      : ['--worker-heap-mb', String(args['worker-heap-mb'])]),
    ...(args.threshold ?? []).flatMap((t) => ['--threshold', t]),
    ...(sources === undefined ? [] : ['--source-addresses', sources]),
    ...(settings.clockServer === undefined ? [] : ['--clock-server', settings.clockServer]),
    ...(args.quiet ? ['--quiet'] : []),
  ];
  const what =
    `${n} shard processes of ${plan.devices} devices, run ${runId}, start at ` +
    `${startAt.toISOString()}, reports under ${runDir}` +
    (metrics === null ? '' : `, ${describeShardMetrics(metrics, n)}`);
  if (args['dry-run']) {
    const own = metrics === null ? '' : ` ${shownMetricsArgs(metrics)}`;
    process.stdout.write(
      `local shards: ${what}\n  each: fleetbench run ${args.scenario} ` +
        `${childArgs(args.target).join(' ')}${own} --shard i/${n} ` +
        `--start-at ${startAt.toISOString()}\ndry run: nothing was started\n`,
    );
    return;
  }

  let broker: EmbeddedBroker | null = null;
  const interrupts = listenForInterrupts(log, {
    stop: 'each shard stops; the merged report is written (partial)',
    force: 'each shard ends its workers now',
  });
  try {
    if (plan.target.kind === 'embedded') broker = await startEmbedded(args.certs, log);
    log.info(`local shards: ${what}`);
    const result = await runLocalShards({
      scenario: args.scenario,
      shards: n,
      childArgs: childArgs(broker === null ? args.target : `mqtts://${broker.host}:${broker.port}`),
      shardArgs: metrics === null ? undefined : (i) => shardMetricsArgs(metrics, i),
      runId,
      startAt,
      runDir,
      mergedName: `${plan.name}-merged.json`,
      cliPath: CLI_MAIN,
      logger: log,
      signal: interrupts.stop,
      forceSignal: interrupts.force,
    });
    setExit(finish(result, args, interrupts.stop.aborted));
  } finally {
    interrupts.dispose();
    await broker?.close();
  }
}

/** Prints the merged summary and the outcome of each shard; returns the exit code. */
function finish(result: LocalShardsResult, args: RunArgs, interrupted: boolean): number {
  const log = stderrLogger();
  const expected = new Set<number | null>([ExitCode.ok, ExitCode.threshold]);
  if (interrupted) expected.add(ExitCode.interrupted);
  const failed = result.shards.filter((s) => !expected.has(s.code));
  for (const s of failed) {
    log.warn(
      `shard ${s.index} (pid ${s.pid}) ended with ` +
        (s.code === null ? `signal ${s.signal ?? '?'}` : `exit code ${s.code}`) +
        (s.reportFile === null ? ', without a report' : ''),
    );
  }
  const merged = result.merged;
  if (merged === null) {
    const noReport = new FleetbenchError('E_WORKER', 'no shard wrote a report', {
      hint: "see the shards' messages above",
    });
    process.stderr.write(`${formatError(noReport)}\n`);
    return interrupted ? ExitCode.interrupted : (failed[0]?.code ?? ExitCode.internal);
  }
  const text = args.json ? JSON.stringify(merged, null, 2) : renderSummary(merged);
  process.stdout.write(`${text}\n`);
  const kept = result.shards.filter((s) => s.reportFile !== null).length;
  log.info(
    `merged ${kept} shard reports into ${result.mergedFile ?? '?'} (shard reports kept beside it)`,
  );
  if (args['report-json-line']) process.stdout.write(`${JSON.stringify(merged)}\n`);
  if (interrupted) return ExitCode.interrupted;
  const code = failed[0]?.code;
  if (failed.length > 0) return code === null || code === undefined ? ExitCode.internal : code;
  return merged.thresholds?.some((t) => !t.ok) === true ? ExitCode.threshold : ExitCode.ok;
}

/** One embedded broker for every shard, in this process. */
async function startEmbedded(
  certsDir: string,
  log: ReturnType<typeof stderrLogger>,
): Promise<EmbeddedBroker> {
  const { created, layout } = await ensureDefaultCerts(certsDir);
  if (created) log.info(`generated a CA and certificates in ${layout.dir}`);
  const l = certsLayout(certsDir);
  const broker = await startBrokerThread({
    caFile: l.caCert,
    certFile: l.serverCert,
    keyFile: l.serverKey,
  });
  log.info(`embedded broker for all shards listening on mqtts://${broker.host}:${broker.port}`);
  return broker;
}

/**
 * A source address per shard (127.0.0.2, 127.0.0.3, ...) for a loopback target when neither
 * the scenario nor the command line gives a pool; undefined otherwise (the pool is split).
 */
function ownSourceAddresses(plan: Plan, args: RunArgs, n: number): string | undefined {
  if (args['source-addresses'] !== undefined) return args['source-addresses'];
  const loopback = plan.target.kind === 'embedded' || plan.targets.every((t) => isLoopback(t.host));
  if (plan.sourceAddresses.length > 0 || !loopback || n < 2 || n > 254) return undefined;
  return `127.0.0.2-127.0.0.${n + 1}`;
}

/** The metrics endpoint every shard serves (`--metrics-port`, host, linger). */
export interface ShardMetrics {
  /** 0: each shard picks a free port and prints it; else shard i serves on `port + i`. */
  port: number;
  host: string;
  lingerSec: number;
}

/**
 * The shards' metrics endpoint from `--metrics-port`, `--metrics-host` and `--metrics-linger`,
 * checked once here rather than n times by the shards; null without `--metrics-port`.
 *
 * @throws FleetbenchError `E_USAGE` for a bad port, host or linger, or a last shard's port past
 *   65535.
 */
export function shardMetrics(args: RunArgs, n: number): ShardMetrics | null {
  const port = args['metrics-port'];
  if (port === undefined) return null;
  const host = loopbackBindAddress(args['metrics-host']);
  const lingerSec = checkLinger(args['metrics-linger']);
  const last = port + n - 1;
  if (!Number.isInteger(port) || port < 0 || (port > 0 && last > 65535)) {
    const range = last > 65535 ? ` (shard ${n - 1} would get ${last})` : '';
    throw new FleetbenchError(
      'E_USAGE',
      `--metrics-port must be 0..${65536 - n} with --local-shards ${n} (got ${port})${range}`,
      {
        hint: 'shard i serves on --metrics-port + i; or give 0 to let each shard pick a free port',
      },
    );
  }
  return { port, host, lingerSec };
}

/** The options shard `index` gets for its endpoint. */
export function shardMetricsArgs(m: ShardMetrics, index: number): string[] {
  return [
    ...['--metrics-port', String(m.port === 0 ? 0 : m.port + index)],
    ...['--metrics-host', m.host],
    ...(m.lingerSec > 0 ? ['--metrics-linger', String(m.lingerSec)] : []),
  ];
}

/** A shard's endpoint options as the dry run shows them: `--metrics-port N+i` for shard i. */
function shownMetricsArgs(m: ShardMetrics): string {
  const args = shardMetricsArgs(m, 0);
  if (m.port > 0) args[1] = `${m.port}+i`;
  return args.join(' ');
}

function describeShardMetrics(m: ShardMetrics, n: number): string {
  if (m.port === 0) return 'a metrics endpoint per shard on a free port (each prints it)';
  return n === 1
    ? `metrics endpoint on ${m.host}:${m.port}`
    : `metrics endpoints on ${m.host}:${m.port}-${m.port + n - 1} (shard i on ${m.port} + i)`;
}

/** `--workers`, the scenario's, or the cores shared among the shards (at least 1 each). */
function workersPerShard(plan: Plan, args: RunArgs, n: number): number {
  if (args.workers !== undefined) return args.workers;
  const cores = os.availableParallelism();
  const fromFile = plan.workers !== Math.min(cores, plan.devices);
  return fromFile ? plan.workers : Math.max(1, Math.floor(cores / n));
}
