/** `fleetbench merge <reports...> -o merged.json`: the shard reports of one run into one. */

import type { CommandModule } from 'yargs';
import { readReport } from '../../report/read-report.js';
import { mergeReports } from '../../report/merge-reports.js';
import { renderSummary } from '../../report/table.js';
import { defaultReportBaseName, writeNewFile, writeReport } from '../../report/write.js';
import { stderrLogger } from '../output.js';

interface MergeArgs {
  reports: string[];
  out: string | undefined;
  json: boolean;
  'allow-partial': boolean;
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
        .option('json', { type: 'boolean', default: false, describe: 'Print the merged report' })
        .option('allow-partial', {
          type: 'boolean',
          default: false,
          describe: 'Merge what there is when shards are missing (the report is marked partial)',
        }),
    handler: async (args) => {
      const reports = await Promise.all(
        args.reports.map(async (file) => ({ file, report: await readReport(file) })),
      );
      const merged = mergeReports(reports, { allowMissing: args['allow-partial'] });

      const path =
        args.out === undefined
          ? await writeDefault(merged)
          : await writeNewFile(args.out, `${JSON.stringify(merged, null, 2)}\n`);
      const text = args.json ? JSON.stringify(merged, null, 2) : renderSummary(merged);
      process.stdout.write(`${text}\n`);
      const log = stderrLogger();
      log.info(`merged ${reports.length} reports into ${path}`);
      const missing = merged.run?.missingShards ?? [];
      if (missing.length > 0) {
        log.warn(`shards ${missing.join(', ')} are missing: the merged report is partial`);
      }
    },
  };
}

async function writeDefault(doc: Parameters<typeof writeReport>[1]): Promise<string> {
  return writeReport('reports', doc, { baseName: `${defaultReportBaseName(doc)}-merged` });
}
