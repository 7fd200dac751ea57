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

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${formatError(err)}\n`);
    process.exitCode = exitCodeFor(err);
  },
);
