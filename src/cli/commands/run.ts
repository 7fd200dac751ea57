/** `fleetbench run <scenario>`: run a scenario, print the summary, write the report. */

import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandModule } from 'yargs';
import { LiveMetrics } from '../../coordinator/live-metrics.js';
import {
  loopbackBindAddress,
  startMetricsEndpoint,
  type MetricsEndpoint,
} from '../../coordinator/metrics-endpoint.js';
import { runLoadTest } from '../../coordinator/run-load-test.js';
import { ExitCode, FleetbenchError, formatError } from '../../errors.js';
import type { ReportDocument } from '../../report/document.js';
import { renderSummary } from '../../report/table.js';
import { describePlan } from '../../scenario/plan.js';
import { loadScenario } from '../../scenario/load.js';
import { shardPlan } from '../../scenario/shard.js';
import { listenForInterrupts } from '../interrupts.js';
import { resolveShardArgs, withShardOptions, type ShardArgs } from '../shard-options.js';
import { runLocal } from './run-local.js';
import { stderrLogger } from '../output.js';
import { ProgressPanel } from '../progress-panel.js';

export interface RunArgs extends ShardArgs {
  scenario: string;
  target: string | undefined;
  transport: string | undefined;
  devices: number | undefined;
  workers: number | undefined;
  duration: number | undefined;
  out: string;
  certs: string;
  json: boolean;
  quiet: boolean;
  'worker-heap-mb': number | undefined;
  threshold: string[] | undefined;
  'dry-run': boolean;
  'metrics-port': number | undefined;
  'metrics-host': string;
  'metrics-linger': number;
}

