/** Turns the workers' results into the report document. */

import { createRequire } from 'node:module';
import { accountingVerdict } from '../metrics/accounting.js';
import { securityFindings } from './security-findings.js';
import { brokerHints } from '../metrics/broker-hints.js';
import { saturationWarning, type LoadGeneratorHealth } from '../metrics/health.js';
import { mergeSnapshots } from '../metrics/merge.js';
import type { MetricsSnapshot } from '../metrics/types.js';
import { buildReport } from '../report/build-report.js';
import {
  type JsonValue,
  type PhaseInput,
  type ReportDocument,
  type RunIdentity,
  type TimeSeries,
} from '../report/document.js';
import type { IdentityPlan, Plan } from '../scenario/plan.js';
import { transportOf, usesWebSocket } from '../scenario/transport.js';
import { redactSecrets } from '../report/sanitize.js';
import { mergeFailures } from '../worker/failures.js';
import type { TcpCounters } from './kernel-counters.js';
import type { CapacityResult } from '../report/capacity.js';
import { evaluateThresholds } from './thresholds.js';
import type { RunStage, WorkerResult } from '../worker/protocol.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

/** The fleetbench version, from package.json. */
export const TOOL_VERSION = pkg.version;

export interface AssembleInput {
  plan: Plan;
  startedAt: Date;
  endedAt: Date;
  /** The start instant of the run, `process.hrtime.bigint()` ns. */
  startNs: bigint;
  results: WorkerResult[];
  /** Workers that failed, one line each. */
  workerErrors: string[];
  /** Why the run was stopped early by its caller, or null. */
  stopReason: string | null;
  stageReached: RunStage;
  warnings: string[];
  timeSeries?: TimeSeries;
  /** The kernel's TCP counters over the run (loopback targets only). */
  kernel?: TcpCounters;
  /** The kernel's TCP counters of each phase, in phase order. */
  phaseKernel?: (TcpCounters | null)[];
  /** A capacity search's result. */
  capacity?: CapacityResult;
  /** The threshold that stopped the run early (`abortOnFail`), if one did. */
  abortedBy?: string | null;
  /** The workers' self-monitoring over the run. */
  loadGenerator?: LoadGeneratorHealth;
  /** The workers' preparation of per-device identities, before the start. */
  preparation?: {
    contexts: number;
    minted: number;
    wallMs: number;
    cpuMs: number;
    preflightMs: number;
  };
  /** The run id and this process's shard. */
  run?: RunIdentity;
}

/** The plan as the report shows it: paths and settings, never key material. */
export function reportOptions(plan: Plan): ReportDocument['options'] {
  const t = plan.target;
  const options = {
    target: targetUrl(t),
    transport: transportOf(t.protocol) ?? t.protocol,
    embeddedBroker: t.kind === 'embedded',
    ...(plan.targets.length > 1 ? { targets: plan.targets.map(targetUrl) } : {}),
    // This process's devices: merged shard reports add up to the fleet.
    devices: plan.shard.devices,
    ...(plan.shard.count > 1
      ? { fleetDevices: plan.devices, shardSourceAddresses: plan.sourceAddresses }
      : {}),
    workers: plan.workers,
    groups: plan.groups.map((g) => ({
      name: g.name,
      devices: g.devices,
      expect: g.expect,
      behaviour: g.behaviour,
      // Plain data by construction; the cast only drops the interfaces' lack of an index.
      traffic: g.traffic as unknown as JsonValue,
      session: g.session as unknown as JsonValue,
      ...identityFiles(g.identity),
      deviceId: g.identity.deviceId,
      clientId: g.identity.clientId,
      username: g.identity.username,
    })),
    tls: { ...plan.tls },
    ...(usesWebSocket(t.protocol) ? { websocket: { ...plan.websocket, path: t.path ?? '' } } : {}),
    mqtt: { ...plan.mqtt },
    connect: { ...plan.connect },
    traffic: plan.traffic === false ? false : { ...plan.traffic },
    thresholds: plan.thresholds.map((t) => t.expression),
    durationSec: plan.durationSec,
    drainMs: plan.drainMs,
    phases: plan.phases,
    reconnect: plan.reconnect,
    ...(plan.capacity === null
      ? {}
      : { capacity: { ...plan.capacity, slo: plan.capacity.slo.map((t) => t.expression) } }),
  };
  return redactSecrets(JSON.parse(JSON.stringify(options))) as {
    target: string;
    devices: number;
    workers: number;
  } & Record<string, JsonValue>;
}

