/** `fleetbench report <report.json>`: read a report, or export it as HTML, CSV, .hgrm or .hlog. */

import type { CommandModule } from 'yargs';
import { readReport } from '../../report/read-report.js';
import { measuredHistograms, renderCsv, renderHgrm, renderHlog } from '../../report/exports.js';
import { renderHtml } from '../../report/html.js';
import { renderSummary } from '../../report/table.js';
import { writeNewFile } from '../../report/write.js';
import { stderrLogger } from '../output.js';

interface ReportArgs {
  report: string;
  html: string | undefined;
  csv: boolean;
  hgrm: boolean;
  hlog: string | undefined;
}

export function reportCommand(_setExit: (code: number) => void): CommandModule<object, ReportArgs> {
  return {
    command: 'report <report>',
    describe: 'Print a report, or write it as an HTML page, CSV, .hgrm files or an .hlog',
    builder: (y) =>
      y
        .positional('report', { type: 'string', demandOption: true, describe: 'Report JSON' })
        .option('html', { type: 'string', describe: 'Write a self-contained HTML page to FILE' })
        .option('csv', {
          type: 'boolean',
          default: false,
          describe: 'Write the time series to <report>.csv',
        })
        .option('hgrm', {
          type: 'boolean',
          default: false,
          describe: 'Write each histogram to <report>.<metric>.hgrm (HdrHistogram text)',
        })
        .option('hlog', {
          type: 'string',
          describe: 'Write the time series to FILE as an HdrHistogram interval log (.hlog)',
        }),
    handler: async (args) => {
      const report = await readReport(args.report);
      const log = stderrLogger();
      const base = args.report.replace(/\.json$/, '');
      const written: string[] = [];

      if (args.html !== undefined) written.push(await writeNewFile(args.html, renderHtml(report)));
      if (args.hlog !== undefined) written.push(await writeNewFile(args.hlog, renderHlog(report)));
      if (args.csv) written.push(await writeNewFile(`${base}.csv`, renderCsv(report)));
      if (args.hgrm) {
        for (const name of measuredHistograms(report)) {
          written.push(await writeNewFile(`${base}.${name}.hgrm`, renderHgrm(report, name)));
        }
      }

      if (written.length === 0) {
        const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
        process.stdout.write(`${renderSummary(report, { color })}\n`);
      }
      for (const file of written) log.info(`wrote ${file}`);
    },
  };
}
