/** `fleetbench merge <reports...> -o merged.json`: the shard reports of one run into one. */

import { access } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { CommandModule } from 'yargs';
import { FleetbenchError } from '../../errors.js';
import { readReport } from '../../report/document.js';
import { mergeReports } from '../../report/merge-reports.js';
import { renderSummary } from '../../report/table.js';
import { defaultReportBaseName, writeReport } from '../../report/write.js';
import { stderrLogger } from '../output.js';

interface MergeArgs {
  reports: string[];
  out: string | undefined;
  json: boolean;
}

export function mergeCommand(_setExit: (code: number) => void): CommandModule<object, MergeArgs> {
  return {
    command: 'merge <reports..>',
    describe: 'Merge the shard reports of one run into one report',
    builder: (y) =>
      y
        .positional('reports', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'Shard reports of one run',
        })
        .option('out', {
          alias: 'o',
          type: 'string',
          describe:
            'File to write (never overwritten); default reports/<scenario>-<time>-merged.json',
        })
        .option('json', { type: 'boolean', default: false, describe: 'Print the merged report' }),
    handler: async (args) => {
      const reports = await Promise.all(
        args.reports.map(async (file) => ({ file, report: await readReport(file) })),
      );
      const merged = mergeReports(reports);

      const path =
        args.out === undefined ? await writeDefault(merged) : await writeTo(args.out, merged);
      const text = args.json ? JSON.stringify(merged, null, 2) : renderSummary(merged);
      process.stdout.write(`${text}\n`);
      stderrLogger().info(`merged ${reports.length} reports into ${path}`);
    },
  };
}

async function writeDefault(doc: Parameters<typeof writeReport>[1]): Promise<string> {
  return writeReport('reports', doc, { baseName: `${defaultReportBaseName(doc)}-merged` });
}

/** Writes exactly `file`: an existing file is an error, not a reason to pick another name. */
async function writeTo(file: string, doc: Parameters<typeof writeReport>[1]): Promise<string> {
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (exists) {
    throw new FleetbenchError('E_OUTPUT', `${file} exists; merge never overwrites a report`, {
      hint: 'choose another -o file, or move the old one away',
    });
  }
  return writeReport(dirname(file), doc, { baseName: basename(file).replace(/\.json$/, '') });
}
