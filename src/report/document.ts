/**
 * The JSON report of one run: what ran, where, when, and everything it measured, with the
 * encoded histograms so `compare` and `merge` work from the report alone, without loss.
 * Format changes that old readers would misread bump `formatVersion`.
 */

import type { AccountingVerdict } from '../metrics/accounting.js';
import type { HistogramSummary } from '../metrics/merge.js';
import type { LoadGeneratorHealth } from '../metrics/health.js';
import type { GroupHistogramName, HistogramName, MetricsSnapshot } from '../metrics/types.js';
import type { RunIdentity, ShardRef } from './run-identity.js';
import type { CapacityResult } from './capacity.js';

export type { RunIdentity, ShardRef } from './run-identity.js';

/** The report format this code writes and reads. */
export const REPORT_FORMAT_VERSION = 1;

/** A JSON value, as the report stores options. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/**
 * The run's resolved options (the plan with every default applied), redacted by the caller:
 * file paths may appear, key material and passwords never do.
 */
export interface ResolvedOptions {
  /** The broker the fleet connected to, as a URL (`mqtts://127.0.0.1:8884`). */
  target: string;
  /** Devices in the fleet. */
  devices: number;
  /** Worker threads. */
  workers: number;
  [key: string]: JsonValue;
}

/** The machine the run ran on. */
export interface HostInfo {
  /** `os.hostname()`. */
  hostname: string;
  /** `process.platform`, e.g. `linux`. */
  platform: string;
  /** `process.arch`, e.g. `x64`. */
  arch: string;
  /** Logical CPUs. */
  cpus: number;
  /** CPU model name of the first CPU, as the OS reports it. */
  cpuModel: string;
  /** Total memory, bytes. */
  memoryBytes: number;
}

/** Why a run stopped before its plan ended. */
export interface PartialRun {
  /** What stopped it, e.g. `interrupted` (SIGINT) or `worker-failed`. */
  reason: string;
  /** The phase it was in when it stopped, e.g. `ramp`, `traffic`, `drain`. */
  phase: string;
}

/** An example of one kind of failure, with how often that kind happened. */
export interface FailureSample {
  /** Counter category, e.g. `tls` or `refused.135`. */
  category: string;
  /** The first error message seen for this category. */
  message: string;
  /** The device it happened to first. */
  deviceId: string;
  /** How many failures of this category were seen. */
  count: number;
}

/**
 * A threshold and its verdict (issue 4 owns its meaning and may add fields). Optional in
 * format 1; absent when the scenario has no thresholds.
 */
export interface ThresholdVerdict {
  /** The rule as written, e.g. `roundtrip.p99 < 50ms`. */
  expression: string;
  /** Whether the rule held. */
  ok: boolean;
  /** The measured value, in the rule's unit; `null` when there was nothing to measure. */
  actual: number | null;
  /** The rule's unit (`ms`, `%`, ... or '' for a plain number). */
  unit?: string;
  /** The phase whose metrics the rule was checked against; `null` for the whole run. */
  phase?: string | null;
  /** True when this rule stopped the run early (`abortOnFail`). */
  aborted?: boolean;
}

/**
 * The measurements of one phase of the run (issue 4), merged across workers. Each worker's
 * phase runs from when it entered the phase to when it left it; the last phase also covers
 * the drain and the final disconnect. Optional in format 1.
 */
export interface PhaseReport {
  /** The phase's name, as in the scenario. */
  name: string;
  /** Its type: `ramp`, `steady`, `hold`, `storm` or `ramp-down`. */
  type: string;
  /** When the first worker entered it, ms after the run's start. */
  startMs: number;
  /** From the first worker entering it to the last one leaving it, ms. */
  durationMs: number;
  metrics: ReportMetrics;
  /** The kernel's TCP counters during the phase (loopback targets; issue 4). */
  kernel?: KernelTcpCounters;
}

/**
 * Interval snapshots in time order, each merged across workers: the HdrHistogram interval log
 * in JSON, so any interval can be re-read without loss (issue 5). Optional in format 1.
 */
export interface TimeSeries {
  /** Nominal interval length, ms: interval k starts about `k * intervalMs` after `startNs`. */
  intervalMs: number;
  /** The series' origin, `process.hrtime.bigint()` ns as a decimal string (the run's start). */
  startNs: string;
  /** Wall-clock time of `startNs`, ISO 8601: what aligns the series of shards on one clock. */
  startedAt: string;
  /**
   * The intervals in time order, each merged across workers, with its own `startNs`/`endNs`
   * on the clock of `startNs`. Intervals in which nothing reported are left out.
   */
  intervals: MetricsSnapshot[];
}

/**
 * Measurements of a stretch of the run: a {@link MetricsSnapshot} (so it can be merged as it
 * is) plus summaries of its histograms for reading.
 */
export interface ReportMetrics extends MetricsSnapshot {
  /** Per-histogram summary, microseconds, derived from `histograms`. */
  latency: Partial<Record<HistogramName, HistogramSummary>> &
    Record<GroupHistogramName, HistogramSummary>;
}

