/**
 * Putting the reports of several shards on one clock. A report's instants are on its machine's
 * monotonic clock (`process.hrtime.bigint()`), which means nothing on another machine; its
 * wall-clock origin says where that clock sits in real time. Reports of one host share the
 * monotonic clock and keep their instants as they are; the others are moved onto the earliest
 * report's clock through their wall-clock origins (so to within the hosts' clock skew).
 */

import type { MetricsSnapshot } from '../metrics/types.js';
import type { ReportDocument } from './document.js';

/** Where a report's monotonic clock sits in real time. */
export interface ClockOrigin {
  /** An instant on the report's monotonic clock, ns. */
  ns: bigint;
  /** The same instant on the wall clock, ms since the epoch. */
  wallMs: number;
}

/**
 * The report's most precise pairing of the two clocks: the time series' origin (both taken at
 * one moment), else the metrics' start with `startedAt`.
 */
export function clockOrigin(report: ReportDocument): ClockOrigin {
  const series = report.timeSeries;
  if (series !== undefined)
    return { ns: BigInt(series.startNs), wallMs: Date.parse(series.startedAt) };
  return { ns: BigInt(report.metrics.startNs), wallMs: Date.parse(report.startedAt) };
}

/**
 * How far to move each report's instants to put them on the clock of `reference`: 0 for a
 * report of the reference's host, else the difference of their wall-clock origins (corrected
 * by their measured clock offsets when both have one from the same server).
 */
export function clockShift(report: ReportDocument, reference: ReportDocument): bigint {
  if (report.host.hostname === reference.host.hostname) return 0n;
  const own = clockOrigin(report);
  const ref = clockOrigin(reference);
  const wallDeltaMs = own.wallMs - ref.wallMs + measuredSkewMs(report, reference);
  const wallDeltaNs = BigInt(Math.round(wallDeltaMs * 1e6));
  return ref.ns + wallDeltaNs - own.ns;
}

/**
 * How far `report`'s wall clock was behind `reference`'s, ms, when both measured their offset
 * against the same time server (`run.clock`); else 0 (their clocks are taken as they are).
 */
export function measuredSkewMs(report: ReportDocument, reference: ReportDocument): number {
  const a = report.run?.clock;
  const b = reference.run?.clock;
  if (a?.offsetMs == null || b?.offsetMs == null || a.server !== b.server) return 0;
  return a.offsetMs - b.offsetMs;
}

/** A snapshot with its instants moved by `shiftNs`. */
export function shiftSnapshot<T extends MetricsSnapshot>(snapshot: T, shiftNs: bigint): T {
  if (shiftNs === 0n) return snapshot;
  return {
    ...snapshot,
    startNs: String(BigInt(snapshot.startNs) + shiftNs),
    endNs: String(BigInt(snapshot.endNs) + shiftNs),
  };
}
