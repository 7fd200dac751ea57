/** Runs a scenario given as data through the library, the way the CLI does. */

import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runLoadTest, type RunLoadTestResult } from '../../src/coordinator/run-load-test.js';
import type { ReportDocument } from '../../src/report/document.js';
import { planScenario } from '../../src/scenario/load.js';
import { shardPlan } from '../../src/scenario/shard.js';

/** A shard of the run and the run id (`--shard`, `--run-id`). */
export interface ShardOptions {
  shard: { index: number; count: number };
  runId: string;
}

/**
 * Runs `scenario` with the default certificate layout in `certsDir`; reports go to a temp dir.
 * With `sharding`, it runs that shard of the fleet.
 */
export async function runScenario(
  scenario: Record<string, unknown>,
  certsDir: string,
  signal?: AbortSignal,
  sharding?: ShardOptions,
): Promise<RunLoadTestResult & { reportPath: string }> {
  const whole = planScenario(scenario, {
    file: null,
    sha256: null,
    label: 'test scenario',
    certsDir,
  });
  const plan = sharding === undefined ? whole : shardPlan(whole, sharding.shard);
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-reports-'));
  const result = await runLoadTest({ plan, certsDir, outDir, signal, runId: sharding?.runId });
  const { reportPath } = result;
  if (result.writeError !== null || reportPath === null) {
    throw new Error(`the report was not written to ${outDir}: ${String(result.writeError)}`);
  }
  return { ...result, reportPath };
}

/** A counter of the report, 0 when absent. */
export function counter(report: ReportDocument, key: string): number {
  return report.metrics.counters[key] ?? 0;
}

/** The number of values in one of the report's histograms, 0 when absent. */
export function histogramCount(report: ReportDocument, name: string): number {
  const latency = report.metrics.latency as Record<string, { count: number } | undefined>;
  return latency[name]?.count ?? 0;
}