/** The report document, format 1. */
export interface ReportDocument {
  /** Bumped when a change would make older readers misread the file. */
  formatVersion: typeof REPORT_FORMAT_VERSION;
  /** Tells a run report from other JSON (and from later kinds, such as a comparison). */
  kind: 'fleetbench-run';
  scenario: ReportScenario;
  /** The resolved options the run used, redacted. */
  options: ResolvedOptions;
  /** The tool that wrote the report, e.g. `{ name: 'fleetbench', version: '0.1.0' }`. */
  tool: ToolInfo;
  /** `process.version` of the coordinator, e.g. `v20.20.2`. */
  nodeVersion: string;
  host: HostInfo;
  /** Wall-clock start, ISO 8601; the same instant as `metrics.startNs`. */
  startedAt: string;
  /** Wall-clock end, ISO 8601. */
  endedAt: string;
  /** Run duration, ms. */
  durationMs: number;
  /** Set when the run stopped early; its numbers cover only what ran. */
  partial: PartialRun | null;
  /** Things the user should know about how the numbers were taken, one sentence each. */
  warnings: string[];
  /** The whole run, merged across workers (and shards). */
  metrics: ReportMetrics;
  /** One sample per failure category. */
  failures: FailureSample[];
  /** Threshold verdicts (issue 4); absent when none were set. */
  thresholds?: ThresholdVerdict[];
  /** Per-phase metrics (issue 4), in phase order; absent in reports of older versions. */
  phases?: PhaseReport[];
  /**
   * Message accounting's verdict (issue 4): broken guarantees as errors, allowed anomalies as
   * notes. Absent when nothing was published.
   */
  accounting?: AccountingVerdict;
  /**
   * The kernel's TCP counters over the run, for a loopback target (issue 4): listen-queue
   * overflows and drops, SYN and segment retransmits. Machine-wide.
   */
  kernel?: KernelTcpCounters;
  /** Per-interval snapshots (issue 5); absent when not recorded. */
  timeSeries?: TimeSeries;
  /**
   * The load generator's own health (issue 7): per worker, event-loop delay and CPU, and
   * whether it was saturated (then a warning says so). Optional in format 1.
   */
  loadGenerator?: LoadGeneratorHealth;
  /**
   * The workers' preparation of per-device identities before the start (issue 3): kept apart
   * so it is never mistaken for handshake time. Optional in format 1.
   */
  preparation?: IdentityPreparation;
  /**
   * What the broker let through that it should have refused; absent when nothing was
   * (issue 3). Each one is also a warning.
   */
  securityFindings?: SecurityFinding[];
  /** The shard reports this one was merged from (`fleetbench merge`); absent for a run. */
  mergedFrom?: MergedSource[];
  /** The run id and shard (issue 6); absent in reports of older versions. */
  run?: RunIdentity;
  /** A capacity search's result and every step's figures (issue 4); absent for other runs. */
  capacity?: CapacityResult;
}

/** One of the shard reports a merged report was made of. */
export interface MergedSource {
  /** The report file as given to `merge`. */
  file: string;
  /** The host it ran on. */
  hostname: string;
  /** Its wall-clock start and end, ISO 8601. */
  startedAt: string;
  endedAt: string;
  /** Its fleet. */
  devices: number;
  /** Whether it was partial. */
  partial: boolean;
  /** Its shard (absent for reports of older versions). */
  shard?: ShardRef;
  /** Its measured clock offset, ms (`run.clock.offsetMs`), when it measured one. */
  clockOffsetMs?: number | null;
}

/** Something the broker let through that it should have refused (issue 3). */
export interface SecurityFinding {
  /** The group it concerns. */
  group: string;
  /**
   * `connect-accepted`: devices of a group with `expect: refuse` got a CONNACK;
   * `foreign-publish-accepted`: MQTT 5 publishes under another device's topic were acknowledged.
   */
  kind: 'connect-accepted' | 'foreign-publish-accepted';
  /** How many devices (or publishes). */
  count: number;
  /** The finding in one sentence, as the warnings show it. */
  message: string;
}

/** What building the devices' TLS secure contexts cost, before the first connect. */
export interface IdentityPreparation {
  /** Per-device secure contexts built (0 when every group shares a certificate). */
  contexts: number;
  /** Of those, the devices whose certificate was minted in memory (`identity.mint`). */
  minted?: number;
  /** Wall time from the workers' start until the last one was ready, ms. */
  wallMs: number;
  /** CPU the workers reported for it, ms (an upper bound: each counts its whole process). */
  cpuMs: number;
  /** Wall time of the preflight of per-device certificates, before the workers started, ms. */
  preflightMs: number;
}

/** Which scenario ran. */
export interface ReportScenario {
  /** Scenario name, as in the file. */
  name: string;
  /** The scenario file as given; `null` for a scenario built in code. */
  file: string | null;
  /** SHA-256 of the file's bytes, hex; `null` for a scenario built in code. */
  sha256: string | null;
}

/** The tool that wrote a report. */
export interface ToolInfo {
  name: string;
  /** Its version, semver. */
  version: string;
}

/** Kernel TCP counters over a run (deltas), from /proc/net/netstat and /proc/net/snmp. */
export interface KernelTcpCounters {
  /** TcpExt ListenOverflows: a listen queue was full. */
  listenOverflows: number;
  /** TcpExt ListenDrops: SYNs dropped at a listening socket. */
  listenDrops: number;
  /** TcpExt TCPSynRetrans: SYNs sent again. */
  synRetrans: number;
  /** Tcp RetransSegs: segments sent again, of every kind. */
  retransSegs: number;
}

/** One phase as `buildReport` takes it: the report's phase with a bare snapshot. */
export type PhaseInput = Omit<PhaseReport, 'metrics'> & { metrics: MetricsSnapshot };
