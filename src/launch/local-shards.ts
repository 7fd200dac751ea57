/**
 * The local launcher: one run split into n shard processes on this machine (one process holds
 * at most ~19,900 connections under a 20,000 open-file limit). Each child is `fleetbench run
 * --shard i/n` with the same run id and agreed start; the launcher forwards their log lines,
 * relays stop requests to them by pid, waits, and merges the shard reports it finds into one
 * report (partial, naming the missing shards, when a shard failed). Shard reports are kept.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

import type { Logger } from '../logger.js';
import type { ReportDocument } from '../report/document.js';
import { mergeReports, type MergeInput } from '../report/merge-reports.js';
import { readReport } from '../report/read-report.js';
import { writeNewFile } from '../report/write.js';

/** Options of {@link runLocalShards}. */
export interface LocalShardsOptions {
  /** The scenario file. */
  scenario: string;
  /** Shard processes to start, >= 1. */
  shards: number;
  /** Options every child gets besides `--shard`, `--run-id`, `--start-at` and `--out`. */
  childArgs: string[];
  /** Options only shard `index` gets (its own metrics port); default none. */
  shardArgs?: (index: number) => string[];
  runId: string;
  /** The agreed start every child waits for. */
  startAt: Date;
  /** The run's directory: shard i reports under `shard-<i>/`, the merged report beside. */
  runDir: string;
  /** File name of the merged report in `runDir`. */
  mergedName: string;
  /** The fleetbench CLI entry point the children run. */
  cliPath: string;
  logger: Logger;
  /** Aborting it sends each child SIGINT (it stops gracefully and writes a partial report). */
  signal?: AbortSignal;
  /** Aborting it sends SIGINT again (each child ends its workers at once). */
  forceSignal?: AbortSignal;
}

/** How one shard process ended. */
export interface ShardOutcome {
  index: number;
  pid: number;
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Its report, or null when it wrote none. */
  reportFile: string | null;
}

/** What the launch produced. */
export interface LocalShardsResult {
  shards: ShardOutcome[];
  /** The merged report (partial when shards are missing); null when no shard wrote one. */
  merged: ReportDocument | null;
  mergedFile: string | null;
}

/** Runs the shard processes to their end and merges their reports. */
export async function runLocalShards(o: LocalShardsOptions): Promise<LocalShardsResult> {
  await mkdir(o.runDir, { recursive: true });
  const children = Array.from({ length: o.shards }, (_, index) => startShard(o, index));
  const relay = (again: boolean) => {
    for (const c of children) {
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGINT');
    }
    o.logger.warn(
      again
        ? 'asked each shard to end its workers at once'
        : `asked the ${o.shards} shards to stop; each writes a partial report`,
    );
  };
  const onStop = () => relay(false);
  const onForce = () => relay(true);
  o.signal?.addEventListener('abort', onStop, { once: true });
  o.forceSignal?.addEventListener('abort', onForce, { once: true });
  let outcomes: ShardOutcome[];
  try {
    outcomes = await Promise.all(children.map((c) => c.ended));
  } finally {
    o.signal?.removeEventListener('abort', onStop);
    o.forceSignal?.removeEventListener('abort', onForce);
  }

  const inputs: MergeInput[] = [];
  for (const s of outcomes) {
    if (s.reportFile === null) continue;
    try {
      inputs.push({ file: s.reportFile, report: await readReport(s.reportFile) });
    } catch (err) {
      o.logger.warn(`shard ${s.index}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (inputs.length === 0) return { shards: outcomes, merged: null, mergedFile: null };
  const merged = mergeReports(inputs, { allowMissing: true });
  const mergedFile = await writeNewFile(
    path.join(o.runDir, o.mergedName),
    `${JSON.stringify(merged, null, 2)}\n`,
  );
  return { shards: outcomes, merged, mergedFile };
}

interface RunningShard {
  child: ChildProcess;
  ended: Promise<ShardOutcome>;
}

function startShard(o: LocalShardsOptions, index: number): RunningShard {
  const outDir = path.join(o.runDir, `shard-${index}`);
  const args = [
    o.cliPath,
    'run',
    o.scenario,
    ...o.childArgs,
    ...(o.shardArgs?.(index) ?? []),
    ...['--shard', `${index}/${o.shards}`, '--run-id', o.runId],
    ...['--start-at', o.startAt.toISOString(), '--out', outDir],
  ];
  // Its own process group: a Ctrl-C on the terminal reaches the launcher only, which relays
  // it once; otherwise every child would get it twice and stop at once.
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const label = `[shard ${index}/${o.shards}]`;
  o.logger.info(`${label} started, pid ${child.pid ?? '?'}: ${outDir}`);
  if (child.stderr !== null) {
    createInterface({ input: child.stderr }).on('line', (line) =>
      o.logger.info(`${label} ${line}`),
    );
  }
  const ended = new Promise<ShardOutcome>((resolve) => {
    child.once('error', (err) => {
      o.logger.warn(`${label} could not start: ${err.message}`);
    });
    child.once('close', (code, signal) => {
      void findReport(outDir).then((reportFile) =>
        resolve({ index, pid: child.pid ?? -1, code, signal, reportFile }),
      );
    });
  });
  return { child, ended };
}

/** The report a shard wrote into its own directory, or null. */
async function findReport(dir: string): Promise<string | null> {
  const files = await readdir(dir).catch(() => [] as string[]);
  const json = files.filter((f) => f.endsWith('.json')).sort();
  return json.length === 0 ? null : path.join(dir, json[json.length - 1] as string);
}
