/**
 * Saving the report at the end of a run without losing it: the output directory was checked
 * before the run, but a disk can fill (or a mount vanish) during one. Then the report goes to
 * the OS temp directory instead, and the caller still gets the report to print.
 */

import os from 'node:os';
import path from 'node:path';
import { FleetbenchError } from '../errors.js';
import type { ReportDocument } from '../report/document.js';
import { writeReport } from '../report/write.js';

/** Where a report ended up. */
export interface SavedReport {
  /** The file written: in the output directory, or the fallback; null when neither worked. */
  reportPath: string | null;
  /** Why the output directory could not take it (`E_OUTPUT`), or null. */
  writeError: FleetbenchError | null;
}

/** The directory a report goes to when its output directory fails: `<tmpdir>/fleetbench`. */
export function fallbackReportDir(): string {
  return path.join(os.tmpdir(), 'fleetbench');
}

/** Writes `report` to `outDir`, or failing that to {@link fallbackReportDir}. Never throws. */
export async function saveReport(outDir: string, report: ReportDocument): Promise<SavedReport> {
  try {
    return { reportPath: await writeReport(outDir, report), writeError: null };
  } catch (err) {
    const writeError = asOutputError(err, outDir);
    const fallback = fallbackReportDir();
    if (path.resolve(fallback) === path.resolve(outDir)) return { reportPath: null, writeError };
    try {
      return { reportPath: await writeReport(fallback, report), writeError };
    } catch {
      return { reportPath: null, writeError };
    }
  }
}

function asOutputError(err: unknown, outDir: string): FleetbenchError {
  if (err instanceof FleetbenchError) return err;
  return new FleetbenchError('E_OUTPUT', `cannot write the report to ${outDir}: ${String(err)}`, {
    hint: 'choose another output directory with --out',
    cause: err,
  });
}
