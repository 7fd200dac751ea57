/**
 * A timer that fires on a grid shared by every worker: at `originNs + k * intervalMs`. Each
 * worker's interval snapshots then cover the same stretches of the run, so the coordinator can
 * put them side by side in one time series, and a late tick does not shift the later ones.
 */

/** A running {@link startAlignedTicker}. */
export interface AlignedTicker {
  /** Stops it; idempotent. */
  stop(): void;
}

/**
 * Calls `onTick` at every grid instant `originNs + k * intervalMs` (k >= 1) from now on, and at
 * once when started after the first one. A tick that is so late that the next grid instant has
 * passed is skipped, never run twice.
 *
 * @param originNs the grid's origin, `process.hrtime.bigint()` ns (the run's common start).
 * @param intervalMs grid spacing, ms (> 0).
 */
export function startAlignedTicker(
  originNs: bigint,
  intervalMs: number,
  onTick: () => void,
): AlignedTicker {
  const intervalNs = BigInt(Math.max(1, Math.round(intervalMs * 1e6)));
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  /** The grid index the next tick is for. */
  let target = 1n;

  const arm = (): void => {
    const delayMs = Number(originNs + target * intervalNs - process.hrtime.bigint()) / 1e6;
    timer = setTimeout(fire, Math.max(0, delayMs));
  };
  const fire = (): void => {
    if (stopped) return;
    // Node's timers run on the event loop's cached clock, in whole ms, and may fire a little
    // before the instant on the monotonic clock: wait for it rather than tick early.
    const elapsed = process.hrtime.bigint() - originNs;
    if (elapsed < target * intervalNs) return arm();
    onTick();
    target = (process.hrtime.bigint() - originNs) / intervalNs + 1n;
    arm();
  };

  // A worker that starts after the first grid instant (thread start-up under load) closes its
  // first interval at once, so the stretch it did not see stays in the intervals before.
  const elapsed = process.hrtime.bigint() - originNs;
  if (elapsed >= intervalNs) {
    target = elapsed / intervalNs;
    timer = setTimeout(fire, 0);
  } else {
    arm();
  }
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
