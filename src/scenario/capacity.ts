/**
 * Capacity search: a scenario with `capacity` runs steps of rising rate (connect or publish)
 * until a step breaks its SLO, and reports the highest rate the broker sustained. This module
 * is the pure part: the search's plan, and the plan of each step (a run of its own: a fresh
 * fleet connecting at the step's rate, or the fleet publishing at it).
 */

import type { PhasePlan, Plan } from './plan.js';
import { wholeFleet } from './shard.js';
import type { Scenario } from './schema.js';
import { parseThreshold, type ThresholdPlan } from './thresholds.js';

/** The search, resolved. */
export interface CapacityPlan {
  mode: 'connect' | 'publish';
  /** Every step's rate in order, per second. */
  rates: number[];
  /** Length of each step's measured part, s. */
  stepDurationSec: number;
  /** The rules each step must keep (publish: checked on the step's `measure` phase). */
  slo: ThresholdPlan[];
  /** Share of its rate a step must reach to count as sustained, 0..1. */
  minAchievedShare: number;
}

/** Most steps a search may have. */
export const MAX_CAPACITY_STEPS = 40;

const DEFAULT_SLO = {
  connect: ['connect.p99 < 500ms', 'connect.failed.rate < 1%'],
  publish: ['roundtripCorrected.p99 < 100ms', 'messages.lost == 0'],
};

/** The phase of a publish step the SLO is checked on. */
export const MEASURE_PHASE = 'measure';

/** The search's plan, or null without `capacity`; with every problem, each with its path. */
export function resolveCapacity(s: Scenario): { plan: CapacityPlan | null; problems: string[] } {
  const c = s.capacity;
  if (c === undefined) return { plan: null, problems: [] };
  const problems: string[] = [];
  if (c.factor !== undefined && c.stepRatePerSec !== undefined) {
    problems.push('capacity: give factor or stepRatePerSec, not both');
  }
  if (c.startRatePerSec > c.maxRatePerSec) {
    problems.push(
      `capacity.startRatePerSec (${c.startRatePerSec}) is above capacity.maxRatePerSec ` +
        `(${c.maxRatePerSec})`,
    );
  }
  if (s.phases !== undefined) {
    problems.push('capacity replaces phases: each step is its own ramp (and steady); drop one');
  }
  if (c.mode === 'publish') problems.push(...publishProblems(s));
  const rates = stepRates(c.startRatePerSec, c.maxRatePerSec, c.factor, c.stepRatePerSec);
  if (rates.length > MAX_CAPACITY_STEPS) {
    const steps = stepCount(c.startRatePerSec, c.maxRatePerSec, c.factor, c.stepRatePerSec);
    problems.push(
      `capacity: ${steps} steps from ${c.startRatePerSec}/s to ${c.maxRatePerSec}/s, ` +
        `more than ${MAX_CAPACITY_STEPS}: raise factor or stepRatePerSec`,
    );
  }
  const phase = c.mode === 'publish' ? MEASURE_PHASE : null;
  const slo = (c.slo ?? DEFAULT_SLO[c.mode]).flatMap((rule, i) => {
    try {
      return [parseThreshold(rule, `capacity.slo[${i}]`, { phase })];
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
      return [];
    }
  });
  const plan = {
    mode: c.mode,
    rates,
    stepDurationSec: c.stepDurationSec,
    slo,
    minAchievedShare: c.minAchievedShare,
  };
  return { plan, problems };
}

function publishProblems(s: Scenario): string[] {
  if (s.traffic === false) {
    return ['capacity.mode publish needs traffic (its topic, QoS and payload); got false'];
  }
  if (s.traffic.payloadBytes < 24) {
    return [
      `capacity.mode publish sends in the open model, whose payloads take at least 24 bytes ` +
        `(got traffic.payloadBytes ${s.traffic.payloadBytes})`,
    ];
  }
  return [];
}

/** How many steps `start` to `max` takes, without listing them. */
function stepCount(start: number, max: number, factor?: number, step?: number): number {
  const n =
    step !== undefined ? (max - start) / step : Math.log(max / start) / Math.log(factor ?? 2);
  return Math.floor(n + 1e-9) + 1;
}

/** Rates from `start` up to `max` (inclusive), by factor or by step; one past the limit. */
function stepRates(start: number, max: number, factor?: number, step?: number): number[] {
  const rates: number[] = [];
  // Float steps (x1.5) must still land on max when they meet it.
  for (let r = start; r <= max * (1 + 1e-9) && rates.length <= MAX_CAPACITY_STEPS;) {
    rates.push(Math.round(r * 1000) / 1000);
    r = step !== undefined ? r + step : r * (factor ?? 2);
  }
  return rates;
}

/**
 * The plan of step `index` (0-based), a run of its own. Connect: `round(rate × stepDurationSec)`
 * devices (at most the fleet) connect at the rate in one ramp, no traffic, then disconnect.
 * Publish: the fleet connects at `connect.ratePerSec`, then publishes in the open model at the
 * rate for `stepDurationSec` (phase `measure`), drains and disconnects.
 */
export function capacityStepPlan(plan: Plan, capacity: CapacityPlan, index: number): Plan {
  const rate = capacity.rates[index] ?? 0;
  const base = { ...plan, thresholds: [], reconnect: null };
  if (capacity.mode === 'connect') {
    const devices = Math.min(
      plan.devices,
      Math.max(1, Math.round(rate * capacity.stepDurationSec)),
    );
    const ramp: PhasePlan = {
      ...{ type: 'ramp', name: 'step', traffic: false, devices },
      ...{ fromRatePerSec: rate, toRatePerSec: rate },
    };
    return {
      ...base,
      devices,
      shard: wholeFleet(devices),
      workers: Math.min(plan.workers, devices),
      groups: firstDevicesOf(plan.groups, devices),
      traffic: false,
      drainMs: 0,
      phases: [ramp],
    };
  }
  const connectRate = plan.connect.ratePerSec;
  const traffic = plan.traffic === false ? false : { ...plan.traffic, model: 'open' as const };
  if (traffic !== false) traffic.ratePerSec = rate;
  return {
    ...base,
    traffic,
    phases: [
      {
        ...{ type: 'ramp', name: 'connect', traffic: false, devices: plan.devices },
        ...{ fromRatePerSec: connectRate, toRatePerSec: connectRate },
      },
      { type: 'steady', name: MEASURE_PHASE, traffic: true, durationSec: capacity.stepDurationSec },
    ],
  };
}

/** The groups cut to the fleet's first `devices` devices (groups are ranges of it, in order). */
function firstDevicesOf(groups: Plan['groups'], devices: number): Plan['groups'] {
  return groups.flatMap((g) => {
    const n = Math.min(g.devices, devices - g.firstOrdinal);
    return n > 0 ? [{ ...g, devices: n }] : [];
  });
}
