/**
 * The checks that reports given to `merge` are the shards of one run: one scenario, one run
 * id, one shard count, each shard once and (unless a partial merge is asked for) every shard.
 */

import { FleetbenchError } from '../errors.js';
import type { ReportDocument } from './document.js';
import type { RunIdentity } from './run-identity.js';

/** A report with the file it came from. */
interface Source {
  file: string;
  report: ReportDocument;
}

/**
 * Checks the reports and describes the merged run.
 * @param allowMissing merge what there is when shards are missing (the caller marks the
 *   merged report partial)
 * @throws FleetbenchError `E_REPORT` naming the files: another scenario, another run id,
 *   another shard count, a shard twice, a shard missing, or a report without a run id
 */
export function checkOneRun(inputs: readonly Source[], allowMissing: boolean): RunIdentity {
  const [first, ...rest] = inputs as [Source, ...Source[]];
  for (const other of rest) checkScenario(first, other);
  const runOf = (s: Source) => {
    const run = s.report.run;
    if (run === undefined || run.shard === null) {
      const why =
        run === undefined
          ? 'names no run id (an older fleetbench wrote it)'
          : 'is itself a merged report';
      throw refusal(`${s.file} ${why}`, 'merge the shard reports that `fleetbench run` wrote');
    }
    return { ...run, shard: run.shard };
  };
  const head = runOf(first);
  const byIndex = new Map<number, string>();
  for (const s of inputs) {
    const run = runOf(s);
    if (run.id !== head.id) {
      throw refusal(
        `${s.file} is from run ${run.id}, ${first.file} from run ${head.id}`,
        'merge the shard reports of one run (same --run-id); their run ids must match',
      );
    }
    if (run.shard.count !== head.shard.count) {
      throw refusal(
        `${s.file} is shard ${run.shard.index}/${run.shard.count}, ${first.file} shard ` +
          `${head.shard.index}/${head.shard.count}: not one split of the fleet`,
      );
    }
    const twin = byIndex.get(run.shard.index);
    if (twin !== undefined) {
      throw refusal(
        `${s.file} and ${twin} are both shard ${run.shard.index}/${run.shard.count} of run ` +
          run.id,
        'give each shard report once',
      );
    }
    byIndex.set(run.shard.index, s.file);
  }
  const count = head.shard.count;
  const shards = [...byIndex.keys()].sort((a, b) => a - b);
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0 && !allowMissing) {
    throw refusal(
      `run ${head.id} has ${count} shards but ${missing.length === 1 ? 'shard' : 'shards'} ` +
        `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`,
      'add the missing shard reports, or --allow-partial to merge what there is ' +
        '(the merged report is then marked partial)',
    );
  }
  const start = mergedStart(inputs.map((s) => s.report.run?.start));
  return {
    id: head.id,
    idSource: head.idSource,
    shard: null,
    shards,
    missingShards: missing,
    shardCount: count,
    ...(start === undefined ? {} : { start }),
  };
}

/** The agreed start with the latest shard's lateness, when every shard had one. */
function mergedStart(starts: (RunIdentity['start'] | undefined)[]): RunIdentity['start'] {
  const present = starts.filter((s) => s !== undefined);
  const first = present[0];
  if (first === undefined || present.length < starts.length) return undefined;
  return {
    at: first.at,
    latenessMs: Math.max(...present.map((s) => s.latenessMs)),
    readyBeforeMs: Math.min(...present.map((s) => s.readyBeforeMs)),
  };
}

function checkScenario(first: Source, other: Source): void {
  const label = (r: ReportDocument) =>
    `"${r.scenario.name}"${r.scenario.sha256 ? ` (sha256 ${r.scenario.sha256.slice(0, 12)})` : ''}`;
  const a = first.report.scenario;
  const b = other.report.scenario;
  if (a.name === b.name && a.sha256 === b.sha256) return;
  throw refusal(
    `${other.file} is a report of scenario ${label(other.report)}, ${first.file} of ` +
      label(first.report),
  );
}

/** The refusal of a merge. */
export function refusal(message: string, hint?: string): FleetbenchError {
  return new FleetbenchError('E_REPORT', `cannot merge: ${message}`, {
    hint: hint ?? 'merge takes the shard reports of one run of one scenario, each once',
  });
}
