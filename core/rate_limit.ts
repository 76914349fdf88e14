/**
 * Rate limits: a token bucket (bandwidth limits, request rates) and a
 * sliding-window event counter (HTTP/2 flood limits, connections per IP).
 *
 * Both read time from an injectable {@link Clock}, so tests drive them with
 * a `ManualClock`; neither keeps timers of its own.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * import { SlidingWindowCounter, TokenBucket } from "./rate_limit.ts";
 * const clock = new ManualClock();
 * const bandwidth = new TokenBucket({ rate: 1000, burst: 500, clock });
 * console.log(bandwidth.tryAcquire(400)); // true
 * console.log(bandwidth.waitTimeMs(400)); // 300
 * const resets = new SlidingWindowCounter({ windowMs: 1000, limit: 100, clock });
 * console.log(resets.record()); // true
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "./clock.ts";

/** Slack for floating-point refill arithmetic, relative to the amount asked. */
const EPSILON = 1e-9;

/**
 * Options of a {@link TokenBucket}.
 *
 * @example
 * ```ts
 * import { TokenBucket, type TokenBucketOptions } from "./rate_limit.ts";
 * // 1 MB/s with bursts of up to 64 KiB.
 * const options: TokenBucketOptions = { rate: 1_000_000, burst: 65536 };
 * const bandwidth = new TokenBucket(options);
 * ```
 */
export interface TokenBucketOptions {
  /** Tokens added per second (> 0; `Infinity` means no limit). */
  rate: number;
  /**
   * The most tokens the bucket holds, i.e. the largest burst (> 0; default:
   * one second's worth, `rate`). The bucket starts full.
   */
  burst?: number;
  /** Where time comes from (default: {@link systemClock}). */
  clock?: Clock;
}

/**
 * A token bucket: tokens accrue continuously at `rate` per second up to
 * `burst`; an action costing `n` tokens may proceed when `n` are there.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * import { TokenBucket } from "./rate_limit.ts";
 * const clock = new ManualClock();
 * const bucket = new TokenBucket({ rate: 100, burst: 10, clock });
 * bucket.tryAcquire(10);               // true: the bucket starts full
 * console.log(bucket.tryAcquire(1));   // false
 * console.log(bucket.waitTimeMs(5));   // 50
 * clock.advance(50);
 * console.log(bucket.acquireUpTo(8));  // 5
 * ```
 */
export class TokenBucket {
  readonly #clock: Clock;
  #rate = 0;
  #burst = 0;
  #tokens = 0;
  #last: number;

