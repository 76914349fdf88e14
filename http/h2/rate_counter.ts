/**
 * A per-second event counter for flood protection: SETTINGS, PING and
 * resets get one, with a limit from `HTTP2_LIMITS`. Frames a peer sends in
 * proportion to the data are not counted by rate but by cost (see
 * work_budget.ts).
 *
 * @module
 */

/**
 * Counts events in fixed one-second windows of an injected clock.
 *
 * @example
 * ```ts
 * import { RateCounter } from "./rate_counter.ts";
 * const c = new RateCounter(2);
 * c.hit(0); c.hit(10); // false, false
 * c.hit(20); // true: a third event within one second
 * ```
 */
export class RateCounter {
  /** Events allowed per second. */
  readonly limit: number;
  /** Events in the current window. */
  count = 0;
  /** Total events seen. */
  total = 0;
  #windowStart = -Infinity;

  /** Creates a counter allowing `limit` events per second. */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** Records one event at time `now` (ms); returns true when over the limit. */
  hit(now: number): boolean {
    this.total++;
    if (now - this.#windowStart >= 1000 || now < this.#windowStart) {
      this.#windowStart = now;
      this.count = 0;
    }
    return ++this.count > this.limit;
  }
}
