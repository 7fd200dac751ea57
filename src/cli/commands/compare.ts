/** `fleetbench compare <base...> <candidate>`: is the candidate worse than the base(s)? */

import type { CommandModule } from 'yargs';
import { ExitCode, FleetbenchError } from '../../errors.js';
import { compareReports, type SpreadRule } from '../../report/compare.js';
import { renderComparison } from '../../report/compare-table.js';
import { readReport } from '../../report/read-report.js';

interface CompareArgs {
  reports: string[];
  'fail-on': string[];
  spread: string;
  tolerance: number;
  json: boolean;
}

export function compareCommand(
  setExit: (code: number) => void,
): CommandModule<object, CompareArgs> {
  return {
    command: 'compare <reports..>',
    describe: 'Compare a candidate report (last) with one or more base reports',
    builder: (y) =>
      y
        .positional('reports', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'Base report(s), then the candidate report',
        })
        .option('fail-on', {
          type: 'string',
          array: true,
          default: [] as string[],
          describe: "Exit 3 when a rule holds, e.g. 'roundtrip.p99>+10%' (repeatable)",
        })
        .option('spread', {
          type: 'string',
          default: 'range',
          describe: 'Band of several bases: range (min..max) or <k>sd (mean ± k sd)',
        })
        .option('tolerance', {
          type: 'number',
          default: 5,
          describe: 'With one base, changes under this % are not marked',
        })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'Print the comparison as JSON',
        }),
    handler: async (args) => {
      if (args.reports.length < 2) {
        throw new FleetbenchError('E_USAGE', 'compare needs at least two reports', {
          hint: 'fleetbench compare <base.json> [more bases...] <candidate.json>',
        });
      }
      const spread = parseSpread(args.spread);
      if (!(args.tolerance >= 0)) {
        throw new FleetbenchError(
          'E_USAGE',
          `--tolerance must be a percentage >= 0 (got ${args.tolerance})`,
          { hint: 'e.g. --tolerance 5 for 5%' },
        );
      }

      const files = args.reports;
      const docs = await Promise.all(files.map((f) => readReport(f)));
      const candidate = docs.pop();
      if (candidate === undefined) return;
      const comparison = compareReports(docs, candidate, {
        failOn: args['fail-on'],
        spread,
        tolerance: args.tolerance / 100,
        labels: { bases: files.slice(0, -1), candidate: files.at(-1) ?? 'candidate' },
      });

      const text = args.json
        ? JSON.stringify(comparison, null, 2)
        : renderComparison(comparison, { color: process.stdout.isTTY === true });
      process.stdout.write(`${text}\n`);
      if (comparison.failed) setExit(ExitCode.threshold);
    },
  };
}

function parseSpread(text: string): SpreadRule {
  if (text === 'range') return 'range';
  const m = /^(\d+(?:\.\d+)?)sd$/.exec(text);
  const k = m?.[1] === undefined ? Number.NaN : Number(m[1]);
  if (!(k > 0)) {
    throw new FleetbenchError('E_USAGE', `--spread must be range or <k>sd (got "${text}")`, {
      hint: 'e.g. --spread range, or --spread 2sd for mean ± 2 standard deviations',
    });
  }
  return { sd: k };
}
