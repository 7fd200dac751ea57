/** `fleetbench run <scenario>`: run a scenario, print the summary, write the report. */

import type { CommandModule } from 'yargs';
import { runLoadTest } from '../../coordinator/run-load-test.js';
import { ExitCode, FleetbenchError, formatError } from '../../errors.js';
import type { ReportDocument } from '../../report/document.js';
import { renderSummary } from '../../report/table.js';
import { describePlan } from '../../scenario/plan.js';
import { loadScenario } from '../../scenario/load.js';
import { resolveShardSpec, shardPlan } from '../../scenario/shard.js';
import { stderrLogger } from '../output.js';
import { ProgressPanel } from '../progress-panel.js';

interface RunArgs {
  scenario: string;
  target: string | undefined;
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
  shard: string | undefined;
  shards: number | undefined;
  'run-id': string | undefined;
}

export function runCommand(setExit: (code: number) => void): CommandModule<object, RunArgs> {
  return {
    command: 'run <scenario>',
    describe: 'Run a scenario file against a broker (the embedded one by default)',
    builder: (y) =>
      y
        .positional('scenario', {
          type: 'string',
          demandOption: true,
          describe: 'YAML or JSON file',
        })
        .option('target', { type: 'string', describe: 'Broker URL, mqtts://host:port' })
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
        .option('dry-run', {
          type: 'boolean',
          default: false,
          describe: 'Check the scenario and print the plan; connect nothing',
        })
        .option('shard', {
          type: 'string',
          describe: 'Run shard i of n of the fleet (0-based), e.g. 2/8; see docs/kubernetes.md',
        })
        .option('shards', {
          type: 'number',
          describe:
            'Number of shards, with the index from JOB_COMPLETION_INDEX (default: FLEETBENCH_SHARDS)',
        })
        .option('run-id', {
          type: 'string',
          describe:
            'Run id shared by every shard of the run (default: FLEETBENCH_RUN_ID, else derived)',
        }),
    handler: async (args) => {
      const env = process.env;
      const shard = resolveShardSpec({
        shard: args.shard,
        shards: args.shards ?? env.FLEETBENCH_SHARDS,
        completionIndex: env.JOB_COMPLETION_INDEX,
      });
      const whole = await loadScenario(args.scenario, {
        certsDir: args.certs,
        overrides: {
          target: args.target,
          devices: args.devices,
          workers: args.workers,
          durationSec: args.duration,
          thresholds: args.threshold,
        },
      });
      const plan = shard === null ? whole : shardPlan(whole, shard);
      const runId = args['run-id'] ?? nonEmpty(env.FLEETBENCH_RUN_ID);
      const panel = args.quiet ? undefined : new ProgressPanel(process.stderr, plan.name);
      const log = stderrLogger(panel);
      if (args['dry-run']) {
        process.stdout.write(`${describePlan(plan).join('\n')}\ndry run: nothing was started\n`);
        return;
      }
      for (const line of describePlan(plan)) log.info(line);

      const stop = new AbortController();
      const force = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (!stop.signal.aborted) {
          log.warn(
            `${signal}: stopping: devices disconnect and the report is written (partial); ` +
              'press Ctrl-C again to stop at once',
          );
          stop.abort('interrupted');
        } else if (!force.signal.aborted) {
          log.warn(`${signal} again: ending the workers now; the report keeps what they sent`);
          force.abort('interrupted');
        } else {
          log.warn(`${signal} a third time: exiting without writing the report`);
          process.exit(ExitCode.interrupted);
        }
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const { report, reportPath, writeError } = await runLoadTest({
          plan,
          certsDir: args.certs,
          outDir: args.out,
          logger: log,
          signal: stop.signal,
          forceSignal: force.signal,
          workerHeapMb: args['worker-heap-mb'],
          runId,
          onProgress: panel === undefined ? undefined : (p) => panel.update(p),
        });
        const text = args.json ? JSON.stringify(report, null, 2) : renderSummary(report);
        process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
        if (writeError === null) {
          log.info(`report written to ${reportPath}`);
          setExit(exitCodeOf(report, stop.signal.aborted));
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
      } finally {
        panel?.done();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * 130 for an interrupted run, 1 for one a worker failure cut short, 3 when a threshold
 * failed, else 0: in that order of precedence.
 */
function exitCodeOf(report: ReportDocument, interrupted: boolean): number {
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
