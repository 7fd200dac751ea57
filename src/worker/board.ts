/**
 * The run's shared board: 32-bit words in a SharedArrayBuffer every worker of the process
 * sees. Word 0 counts the workers that finished draining, so the backend clients (monitors,
 * controllers) of a worker that is done early stay connected until every worker is done.
 * Then one word per device of the fleet: a command receiver's own worker writes it (online
 * once subscribed to its commands; an epoch bumped each time its connection ends), and the
 * controllers, wherever they run, read it: they command only receivers that can answer, and
 * tell a command that was lost from one cut short by its receiver's drop.
 */

/** Words before the devices' own. */
const HEADER_WORDS = 1;
const DRAINED = 0;

/** A device's word: its epoch (connections ended) times two, plus 1 while it is subscribed. */
export class RunBoard {
  private readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
  }

  /**
   * The buffer of a run: a word per device when some group has a behaviour beyond telemetry
   * (and its workers must meet at the end), else empty.
   * @param devices the fleet's size
   */
  static create(devices: number, behaviours: boolean): SharedArrayBuffer {
    const words = behaviours ? HEADER_WORDS + devices : 0;
    return new SharedArrayBuffer(words * Int32Array.BYTES_PER_ELEMENT);
  }

  /** Whether the run uses the board at all. */
  get used(): boolean {
    return this.words.length > 0;
  }

  /** The receiver is subscribed to its commands. */
  online(ordinal: number): void {
    const i = HEADER_WORDS + ordinal;
    Atomics.store(this.words, i, Atomics.load(this.words, i) | 1);
  }

  /** The receiver's connection ended: a new epoch, offline. */
  ended(ordinal: number): void {
    const i = HEADER_WORDS + ordinal;
    Atomics.store(this.words, i, (Atomics.load(this.words, i) | 1) + 1);
  }

  /** The receiver's word now (compare two reads to see whether it dropped in between). */
  read(ordinal: number): number {
    const i = HEADER_WORDS + ordinal;
    return i < this.words.length ? Atomics.load(this.words, i) : 0;
  }

  /** Whether a word says subscribed. */
  static isOnline(word: number): boolean {
    return (word & 1) === 1;
  }

  /** This worker has drained. */
  drained(): void {
    if (this.used) Atomics.add(this.words, DRAINED, 1);
  }

  /** Workers that have drained so far. */
  get drainedCount(): number {
    return this.used ? Atomics.load(this.words, DRAINED) : 0;
  }
}