export function runCommand(setExit: (code: number) => void): CommandModule<object, RunArgs> {
  return {
    command: 'run <scenario>',
    describe: 'Run a scenario file against a broker (the embedded one by default)',
    builder: (y) =>
      withShardOptions(y)
        .positional('scenario', {
          type: 'string',
          demandOption: true,
          describe: 'YAML or JSON file',
        })
        .option('target', {
          type: 'string',
          describe: 'Broker URL: mqtts://host:port, wss://host:port/mqtt, mqtt:// or ws://',
        })
        .option('transport', {
          type: 'string',
          choices: ['tls', 'wss', 'tcp', 'ws'],
          describe: 'tls, wss, or plain tcp or ws (must agree with the target; embedded: served)',
        })
        .option('devices', { type: 'number', describe: 'Fleet size (overrides the file)' })
        .option('workers', { type: 'number', describe: 'Worker threads (default: cores)' })
        .option('duration', { type: 'number', describe: 'Traffic time after the ramp, s' })
        .option('out', { type: 'string', default: 'reports', describe: 'Report directory' })
        .option('certs', {
          type: 'string',
          default: 'certs',
          describe: 'Default certificate directory (embedded broker and default identity)',
        })
        .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' })
        .option('quiet', { type: 'boolean', default: false, describe: 'No progress lines' })
        .option('worker-heap-mb', {
          type: 'number',
          describe: "Cap of each worker thread's JavaScript heap, MB (default: Node's)",
        })
        .option('threshold', {
          type: 'string',
          array: true,
          describe: 'A rule such as "connect.p99 < 500ms" (repeatable; added to the file\'s)',
        })
        .option('metrics-port', {
          type: 'number',
          describe: 'Serve OpenMetrics/Prometheus text at /metrics on this port (0: pick one)',
        })
        .option('metrics-host', {
          type: 'string',
          default: '127.0.0.1',
          describe: 'Loopback address of the metrics endpoint (127.0.0.0/8 or ::1 only)',
        })
        .option('metrics-linger', {
          type: 'number',
          default: 0,
          describe: 'Keep serving the final metrics this long after the run, s',
        })
        .option('dry-run', {
          type: 'boolean',
          default: false,
          describe: 'Check the scenario and print the plan; connect nothing',
        }),
    handler: async (args) => {
      const settings = resolveShardArgs(args, process.env);
      const whole = await loadScenario(args.scenario, {
        certsDir: args.certs,
        overrides: {
          target: args.target,
          transport: args.transport,
          devices: args.devices,
          workers: args.workers,
          durationSec: args.duration,
          thresholds: args.threshold,
          sourceAddresses: args['source-addresses'],
        },
      });
      if (settings.localShards !== undefined) {
        await runLocal(args, whole, settings, setExit);
        return;
      }
      const plan = settings.shard === null ? whole : shardPlan(whole, settings.shard);
      const metricsHost = loopbackBindAddress(args['metrics-host']);
      const lingerSec = checkLinger(args['metrics-linger']);
      const panel = args.quiet ? undefined : new ProgressPanel(process.stderr, plan.name);
      const log = stderrLogger(panel);
      if (args['dry-run']) {
        process.stdout.write(`${describePlan(plan).join('\n')}\ndry run: nothing was started\n`);
        return;
      }
      for (const line of describePlan(plan)) log.info(line);
      if (settings.startAt !== undefined) log.info(`  start: at ${settings.startAt.toISOString()}`);

      const interrupts = listenForInterrupts(log);
      const live = args['metrics-port'] === undefined ? undefined : new LiveMetrics(plan);
      let endpoint: MetricsEndpoint | undefined;
      try {
        if (live !== undefined) {
          endpoint = await startMetricsEndpoint({
            host: metricsHost,
            port: args['metrics-port'] ?? 0,
            families: () => live.families(),
          });
          log.info(`metrics endpoint: ${endpoint.url}`);
        }
        const { report, reportPath, writeError } = await runLoadTest({
          plan,
          certsDir: args.certs,
          outDir: args.out,
          logger: log,
          signal: interrupts.stop,
          forceSignal: interrupts.force,
          workerHeapMb: args['worker-heap-mb'],
          runId: settings.runId,
          startAt: settings.startAt,
          clockServer: settings.clockServer,
          onProgress: panel === undefined ? undefined : (p) => panel.update(p),
          metrics: live,
        });
        const text = args.json ? JSON.stringify(report, null, 2) : renderSummary(report);
        process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
        if (writeError === null) {
          log.info(`report written to ${reportPath}`);
          setExit(exitCodeOf(report, interrupts.stop.aborted));
        } else {
          // The summary is out; now say loudly that the report is not where it was asked for.
          const where =
            reportPath === null
              ? 'the report was not saved anywhere (the summary above is all that is left; ' +
                '--json prints the whole report to stdout)'
              : `the report was written to ${reportPath} instead`;
          process.stderr.write(`${formatError(writeError)}\n${where}\n`);
          setExit(ExitCode.setup);
        }
        // Last, so that `kubectl logs --tail=1` is the report.
        if (args['report-json-line']) process.stdout.write(`${JSON.stringify(report)}\n`);
        if (endpoint !== undefined && lingerSec > 0 && !interrupts.stop.aborted) {
          log.info(`metrics endpoint: serving the final figures for ${lingerSec} s`);
          await sleep(lingerSec * 1000, undefined, { signal: interrupts.stop }).catch(() => {});
        }
      } finally {
        live?.end();
        await endpoint?.close();
        panel?.done();
        interrupts.dispose();
      }
    },
  };
}

/**
 * `--metrics-linger`, checked: seconds, 0..3600.
 *
 * @throws FleetbenchError `E_USAGE` outside that range.
 */
export function checkLinger(sec: number): number {
  if (Number.isFinite(sec) && sec >= 0 && sec <= 3600) return sec;
  throw new FleetbenchError('E_USAGE', `--metrics-linger must be 0..3600 s (got ${sec})`, {
    hint: 'give the seconds to keep serving the final metrics, for a last scrape (0: none)',
  });
}

/**
 * 130 for an interrupted run, 1 for one a worker failure cut short, 3 when a threshold
 * failed, else 0: in that order of precedence.
 */
export function exitCodeOf(report: ReportDocument, interrupted: boolean): number {
  if (interrupted) return ExitCode.interrupted;
  if (report.partial !== null && report.partial.reason !== 'threshold') {
    const prefix = 'worker failed: ';
    const failed = report.warnings
      .filter((w) => w.startsWith(prefix))
      .map((w) => w.slice(prefix.length));
    process.stderr.write(
      `${formatError(
        new FleetbenchError('E_WORKER', `the run was cut short: ${failed.join('; ')}`, {
          hint:
            'a worker out of memory needs a larger --worker-heap-mb or more --workers; ' +
            'anything else is a fleetbench bug: please report it with the report file',
        }),
      )}\n`,
    );
    return ExitCode.internal;
  }
  if (report.thresholds?.some((t) => !t.ok) === true) return ExitCode.threshold;
  return ExitCode.ok;
}
