/**
 * Monotonic time for timers, timeouts, rate limits and statistics.
 *
 * Wall-clock time (`Date.now()`) jumps when the system clock is set; these
 * helpers never go backwards. Code that measures time takes a {@link Clock}
 * so tests can drive it with a {@link ManualClock} instead of sleeping.
 *
 * @example
 * ```ts
 * import { ManualClock, monotonicMs, systemClock } from "./clock.ts";
 * const started = monotonicMs();
 * const clock = new ManualClock(1000);
 * clock.advance(250);
 * console.log(clock.now()); // 1250
 * console.log(systemClock.now() >= started); // true
 * ```
 *
 * @module
 */
import { hrtimeBigint } from "../ffi/runtime.ts";
import { onMicrotask } from "./microtask.ts";

/**
 * A source of monotonic time in milliseconds (fractions allowed). The origin
 * is arbitrary: only differences between two readings mean something.
 *
 * @example
 * ```ts
 * import { type Clock, systemClock } from "./clock.ts";
 * function elapsedSince(clock: Clock, start: number): number {
 *   return clock.now() - start;
 * }
 * console.log(elapsedSince(systemClock, systemClock.now()) >= 0); // true
 * ```
 */
export interface Clock {
  /** Monotonic milliseconds since an arbitrary origin. */
  now(): number;
}

/**
 * Monotonic milliseconds (fractional) from `performance.now()`.
 *
 * @returns milliseconds since an arbitrary origin; never decreases.
 *
 * @example
 * ```ts
 * import { monotonicMs } from "./clock.ts";
 * const t0 = monotonicMs();
 * const t1 = monotonicMs();
 * console.log(t1 - t0 >= 0); // true
 * ```
 */
export function monotonicMs(): number {
  return performance.now();
}

/** The reading {@link turnMs} hands out until the next microtask checkpoint (valid while `turnCached`). */
let turnReading = 0;
let turnCached = false;
function endTurn(): void {
  turnCached = false;
}

/**
 * Forgets the {@link turnMs} reading, so the next call reads the clock
 * again. The event loop calls it after each wait, since its own dispatch
 * can run long without a microtask checkpoint (a blocking `Loop.run()`
 * never reaches one), and a frozen reading would make deadlines computed
 * from it fire early and the `Date` header stand still.
 *
 * @example
 * ```ts
 * import { newTurn, turnMs } from "./clock.ts";
 * const a = turnMs();
 * newTurn();
 * console.log(turnMs() >= a); // true
 * ```
 */
export function newTurn(): void {
  turnCached = false;
}

/**
 * Monotonic milliseconds read once per synchronous run of JavaScript (an
 * event-loop turn, up to its next microtask checkpoint): the first call
 * reads `performance.now()` and queues a microtask that forgets it; later
 * calls before that microtask runs return the same reading. For work that
 * happens many times per turn and can take "when this turn started" for
 * "now" — a rate limit's refill, the start of a request being served —
 * it saves a clock read (100–300 ns on these runtimes) per call. The
 * reading lags the true time by at most the turn's length so far (the
 * event loop starts a new reading after each of its waits: {@link newTurn}).
 *
 * @returns milliseconds on {@link monotonicMs}'s scale; never decreases.
 *
 * @example
 * ```ts
 * import { monotonicMs, turnMs } from "./clock.ts";
 * const a = turnMs();
 * const b = turnMs(); // the same turn: the same reading
 * console.log(a === b, a <= monotonicMs()); // true true
 * ```
 */
export function turnMs(): number {
  if (turnCached) return turnReading;
  turnCached = true;
  onMicrotask(endTurn);
  return (turnReading = performance.now());
}

/**
 * {@link turnMs} as a {@link Clock}: the monotonic clock read at most once
 * per event-loop turn.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./rate_limit.ts";
 * import { turnClock } from "./clock.ts";
 * const perClient = new TokenBucket({ rate: 100, clock: turnClock });
 * console.log(perClient.tryAcquire()); // true
 * ```
 */
export const turnClock: Clock = Object.freeze({ now: turnMs });

/**
 * Monotonic nanoseconds as a bigint: `process.hrtime.bigint()` where the
 * runtime has it, otherwise derived from `performance.now()` (whose
 * resolution may then be coarser than a nanosecond).
 *
 * The origin differs from {@link monotonicMs}'s: compare readings of one
 * function only.
 *
 * @returns nanoseconds since an arbitrary origin; never decreases.
 *
 * @example
 * ```ts
 * import { monotonicNs } from "./clock.ts";
 * const t0 = monotonicNs();
 * const t1 = monotonicNs();
 * console.log(t1 >= t0); // true
 * ```
 */
export function monotonicNs(): bigint {
  if (hrtimeBigint !== undefined) return hrtimeBigint();
  return BigInt(Math.round(performance.now() * 1e6));
}

/**
 * The process's monotonic clock ({@link monotonicMs}), the default wherever
 * a {@link Clock} is optional.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * const deadline = systemClock.now() + 5000;
 * console.log(deadline > systemClock.now()); // true
 * ```
 */
export const systemClock: Clock = Object.freeze({ now: monotonicMs });

/**
 * A clock that moves only when told to: deterministic time for tests.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * const clock = new ManualClock();
 * clock.advance(100);
 * clock.set(150);
 * console.log(clock.now()); // 150
 * ```
 */
export class ManualClock implements Clock {
  #now: number;

  /**
   * Creates a clock reading `startMs` until it is advanced by hand.
   * @param startMs the initial reading (default 0).
   * @throws {RangeError} when `startMs` is not a finite number.
   */
  constructor(startMs = 0) {
    this.#now = checkTime(startMs, "startMs");
  }

  /** The current reading in milliseconds. */
  now(): number {
    return this.#now;
  }

  /**
   * Moves the clock forward.
   *
   * @param ms milliseconds to add; must be finite and not negative.
   * @returns the new reading.
   * @throws {RangeError} when `ms` is negative or not finite.
   */
  advance(ms: number): number {
    const step = checkTime(ms, "ms");
    if (step < 0) throw new RangeError(`ManualClock cannot go backwards (advance by ${ms})`);
    this.#now += step;
    return this.#now;
  }

  /**
   * Sets the reading. It may not go below the current one: the clock is
   * monotonic.
   *
   * @param ms the new reading.
   * @throws {RangeError} when `ms` is below the current reading or not finite.
   */
  set(ms: number): void {
    const to = checkTime(ms, "ms");
    if (to < this.#now) {
      throw new RangeError(`ManualClock cannot go backwards (from ${this.#now} to ${ms})`);
    }
    this.#now = to;
  }
}

function checkTime(value: number, name: string): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be finite, got ${value}`);
  return value;
}
