/**
 * The open model's publish schedule: one worker's share of a fleet-wide arrival rate, as
 * planned instants that do not wait for earlier sends. When the worker falls behind (a
 * stalled event loop, a slow send path), the due publishes still go out, each with its
 * scheduled instant, so latency can be measured from the schedule (correcting coordinated
 * omission); those beyond `maxLagMs` are skipped and counted, never silently dropped.
 */

export class OpenSchedule {
  private nextMs: number | null = null;

  /**
   * @param intervalMs time between this worker's publishes, ms
   * @param offsetMs where this worker's instants sit within the interval, ms (workers
   *   interleave, so the fleet's publishes are evenly spaced)
   * @param maxLagMs a publish more than this behind schedule is skipped, ms
   */
  constructor(
    private readonly intervalMs: number,
    private readonly offsetMs: number,
    private readonly maxLagMs: number,
  ) {}

  /** Starts (or restarts, after a quiet phase) the schedule at `nowMs`: nothing is owed before. */
  resume(nowMs: number): void {
    const k = Math.ceil((nowMs - this.offsetMs) / this.intervalMs);
    this.nextMs = this.offsetMs + k * this.intervalMs;
  }

  /** Stops the schedule (a phase without traffic). */
  pause(): void {
    this.nextMs = null;
  }

  /**
   * Hands out every publish due by `nowMs`: `send(scheduledMs)` for those within `maxLagMs`,
   * and one `skip(count)` for those further behind.
   */
  advance(nowMs: number, send: (scheduledMs: number) => void, skip: (count: number) => void): void {
    if (this.nextMs === null) return;
    const oldestKept = nowMs - this.maxLagMs;
    if (this.nextMs < oldestKept) {
      const behind = Math.ceil((oldestKept - this.nextMs) / this.intervalMs);
      skip(behind);
      this.nextMs += behind * this.intervalMs;
    }
    while (this.nextMs <= nowMs) {
      send(this.nextMs);
      this.nextMs += this.intervalMs;
    }
  }
}
