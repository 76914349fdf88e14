/**
 * Retrying an async operation with exponential backoff and jitter:
 * `retry(fn, policy)` calls `fn` until it succeeds, an error is not worth
 * retrying (`shouldRetry`, by default {@link isRetryable}: a transient
 * network condition, not a bad argument or a protocol violation), the
 * attempts run out, or the `signal` aborts. {@link backoffDelay} is the
 * delay rule, shared with socket/reconnect.ts. Delays wait on the
 * runtime's timers, or on a {@link TimerHeap} you pass (a loop's
 * `timers`, or one driven by a `ManualClock` in tests).
 *
 * @example
 * ```ts
 * import { retry } from "./retry.ts";
 * import { SocketError } from "./errors.ts";
 * let calls = 0;
 * const value = await retry(async () => {
 *   if (++calls < 3) throw new SocketError("ECONNREFUSED", "refused");
 *   return "ok";
 * }, { attempts: 5, initialDelayMs: 1 });
 * console.log(value, calls); // "ok" 3
 * ```
 *
 * @module
 */
import { isRetryable } from "./errors.ts";
import { checkOptions } from "./options.ts";
import type { TimerHeap } from "./timer_heap.ts";

/** The delay rule: `initialDelayMs × multiplier^n`, at most `maxDelayMs`, spread by ± `jitter`. */
export interface BackoffOptions {
  /** The first delay in ms (default 100). */
  initialDelayMs?: number;
  /** The longest delay in ms (default 30 000). */
  maxDelayMs?: number;
  /** The growth factor per retry (default 2). */
  multiplier?: number;
  /** The spread, 0–1: a delay d becomes a uniform pick in [d × (1 − jitter), d × (1 + jitter)] (default 0.25). */
  jitter?: number;
}

/** Options of {@link retry} (unknown keys are a TypeError). */
export interface RetryPolicy extends BackoffOptions {
  /** Calls at most, the first included (default 3). */
  attempts?: number;
  /** Whether `err` from call number `attempt` (1-based) is worth another call (default: {@link isRetryable}). */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  /** Stops the retries: a wait ends at once and the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called before each wait with the error, the attempt that failed and the delay chosen. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Timers to wait on (default the runtime's `setTimeout`). */
  timers?: TimerHeap;
  /** The random source for jitter, in [0, 1) (default `Math.random`). */
  random?: () => number;
}

const POLICY_KEYS: ReadonlySet<string> = new Set([
  "initialDelayMs", "maxDelayMs", "multiplier", "jitter", "attempts", "shouldRetry", "signal", "onRetry", "timers", "random",
]);

/** The backoff options with defaults applied, checked. */
export interface Backoff {
  /** Delay before the first retry, in milliseconds. */
  readonly initialDelayMs: number;
  /** Upper bound on any delay, in milliseconds. */
  readonly maxDelayMs: number;
  /** Growth factor between attempts. */
  readonly multiplier: number;
  /** Fraction of each delay that is randomised (0 to 1). */
  readonly jitter: number;
}

/**
 * Checks backoff options and fills in the defaults (100 ms, 30 s, ×2,
 * 0.25): a RangeError for a negative or non-finite delay, a multiplier
 * below 1, or a jitter outside 0–1.
 *
 * @example
 * ```ts
 * import { checkBackoff } from "./retry.ts";
 * console.log(checkBackoff({ jitter: 0 })); // { initialDelayMs: 100, maxDelayMs: 30000, multiplier: 2, jitter: 0 }
 * ```
 */
export function checkBackoff(options: BackoffOptions = {}): Backoff {
  const initialDelayMs = options.initialDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const multiplier = options.multiplier ?? 2;
  const jitter = options.jitter ?? 0.25;
  const finite = (v: number, name: string, min: number): void => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < min) throw new RangeError(`${name} must be a finite number >= ${min}, got ${String(v)}`);
  };
  finite(initialDelayMs, "initialDelayMs", 0);
  finite(maxDelayMs, "maxDelayMs", 0);
  finite(multiplier, "multiplier", 1);
  finite(jitter, "jitter", 0);
  if (jitter > 1) throw new RangeError(`jitter must be within 0-1, got ${jitter}`);
  return { initialDelayMs, maxDelayMs, multiplier, jitter };
}

