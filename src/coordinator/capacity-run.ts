/**
 * A capacity search: one run per step at a rising rate, each with its own fleet, until a step
 * is not sustained; then one report holding every step (as phases) and the result.
 */

import { FleetbenchError } from '../errors.js';
import type { CapacityResult, CapacityStep } from '../report/capacity.js';
import type { KernelTcpCounters } from '../report/document.js';
import { addKernelCounters } from '../report/merge-kernel.js';
import { capacityStepPlan, type CapacityPlan } from '../scenario/capacity.js';
import type { Plan } from '../scenario/plan.js';
import { usesTls } from '../scenario/transport.js';
import type { IdentityMaterial } from '../worker/protocol.js';
import { capacityLatency, judgeStep } from './capacity-step.js';
import { runFleet, type FleetRunOptions, type FleetRunOutcome } from './fleet-run.js';
import { readTcpCounters, tcpCountersDelta } from './kernel-counters.js';

/** The search's runs put together as one. */
export interface CapacityRun {
  /** The plan the report describes: every step's phases in order. */
  plan: Plan;
  outcome: FleetRunOutcome;
  /** The kernel's counters over all steps (loopback targets). */
  kernel: KernelTcpCounters | undefined;
  capacity: CapacityResult;
}

/** Snapshot interval of capacity steps, ms. */
export const CAPACITY_SNAPSHOT_MS = 250;

interface StepRun {
  plan: Plan;
  outcome: FleetRunOutcome;
  step: CapacityStep;
}

/** Runs the steps in order, each only after the one before was sustained. */
export async function runCapacitySearch(
  plan: Plan,
  capacity: CapacityPlan,
  identities: IdentityMaterial[],
  o: FleetRunOptions & { loopback: boolean },
): Promise<CapacityRun> {
  if (plan.shard.count > 1) {
    throw new FleetbenchError(
      'E_USAGE',
      'a capacity search runs in one process: it takes no --shard',
      {
        hint: 'drop --shard (and JOB_COMPLETION_INDEX); for more load, run it with more workers',
      },
    );
  }
  const runs: StepRun[] = [];
  // The first step runs even when stopped at once, so the report has what little ran.
  for (let i = 0; i < capacity.rates.length && (i === 0 || o.signal?.aborted !== true); i++) {
    const stepPlan = capacityStepPlan(plan, capacity, i);
    const before = o.loopback ? await readTcpCounters() : null;
    // Short intervals, so a step's saturation is a share of its time, not one sample.
    const outcome = await runFleet(stepPlan, identities, {
      ...o,
      // An agreed start instant (--start-at) is the first step's; the others follow at once.
      startAt: i === 0 ? o.startAt : undefined,
      snapshotIntervalMs: Math.min(o.snapshotIntervalMs, CAPACITY_SNAPSHOT_MS),
    });
    const after = before === null ? null : await readTcpCounters();
    const kernel = before !== null && after !== null ? tcpCountersDelta(before, after) : undefined;
    const step = judgeStep(stepPlan, capacity, i, outcome, kernel);
    o.logger.info(
      `capacity step ${step.step}: ${step.ratePerSec}/s, reached ` +
        `${step.achievedRatePerSec ?? '-'}/s: ${step.verdict}` +
        (step.verdict === 'sustained' ? '' : ` (${step.reason})`),
    );
    runs.push({ plan: stepPlan, outcome, step });
    if (step.verdict !== 'sustained') break;
  }
  return combine(plan, capacity, runs);
}