  /**
   * A bucket that starts full.
   *
   * @throws {RangeError} for a rate or burst that is not a positive number.
   */
  constructor(options: TokenBucketOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("TokenBucket options must be an object");
    }
    this.#clock = options.clock ?? systemClock;
    this.#last = this.#clock.now();
    this.#set(options.rate, options.burst);
    this.#tokens = this.#burst;
  }

  /** Tokens added per second. */
  get rate(): number {
    return this.#rate;
  }

  /** The most tokens the bucket holds. */
  get burst(): number {
    return this.#burst;
  }

  /**
   * Changes the rate and the burst. Tokens accrued so far at the old rate
   * are kept, capped at the new burst.
   *
   * @param rate tokens per second (> 0, `Infinity` for no limit).
   * @param burst the most tokens held (default: `rate`).
   * @throws {RangeError} for a rate or burst that is not a positive number.
   */
  configure(rate: number, burst?: number): void {
    this.#refill();
    this.#set(rate, burst);
    if (this.#tokens > this.#burst) this.#tokens = this.#burst;
  }

  /** Whole tokens available now. */
  available(): number {
    this.#refill();
    return Math.floor(this.#tokens + EPSILON);
  }

  /**
   * Takes `n` tokens if they are all there.
   *
   * @param n tokens wanted (default 1, finite, ≥ 0).
   * @returns true when the tokens were taken.
   */
  tryAcquire(n = 1): boolean {
    // Short, with one token (a request) checked inline: small enough for a
    // caller's hot path to inline whole (V8 budgets inlining by bytecode size).
    if (n !== 1) checkAmount(n);
    this.#refill();
    const tokens = this.#tokens;
    if (tokens + (n > 1 ? EPSILON * n : EPSILON) < n) return false;
    this.#tokens = tokens > n ? tokens - n : 0;
    return true;
  }

  /**
   * Takes as many whole tokens as are there, up to `n` (for a send that may
   * be partial).
   *
   * @returns the tokens taken (0 when limited).
   */
  acquireUpTo(n: number): number {
    checkAmount(n);
    this.#refill();
    const taken = Math.min(Math.floor(n), Math.floor(this.#tokens + EPSILON));
    this.#tokens = Math.max(0, this.#tokens - taken);
    return taken;
  }

  /**
   * Puts back `n` tokens that were taken but not used (a send that moved
   * fewer bytes than it acquired); the bucket never holds more than its
   * burst.
   *
   * @param n tokens to return (finite, ≥ 0).
   */
  refund(n: number): void {
    checkAmount(n);
    this.#refill();
    this.#tokens = Math.min(this.#burst, this.#tokens + n);
  }

  /**
   * Milliseconds (whole, rounded up) until `n` tokens are there: 0 when they
   * are now, `Infinity` when `n` exceeds the burst (it can never succeed).
   */
  waitTimeMs(n = 1): number {
    checkAmount(n);
    this.#refill();
    const missing = n - this.#tokens;
    if (missing <= EPSILON * Math.max(1, n)) return 0;
    if (n > this.#burst) return Infinity;
    return Math.ceil((missing * 1000) / this.#rate);
  }

  /** Fills the bucket to its burst. */
  reset(): void {
    this.#last = this.#clock.now();
    this.#tokens = this.#burst;
  }

  #set(rate: number, burst: number | undefined): void {
    checkPositive(rate, "rate", true);
    const b = burst ?? rate;
    checkPositive(b, "burst", Number.isFinite(rate) ? false : true);
    this.#rate = rate;
    this.#burst = b;
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = now - this.#last;
    this.#last = now;
    if (this.#rate === Infinity) {
      this.#tokens = this.#burst;
      return;
    }
    if (elapsed > 0) {
      const tokens = this.#tokens + (elapsed * this.#rate) / 1000;
      this.#tokens = tokens < this.#burst ? tokens : this.#burst;
    }
  }
}

/**
 * Options of a {@link SlidingWindowCounter}.
 *
 * @example
 * ```ts
 * import { SlidingWindowCounter, type SlidingWindowOptions } from "./rate_limit.ts";
 * const options: SlidingWindowOptions = { windowMs: 1000, limit: 100, buckets: 20 };
 * const resets = new SlidingWindowCounter(options);
 * ```
 */
export interface SlidingWindowOptions {
  /** The window's length in milliseconds (> 0). */
  windowMs: number;
  /** Events allowed per window (≥ 0). */
  limit: number;
  /**
   * Buckets per window (integer 1–1000, default 10): the precision with
   * which old events expire. Memory is one number per bucket.
   */
  buckets?: number;
  /** Where time comes from (default: {@link systemClock}). */
  clock?: Clock;
}

/**
 * Counts events over the last `windowMs` milliseconds in fixed-size memory,
 * for limits such as "at most 100 RST_STREAM per second".
 *
 * Time is split into `buckets` buckets per window. The count always
 * includes every event of the last `windowMs`, and may include events up to
 * one bucket (`windowMs / buckets`) older: it errs on the side of limiting.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * import { SlidingWindowCounter } from "./rate_limit.ts";
 * const clock = new ManualClock();
 * const pings = new SlidingWindowCounter({ windowMs: 1000, limit: 2, clock });
 * pings.record();
 * pings.record();
 * console.log(pings.record());   // false: 3 in the window
 * clock.advance(1100);
 * console.log(pings.count());    // 0
 * ```
 */
export class SlidingWindowCounter {
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #limit: number;
  readonly #bucketMs: number;
  /** One slot more than the buckets per window: see the class docs. */
  readonly #counts: Float64Array;
  #total = 0;
  #current: number;

  /**
   * A counter with nothing counted yet.
   *
   * @throws {RangeError} for a bad window, limit or bucket count.
   */
  constructor(options: SlidingWindowOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("SlidingWindowCounter options must be an object");
    }
    checkPositive(options.windowMs, "windowMs", false);
    const limit = options.limit;
    if (typeof limit !== "number") throw new TypeError(`limit must be a number, got ${typeof limit}`);
    if (!(limit >= 0) || !Number.isFinite(limit)) {
      throw new RangeError(`limit must be a finite number ≥ 0, got ${limit}`);
    }
    const buckets = options.buckets ?? 10;
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1000) {
      throw new RangeError(`buckets must be an integer between 1 and 1000, got ${buckets}`);
    }
    this.#clock = options.clock ?? systemClock;
    this.#windowMs = options.windowMs;
    this.#limit = limit;
    this.#bucketMs = options.windowMs / buckets;
    this.#counts = new Float64Array(buckets + 1);
    this.#current = Math.floor(this.#clock.now() / this.#bucketMs);
  }

  /** The window's length in milliseconds. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /** Events allowed per window. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Records `n` events.
   *
   * @returns true while the count, these events included, is within the
   *   limit; false means the limit is exceeded.
   */
  record(n = 1): boolean {
    checkAmount(n);
    this.#advance();
    this.#add(n);
    return this.#total <= this.#limit;
  }

  /**
   * Records `n` events only if the count stays within the limit.
   *
   * @returns true when recorded.
   */
  tryRecord(n = 1): boolean {
    checkAmount(n);
    this.#advance();
    if (this.#total + n > this.#limit) return false;
    this.#add(n);
    return true;
  }

  /** Events counted in the window now. */
  count(): number {
    this.#advance();
    return this.#total;
  }

  /** Events still allowed in the window now. */
  remaining(): number {
    return Math.max(0, this.#limit - this.count());
  }

  /** True when the count is above the limit. */
  exceeded(): boolean {
    return this.count() > this.#limit;
  }

  /** Forgets every event. */
  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#current = Math.floor(this.#clock.now() / this.#bucketMs);
  }

  #add(n: number): void {
    const slots = this.#counts.length;
    const slot = ((this.#current % slots) + slots) % slots;
    this.#counts[slot] = (this.#counts[slot] as number) + n;
    this.#total += n;
  }

  #advance(): void {
    const bucket = Math.floor(this.#clock.now() / this.#bucketMs);
    const steps = bucket - this.#current;
    if (!(steps > 0)) return; // same bucket, or the clock went back
    const counts = this.#counts;
    const slots = counts.length;
    if (steps >= slots) {
      counts.fill(0);
      this.#total = 0;
    } else {
      for (let i = 1; i <= steps; i++) {
        const slot = (((this.#current + i) % slots) + slots) % slots;
        this.#total -= counts[slot] as number;
        counts[slot] = 0;
      }
      if (this.#total < 0) this.#total = 0;
    }
    this.#current = bucket;
  }
}

/**
 * The burst of a limit that counts whole events (requests, connections) at
 * `perSecond` on average: `burst` when given, else `perSecond` but at least
 * 1. A bucket holding less than one token never admits an event, however
 * long the key waits (`perSecond: 0.5` would refuse every request for
 * good), so a `burst` under 1 is a `RangeError`, as are the numbers a
 * {@link TokenBucket} refuses.
 *
 * @param perSecond events per second on average (> 0, `Infinity` for no limit).
 * @param burst events at once (≥ 1; default `max(perSecond, 1)`).
 * @param what the option's name, for the error message.
 * @returns the burst to make each key's bucket with.
 * @throws {RangeError} for a rate or burst out of range.
 *
 * @example
 * ```ts
 * import { eventBurst } from "./rate_limit.ts";
 * console.log(eventBurst(0.5, undefined, "rateLimit")); // 1: one request every 2 s
 * console.log(eventBurst(10, 20, "rateLimit"));         // 20
 * ```
 */
export function eventBurst(perSecond: number, burst: number | undefined, what: string): number {
  const b = burst ?? (typeof perSecond === "number" && perSecond < 1 ? 1 : perSecond);
  new TokenBucket({ rate: perSecond, burst: b }); // checks the numbers
  if (b < 1) throw new RangeError(`${what}: burst must be at least 1 (a bucket of less than one token admits nothing), got ${b}`);
  return b;
}

function checkAmount(n: number): void {
  if (typeof n !== "number") throw new TypeError(`n must be a number, got ${typeof n}`);
  if (!(n >= 0) || !Number.isFinite(n)) throw new RangeError(`n must be a finite number ≥ 0, got ${n}`);
}

function checkPositive(value: number, name: string, allowInfinity: boolean): void {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!(value > 0) || (!allowInfinity && !Number.isFinite(value))) {
    throw new RangeError(`${name} must be a ${allowInfinity ? "" : "finite "}number > 0, got ${value}`);
  }
}
