/**
 * The `phases` and `reconnect` keys of a scenario: a run is a sequence of named phases, each
 * ending after its duration or at its end condition, and devices whose connection drops come
 * back by jittered exponential backoff. Units are in the key names; defaults in the JSDoc.
 */

import { z } from 'zod';

const phaseName = () =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 of A-Z a-z 0-9 _ -')
    .refine((n) => !['drain', 'disconnect', 'done'].includes(n), {
      error: 'drain, disconnect and done are the names of the run steps after the phases',
    });
const rate = () => z.number().positive().max(1_000_000);
const seconds = () =>
  z
    .number()
    .nonnegative()
    .max(7 * 24 * 3600);
const share = () => z.number().positive().max(1);

/** Keys every phase has. */
const common = {
  /** Phase name, unique in the scenario; shown in progress, the plan and the report. */
  name: phaseName(),
  /**
   * Whether connected devices publish during this phase. Default: true, except in `hold`.
   * Ignored when the scenario has `traffic: false`.
   */
  traffic: z.boolean().optional(),
};

/** How many devices a ramp or ramp-down acts on: give one of them. */
const howMany = {
  /** A count of devices. */
  devices: z.int().positive().optional(),
  /** A share (0..1] of the fleet. */
  share: share().optional(),
};

/**
 * Connect offline devices at a rate: constant (`ratePerSec`), ramping linearly from
 * `fromRatePerSec` to `toRatePerSec`, or spread evenly over `durationSec`. Ends when every
 * device it started has connected or failed.
 */
export const RampPhaseSchema = z.strictObject({
  ...common,
  type: z.literal('ramp'),
  /** Devices to connect: a count, or `share` of the fleet. Default: every offline device. */
  ...howMany,
  /** Constant connect rate across the fleet, per second. Default: `connect.ratePerSec`. */
  ratePerSec: rate().optional(),
  /** Rate at the start of a ramping ramp, per second; needs `toRatePerSec`. */
  fromRatePerSec: rate().optional(),
  /** Rate at the end of a ramping ramp, per second; needs `fromRatePerSec`. */
  toRatePerSec: rate().optional(),
  /** Spread the connects evenly over this many seconds instead of giving a rate. */
  durationSec: z
    .number()
    .positive()
    .max(7 * 24 * 3600)
    .optional(),
});

/** Connected devices publish (per `traffic`) for `durationSec`. */
export const SteadyPhaseSchema = z.strictObject({
  ...common,
  type: z.literal('steady'),
  /** Length of the phase, s. Default: the top-level `durationSec`. */
  durationSec: seconds().optional(),
});

/** Connected devices stay connected and quiet (no publishes) for `durationSec`. */
export const HoldPhaseSchema = z.strictObject({
  ...common,
  type: z.literal('hold'),
  /** Length of the phase, s. Default: the top-level `durationSec`. */
  durationSec: seconds().optional(),
});

/**
 * Drops a share of the connected devices at once, without DISCONNECT (as a network outage
 * would); each reconnects by the scenario's `reconnect` backoff. Ends when every dropped
 * device is back (or gave up), or after `maxDurationSec`.
 */
export const StormPhaseSchema = z.strictObject({
  ...common,
  type: z.literal('storm'),
  /** Share (0..1] of the connected devices to drop. Default 1: all of them. */
  share: share().default(1),
  /**
   * Only devices of these groups are dropped (say, the devices but not the monitors that
   * count their wills). Default: every group.
   */
  groups: z.array(z.string().min(1)).min(1).max(64).optional(),
  /** The phase ends at the latest after this many seconds. Default 120. */
  maxDurationSec: z
    .number()
    .positive()
    .max(24 * 3600)
    .default(120),
});

/** Disconnects connected devices cleanly (DISCONNECT) at a rate. Ends when they are all off. */
export const RampDownPhaseSchema = z.strictObject({
  ...common,
  type: z.literal('ramp-down'),
  /** Devices to disconnect: a count, or `share` of the fleet. Default: every connected one. */
  ...howMany,
  /** Disconnects per second across the fleet. Default: `connect.ratePerSec`. */
  ratePerSec: rate().optional(),
});

/** One phase of a run. `type` decides which keys it takes. */
export const PhaseSchema = z.discriminatedUnion(
  'type',
  [RampPhaseSchema, SteadyPhaseSchema, HoldPhaseSchema, StormPhaseSchema, RampDownPhaseSchema],
  { error: 'type must be one of ramp, steady, hold, storm, ramp-down' },
);

/**
 * How a device whose connection dropped comes back: attempt n waits
 * `min(maxDelayMs, initialDelayMs * multiplier^(n-1))`, less a random part of up to `jitter`
 * of it (1 is "full jitter", 0 none), so a fleet does not reconnect in lockstep.
 */
export const ReconnectSchema = z.strictObject({
  /** Delay before the first attempt, ms. Default 1000. */
  initialDelayMs: z.int().nonnegative().max(3_600_000).default(1000),
  /** Longest delay between attempts, ms. Default 30000. */
  maxDelayMs: z.int().positive().max(3_600_000).default(30_000),
  /** Growth of the delay per attempt. Default 2. */
  multiplier: z.number().min(1).max(100).default(2),
  /** Share (0..1) of each delay taken off at random. Default 0.5. */
  jitter: z.number().min(0).max(1).default(0.5),
  /** Attempts per outage before the device gives up; 0 for no limit. Default 10. */
  maxAttempts: z.int().nonnegative().max(1_000_000).default(10),
});

export type PhaseInput = z.output<typeof PhaseSchema>;
export type ReconnectPolicy = z.output<typeof ReconnectSchema>;