function combine(plan: Plan, capacity: CapacityPlan, runs: StepRun[]): CapacityRun {
  const phases: Plan['phases'] = [];
  const results: FleetRunOutcome['results'] = [];
  for (const run of runs) {
    const offset = phases.length;
    const names = run.plan.phases.map((p) =>
      run.plan.phases.length === 1 ? `step${run.step.step}` : `step${run.step.step}-${p.name}`,
    );
    run.step.phases = names;
    phases.push(...run.plan.phases.map((p, i) => ({ ...p, name: names[i] ?? p.name })));
    for (const r of run.outcome.results) {
      results.push({ ...r, phases: r.phases.map((p) => ({ ...p, index: p.index + offset })) });
    }
  }
  const first = runs[0]?.outcome;
  const last = runs[runs.length - 1]?.outcome;
  if (first === undefined || last === undefined) throw new Error('capacity: nothing ran');
  const saturated = runs.find((r) => r.outcome.loadGenerator.saturated)?.outcome ?? last;
  const outcome: FleetRunOutcome = {
    ...last,
    results,
    workerErrors: runs.flatMap((r) =>
      r.outcome.workerErrors.map((e) => `step ${r.step.step}: ${e}`),
    ),
    warnings: [...new Set(runs.flatMap((r) => r.outcome.warnings))],
    abortedBy: null,
    timeSeries: {
      ...first.timeSeries,
      intervals: runs.flatMap((r) => r.outcome.timeSeries.intervals),
    },
    loadGenerator: saturated.loadGenerator,
    startAtNs: first.startAtNs,
    startedAt: first.startedAt,
    preparation: first.preparation,
    phaseKernel: runs.flatMap((r) => r.plan.phases.map((_, i) => r.outcome.phaseKernel[i] ?? null)),
  };
  const steps = runs.map((r) => r.step);
  return {
    plan: { ...plan, phases },
    outcome,
    kernel: addKernelCounters(steps.map((s) => s.kernel)),
    capacity: capacityResult(plan, capacity, steps),
  };
}

/** The search's result from its steps (the last one is the first not sustained, if any). */
export function capacityResult(
  plan: Plan,
  capacity: CapacityPlan,
  steps: CapacityStep[],
): CapacityResult {
  const sustained = steps.filter((s) => s.verdict === 'sustained');
  const best = sustained[sustained.length - 1];
  const last = steps[steps.length - 1];
  const allRun = steps.length === capacity.rates.length && last?.verdict === 'sustained';
  const limitedBy: CapacityResult['limitedBy'] = allRun
    ? 'max-rate'
    : last === undefined || last.verdict === 'stopped' || last.verdict === 'sustained'
      ? 'stopped'
      : last.verdict === 'saturated'
        ? 'load-generator'
        : 'broker';
  return {
    mode: capacity.mode,
    latency: capacityLatency(capacity.mode),
    slo: capacity.slo.map((t) => t.expression),
    stepDurationSec: capacity.stepDurationSec,
    minAchievedShare: capacity.minAchievedShare,
    sustainedRatePerSec: best?.ratePerSec ?? null,
    achievedRatePerSec: best?.achievedRatePerSec ?? null,
    ceilingReached: limitedBy === 'broker',
    limitedBy,
    summary: summaryOf(plan, capacity, best, last, limitedBy),
    steps,
  };
}

function summaryOf(
  plan: Plan,
  capacity: CapacityPlan,
  best: CapacityStep | undefined,
  last: CapacityStep | undefined,
  limitedBy: CapacityResult['limitedBy'],
): string {
  const kept =
    best === undefined
      ? 'no sustained rate'
      : `sustained ${best.ratePerSec}/s (reached ${best.achievedRatePerSec ?? '-'}/s)`;
  const at = last === undefined ? '' : `at ${last.ratePerSec}/s (step ${last.step}) `;
  const what =
    capacity.mode === 'publish'
      ? 'publish throughput'
      : usesTls(plan.target.protocol)
        ? 'connect rate (TLS handshake capacity)'
        : 'connect rate';
  switch (limitedBy) {
    case 'max-rate':
      return (
        `${kept}, the highest rate tried: the ceiling was not reached ` +
        '(raise capacity.maxRatePerSec)'
      );
    case 'broker':
      return best === undefined
        ? `no sustained rate: ${at}${last?.reason ?? ''}`
        : `${kept}; ${at}${last?.reason ?? ''}: the broker's ${what} lies between the two`;
    case 'load-generator':
      return (
        `${kept}; ${at}the load generator was saturated, so the broker's ${what} past ` +
        'that is not known: add workers or run shards on more machines'
      );
    case 'stopped':
      return `${kept}; the search was stopped ${at}before it ended`;
  }
}
