/**
 * `fleetbench merge`: the shard reports of one run into one report, without loss. Counters are
 * summed, histograms added bucket by bucket (so the merged percentiles are those of one
 * histogram fed every value), gauges summed, time series and phases aligned on the wall clock,
 * thresholds judged again on the merged numbers. Reports of different scenarios or runs are
 * refused: their sum would mean nothing.
 */

import { FleetbenchError } from '../errors.js';
import { accountingVerdict } from '../metrics/accounting.js';
import type { LoadGeneratorHealth } from '../metrics/health.js';
import { mergeSnapshots } from '../metrics/merge.js';
import { evaluateThreshold, parseThreshold } from '../scenario/thresholds.js';
import { buildReport } from './build-report.js';
import {
  type FailureSample,
  type HostInfo,
  type KernelTcpCounters,
  type MergedSource,
  type PhaseInput,
  type ReportDocument,
  type ThresholdVerdict,
} from './document.js';
import { clockOrigin, clockShift, shiftSnapshot } from './merge-clock.js';
import { mergedKernel, type KernelReading } from './merge-kernel.js';
import { checkOneRun, refusal } from './merge-runs.js';
import { bare, mergePhases, mergeTimeSeries, type ShiftedReport } from './merge-series.js';
import type { RunIdentity } from './run-identity.js';

/** A report to merge, with the file it came from (named in errors and in `mergedFrom`). */
export interface MergeInput {
  file: string;
  report: ReportDocument;
}

/** Options of {@link mergeReports}. */
export interface MergeOptions {
  /**
   * Merge what there is when shards of the run are missing (a shard that failed); the merged
   * report is then partial and names them. Default false: missing shards are refused.
   */
  allowMissing?: boolean;
}

/**
 * Merges the shard reports of one run.
 *
 * @throws FleetbenchError `E_USAGE` for no report, or one without `allowMissing`; `E_REPORT`
 *   naming the file for a report of another scenario or run (another run id, or no overlap
 *   in time), a shard twice, a shard missing (without `allowMissing`), another shard count,
 *   or a time series with another interval length.
 */
export function mergeReports(
  inputs: readonly MergeInput[],
  options: MergeOptions = {},
): ReportDocument {
  const allowMissing = options.allowMissing ?? false;
  if (inputs.length < (allowMissing ? 1 : 2)) {
    throw new FleetbenchError('E_USAGE', 'merge needs at least two reports', {
      hint: 'fleetbench merge <shard-1.json> <shard-2.json> ... -o merged.json',
    });
  }
  const run = checkOneRun(inputs, allowMissing);
  checkOverlap(inputs);

  // The earliest report's clock is the merged report's clock.
  const sorted = [...inputs].sort(
    (a, b) => clockOrigin(a.report).wallMs - clockOrigin(b.report).wallMs,
  );
  const reference = (sorted[0] as MergeInput).report;
  const shards: ShiftedReport[] = sorted.map((s) => ({
    ...s,
    shiftNs: clockShift(s.report, reference),
  }));

  const metrics = mergeSnapshots(
    shards.map((s) => shiftSnapshot(bare(s.report.metrics), s.shiftNs)),
  );
  const timeSeries = mergeTimeSeries(shards);
  const phases = withPhaseKernels(mergePhases(shards, BigInt(metrics.startNs)), shards);
  const startedMs = Math.min(...inputs.map((i) => Date.parse(i.report.startedAt)));
  const endedMs = Math.max(...inputs.map((i) => Date.parse(i.report.endedAt)));
  const durationMs = endedMs - startedMs;
  const thresholds = rejudge(reference, { metrics, durationMs, run }, phases);

  return buildReport({
    scenario: reference.scenario,
    options: mergedOptions(shards),
    tool: reference.tool,
    nodeVersion: reference.nodeVersion,
    host: mergedHost(inputs.map((i) => i.report.host)),
    startedAt: new Date(startedMs).toISOString(),
    endedAt: new Date(endedMs).toISOString(),
    durationMs,
    partial: mergedPartial(inputs, run),
    warnings: mergedWarnings(inputs),
    metrics,
    failures: mergeFailureSamples(inputs.map((i) => i.report.failures)),
    phases,
    ...(thresholds === undefined ? {} : { thresholds }),
    ...optional(
      'kernel',
      mergedKernel(inputs.map((i) => kernelReading(i.report, i.report.kernel))),
    ),
    ...optional('accounting', accountingVerdict(metrics.counters)),
    ...optional('loadGenerator', mergedHealth(sorted.map((s) => s.report.loadGenerator))),
    ...(timeSeries === undefined ? {} : { timeSeries }),
    mergedFrom: sorted.map((s) => describeSource(s)),
    run,
  });
}

