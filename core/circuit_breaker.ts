/**
 * A circuit breaker: after `failureThreshold` failures in a row it opens
 * and refuses calls at once (no connect, no timeout waited) for
 * `resetTimeoutMs`; then it is half-open and lets `halfOpenProbes` calls
 * through as probes: a probe that succeeds closes it (after
 * `successThreshold` successes), one that fails opens it again for another
 * `resetTimeoutMs`. Time comes from an injectable {@link Clock}; the state
 * moves when asked (no timers inside), so a breaker costs nothing while
 * idle. Used by socket/reconnect.ts; pools can keep one per origin.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "./circuit_breaker.ts";
 * import { ManualClock } from "./clock.ts";
 * const clock = new ManualClock();
 * const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeoutMs: 1000, clock });
 * breaker.recordFailure();
 * breaker.recordFailure();
 * console.log(breaker.state, breaker.allow()); // "open" false
 * clock.advance(1000);
 * console.log(breaker.state, breaker.allow()); // "half-open" true (the probe)
 * breaker.recordSuccess();
 * console.log(breaker.state); // "closed"
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "./clock.ts";
import { NetError } from "./errors.ts";
import { checkOptions } from "./options.ts";

/** Where a breaker is: calls pass ("closed"), are refused ("open"), or pass as probes ("half-open"). */
export type CircuitState = "closed" | "open" | "half-open";

/** Options of {@link CircuitBreaker} (unknown keys are a TypeError). */
export interface CircuitBreakerOptions {
  /** Failures in a row that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long it stays open before probes are let through, in ms (default 60 000). */
  resetTimeoutMs?: number;
  /** Probes let through at once while half-open (default 1). */
  halfOpenProbes?: number;
  /** Successful probes that close it again (default 1). */
  successThreshold?: number;
  /** The time source (default the monotonic system clock). */
  clock?: Clock;
  /** Called on every state change (an exception it throws is ignored). */
  onStateChange?: (to: CircuitState, from: CircuitState) => void;
}

const KEYS: ReadonlySet<string> = new Set(["failureThreshold", "resetTimeoutMs", "halfOpenProbes", "successThreshold", "clock", "onStateChange"]);

/**
 * A call refused because the circuit is open (code `ERR_CIRCUIT_OPEN`);
 * `retryAfterMs` says when probes will be let through. Not retryable by
 * `isRetryable` (retrying at once is what the breaker prevents).
 *
 * @example
 * ```ts
 * import { CircuitOpenError } from "./circuit_breaker.ts";
 * const err = new CircuitOpenError("db:5432 is failing", 1500);
 * console.log(err.code, err.retryAfterMs); // "ERR_CIRCUIT_OPEN" 1500
 * ```
 */
