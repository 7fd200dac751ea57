/**
 * Phases resolved into plain plans with every count and rate fixed, and the arithmetic the
 * worker's timeline uses: when the k-th connect of a ramp is due, how a fleet-wide count is
 * shared among workers, and how long a reconnect waits. Pure: no clock, no network.
 */

import type { PhaseInput, ReconnectPolicy } from './phase-schema.js';
import type { Scenario } from './schema.js';

/** Connects `devices` offline devices, the rate going linearly from one value to another. */
export interface RampPhasePlan {
  type: 'ramp';
  name: string;
  traffic: boolean;
  /** Devices to connect across the fleet (nominal: fewer when some are not offline). */
  devices: number;
  /** Connect rate at the phase's start, per second. */
  fromRatePerSec: number;
  /** Connect rate at its end, per second (equal to `fromRatePerSec` for a constant rate). */
  toRatePerSec: number;
}

/** Holds the fleet for a fixed time, publishing (`steady`) or not (`hold`). */
export interface TimedPhasePlan {
  type: 'steady' | 'hold';
  name: string;
  traffic: boolean;
  durationSec: number;
}

/** Drops a share of the connected devices; they reconnect by the reconnect policy. */
export interface StormPhasePlan {
  type: 'storm';
  name: string;
  traffic: boolean;
  /** Share (0..1] of each worker's connected devices dropped. */
  share: number;
  maxDurationSec: number;
  /** Names of the groups whose devices it drops; null: every group. */
  groups: string[] | null;
}

/** Disconnects `devices` connected devices at a rate. */
export interface RampDownPhasePlan {
  type: 'ramp-down';
  name: string;
  traffic: boolean;
  devices: number;
  ratePerSec: number;
}

export type PhasePlan = RampPhasePlan | TimedPhasePlan | StormPhasePlan | RampDownPhasePlan;

/** The reconnect policy a storm uses when the scenario has none. */
export const DEFAULT_RECONNECT: ReconnectPolicy = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 0.5,
  maxAttempts: 10,
};

/**
 * Resolves the scenario's phases (or the default ramp + steady/hold) into plans, following the
 * nominal count of connected devices through them so every count is fixed.
 * @returns the plans, and problems (each naming its `phases[i]` path) when a phase has
 *   nothing to act on or contradictory keys
 */
export function resolvePhases(s: Scenario): { phases: PhasePlan[]; problems: string[] } {
  const inputs: PhaseInput[] = s.phases ?? [
    { name: 'ramp', type: 'ramp' },
    {
      name: s.traffic === false ? 'hold' : 'steady',
      type: s.traffic === false ? 'hold' : 'steady',
    },
  ];
  const problems: string[] = [];
  const names = new Set<string>();
  const phases: PhasePlan[] = [];
  let connected = 0;
  inputs.forEach((p, i) => {
    const at = `phases[${i}]`;
    if (names.has(p.name)) problems.push(`${at}.name repeats "${p.name}"`);
    names.add(p.name);
    const traffic = s.traffic !== false && (p.traffic ?? p.type !== 'hold');
    const plan = resolvePhase(p, s, traffic, connected, at, problems);
    if (plan.type === 'ramp') connected += plan.devices;
    if (plan.type === 'ramp-down') connected -= plan.devices;
    phases.push(plan);
  });
  return { phases, problems };
}

function resolvePhase(
  p: PhaseInput,
  s: Scenario,
  traffic: boolean,
  connected: number,
  at: string,
  problems: string[],
): PhasePlan {
  switch (p.type) {
    case 'steady':
    case 'hold':
      return { type: p.type, name: p.name, traffic, durationSec: p.durationSec ?? s.durationSec };
    case 'storm': {
      if (connected === 0) problems.push(`${at} (storm) comes when no device is connected`);
      const known = (s.groups ?? [{ name: 'fleet' }]).map((g) => g.name);
      p.groups?.forEach((name, k) => {
        if (!known.includes(name)) {
          problems.push(
            `${at}.groups[${k}] names no group (got "${name}"; groups: ${known.join(', ')})`,
          );
        }
      });
      return { ...p, traffic, groups: p.groups ?? null };
    }
    case 'ramp': {
      const offline = s.devices - connected;
      const devices = countOf(p, s.devices, offline, at, 'connect', problems);
      const rates = rampRates(p, s.connect.ratePerSec, devices, at, problems);
      return { type: 'ramp', name: p.name, traffic, devices, ...rates };
    }
    case 'ramp-down': {
      const devices = countOf(p, s.devices, connected, at, 'disconnect', problems);
      const ratePerSec = p.ratePerSec ?? s.connect.ratePerSec;
      return { type: 'ramp-down', name: p.name, traffic, devices, ratePerSec };
    }
  }
}

