/**
 * Which run a report belongs to and which part of it (issue 6): the run id every shard of a
 * run shares, the shard, and for a merged report the shards it holds and those it lacks.
 */

/** A shard: `index` of `count` (an unsharded run is 0 of 1). */
export interface ShardRef {
  /** 0-based. */
  index: number;
  count: number;
}

/** The `run` section of a report. Optional in format 1 (absent in older reports). */
export interface RunIdentity {
  /** Shared by every shard of one run; `merge` refuses reports whose ids differ. */
  id: string;
  /**
   * `given`: from `--run-id` or `FLEETBENCH_RUN_ID`; `derived`: from the scenario's digest,
   * the shard count and the agreed start (or, unsharded, the actual start).
   */
  idSource: 'given' | 'derived';
  /** This report's shard, with its devices; null for a merged report. */
  shard: (ShardRef & { devices: number }) | null;
  /** A merged report: the shard indices merged, ascending, out of `shardCount`. */
  shards?: number[];
  /** A merged report: shards of the run not merged (their reports were missing). */
  missingShards?: number[];
  /** A merged report: the run's number of shards. */
  shardCount?: number;
  /**
   * A synchronised start (`--start-at`/`--start-delay`): the agreed instant and how this
   * shard kept it; for a merged report, the latest shard's lateness.
   */
  /**
   * This machine's clock against a time server (`--clock-server`, SNTP), measured before the
   * run; absent when none was named. Shards that measured against one server start by its
   * clock, and merge aligns them by it.
   */
  clock?: {
    /** `host:port`. */
    server: string;
    /** Server time minus this machine's, ms; null when the server did not answer. */
    offsetMs: number | null;
    /** Round trip of the exchange, ms: the offset is right to within half of it. */
    roundTripMs: number | null;
  };
  start?: {
    /** The agreed start, ISO 8601. */
    at: string;
    /** How late the shard's start was against it, ms (0: on time). */
    latenessMs: number;
    /** How long before it the shard was ready, ms (negative: ready after it). */
    readyBeforeMs: number;
  };
}
