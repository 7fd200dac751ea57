/** Building a report document from a run's parts: copied, summarised, checked to be plain JSON. */

import { arch, cpus, hostname, platform, totalmem } from 'node:os';
import { FleetbenchError } from '../errors.js';
import type { AccountingVerdict } from '../metrics/accounting.js';
import type { LoadGeneratorHealth } from '../metrics/health.js';
import { summarize } from '../metrics/merge.js';
import type { HistogramKey, MetricsSnapshot } from '../metrics/types.js';
import {
  REPORT_FORMAT_VERSION,
  type FailureSample,
  type HostInfo,
  type IdentityPreparation,
  type KernelTcpCounters,
  type MergedSource,
  type PartialRun,
  type PhaseInput,
  type ReportDocument,
  type ReportMetrics,
  type ReportScenario,
  type ResolvedOptions,
  type RunIdentity,
  type SecurityFinding,
  type ThresholdVerdict,
  type TimeSeries,
  type ToolInfo,
} from './document.js';
import { assertJsonWithoutKeys } from './sanitize.js';
import type { CapacityResult } from './capacity.js';

/** What {@link buildReport} needs. All of it is copied; none of it is kept. */
export interface BuildReportInput {
  scenario: ReportScenario;
  /** Resolved options, already redacted (a PEM private key anywhere is refused). */
  options: ResolvedOptions;
  tool: ToolInfo;
  /** Default: `process.version`. */
  nodeVersion?: string;
  /** Default: {@link currentHost}(). */
  host?: HostInfo;
  /** Wall-clock time of `metrics.startNs`, ISO 8601: capture both at the same moment. */
  startedAt: string;
  /** Wall-clock end, ISO 8601. */
  endedAt: string;
  /** Run duration, ms. */
  durationMs: number;
  /** `null` when the run went to plan. */
  partial: PartialRun | null;
  warnings: string[];
  /** The final snapshot, merged across workers. */
  metrics: MetricsSnapshot;
  failures: FailureSample[];
  /** Optional: only when the scenario has thresholds. */
  thresholds?: ThresholdVerdict[];
  /** Optional: per-phase snapshots, each with the phase's name, type and timing. */
  phases?: PhaseInput[];
  /** Optional: the accounting verdict. */
  accounting?: AccountingVerdict;
  /** Optional: the kernel's TCP counters over the run. */
  kernel?: KernelTcpCounters;
  /** Optional: a capacity search's result. */
  capacity?: CapacityResult;
  /** Optional: only when interval snapshots were kept. */
  timeSeries?: TimeSeries;
  /** Optional: the workers' self-monitoring. */
  loadGenerator?: LoadGeneratorHealth;
  /** Optional: only for a merged report. */
  mergedFrom?: MergedSource[];
  /** Optional: the preparation of per-device identities. */
  preparation?: IdentityPreparation;
  /** Optional: present only when there are findings. */
  securityFindings?: SecurityFinding[];
  /** Optional: the run id and shard. */
  run?: RunIdentity;
}

/** Describes this machine for a report. */
export function currentHost(): HostInfo {
  const cpuList = cpus();
  return {
    hostname: hostname(),
    platform: platform(),
    arch: arch(),
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
  };
}

/**
 * Builds the report document: copies the input, summarises every histogram, and checks that the
 * whole document is plain JSON with no private key in it.
 *
 * @throws FleetbenchError `E_INTERNAL` when a string looks like a PEM private key or a value is
 *   not JSON (naming its path, never its value); `E_REPORT` for an invalid histogram.
 */
export function buildReport(input: BuildReportInput): ReportDocument {
  if (!Number.isFinite(input.durationMs) || input.durationMs < 0) {
    throw new FleetbenchError(
      'E_INTERNAL',
      `report durationMs must be >= 0 (got ${input.durationMs})`,
    );
  }

  const doc: ReportDocument = {
    formatVersion: REPORT_FORMAT_VERSION,
    kind: 'fleetbench-run',
    scenario: input.scenario,
    options: input.options,
    tool: input.tool,
    nodeVersion: input.nodeVersion ?? process.version,
    host: input.host ?? currentHost(),
    startedAt: input.startedAt,
    endedAt: input.endedAt,
    durationMs: input.durationMs,
    partial: input.partial,
    warnings: input.warnings,
    metrics: reportMetrics(input.metrics),
    failures: input.failures,
  };
  if (input.thresholds !== undefined) doc.thresholds = input.thresholds;
  if (input.accounting !== undefined) doc.accounting = input.accounting;
  if (input.kernel !== undefined) doc.kernel = input.kernel;
  if (input.phases !== undefined) {
    doc.phases = input.phases.map((p) => ({ ...p, metrics: reportMetrics(p.metrics) }));
  }
  if (input.timeSeries !== undefined) doc.timeSeries = input.timeSeries;
  if (input.loadGenerator !== undefined) doc.loadGenerator = input.loadGenerator;
  if (input.mergedFrom !== undefined) doc.mergedFrom = input.mergedFrom;
  if (input.preparation !== undefined) doc.preparation = input.preparation;
  if (input.securityFindings !== undefined) doc.securityFindings = input.securityFindings;
  if (input.run !== undefined) doc.run = input.run;
  if (input.capacity !== undefined) doc.capacity = input.capacity;

  assertJsonWithoutKeys(doc);
  return structuredClone(doc);
}

/** Adds the histogram summaries to a snapshot. */
export function reportMetrics(snapshot: MetricsSnapshot): ReportMetrics {
  const latency: ReportMetrics['latency'] = {};
  for (const [name, encoded] of Object.entries(snapshot.histograms) as [HistogramKey, string][]) {
    latency[name] = summarize(encoded);
  }
  return { ...snapshot, latency };
}
