/** The verdict on one step of a capacity search, from the step's own run. */

import type { LoadGeneratorHealth } from '../metrics/health.js';
import { mergeSnapshots } from '../metrics/merge.js';
import type { CapacityStep, CapacityVerdict } from '../report/capacity.js';
import type { KernelTcpCounters, PhaseInput, ThresholdVerdict } from '../report/document.js';
import { resolveMetric, type MetricSource } from '../report/metric-path.js';
import { MEASURE_PHASE, type CapacityPlan } from '../scenario/capacity.js';
import type { Plan } from '../scenario/plan.js';
import { phaseReports } from './assemble-report.js';
import type { FleetRunOutcome } from './fleet-run.js';
import { evaluateThresholds } from './thresholds.js';

/** The histogram a mode's step figures show. */
export function capacityLatency(mode: CapacityPlan['mode']): 'connect' | 'roundtripCorrected' {
  return mode === 'connect' ? 'connect' : 'roundtripCorrected';
}

/**
 * Judges step `index` (0-based): stopped, saturated (the load generator's limit, not the
 * broker's), SLO broken, rate not reached, or sustained, in that order of precedence.
 */
export function judgeStep(
  stepPlan: Plan,
  capacity: CapacityPlan,
  index: number,
  outcome: FleetRunOutcome,
  kernel: KernelTcpCounters | undefined,
): CapacityStep {
  const rate = capacity.rates[index] ?? 0;
  const metrics = mergeSnapshots(outcome.results.map((r) => r.total));
  const phases = phaseReports(stepPlan, outcome.results, outcome.startAtNs);
  const durationMs = Number(BigInt(metrics.endNs) - BigInt(metrics.startNs)) / 1e6;
  const slo = evaluateThresholds(capacity.slo, { metrics, durationMs }, phases, null);
  const measured = measuredPhase(capacity, phases) ?? { metrics, durationMs };
  const achieved = achievedRate(capacity, rate, measured);
  const latency = capacityLatency(capacity.mode);
  const ms = (stat: string) => {
    const v = resolveMetric(measured, `${latency}.${stat}`).value;
    return v === null ? null : v / 1000;
  };
  const failed = capacity.mode === 'connect' ? 'connect.failed.rate' : 'messages.failed.rate';
  const saturation = stepSaturation(outcome.loadGenerator);
  const { verdict, reason } = verdictOf(stepPlan, capacity, rate, achieved, slo, saturation, {
    outcome,
    measured,
  });
  return {
    step: index + 1,
    ratePerSec: rate,
    achievedRatePerSec: achieved === null ? null : Math.round(achieved * 10) / 10,
    devices: stepPlan.devices,
    durationMs: Math.round(durationMs),
    verdict,
    reason,
    slo,
    p50Ms: ms('p50'),
    p99Ms: ms('p99'),
    failedRate: resolveMetric(measured, failed).value,
    saturation,
    ...(kernel === undefined ? {} : { kernel }),
    phases: [],
  };
}

function measuredPhase(capacity: CapacityPlan, phases: PhaseInput[]): MetricSource | undefined {
  const name = capacity.mode === 'connect' ? 'step' : MEASURE_PHASE;
  const p = phases.find((x) => x.name === name);
  return p === undefined ? undefined : { metrics: p.metrics, durationMs: p.durationMs };
}

/**
 * Connects started per second: n connects planned `1/rate` apart, the last one started
 * `connectLag.max` late (held back by the in-flight cap, or a busy worker). Publishes: sent
 * per second of `measure`.
 */
function achievedRate(capacity: CapacityPlan, rate: number, m: MetricSource): number | null {
  if (capacity.mode === 'publish') {
    const sent = resolveMetric(m, 'messages.published').value ?? 0;
    return m.durationMs > 0 ? sent / (m.durationMs / 1000) : null;
  }
  const started = resolveMetric(m, 'connect.attempted').value ?? 0;
  if (started <= 1) return rate;
  const lagSec = (resolveMetric(m, 'connectLag.max').value ?? 0) / 1e6;
  return (started - 1) / ((started - 1) / rate + lagSec);
}