export function assembleReport(input: AssembleInput): ReportDocument {
  const { plan, results } = input;
  const totals: MetricsSnapshot[] = results.map((r) => r.total);
  const nowNs = String(process.hrtime.bigint());
  const metrics =
    totals.length > 0
      ? mergeSnapshots(totals)
      : { startNs: String(input.startNs), endNs: nowNs, counters: {}, gauges: {}, histograms: {} };
  const stoppedEarly = input.stopReason !== null || input.workerErrors.length > 0;
  const saturated = input.loadGenerator ? saturationWarning(input.loadGenerator) : null;
  const warnings = [
    ...input.warnings,
    ...input.workerErrors.map((e) => `worker failed: ${e}`),
    ...(saturated === null ? [] : [saturated]),
    ...brokerHints(metrics),
  ];
  const failures = mergeFailures(results.map((r) => r.failures)).map((f) => ({
    category: f.code === undefined ? f.category : `${f.category}.${f.code}`,
    message: f.message,
    deviceId: f.deviceId,
    count: f.count,
  }));
  const durationMs = input.endedAt.getTime() - input.startedAt.getTime();
  const phases = phaseReports(plan, results, input.startNs, input.phaseKernel);
  const thresholds = evaluateThresholds(
    plan.thresholds,
    {
      metrics,
      durationMs,
      ...(input.run ? { run: input.run } : {}),
      ...(input.capacity ? { capacity: input.capacity } : {}),
    },
    phases,
    input.abortedBy ?? null,
  );
  const accounting = accountingVerdict(metrics.counters);
  const findings = securityFindings(plan, metrics.counters);
  return buildReport({
    scenario: { name: plan.name, file: plan.file, sha256: plan.sha256 },
    options: reportOptions(plan),
    tool: { name: 'fleetbench', version: TOOL_VERSION },
    startedAt: input.startedAt.toISOString(),
    endedAt: input.endedAt.toISOString(),
    durationMs,
    partial: stoppedEarly
      ? {
          reason: input.workerErrors.length > 0 ? 'worker-failed' : (input.stopReason ?? 'stopped'),
          phase: input.stageReached,
        }
      : null,
    warnings: [...warnings, ...findings.map((f) => f.message)],
    metrics,
    failures,
    ...(findings.length > 0 ? { securityFindings: findings } : {}),
    phases,
    ...(accounting === null ? {} : { accounting }),
    ...(input.kernel === undefined ? {} : { kernel: input.kernel }),
    ...(input.capacity === undefined ? {} : { capacity: input.capacity }),
    ...(thresholds.length > 0 ? { thresholds } : {}),
    ...(input.timeSeries ? { timeSeries: input.timeSeries } : {}),
    ...(input.loadGenerator ? { loadGenerator: input.loadGenerator } : {}),
    ...(input.run ? { run: input.run } : {}),
    ...(input.preparation
      ? {
          preparation: {
            contexts: input.preparation.contexts,
            ...(input.preparation.minted > 0 ? { minted: input.preparation.minted } : {}),
            wallMs: Math.round(input.preparation.wallMs),
            cpuMs: Math.round(input.preparation.cpuMs),
            preflightMs: Math.round(input.preparation.preflightMs),
          },
        }
      : {}),
  });
}

/** Each phase merged across the workers that entered it, timed from the run's start. */
export function phaseReports(
  plan: Plan,
  results: WorkerResult[],
  startNs: bigint,
  kernel: readonly (TcpCounters | null)[] = [],
): PhaseInput[] {
  return plan.phases.flatMap((phase, index) => {
    const parts = results.flatMap((r) => r.phases.filter((p) => p.index === index));
    if (parts.length === 0) return [];
    const metrics = mergeSnapshots(parts.map((p) => p.metrics));
    const start = BigInt(metrics.startNs);
    const end = BigInt(metrics.endNs);
    const startMs = Math.max(0, Number(start - startNs) / 1e6);
    return [
      {
        name: phase.name,
        type: phase.type,
        startMs,
        durationMs: Number(end - start) / 1e6,
        metrics,
        ...(kernel[index] ? { kernel: kernel[index] } : {}),
      },
    ];
  });
}

/** A target as a URL: `mqtts://127.0.0.1:8883`, `wss://[::1]:8084/mqtt`. */
export function targetUrl(t: Plan['target']): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.protocol}://${host}:${t.port}${t.path ?? ''}`;
}

/**
 * The files a group's identity came from, for the report: paths and names only. The key
 * material, the CA key's contents and any passphrase stay out.
 */
function identityFiles(id: IdentityPlan): Record<string, string> {
  const passphrase: Record<string, string> =
    id.passphrase === null
      ? {}
      : 'env' in id.passphrase
        ? { passphraseEnv: id.passphrase.env }
        : { passphraseFile: id.passphrase.file };
  const files: Record<IdentityPlan['source'], Record<string, string>> = {
    shared: { certFile: id.certFile, keyFile: id.keyFile },
    platform: { certFile: id.certFile, keyFile: id.keyFile },
    pkcs12: { pkcs12File: id.pkcs12File ?? '' },
    manifest: { manifestFile: id.manifestFile ?? '' },
    mint: { mintCaFile: id.mint?.caFile ?? '', mintCaKeyFile: id.mint?.caKeyFile ?? '' },
  };
  return { source: id.source, caFile: id.caFile, ...files[id.source], ...passphrase };
}
