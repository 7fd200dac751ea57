/**
 * Message accounting for one publisher→subscriber stream by sequence number: every message the
 * publisher sent, whether the broker completed it (PUBACK, PUBCOMP, or written at QoS 0), and
 * whether the subscriber got it once, twice, out of order or late. What is still missing when
 * the run has drained is lost; what was in flight when the subscriber's connection ended is
 * interrupted, not lost (the broker had nobody to deliver it to).
 */

/** The accounting counters kept per stream family, in total and per QoS. */
export type AccountingKind =
  | 'published'
  | 'received'
  | 'lost'
  | 'duplicated'
  | 'outOfOrder'
  | 'late'
  | 'interrupted'
  | 'unmatched';

/** How an arrival was classified. `first` may also be out of order and/or late. */
export interface Arrival {
  /** First arrival of this sequence number (it counts as received). */
  first: boolean;
  /** A second or later arrival of a number already received. */
  duplicate: boolean;
  /** Arrived after a higher number of the same stream. */
  outOfOrder: boolean;
  /** Arrived more than `lateAfterMs` after it was sent. */
  late: boolean;
  /** Not sent on this stream as far as the ledger knows (e.g. left over from a past session). */
  unknown: boolean;
}

/** Sequence numbers seen, kept at most this far below the highest for duplicate detection. */
const SEEN_WINDOW = 4096;

export class StreamLedger {
  /** Sent and not yet received: `true` once the broker completed the publish. */
  private readonly pending = new Map<number, boolean>();
  private readonly seen = new Set<number>();
  /** Numbers below this have left `seen`; an arrival below it that is not pending repeats one. */
  private seenFloor = 0;
  private highest = -1;

  /** @param lateAfterMs an arrival more than this after its send counts as late, ms */
  constructor(private readonly lateAfterMs: number) {}

  /** Messages sent and not received yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The publisher sent `seq`. */
  sent(seq: number): void {
    this.pending.set(seq, false);
  }

  /** The broker completed `seq` (acknowledged, or written at QoS 0). */
  completed(seq: number): void {
    if (this.pending.has(seq)) this.pending.set(seq, true);
  }

  /**
   * The publish of `seq` failed: nothing is owed for it.
   * @returns whether it was still pending
   */
  failed(seq: number): boolean {
    return this.pending.delete(seq);
  }

  /**
   * The subscriber received `seq`.
   * @param latencyMs time from its send to now, ms
   */
  received(seq: number, latencyMs: number): Arrival {
    const late = latencyMs > this.lateAfterMs;
    const wasPending = this.pending.delete(seq);
    const repeat = this.seen.has(seq) || (!wasPending && seq < this.seenFloor);
    if (repeat) return { first: false, duplicate: true, outOfOrder: false, late, unknown: false };
    if (!wasPending) {
      return { first: false, duplicate: false, outOfOrder: false, late, unknown: true };
    }

    const outOfOrder = seq < this.highest;
    this.highest = Math.max(this.highest, seq);
    this.seen.add(seq);
    if (this.seen.size > 2 * SEEN_WINDOW) this.prune();
    return { first: true, duplicate: false, outOfOrder, late, unknown: false };
  }

  private prune(): void {
    this.seenFloor = this.highest - SEEN_WINDOW;
    for (const s of this.seen) if (s < this.seenFloor) this.seen.delete(s);
  }

  /**
   * The subscriber's connection ended: what it still waited for cannot arrive any more.
   * @returns how many of those the broker had completed (they are interrupted, not lost)
   */
  interrupt(): number {
    let completed = 0;
    for (const done of this.pending.values()) if (done) completed++;
    this.pending.clear();
    return completed;
  }

  /**
   * The run has drained: every completed message not received is lost.
   * @returns the number lost; the ledger then owes nothing
   */
  close(): number {
    return this.interrupt();
  }

  /**
   * The run has drained, for a stream whose far end may have dropped meanwhile: a completed
   * message not received is interrupted when `cut(seq)` says so, else lost.
   */
  settle(cut: (seq: number) => boolean): { lost: number; interrupted: number } {
    let lost = 0;
    let interrupted = 0;
    for (const [seq, done] of this.pending) {
      if (!done) continue;
      if (cut(seq)) interrupted++;
      else lost++;
    }
    this.pending.clear();
    return { lost, interrupted };
  }
}
