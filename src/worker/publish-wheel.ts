/**
 * A timer wheel for periodic publishes: one timer per worker instead of one per device.
 * Each device sits in the slot of its phase within the interval; every tick publishes the
 * devices of the slots whose time has come. A late tick catches up slot by slot, so a
 * stalled event loop makes publishes late, never silently fewer (up to one interval behind).
 */

/** A wheel of `slotCount` slots spanning one publish interval. */
export class PublishWheel<T> {
  private readonly slots: Set<T>[];
  private readonly slotMs: number;
  private readonly originMs: number;
  /** The absolute slot number processed last. */
  private done: number;
  /** Members that joined in a slot not yet visited: their first visit is skipped. */
  private readonly joining = new Map<T, number>();
  /** Slots dropped because the tick fell more than one interval behind. */
  skippedSlots = 0;

  /**
   * @param intervalMs the publish interval of every member, ms
   * @param resolutionMs the wheel's granularity, ms (default 10)
   * @param originMs the instant slot 0 starts, on the caller's clock (ms)
   */
  constructor(intervalMs: number, originMs: number, resolutionMs = 10) {
    const count = Math.max(1, Math.round(intervalMs / resolutionMs));
    this.slotMs = intervalMs / count;
    this.slots = Array.from({ length: count }, () => new Set<T>());
    this.originMs = originMs;
    this.done = -1;
  }

  private slotAt(nowMs: number): number {
    return Math.floor((nowMs - this.originMs) / this.slotMs);
  }

  /** Adds a member whose first turn comes one interval after `nowMs`. */
  add(member: T, nowMs: number): void {
    const abs = Math.max(this.slotAt(nowMs), this.done);
    if (abs > this.done) this.joining.set(member, abs);
    this.slots[abs % this.slots.length]?.add(member);
  }

  remove(member: T): void {
    this.joining.delete(member);
    for (const s of this.slots) if (s.delete(member)) return;
  }

  /** Number of members. */
  get size(): number {
    let n = 0;
    for (const s of this.slots) n += s.size;
    return n;
  }

  /** Skips every turn up to `nowMs` without visiting (publishing was paused). */
  resume(nowMs: number): void {
    this.done = Math.max(this.done, this.slotAt(nowMs));
    for (const [m, abs] of this.joining) if (abs <= this.done) this.joining.delete(m);
  }

  /** Calls `visit` for every member whose turn came since the last call. */
  advance(nowMs: number, visit: (member: T) => void): void {
    const target = this.slotAt(nowMs);
    let from = this.done + 1;
    if (target - from >= this.slots.length) {
      this.skippedSlots += target - from - this.slots.length + 1;
      from = target - this.slots.length + 1;
    }
    for (let abs = from; abs <= target; abs++) {
      const slot = this.slots[((abs % this.slots.length) + this.slots.length) % this.slots.length];
      if (slot === undefined) continue;
      for (const m of slot) {
        if (this.joining.size > 0 && this.joining.get(m) === abs) {
          this.joining.delete(m);
          continue;
        }
        visit(m);
      }
    }
    this.done = Math.max(this.done, target);
    for (const [m, abs] of this.joining) if (abs <= this.done) this.joining.delete(m);
  }
}