export class CircuitOpenError extends NetError {
  /** The brand that `instanceof` checks across library copies. */
  static override readonly brand: string = "ffinet.CircuitOpenError";
  /** Milliseconds until the breaker lets a probe through (0: now, when a probe slot frees). */
  readonly retryAfterMs: number;
  /** An error for a call refused by an open breaker. */
  constructor(message: string, retryAfterMs: number, options: { cause?: unknown } = {}) {
    super("ERR_CIRCUIT_OPEN", message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * A circuit breaker (see the module notes). `allow()` before a call, then
 * `recordSuccess()` or `recordFailure()` after it; or `run(fn)` for both.
 *
 * @example
 * ```ts
 * import { CircuitBreaker, CircuitOpenError } from "./circuit_breaker.ts";
 * const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 60_000 });
 * await breaker.run(() => Promise.reject(new Error("down"))).catch(() => {});
 * await breaker.run(() => Promise.resolve(1)).catch((e) => console.log(e instanceof CircuitOpenError)); // true
 * ```
 */
export class CircuitBreaker {
  /** Failures in a row that open it. */
  readonly failureThreshold: number;
  /** How long it stays open, in ms. */
  readonly resetTimeoutMs: number;
  /** Probes at once while half-open. */
  readonly halfOpenProbes: number;
  /** Successful probes that close it. */
  readonly successThreshold: number;
  readonly #clock: Clock;
  readonly #onStateChange: ((to: CircuitState, from: CircuitState) => void) | undefined;
  #state: CircuitState = "closed";
  #failures = 0;
  #successes = 0;
  #probes = 0;
  #openedAt = 0;

  /** A closed breaker; unknown option keys are a TypeError. */
  constructor(options: CircuitBreakerOptions = {}) {
    checkOptions(options, KEYS, "CircuitBreaker");
    this.failureThreshold = positiveInt(options.failureThreshold, 5, "failureThreshold");
    this.halfOpenProbes = positiveInt(options.halfOpenProbes, 1, "halfOpenProbes");
    this.successThreshold = positiveInt(options.successThreshold, 1, "successThreshold");
    const reset = options.resetTimeoutMs ?? 60_000;
    if (typeof reset !== "number" || !(reset >= 0) || !Number.isFinite(reset)) throw new RangeError(`resetTimeoutMs must be a finite number >= 0, got ${String(reset)}`);
    this.resetTimeoutMs = reset;
    if (options.onStateChange !== undefined && typeof options.onStateChange !== "function") throw new TypeError("onStateChange must be a function");
    this.#clock = options.clock ?? systemClock;
    this.#onStateChange = options.onStateChange;
  }

  /** The state now (an open circuit whose reset timeout has passed reads as half-open). */
  get state(): CircuitState {
    this.#tick();
    return this.#state;
  }

  /** Failures in a row so far (while closed). */
  get failures(): number {
    return this.#failures;
  }

  /** Milliseconds until an open circuit lets probes through (0 when not open). */
  retryAfterMs(): number {
    this.#tick();
    if (this.#state !== "open") return 0;
    return Math.max(0, this.#openedAt + this.resetTimeoutMs - this.#clock.now());
  }

  /**
   * Whether a call may go ahead now. While half-open this takes a probe
   * slot: the call must end in `recordSuccess()` or `recordFailure()`
   * (or `releaseProbe()` when it was never made).
   */
  allow(): boolean {
    this.#tick();
    if (this.#state === "closed") return true;
    if (this.#state === "open") return false;
    if (this.#probes >= this.halfOpenProbes) return false;
    this.#probes++;
    return true;
  }

  /** Gives back a probe slot taken by `allow()` for a call that was not made. */
  releaseProbe(): void {
    if (this.#probes > 0) this.#probes--;
  }

  /** A call succeeded. */
  recordSuccess(): void {
    this.#tick();
    if (this.#state === "half-open") {
      this.releaseProbe();
      if (++this.#successes >= this.successThreshold) this.#move("closed");
      return;
    }
    this.#failures = 0;
  }

  /** A call failed. */
  recordFailure(): void {
    this.#tick();
    if (this.#state === "half-open") {
      this.releaseProbe();
      this.#open();
      return;
    }
    if (this.#state === "open") return;
    if (++this.#failures >= this.failureThreshold) this.#open();
  }

  /** Back to closed, counts cleared. */
  reset(): void {
    this.#probes = 0;
    this.#move("closed");
  }

  /**
   * Runs `fn` when allowed and records its outcome; rejects with
   * {@link CircuitOpenError} without calling it otherwise. `isFailure`
   * (default: every error) says which errors count against the circuit.
   */
  async run<T>(fn: () => Promise<T> | T, isFailure: (err: unknown) => boolean = () => true): Promise<T> {
    if (!this.allow()) throw new CircuitOpenError(`circuit open: refused for another ${Math.ceil(this.retryAfterMs())} ms`, this.retryAfterMs());
    let value: T;
    try {
      value = await fn();
    } catch (err) {
      if (isFailure(err)) this.recordFailure();
      else this.recordSuccess();
      throw err;
    }
    this.recordSuccess();
    return value;
  }

  #open(): void {
    this.#openedAt = this.#clock.now();
    this.#move("open");
  }

  #tick(): void {
    if (this.#state === "open" && this.#clock.now() - this.#openedAt >= this.resetTimeoutMs) this.#move("half-open");
  }

  #move(to: CircuitState): void {
    const from = this.#state;
    this.#failures = 0;
    this.#successes = 0;
    if (to !== "half-open") this.#probes = 0;
    if (from === to) return;
    this.#state = to;
    try {
      this.#onStateChange?.(to, from);
    } catch {
      // an observer's failure is not the breaker's
    }
  }
}
