/** The scenario key of a capacity search: `capacity` (see capacity.ts). */

import { z } from 'zod';

const rate = () => z.number().positive().max(1_000_000);

export const CapacitySchema = z.strictObject({
  /**
   * `connect`: step the connect rate (each step a fresh fleet connecting at that rate, so the
   * figure is the broker's TLS handshake capacity); `publish`: step the publish rate of a
   * connected fleet (open model).
   */
  mode: z.enum(['connect', 'publish']),
  /** Rate of the first step, per second. */
  startRatePerSec: rate(),
  /** Each step's rate is the previous one's times this. Default 2 (unless `stepRatePerSec`). */
  factor: z.number().gt(1).max(100).optional(),
  /** Instead of `factor`: each step's rate is the previous one's plus this, per second. */
  stepRatePerSec: rate().optional(),
  /** The highest rate tried, per second; the search ends there with the ceiling not reached. */
  maxRatePerSec: rate(),
  /** Length of each step's measured part, s. Default 5. */
  stepDurationSec: z.number().positive().max(3600).default(5),
  /**
   * Rules each step must keep, as thresholds (`connect.p99 < 500ms`). Default: connect
   * `connect.p99 < 500ms` and `connect.failed.rate < 1%`; publish `roundtripCorrected.p99 <
   * 100ms` and `messages.lost == 0`.
   */
  slo: z.array(z.string().min(1)).min(1).max(20).optional(),
  /** Share of a step's rate that must actually be reached for it to count. Default 0.9. */
  minAchievedShare: z.number().gt(0).max(1).default(0.9),
});