/** A phase's `devices` or `share`, capped at the devices it can act on. */
function countOf(
  p: { devices?: number | undefined; share?: number | undefined },
  fleet: number,
  available: number,
  at: string,
  verb: string,
  problems: string[],
): number {
  if (p.devices !== undefined && p.share !== undefined) {
    problems.push(`${at} has both devices and share: give one`);
  }
  const wanted = p.devices ?? (p.share === undefined ? available : Math.round(p.share * fleet));
  if (available === 0 || wanted === 0) {
    problems.push(`${at} has no device to ${verb} (${available} available at that point)`);
    return 0;
  }
  if (wanted > available) {
    problems.push(`${at} would ${verb} ${wanted} devices but only ${available} are available`);
    return available;
  }
  return wanted;
}

function rampRates(
  p: Extract<PhaseInput, { type: 'ramp' }>,
  defaultRate: number,
  devices: number,
  at: string,
  problems: string[],
): { fromRatePerSec: number; toRatePerSec: number } {
  const given = [p.ratePerSec, p.fromRatePerSec ?? p.toRatePerSec, p.durationSec].filter(
    (v) => v !== undefined,
  );
  if (given.length > 1) {
    problems.push(`${at} takes one of ratePerSec, fromRatePerSec/toRatePerSec or durationSec`);
  }
  if ((p.fromRatePerSec === undefined) !== (p.toRatePerSec === undefined)) {
    problems.push(`${at} needs both fromRatePerSec and toRatePerSec for a ramping rate`);
  }
  if (p.fromRatePerSec !== undefined && p.toRatePerSec !== undefined) {
    return { fromRatePerSec: p.fromRatePerSec, toRatePerSec: p.toRatePerSec };
  }
  const rate =
    p.durationSec !== undefined
      ? Math.max(devices, 1) / p.durationSec
      : (p.ratePerSec ?? defaultRate);
  return { fromRatePerSec: rate, toRatePerSec: rate };
}

/**
 * When the connect of fleet-wide rank `rank` (0-based) of a ramp is due, ms after the phase
 * starts. With a ramping rate r(t) going linearly from `from` to `to` over the ramp's length
 * T = 2N / (from + to), device k is due when the connects so far, ∫r, reach k.
 */
export function rampOffsetMs(phase: RampPhasePlan, rank: number): number {
  const r0 = phase.fromRatePerSec;
  const r1 = phase.toRatePerSec;
  if (r0 === r1) return (rank / r0) * 1000;
  const T = (2 * phase.devices) / (r0 + r1);
  const a = (r1 - r0) / (2 * T);
  // a t² + r0 t - k = 0; the positive root, written to stay exact when a is small.
  const t = (2 * rank) / (r0 + Math.sqrt(r0 * r0 + 4 * a * rank));
  return t * 1000;
}

/** The planned length of a ramp: when its last connect is due, ms. */
export function rampLengthMs(phase: RampPhasePlan): number {
  return rampOffsetMs(phase, Math.max(0, phase.devices - 1));
}

/**
 * How many of a fleet-wide count `total` worker `workerId` of `workers` takes: ranks
 * `workerId, workerId + workers, ...`, so every worker's share of a rate is uniform.
 */
export function workerShare(total: number, workerId: number, workers: number): number {
  return workerId >= total ? 0 : Math.floor((total - 1 - workerId) / workers) + 1;
}

/**
 * The wait before reconnect attempt `attempt` (1-based), ms: exponential growth capped at
 * `maxDelayMs`, less a random share of up to `jitter`.
 * @param random a number in [0, 1); default `Math.random()`
 */
export function backoffDelayMs(
  policy: ReconnectPolicy,
  attempt: number,
  random: number = Math.random(),
): number {
  const exp = Math.min(attempt - 1, 64);
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exp);
  return base * (1 - policy.jitter * random);
}

/** One line per phase for the plan, e.g. `phase ramp: connect 200 devices at 100/s (~2.0 s)`. */
export function describePhase(p: PhasePlan, traffic: boolean): string {
  const quiet = traffic && !p.traffic ? ', no publishes' : '';
  switch (p.type) {
    case 'ramp': {
      const rate =
        p.fromRatePerSec === p.toRatePerSec
          ? `${p.fromRatePerSec}/s`
          : `${p.fromRatePerSec}/s rising to ${p.toRatePerSec}/s`;
      const sec = (rampLengthMs(p) / 1000).toFixed(1);
      return `phase ${p.name} (ramp): connect ${p.devices} devices at ${rate} (~${sec} s)${quiet}`;
    }
    case 'steady':
      return `phase ${p.name} (steady): ${p.durationSec} s of traffic${quiet}`;
    case 'hold':
      return (
        `phase ${p.name} (hold): ${p.durationSec} s connected` + (p.traffic ? ' with traffic' : '')
      );
    case 'storm':
      return (
        `phase ${p.name} (storm): drop ${Math.round(p.share * 100)}% of connections` +
        `${p.groups === null ? '' : ` of ${p.groups.join(', ')}`} at once, ` +
        `reconnect with backoff; ends when all are back (at most ${p.maxDurationSec} s)${quiet}`
      );
    case 'ramp-down':
      return (
        `phase ${p.name} (ramp-down): ` +
        `disconnect ${p.devices} devices at ${p.ratePerSec}/s${quiet}`
      );
  }
}
