/** Reading a report file back, with every way it can be wrong named. */

import { readFile } from 'node:fs/promises';
import { FleetbenchError } from '../errors.js';
import { REPORT_FORMAT_VERSION, type ReportDocument } from './document.js';
import { reportProblems } from './validate.js';

/**
 * Reads and checks a report file: JSON, a fleetbench run report, a format this version reads,
 * and sound in structure.
 *
 * @throws FleetbenchError `E_REPORT` naming the file: missing or unreadable, not JSON, not a
 *   fleetbench report, a newer format, or structural problems (each listed with its path).
 */
export async function readReport(file: string): Promise<ReportDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`;
    throw new FleetbenchError('E_REPORT', `report ${file} ${what}`, {
      hint: 'pass the path of a report written by fleetbench run (under reports/ by default)',
      cause: err,
    });
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FleetbenchError('E_REPORT', `report ${file} is not valid JSON`, {
      hint: 'the file may be truncated or edited by hand; re-run or restore it',
      cause: err,
    });
  }

  const doc = checkHeader(parsed, file);
  const problems = reportProblems(doc);
  if (problems.length > 0) {
    throw new FleetbenchError(
      'E_REPORT',
      `report ${file} is damaged: ${problems.length} problem(s)`,
      {
        problems,
        hint: 'the file may be truncated or edited by hand; re-run or restore it',
      },
    );
  }
  return doc as unknown as ReportDocument;
}

function checkHeader(parsed: unknown, file: string): Record<string, unknown> {
  const doc =
    typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  if (doc.kind !== 'fleetbench-run') {
    throw new FleetbenchError('E_REPORT', `${file} is not a fleetbench run report`, {
      hint: 'a report has "kind": "fleetbench-run"; pass a file written by fleetbench run',
    });
  }

  const version = doc.formatVersion;
  if (typeof version === 'number' && version > REPORT_FORMAT_VERSION) {
    throw new FleetbenchError(
      'E_REPORT',
      `report ${file} has format ${version}, newer than this fleetbench reads ` +
        `(format ${REPORT_FORMAT_VERSION})`,
      { hint: 'upgrade fleetbench to read it' },
    );
  }
  if (version !== REPORT_FORMAT_VERSION) {
    throw new FleetbenchError(
      'E_REPORT',
      `report ${file} has formatVersion ${JSON.stringify(version) ?? 'missing'}; ` +
        `this fleetbench reads format ${REPORT_FORMAT_VERSION}`,
    );
  }
  return doc;
}
