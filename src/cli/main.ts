#!/usr/bin/env node
/**
 * The fleetbench command line: yargs over the library API. Progress and logs go to stderr,
 * the summary (or --json) to stdout. Exit codes are documented in the README.
 */

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode, exitCodeFor, formatError } from '../errors.js';
import { brokerCommand } from './commands/broker.js';
import { certsCommand } from './commands/certs.js';
import { compareCommand } from './commands/compare.js';
import { mergeCommand } from './commands/merge.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';

async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const setExit = (code: number) => (exitCode = code);
  await yargs(argv)
    .scriptName('fleetbench')
    .usage('$0 <command> [options]\n\nLoad-tests MQTT brokers with fleets of mutual-TLS devices.')
    .command(runCommand(setExit))
    .command(validateCommand(setExit))
    .command(compareCommand(setExit))
    .command(mergeCommand(setExit))
    .command(reportCommand(setExit))
    .command(certsCommand(setExit))
    .command(brokerCommand(setExit))
    .demandCommand(1, 'name a command: run, validate, report, compare, merge, certs, broker')
    .strict()
    .wrap(Math.min(100, process.stderr.columns || 100))
    .fail((msg, err, y) => {
      if (err) throw err;
      process.stderr.write(`${y.help().toString()}\n\nfleetbench: ${msg}\n`);
      exitCode = ExitCode.usage;
    })
    .help()
    .version()
    .parseAsync();
  return exitCode;
}

/** How long the process may stay up once a command has finished, ms. */
const EXIT_GRACE_MS = 10_000;

/**
 * Once a command has finished, its report written and its output flushed, nothing should keep
 * the process alive. If something does (at scale, a run ended at once left its worker threads'
 * sockets closing for over 30 s), the process exits anyway after a grace period, naming what
 * was still open. The timer itself never keeps the process up.
 */
function exitWhenDone(code: number): void {
  process.exitCode = code;
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
    process.stderr.write(
      `warning: still running ${EXIT_GRACE_MS / 1000} s after the command finished ` +
        `(open: ${open.join(', ') || 'none'}): exiting\n`,
    );
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
}

main(hideBin(process.argv)).then(exitWhenDone, (err: unknown) => {
  process.stderr.write(`${formatError(err)}\n`);
  exitWhenDone(exitCodeFor(err));
});
