/** The sharded-run options of `fleetbench run` as yargs hands them over, none given. */

import type { ShardArgs } from '../../src/cli/shard-options.js';

/** The options with `overrides` given. */
export function shardArgs(overrides: Partial<ShardArgs> = {}): ShardArgs {
  return {
    shard: undefined,
    shards: undefined,
    'run-id': undefined,
    'start-at': undefined,
    'start-delay': undefined,
    'local-shards': undefined,
    'source-addresses': undefined,
    'report-json-line': false,
    'clock-server': undefined,
    ...overrides,
  };
}