function verdictOf(
  stepPlan: Plan,
  capacity: CapacityPlan,
  rate: number,
  achieved: number | null,
  slo: ThresholdVerdict[],
  saturation: string | null,
  run: { outcome: FleetRunOutcome; measured: MetricSource },
): { verdict: CapacityVerdict; reason: string } {
  const { outcome } = run;
  if (outcome.stopReason !== null || outcome.workerErrors.length > 0) {
    const why = outcome.stopReason ?? 'a worker failed';
    return { verdict: 'stopped', reason: `the run was stopped (${why})` };
  }
  const broken = slo.filter((v) => !v.ok);
  const short = achieved !== null && achieved < capacity.minAchievedShare * rate;
  // A busy harness only makes figures worse: a step that held is sustained all the same, and
  // one that did not says nothing about the broker.
  if (saturation !== null && (broken.length > 0 || short)) {
    return { verdict: 'saturated', reason: saturation.replace(/\.$/, '') };
  }
  if (broken.length > 0) {
    const measured = (v: (typeof broken)[number]) =>
      v.actual === null ? 'nothing measured' : `${round(v.actual)}${v.unit ?? ''}`;
    const each = broken.map((v) => `${v.expression} broke (${measured(v)})`);
    return { verdict: 'slo-broken', reason: each.join('; ') };
  }
  if (short && achieved !== null) {
    return { verdict: 'rate-not-reached', reason: notReached(stepPlan, capacity, achieved, run) };
  }
  return { verdict: 'sustained', reason: 'every SLO rule held' };
}

function notReached(
  stepPlan: Plan,
  capacity: CapacityPlan,
  achieved: number,
  run: { measured: MetricSource },
): string {
  const got = `reached ${round(achieved)}/s`;
  if (capacity.mode === 'publish') {
    const skipped = resolveMetric(run.measured, 'schedule.skipped').value ?? 0;
    return `${got}: publishes fell behind the schedule (${skipped} skipped)`;
  }
  const meanMs = (resolveMetric(run.measured, 'connect.mean').value ?? 0) / 1000;
  const lagMs = (resolveMetric(run.measured, 'connectLag.max').value ?? 0) / 1000;
  return (
    `${got}: with at most ${stepPlan.connect.maxInFlight} connects in flight ` +
    `(connect.maxInFlight) each taking ${round(meanMs)} ms on average, connects started up ` +
    `to ${round(lagMs)} ms late`
  );
}

function round(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** Share of a step's time a worker must spend saturated for the step to count as saturated. */
export const SATURATED_SHARE = 0.5;

/**
 * The load generator's saturation over a step, in words, or null: a worker saturated for more
 * than {@link SATURATED_SHARE} of the step's sampled time, not one interval's hiccup (on a
 * shared machine a 60 ms scheduling delay is common, and would otherwise end every search of
 * short steps).
 *
 * @param health the step run's self-monitoring (its workers' `saturatedMs` and `sampledMs`).
 */
export function stepSaturation(health: LoadGeneratorHealth): string | null {
  const share = (w: LoadGeneratorHealth['workers'][number]) =>
    (w.saturatedMs ?? 0) / Math.max(1, w.sampledMs ?? 0);
  const hit = health.workers.filter((w) => share(w) > SATURATED_SHARE);
  if (hit.length === 0) return null;
  const each = hit.map(
    (w) =>
      `worker ${w.workerId} for ${Math.round(100 * share(w))}% of the ` +
      `step (event-loop delay p99 up to ${w.loopDelayP99MaxMs.toFixed(0)} ms, busy up to ` +
      `${(w.busyMax * 100).toFixed(0)}% of a core)`,
  );
  return `the load generator was saturated: ${each.join('; ')}`;
}