/** The reports' common span must overlap: shards of one run run at the same time. */
function checkOverlap(inputs: readonly MergeInput[]): void {
  const [first, ...rest] = inputs as [MergeInput, ...MergeInput[]];
  const spanOf = (r: ReportDocument) => [Date.parse(r.startedAt), Date.parse(r.endedAt)] as const;
  const [firstStart, firstEnd] = spanOf(first.report);
  for (const other of rest) {
    const r = other.report;
    const [start, end] = spanOf(r);
    if (start > firstEnd || end < firstStart) {
      throw refusal(
        `${other.file} ran ${r.startedAt} .. ${r.endedAt}, ${first.file} ` +
          `${first.report.startedAt} .. ${first.report.endedAt}: they are not shards of one run`,
      );
    }
  }
}

/** The first shard's options, with the fleet and the workers of every shard added up. */
function mergedOptions(shards: readonly ShiftedReport[]): ReportDocument['options'] {
  const first = (shards[0] as ShiftedReport).report.options;
  const sum = (key: 'devices' | 'workers') => shards.reduce((n, s) => n + s.report.options[key], 0);
  return { ...first, devices: sum('devices'), workers: sum('workers') };
}

/** One host as it is; several with their names joined and their CPUs and memory added. */
function mergedHost(hosts: readonly HostInfo[]): HostInfo {
  const distinct = [...new Map(hosts.map((h) => [h.hostname, h])).values()];
  const first = distinct[0] as HostInfo;
  if (distinct.length === 1) return first;
  return {
    ...first,
    hostname: distinct.map((h) => h.hostname).join(', '),
    cpus: distinct.reduce((n, h) => n + h.cpus, 0),
    memoryBytes: distinct.reduce((n, h) => n + h.memoryBytes, 0),
  };
}

function kernelReading(r: ReportDocument, kernel: KernelTcpCounters | undefined): KernelReading {
  return { hostname: r.host.hostname, kernel };
}

/** The merged phases, each with the shards' kernel counters of that phase merged. */
function withPhaseKernels(phases: PhaseInput[], shards: readonly ShiftedReport[]): PhaseInput[] {
  // mergePhases keeps phase index i when some shard has it: the same indices, in order.
  const count = Math.max(0, ...shards.map((s) => s.report.phases?.length ?? 0));
  const indices = [...Array(count).keys()].filter((i) =>
    shards.some((s) => s.report.phases?.[i] !== undefined),
  );
  return phases.map((phase, k) => {
    const i = indices[k] ?? -1;
    const readings = shards.map((s) => kernelReading(s.report, s.report.phases?.[i]?.kernel));
    const kernel = mergedKernel(readings);
    return kernel === undefined ? phase : { ...phase, kernel };
  });
}

function mergedPartial(inputs: readonly MergeInput[], run: RunIdentity): ReportDocument['partial'] {
  const partial = inputs.filter((i) => i.report.partial !== null);
  const head = partial[0]?.report.partial;
  const missing = run.missingShards ?? [];
  if (missing.length > 0) {
    const of = `of ${run.shardCount ?? missing.length}`;
    const also = head ? `; ${head.reason} in ${partial.map((p) => p.file).join(', ')}` : '';
    return {
      reason: `missing-shards: ${missing.join(', ')} ${of}${also}`,
      phase: head?.phase ?? 'done',
    };
  }
  if (head === undefined || head === null) return null;
  const files = partial.map((p) => p.file).join(', ');
  return { reason: `shard-partial: ${head.reason} (${files})`, phase: head.phase };
}

