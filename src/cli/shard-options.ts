/**
 * The `run` options of sharded runs (issue 6): which shard, the run id, the agreed start, the
 * local launcher, and the final JSON line for `kubectl logs`. Values come from the options
 * or, as a Kubernetes Indexed Job sets them, from the environment.
 */

import type { Argv } from 'yargs';
import { FleetbenchError } from '../errors.js';
import { parseClockServer } from '../coordinator/clock-offset.js';
import { resolveStartAt } from '../coordinator/start-at.js';
import { checkRunId } from '../coordinator/run-id.js';
import { MAX_SHARDS, resolveShardSpec } from '../scenario/shard.js';

/** The parsed options. */
export interface ShardArgs {
  shard: string | undefined;
  shards: string | undefined;
  'run-id': string | undefined;
  'start-at': string | undefined;
  'start-delay': number | undefined;
  'local-shards': number | undefined;
  'source-addresses': string | undefined;
  'report-json-line': boolean;
  'clock-server': string | undefined;
}

/** Adds the options to the `run` command. */
export function withShardOptions<T>(y: Argv<T>): Argv<T & ShardArgs> {
  return y
    .option('shard', {
      type: 'string',
      describe: 'Run shard i of n of the fleet (0-based), e.g. 2/8',
    })
    .option('shards', {
      type: 'string',
      describe: 'Number of shards, the index from JOB_COMPLETION_INDEX (default FLEETBENCH_SHARDS)',
    })
    .option('run-id', {
      type: 'string',
      describe: 'Run id every shard of the run shares (default FLEETBENCH_RUN_ID, else derived)',
    })
    .option('start-at', {
      type: 'string',
      describe: 'Agreed start, ISO 8601 with a zone (default FLEETBENCH_START_AT)',
    })
    .option('start-delay', { type: 'number', describe: 'Agreed start, seconds from now' })
    .option('local-shards', {
      type: 'number',
      describe: 'Run the fleet as n shard processes on this machine and merge their reports',
    })
    .option('source-addresses', {
      type: 'string',
      describe: 'Local addresses to bind, a list or a range (overrides connect.sourceAddresses)',
    })
    .option('clock-server', {
      type: 'string',
      describe: 'NTP server to measure the clock offset against (default FLEETBENCH_CLOCK_SERVER)',
    })
    .option('report-json-line', {
      type: 'boolean',
      default: false,
      describe: 'Print the report as one JSON line, the last line of stdout (for kubectl logs)',
    });
}

/** What the options resolve to. */
export interface ShardSettings {
  shard: { index: number; count: number } | null;
  runId: string | undefined;
  startAt: Date | undefined;
  localShards: number | undefined;
  /** `host[:port]` of an SNTP server, or undefined. */
  clockServer: string | undefined;
}

/**
 * Resolves the options and the environment.
 * @throws FleetbenchError `E_USAGE` for bad or contradictory values, naming them
 */
export function resolveShardArgs(args: ShardArgs, env: NodeJS.ProcessEnv): ShardSettings {
  const shard = resolveShardSpec({
    shard: args.shard,
    shards: args.shards ?? nonEmpty(env.FLEETBENCH_SHARDS),
    completionIndex: args['local-shards'] === undefined ? env.JOB_COMPLETION_INDEX : undefined,
  });
  const given = args['run-id'] ?? nonEmpty(env.FLEETBENCH_RUN_ID);
  const runId =
    given === undefined
      ? undefined
      : checkRunId(given, args['run-id'] ? '--run-id' : 'FLEETBENCH_RUN_ID');
  const startAt = resolveStartAt({
    startAt: args['start-at'] ?? nonEmpty(env.FLEETBENCH_START_AT),
    startDelaySec: args['start-delay'],
  });
  const local = args['local-shards'];
  if (local !== undefined) {
    if (!Number.isInteger(local) || local < 1 || local > MAX_SHARDS) {
      throw usage(`--local-shards must be a whole number 1 to ${MAX_SHARDS} (got ${local})`);
    }
    if (shard !== null) {
      throw usage('--local-shards starts its own shards: give it without --shard or --shards');
    }
  }
  const clockServer = args['clock-server'] ?? nonEmpty(env.FLEETBENCH_CLOCK_SERVER);
  if (clockServer !== undefined) parseClockServer(clockServer);
  return { shard, runId, startAt, localShards: local, clockServer };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function usage(message: string): FleetbenchError {
  return new FleetbenchError('E_USAGE', message, {
    hint: 'e.g. fleetbench run fleet.yaml --local-shards 4',
  });
}
