/**
 * Deadlines of one fixed duration on one runtime timer: since every entry
 * lasts as long, they fall due in the order they were added, so a FIFO
 * queue and a timer armed for its head replace a timer per entry (a UDP
 * query's time limit is set and cancelled on every uncached lookup).
 * Cancelled entries are skipped when the head is reached; the timer is
 * cleared when no live entry is left, so it never keeps a process alive
 * longer than the entries would have.
 *
 * @example
 * ```ts
 * import { DeadlineQueue } from "./deadline_queue.ts";
 * const queue = new DeadlineQueue(50);
 * const entry = queue.add({ expire: () => console.log("expired") });
 * queue.cancel(entry); // nothing is printed
 * ```
 *
 * @module
 */

/** What a deadline tells when it expires. */
export interface Expirable {
  /** Called once, at expiry. */
  expire(): void;
}

/** One deadline of a {@link DeadlineQueue}. */
export interface Deadline {
  /** When it expires (performance.now() milliseconds). */
  readonly due: number;
  /** Told at expiry; null once expired or cancelled. */
  owner: Expirable | null;
}

/**
 * Deadlines `ms` after they are added, in FIFO order on one timer.
 *
 * @example
 * ```ts
 * import { DeadlineQueue } from "./deadline_queue.ts";
 * const queue = new DeadlineQueue(10);
 * await new Promise<void>((resolve) => queue.add({ expire: resolve }));
 * console.log(queue.live); // 0
 * ```
 */
export class DeadlineQueue {
  /** The duration of every deadline. */
  readonly ms: number;
  #entries: Deadline[] = [];
  #head = 0;
  #live = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #firing = false;

  constructor(ms: number) {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`a deadline duration must be a finite number ≥ 0, got ${String(ms)}`);
    this.ms = ms;
  }

  /** Deadlines neither expired nor cancelled. */
  get live(): number {
    return this.#live;
  }

  /** A deadline `ms` from now that tells `owner` unless cancelled first. */
  add(owner: Expirable): Deadline {
    const entry: Deadline = { due: performance.now() + this.ms, owner };
    this.#entries.push(entry);
    this.#live++;
    if (this.#timer === undefined && !this.#firing) this.#arm(this.ms);
    return entry;
  }

  /** Cancels `entry` (nothing when it expired or was cancelled already). */
  cancel(entry: Deadline): void {
    if (entry.owner === null) return;
    entry.owner = null;
    if (--this.#live > 0) {
      // Most entries end near the head (answers come in about the order asked): drop them there.
      const entries = this.#entries;
      let head = this.#head;
      while (head < entries.length && entries[head]!.owner === null) head++;
      this.#head = head;
      if (head >= 1024 && head * 2 >= entries.length) {
        this.#entries = entries.slice(head);
        this.#head = 0;
      }
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#entries = [];
    this.#head = 0;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(this.#expire, Math.max(1, Math.ceil(delay)));
  }

  #expire = (): void => {
    this.#timer = undefined;
    this.#firing = true;
    try {
      const now = performance.now();
      while (this.#head < this.#entries.length) {
        const e = this.#entries[this.#head]!;
        if (e.owner !== null && e.due > now) break;
        this.#head++;
        const owner = e.owner;
        if (owner === null) continue;
        e.owner = null;
        this.#live--;
        owner.expire();
      }
    } finally {
      this.#firing = false;
      if (this.#head > 64 && this.#head * 2 > this.#entries.length) {
        this.#entries = this.#entries.slice(this.#head);
        this.#head = 0;
      }
      if (this.#live > 0 && this.#timer === undefined) {
        // Skip entries cancelled meanwhile: the first live one sets the delay.
        while (this.#entries[this.#head]!.owner === null) this.#head++;
        this.#arm(this.#entries[this.#head]!.due - performance.now());
      } else if (this.#live === 0) {
        this.#entries = [];
        this.#head = 0;
      }
    }
  };
}
