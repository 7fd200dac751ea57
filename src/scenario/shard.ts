/**
 * Shards: one run of a scenario split across several processes or machines, each running a
 * disjoint part of the fleet and writing its own report, merged afterwards.
 *
 * Shard i of n takes the fleet's ordinals i, i + n, i + 2n, ... (every group, every phase),
 * and its worker w takes every W-th of those. So worker w of shard i does exactly what worker
 * `i + n·w` of an unsharded run with `n·W` workers would do: the same devices (identities,
 * manifest rows, client ids), the same ranks of every ramp and ramp-down (rates are divided
 * across shards by construction), the same offsets of the open traffic model, and a share of
 * `connect.maxInFlight` that keeps the whole sharded fleet under it. Merged, the shards are
 * the unsharded run.
 */

import { FleetbenchError } from '../errors.js';
import { workerShare } from './phases.js';
import type { Plan } from './plan.js';

/** Which part of the fleet a run is. An unsharded run is shard 0 of 1. */
export interface ShardPlan {
  /** 0-based. */
  index: number;
  /** Shards of the run, >= 1. */
  count: number;
  /** Devices of this shard: ordinals `index, index + count, ...` below the fleet size. */
  devices: number;
  /**
   * True when the scenario's source-address pool has fewer addresses than there are shards,
   * so shards share addresses (and their ephemeral ports, on one machine).
   */
  sharedSources: boolean;
}

/** Most shards a run may have. */
export const MAX_SHARDS = 10_000;

/** The shard spec as given: `--shard i/n`, or an index (`JOB_COMPLETION_INDEX`) and a total. */
export interface ShardSpecInput {
  /** `--shard`, e.g. `2/8`. */
  shard?: string;
  /** `--shards` (or `FLEETBENCH_SHARDS`): the total, with an index from `completionIndex`. */
  shards?: string | number;
  /** `JOB_COMPLETION_INDEX`, set by a Kubernetes Indexed Job. */
  completionIndex?: string;
}

/**
 * Resolves the shard of this process: `--shard i/n` wins; else `JOB_COMPLETION_INDEX` with
 * the total from `--shards`/`FLEETBENCH_SHARDS`; else null (not sharded).
 * @throws FleetbenchError `E_USAGE` naming the option and the bad value
 */
export function resolveShardSpec(input: ShardSpecInput): { index: number; count: number } | null {
  if (input.shard !== undefined) {
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(input.shard);
    if (m === null) {
      throw usage(`--shard must be i/n, e.g. 0/4 (got "${input.shard}")`, 'shards count from 0');
    }
    if (input.shards !== undefined && Number(input.shards) !== Number(m[2])) {
      throw usage(
        `--shard ${input.shard} says ${m[2]} shards but --shards (or FLEETBENCH_SHARDS) ` +
          `says ${input.shards}`,
        'give one of them, or make them agree',
      );
    }
    return checked(Number(m[1]), Number(m[2]), `--shard ${input.shard}`);
  }
  const index = input.completionIndex?.trim();
  if (index === undefined || index === '') {
    if (input.shards === undefined) return null;
    throw usage(
      `--shards (or FLEETBENCH_SHARDS) is ${input.shards} but no shard index is given`,
      'give --shard i/n, or run in a Kubernetes Indexed Job (it sets JOB_COMPLETION_INDEX)',
    );
  }
  if (input.shards === undefined) {
    throw usage(
      `JOB_COMPLETION_INDEX is ${index} but the number of shards is not given`,
      "give --shards n or FLEETBENCH_SHARDS=n (the Job's completions), or --shard i/n",
    );
  }
  const total = String(input.shards).trim();
  if (!/^\d+$/.test(index)) throw usage(`JOB_COMPLETION_INDEX must be 0, 1, ... (got "${index}")`);
  if (!/^\d+$/.test(total)) {
    throw usage(`--shards (or FLEETBENCH_SHARDS) must be a whole number (got "${total}")`);
  }
  return checked(Number(index), Number(total), `shard ${index} of ${total}`);
}

function checked(index: number, count: number, what: string): { index: number; count: number } {
  if (count < 1 || count > MAX_SHARDS) {
    throw usage(`${what}: the number of shards must be 1 to ${MAX_SHARDS} (got ${count})`);
  }
  if (index >= count) {
    throw usage(
      `${what}: the shard index must be below the number of shards (got ${index} of ${count})`,
      `shards are numbered 0 to ${count - 1}`,
    );
  }
  return { index, count };
}

function usage(message: string, hint = 'e.g. --shard 0/4 ... --shard 3/4'): FleetbenchError {
  return new FleetbenchError('E_USAGE', message, { hint });
}

/** The plan of an unsharded run's shard: 0 of 1, every device. */
export function wholeFleet(devices: number): ShardPlan {
  return { index: 0, count: 1, devices, sharedSources: false };
}

/**
 * Restricts a plan to one shard: its devices, its workers (at most one per device) and its
 * source addresses (pool entries `index, index + count, ...`; one shared entry when the pool
 * is smaller than the shard count).
 * @throws FleetbenchError `E_USAGE` when there are more shards than devices
 */
export function shardPlan(plan: Plan, shard: { index: number; count: number }): Plan {
  const devices = workerShare(plan.devices, shard.index, shard.count);
  if (devices === 0) {
    throw usage(
      `${shard.count} shards for ${plan.devices} devices: shard ${shard.index} would have none`,
      `use at most ${plan.devices} shards, or a larger fleet (--devices)`,
    );
  }
  const pool = plan.sourceAddresses;
  const sharedSources = pool.length > 0 && pool.length < shard.count;
  const sources = sharedSources
    ? [pool[shard.index % pool.length] as string]
    : pool.filter((_, j) => j % shard.count === shard.index);
  return {
    ...plan,
    workers: Math.min(plan.workers, devices),
    sourceAddresses: sources,
    shard: { ...shard, devices, sharedSources },
  };
}

/**
 * Where worker `workerId` of `workers` stands among all the run's workers across shards:
 * it runs the fleet's ordinals (and ranks) `lane, lane + lanes, ...`.
 */
export function laneOf(
  shard: Pick<ShardPlan, 'index' | 'count'>,
  workerId: number,
  workers: number,
): { lane: number; lanes: number } {
  return { lane: shard.index + shard.count * workerId, lanes: shard.count * workers };
}

/** The source address of the device at fleet ordinal `ordinal`: the shard's pool in turn. */
export function sourceAddressOf(plan: Plan, ordinal: number): string | undefined {
  const pool = plan.sourceAddresses;
  if (pool.length === 0) return undefined;
  return pool[Math.floor(ordinal / plan.shard.count) % pool.length];
}

/** `2/8`, or `unsharded`. */
export function shardLabel(shard: Pick<ShardPlan, 'index' | 'count'>): string {
  return shard.count === 1 ? 'unsharded' : `${shard.index}/${shard.count}`;
}
