/**
 * The run id: one name shared by every shard of one run, so `merge` can tell the shards of
 * one launch from those of another. Given (`--run-id`, `FLEETBENCH_RUN_ID`, a Kubernetes
 * Job's uid), or derived from what every shard of a launch shares: the scenario's digest,
 * the number of shards and the agreed start instant (`--start-at`).
 */

import { createHash } from 'node:crypto';
import { FleetbenchError } from '../errors.js';
import type { Plan } from '../scenario/plan.js';

/** How a run id was chosen. */
export type RunIdSource = 'given' | 'derived';

/** A given run id: letters, digits and `._:-`, up to 128 characters (a Job uid fits). */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * Checks a given run id.
 * @throws FleetbenchError `E_USAGE` naming the bad value
 */
export function checkRunId(id: string, setting = '--run-id'): string {
  if (RUN_ID.test(id)) return id;
  throw new FleetbenchError(
    'E_USAGE',
    `${setting} must be 1 to 128 letters, digits or ._:- starting with a letter or digit ` +
      `(got ${JSON.stringify(id)})`,
    { hint: 'e.g. --run-id nightly-2026-12-04; every shard of one run must get the same id' },
  );
}

/**
 * The run id of this process: the given one, or one derived from the scenario's digest, the
 * shard count and `instant` (the agreed start of a sharded run, the actual start otherwise),
 * e.g. `20261204T031500Z-3fa2c1d9`. Shards of one launch derive the same id only when they
 * share the instant, so a sharded run needs a given id or an agreed start.
 * @throws FleetbenchError `E_USAGE` for a sharded run with neither
 */
export function resolveRunId(
  plan: Plan,
  given: string | undefined,
  agreedStart: Date | undefined,
  actualStart: Date,
): { id: string; source: RunIdSource } {
  if (given !== undefined) return { id: checkRunId(given), source: 'given' };
  if (plan.shard.count > 1 && agreedStart === undefined) {
    throw new FleetbenchError(
      'E_USAGE',
      `shard ${plan.shard.index}/${plan.shard.count} has no run id: its shards could not ` +
        'be told from those of another run',
      {
        hint:
          'give every shard the same --run-id (or FLEETBENCH_RUN_ID), or the same --start-at ' +
          '(the id is then derived from it); --local-shards does this for you',
      },
    );
  }
  const instant = agreedStart ?? actualStart;
  const digest = createHash('sha256')
    .update(
      `${plan.sha256 ?? `scenario:${plan.name}`}|${plan.shard.count}|${instant.toISOString()}`,
    )
    .digest('hex');
  const stamp = instant
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return { id: `${stamp}-${digest.slice(0, 8)}`, source: 'derived' };
}
