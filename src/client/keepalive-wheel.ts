/**
 * Keepalive ticks of every connection of a thread on one timer, instead of a `setInterval` per
 * connection: a worker holding 10,000 devices had 10,000 Timeout objects (and their closures)
 * on the heap and in Node's timer lists. Connections with the same period sit in one queue in
 * due order (each re-enters at its due time plus the period, so the order holds), so a tick
 * costs O(1) per connection that is due and nothing for the others.
 */

/** A connection with a keepalive. */
export interface KeepaliveTarget {
  /** Runs once per period; returns false when the connection has ended (it leaves the wheel). */
  keepaliveTick(): boolean;
}

/** How often the wheel's timer looks for due ticks, ms. A tick runs at most this late. */
export const KEEPALIVE_GRANULARITY_MS = 100;

interface Entry {
  target: KeepaliveTarget;
  dueMs: number;
}

/** One period's connections, in due order (a ring: `head` is the next to look at). */
interface PeriodQueue {
  periodMs: number;
  entries: Entry[];
  head: number;
}

export class KeepaliveWheel {
  private readonly queues = new Map<number, PeriodQueue>();
  private size = 0;
  private timer: NodeJS.Timeout | null = null;

  /**
   * @param now the clock, ms. Default `performance.now`.
   * @param granularityMs how often the timer runs. Default {@link KEEPALIVE_GRANULARITY_MS}.
   */
  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly granularityMs = KEEPALIVE_GRANULARITY_MS,
  ) {}

  /** Connections on the wheel, ended ones included until their next due tick. */
  get count(): number {
    return this.size;
  }

  /** Ticks `target` every `periodMs` from now until its tick returns false. */
  add(target: KeepaliveTarget, periodMs: number): void {
    let queue = this.queues.get(periodMs);
    if (queue === undefined) {
      queue = { periodMs, entries: [], head: 0 };
      this.queues.set(periodMs, queue);
    }
    queue.entries.push({ target, dueMs: this.now() + periodMs });
    this.size++;
    if (this.timer === null) {
      // unref: held connections keep the process alive through their sockets, not this timer.
      this.timer = setInterval(() => this.advance(this.now()), this.granularityMs);
      this.timer.unref();
    }
  }

  /** Runs every tick due at `nowMs` (the timer calls it; tests may too). */
  advance(nowMs: number): void {
    for (const queue of this.queues.values()) this.advanceQueue(queue, nowMs);
    if (this.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private advanceQueue(queue: PeriodQueue, nowMs: number): void {
    const { entries } = queue;
    // Entries re-added during this pass are due a period later, so the loop ends.
    while (queue.head < entries.length) {
      const entry = entries[queue.head] as Entry;
      if (entry.dueMs > nowMs) break;
      queue.head++;
      if (entry.target.keepaliveTick()) {
        // A period after this tick ran: late ticks do not pile up, and since every entry is
        // pushed at a later instant than the one before, the queue stays in due order.
        entry.dueMs = nowMs + queue.periodMs;
        entries.push(entry);
      } else {
        this.size--;
      }
    }
    if (queue.head > 1024 && queue.head * 2 > entries.length) {
      entries.splice(0, queue.head);
      queue.head = 0;
    }
    if (entries.length === queue.head) this.queues.delete(queue.periodMs);
  }
}

/** The wheel of this thread (module state is per worker thread). */
export const keepaliveWheel = new KeepaliveWheel();