function mergedWarnings(inputs: readonly MergeInput[]): string[] {
  const warnings = inputs.flatMap((i) => i.report.warnings.map((w) => `${i.file}: ${w}`));
  const versions = new Set(inputs.map((i) => i.report.tool.version));
  if (versions.size > 1) {
    warnings.push(`shards ran different fleetbench versions: ${[...versions].join(', ')}`);
  }
  const targets = new Set(inputs.map((i) => i.report.options.target));
  const embedded = inputs.every((i) => i.report.options.embeddedBroker === true);
  if (targets.size > 1 && !embedded) {
    warnings.push(`shards ran against different targets: ${[...targets].join(', ')}`);
  }
  if (embedded) {
    warnings.push('each shard ran its own embedded broker: the merged run loaded several brokers');
  }
  const hosts = new Set(inputs.map((i) => i.report.host.hostname));
  const servers = new Set(inputs.map((i) => i.report.run?.clock?.server ?? null));
  const measured = inputs.every((i) => typeof i.report.run?.clock?.offsetMs === 'number');
  if (hosts.size > 1 && !(measured && servers.size === 1)) {
    warnings.push(
      `shards ran on ${hosts.size} hosts whose clock offsets were not measured against one ` +
        'server (--clock-server): their time series are aligned by their own wall clocks',
    );
  }
  return warnings;
}

/** Failure samples of the shards, the same failure's counts added, most frequent first. */
export function mergeFailureSamples(lists: readonly FailureSample[][]): FailureSample[] {
  const out = new Map<string, FailureSample>();
  for (const sample of lists.flat()) {
    const key = `${sample.category}|${sample.message}`;
    const found = out.get(key);
    if (found) found.count += sample.count;
    else out.set(key, { ...sample });
  }
  return [...out.values()].sort((a, b) => b.count - a.count);
}

/** The reference's thresholds, judged again on the merged numbers (shard verdicts do not add). */
function rejudge(
  reference: ReportDocument,
  run: {
    metrics: ReportDocument['metrics'] | PhaseInput['metrics'];
    durationMs: number;
    run: RunIdentity;
  },
  phases: readonly PhaseInput[],
): ThresholdVerdict[] | undefined {
  const verdicts = reference.thresholds;
  if (verdicts === undefined) return undefined;
  return verdicts.map((v, i) => {
    const phaseName = v.phase ?? null;
    const plan = parseThreshold(v.expression, `thresholds[${i}]`, { phase: phaseName });
    const source = phaseName === null ? run : phases.find((p) => p.name === phaseName);
    if (source === undefined)
      return { expression: v.expression, ok: false, actual: null, unit: v.unit, phase: phaseName };
    return evaluateThreshold(plan, source);
  });
}

/** `{ [key]: value }`, or nothing for a null or undefined value. */
function optional<K extends string, V>(key: K, value: V | null | undefined): { [k in K]?: V } {
  return value === null || value === undefined ? {} : ({ [key]: value } as { [k in K]: V });
}

/**
 * The shards' load-generator health side by side: saturated if any shard was, workers
 * numbered on from one shard to the next, process CPU added up (unknown if any is unknown).
 */
function mergedHealth(
  list: readonly (LoadGeneratorHealth | undefined)[],
): LoadGeneratorHealth | undefined {
  const present = list.filter((h): h is LoadGeneratorHealth => h !== undefined);
  const first = present[0];
  if (first === undefined) return undefined;
  let next = 0;
  const workers = present.flatMap((h) => h.workers.map((w) => ({ ...w, workerId: next++ })));
  const cpu = present.map((h) => h.processCpuCores);
  return {
    saturated: present.some((h) => h.saturated),
    limits: first.limits,
    workers,
    processCpuCores: cpu.every((c) => c !== null) ? cpu.reduce((a, b) => a + b, 0) : null,
  };
}

function describeSource(s: MergeInput): MergedSource {
  const r = s.report;
  return {
    file: s.file,
    hostname: r.host.hostname,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    devices: r.options.devices,
    partial: r.partial !== null,
    ...(r.run?.shard ? { shard: { index: r.run.shard.index, count: r.run.shard.count } } : {}),
    ...(r.run?.clock ? { clockOffsetMs: r.run.clock.offsetMs } : {}),
  };
}
