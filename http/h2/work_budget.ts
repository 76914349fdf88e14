/**
 * The "no-progress" budget of an HTTP/2 connection: frames that cost the
 * receiver work without moving any request forward (PRIORITY, unknown
 * frame types, tiny DATA or CONTINUATION frames, WINDOW_UPDATEs that
 * return no credit for data we sent, resets, 1xx responses, …) run up a
 * debt; useful work pays it back (DATA octets sent or received, header
 * sections delivered), and so does time when the connection has a clock.
 * A debt above the limit ends the connection with ENHANCE_YOUR_CALM.
 *
 * Legitimate peers send such frames in proportion to the work they ask
 * for, so they never reach the limit at any transfer speed; a flood does.
 *
 * @module
 */

/**
 * Octets of useful DATA (sent or received) that pay back one no-progress frame.
 *
 * @example
 * ```ts
 * import { PROGRESS_BYTES_PER_FRAME } from "./work_budget.ts";
 * console.log(PROGRESS_BYTES_PER_FRAME); // 1024
 * ```
 */
export const PROGRESS_BYTES_PER_FRAME = 1024;

/**
 * No-progress frames a header section delivered to the application (a
 * request, a final response) pays back: the few frames that legitimately
 * come with a request (a PRIORITY, a PRIORITY_UPDATE, a short DATA, a
 * cancel) cost less than the request itself.
 *
 * @example
 * ```ts
 * import { PROGRESS_FRAMES_PER_SECTION } from "./work_budget.ts";
 * console.log(PROGRESS_FRAMES_PER_SECTION); // 8
 * ```
 */
export const PROGRESS_FRAMES_PER_SECTION = 8;

/**
 * Payload octets below which a DATA or CONTINUATION frame that ends nothing counts as no progress.
 *
 * @example
 * ```ts
 * import { SMALL_FRAME_BYTES } from "./work_budget.ts";
 * console.log(SMALL_FRAME_BYTES); // 16
 * ```
 */
export const SMALL_FRAME_BYTES = 16;

/**
 * What a small DATA frame that carries data costs, in no-progress frames:
 * it delivers bytes, so a chat or event stream of tiny messages is
 * legitimate (nghttp2 and Go charge nothing); only a flood of them at many
 * thousands a second is not. At 1/64 the clock's 100 frames a second
 * forgive 6,400 tiny DATA frames a second, after a burst of 64,000.
 * Without a clock they cost nothing (a cap that time cannot pay back would
 * end a long stream of small messages); empty DATA frames cost a whole
 * frame either way.
 *
 * @example
 * ```ts
 * import { SMALL_DATA_FRAME_COST } from "./work_budget.ts";
 * console.log(1 / SMALL_DATA_FRAME_COST); // 64
 * ```
 */
export const SMALL_DATA_FRAME_COST = 1 / 64;

/**
 * A debt counter refilled by useful work and, with a clock, by time.
 *
 * @example
 * ```ts
 * import { NoProgressBudget } from "./work_budget.ts";
 * const b = new NoProgressBudget(2, 0);
 * b.charge(NaN); b.charge(NaN); // false, false
 * b.progressBytes(1024); // pays back one frame
 * b.charge(NaN); // false
 * console.log(b.charge(NaN)); // true: a third unpaid frame
 * ```
 */
export class NoProgressBudget {
  /** Unpaid no-progress frames allowed. */
  readonly limit: number;
  /** Frames forgiven per second of the connection's clock. */
  readonly refillPerSecond: number;
  /** Unpaid frames now (fractional). */
  debt = 0;
  /** No-progress frames charged in total. */
  total = 0;
  #last = NaN;

  /** Creates a budget of `limit` unpaid frames, forgiving `refillPerSecond` per second; throws RangeError for bad numbers. */
  constructor(limit: number, refillPerSecond: number) {
    if (!(limit >= 0)) throw new RangeError(`maxNoProgressFrames must be >= 0, got ${limit}`);
    if (!(refillPerSecond >= 0)) throw new RangeError(`noProgressRefillPerSecond must be >= 0, got ${refillPerSecond}`);
    this.limit = limit;
    this.refillPerSecond = refillPerSecond;
  }

  /**
   * Charges one no-progress frame (`cost` of a whole one, default 1) at
   * time `now` (ms; NaN without a clock); returns true when the debt is
   * above the limit.
   */
  charge(now: number, cost = 1): boolean {
    this.total++;
    if (now === now) { // not NaN: let time pay back
      const last = this.#last;
      if (last === last && now > last) this.debt = Math.max(0, this.debt - ((now - last) / 1000) * this.refillPerSecond);
      this.#last = now;
    }
    return (this.debt += cost) > this.limit;
  }

  /** Pays back `frames` no-progress frames (a header section delivered: 1). */
  progress(frames: number): void {
    const d = this.debt - frames;
    this.debt = d > 0 ? d : 0;
  }

  /** Pays back what `n` octets of useful DATA are worth. */
  progressBytes(n: number): void {
    if (this.debt > 0) this.progress(n / PROGRESS_BYTES_PER_FRAME);
  }
}
