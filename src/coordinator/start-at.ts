/**
 * The synchronised start of a sharded run: every shard is given the same wall-clock instant
 * (`--start-at`, or `--start-delay` from now), prepares its devices, then waits for that
 * instant, so the phases of all shards line up. A shard whose preparation ran past it starts
 * at once and records how late it was.
 */

import { FleetbenchError } from '../errors.js';

/** The furthest ahead a start may be, ms: further is more likely a typo than a plan. */
export const MAX_START_AHEAD_MS = 60 * 60 * 1000;

/** What was given: `--start-at` (or `FLEETBENCH_START_AT`) and `--start-delay`. */
export interface StartInput {
  /** ISO 8601 with a zone, e.g. `2026-12-04T03:30:00Z`. */
  startAt?: string;
  /** Seconds from now. */
  startDelaySec?: number;
}

/**
 * The agreed start instant, or undefined when none was given.
 * @param now the current time. Default: now.
 * @throws FleetbenchError `E_USAGE` for both options at once, a time that does not parse or
 *   lacks a zone, a start in the past, or one more than an hour ahead
 */
export function resolveStartAt(input: StartInput, now: Date = new Date()): Date | undefined {
  if (input.startAt !== undefined && input.startDelaySec !== undefined) {
    throw usage('give --start-at or --start-delay, not both', 'every shard needs the same instant');
  }
  if (input.startDelaySec !== undefined) {
    const s = input.startDelaySec;
    if (!Number.isFinite(s) || s <= 0 || s * 1000 > MAX_START_AHEAD_MS) {
      throw usage(`--start-delay must be 0 to ${MAX_START_AHEAD_MS / 1000} s (got ${s})`);
    }
    return new Date(now.getTime() + s * 1000);
  }
  if (input.startAt === undefined) return undefined;
  const text = input.startAt.trim();
  const ms = Date.parse(text);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(text) || !(ms > 0)) {
    throw usage(
      `--start-at must be an ISO 8601 time with a zone, e.g. 2026-12-04T03:30:00Z (got "${text}")`,
    );
  }
  const aheadMs = ms - now.getTime();
  if (aheadMs <= 0) {
    throw usage(
      `--start-at ${text} is ${formatSec(-aheadMs)} in the past (now ${now.toISOString()})`,
      'choose a time a little ahead, long enough for every shard to start and prepare its ' +
        'devices, e.g. $(date -u -d "+2 min" +%FT%TZ); ' +
        'check the machine clocks if it should not be',
    );
  }
  if (aheadMs > MAX_START_AHEAD_MS) {
    throw usage(
      `--start-at ${text} is ${formatSec(aheadMs)} ahead; at most ` +
        `${MAX_START_AHEAD_MS / 60_000} minutes are allowed (now ${now.toISOString()})`,
    );
  }
  return new Date(ms);
}

/** How the shard's start went, for the report. */
export interface StartRecord {
  /** The agreed start, ISO 8601. */
  at: string;
  /**
   * How late this shard's common start instant was against the agreed one, ms: 0 when it
   * was ready in time, else the overrun of its preparation (plus the start delay).
   */
  latenessMs: number;
  /** How long before the agreed start its workers were ready, ms (negative: after it). */
  readyBeforeMs: number;
}

/**
 * The delay from now until the workers start, ms: until the agreed start when there is one
 * and it is still ahead, else `minDelayMs`.
 */
export function startDelayMs(agreed: Date | undefined, minDelayMs: number, nowMs: number): number {
  if (agreed === undefined) return minDelayMs;
  const ahead = agreed.getTime() - nowMs;
  return ahead > 0 ? ahead : minDelayMs;
}

function usage(message: string, hint?: string): FleetbenchError {
  return new FleetbenchError('E_USAGE', message, {
    hint: hint ?? 'e.g. --start-at 2026-12-04T03:30:00Z, or --start-delay 30 (seconds)',
  });
}

function formatSec(ms: number): string {
  return ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}
