/**
 * How soon DNS answers come back, and so how long the loop should expect
 * events after a query goes out ({@link Loop.expectEvents}): a server that
 * answers within a couple of milliseconds (a local dnsmasq, unbound or
 * systemd-resolved, a resolver on the LAN) is waited for with short
 * blocking waits on the loop's thread instead of a parked wait on the
 * helper thread, whose round trip costs more CPU than a whole lookup
 * (measured on Node, 8 lookups in flight against a local dnsmasq: ~0.07
 * parks per lookup, ~100 µs each). A slower server is not waited for
 * that way: the loop parks as usual.
 *
 * The estimate is smoothed like TCP's SRTT (1/8 of each new sample);
 * before any answer the server counts as near.
 *
 * @example
 * ```ts
 * import { AnswerLatency } from "./answer_latency.ts";
 * const latency = new AnswerLatency();
 * latency.observe(0.3);
 * console.log(latency.expectMs()); // 1
 * latency.observe(50);
 * console.log(latency.expectMs()); // 0 (6.5 ms on average now: not near)
 * ```
 *
 * @module
 */

/** Servers whose answers take at most this long on average (ms) are near. */
export const NEAR_ANSWER_MS = 2;
/** The shortest and longest window (ms) a query's answer is expected in. */
const MIN_EXPECT_MS = 1;
const MAX_EXPECT_MS = 5;

/**
 * A smoothed answer time and the expectation window it gives.
 *
 * @example
 * ```ts
 * import { AnswerLatency } from "./answer_latency.ts";
 * const latency = new AnswerLatency();
 * console.log(latency.smoothedMs, latency.expectMs()); // -1 2
 * ```
 */
export class AnswerLatency {
  #smoothed = -1;

  /** The smoothed answer time in ms (-1 before the first answer). */
  get smoothedMs(): number {
    return this.#smoothed;
  }

  /** Records one answer that came `ms` after its query went out (or a query given up after `ms`). */
  observe(ms: number): void {
    if (!(ms >= 0)) return;
    this.#smoothed = this.#smoothed < 0 ? ms : this.#smoothed + (ms - this.#smoothed) / 8;
  }

  /**
   * How long (ms) the loop should expect events after a query goes out:
   * three smoothed answer times within 1..5 ms while answers are near (2
   * before the first), else 0 (do not expect: park as usual).
   */
  expectMs(): number {
    const s = this.#smoothed;
    if (s < 0) return 2;
    if (s > NEAR_ANSWER_MS) return 0;
    return Math.min(MAX_EXPECT_MS, Math.max(MIN_EXPECT_MS, 3 * s));
  }
}