/**
 * The delay before retry number `retryIndex` (0 for the first retry):
 * `min(maxDelayMs, initialDelayMs × multiplier^retryIndex)`, spread by the
 * jitter with `random()` (uniform in [0, 1); a value outside is clamped
 * to it and NaN counts as the midpoint), never below 0 or above
 * `maxDelayMs`, and always a finite number.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./retry.ts";
 * const fixed = () => 0.5; // no spread at the midpoint
 * console.log([0, 1, 2, 20].map((n) => backoffDelay(n, {}, fixed))); // [100, 200, 400, 30000]
 * ```
 */
export function backoffDelay(retryIndex: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const b = checkBackoff(options);
  if (!Number.isSafeInteger(retryIndex) || retryIndex < 0) throw new RangeError(`retryIndex must be an integer >= 0, got ${retryIndex}`);
  // 0 × multiplier^n is 0 even where multiplier^n overflows to Infinity (0 × Infinity is NaN).
  const base = b.initialDelayMs === 0 ? 0 : Math.min(b.maxDelayMs, b.initialDelayMs * b.multiplier ** Math.min(retryIndex, 1075));
  // A random source outside [0, 1) (a caller's) is held to it; NaN spreads nothing.
  const r = random();
  const unit = r >= 0 ? Math.min(r, 1) : r < 0 ? 0 : 0.5;
  const spread = base * b.jitter * (2 * unit - 1);
  return Math.min(b.maxDelayMs, Math.max(0, base + spread));
}

function reasonOf(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

/** Waits `ms` on `timers` (or setTimeout); rejects with the signal's reason when it aborts. */
function wait(ms: number, signal: AbortSignal | undefined, timers: TimerHeap | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(reasonOf(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      cancel();
      reject(reasonOf(signal!));
    };
    let cancel: () => void;
    if (timers !== undefined) {
      const t = timers.once(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      cancel = () => void t.cancel();
    } else {
      const t = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      cancel = () => clearTimeout(t);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Calls `fn(attempt, signal)` (attempt 1-based) until it resolves; between
 * failures waits {@link backoffDelay}. Rejects with the last error when it
 * is not worth retrying or the attempts are spent, or with the signal's
 * reason when aborted (also while `fn` runs: `fn` gets the signal to stop
 * its own work).
 *
 * @throws TypeError / RangeError for bad options (as a rejection)
 *
 * @example
 * ```ts
 * import { retry } from "./retry.ts";
 * const controller = new AbortController();
 * controller.abort(new Error("shutting down"));
 * await retry(() => Promise.resolve(1), { signal: controller.signal }).catch((e) => console.log(e.message)); // "shutting down"
 * ```
 */
export async function retry<T>(fn: (attempt: number, signal: AbortSignal | undefined) => Promise<T> | T, policy: RetryPolicy = {}): Promise<T> {
  checkOptions(policy, POLICY_KEYS, "retry");
  if (typeof fn !== "function") throw new TypeError("retry: fn must be a function");
  const backoff = checkBackoff(policy);
  const attempts = policy.attempts ?? 3;
  if (!Number.isSafeInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be a positive integer, got ${String(attempts)}`);
  const shouldRetry = policy.shouldRetry ?? ((err: unknown) => isRetryable(err));
  const { signal, timers } = policy;
  const random = policy.random ?? Math.random;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError("retry: signal must be an AbortSignal");
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw reasonOf(signal);
    try {
      return await abortable(fn(attempt, signal), signal);
    } catch (err) {
      if (signal?.aborted) throw reasonOf(signal);
      if (attempt >= attempts || !shouldRetry(err, attempt)) throw err;
      const delayMs = backoffDelay(attempt - 1, backoff, random);
      policy.onRetry?.(err, attempt, delayMs);
      await wait(delayMs, signal, timers);
    }
  }
}

/** `value`, or the signal's reason as soon as it aborts. */
function abortable<T>(value: Promise<T> | T, signal: AbortSignal | undefined): Promise<T> {
  const promise = Promise.resolve(value);
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reasonOf(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
