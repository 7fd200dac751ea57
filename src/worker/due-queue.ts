/**
 * Actions due at planned instants (connects of a ramp, reconnects after a backoff,
 * disconnects of a ramp-down), kept in a binary min-heap so the worker's one tick finds the
 * due ones in O(log n) each, whatever the fleet size.
 */

interface Entry<T> {
  atMs: number;
  /** Insertion order: equal instants leave in the order they came. */
  order: number;
  item: T;
}

export class DueQueue<T> {
  private readonly heap: Entry<T>[] = [];
  private added = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `item` at `atMs` (the caller's clock, ms). */
  push(atMs: number, item: T): void {
    this.heap.push({ atMs, order: this.added++, item });
    this.up(this.heap.length - 1);
  }

  /** The instant of the earliest item, or `Infinity` when empty. */
  peekMs(): number {
    return this.heap[0]?.atMs ?? Infinity;
  }

  /** Removes and returns the earliest item if it is due at `nowMs`. */
  popDue(nowMs: number): { atMs: number; item: T } | undefined {
    const top = this.heap[0];
    if (top === undefined || top.atMs > nowMs) return undefined;
    const last = this.heap.pop() as Entry<T>;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return { atMs: top.atMs, item: top.item };
  }

  /** Removes every item for which `drop` is true. O(n). */
  removeWhere(drop: (item: T) => boolean): void {
    const keep = this.heap.filter((e) => !drop(e.item));
    this.heap.length = 0;
    for (const e of keep) {
      this.heap.push(e);
      this.up(this.heap.length - 1);
    }
  }

  clear(): void {
    this.heap.length = 0;
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i] as Entry<T>;
    const b = this.heap[j] as Entry<T>;
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i] as Entry<T>;
    this.heap[i] = this.heap[j] as Entry<T>;
    this.heap[j] = t;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < this.heap.length && this.less(l, min)) min = l;
      if (r < this.heap.length && this.less(r, min)) min = r;
      if (min === i) return;
      this.swap(i, min);
      i = min;
    }
  }
}
