/**
 * Health per host:port (seed: `SocketPoolHealth`): one
 * {@link CircuitBreaker} per origin (closed → open → half-open, probes,
 * thresholds), made on first use and forgotten least recently used first
 * beyond a bound. Client pools and `socket/reconnect` ask `allow(origin)`
 * before connecting and report the outcome.
 *
 * Defaults are the seed's: 5 failures in a row open a circuit for 30 s,
 * then 1 probe at a time, 1 success closes it.
 *
 * @example
 * ```ts
 * import { ManualClock } from "../core/clock.ts";
 * import { HostHealth } from "./health.ts";
 * const clock = new ManualClock();
 * const health = new HostHealth({ failureThreshold: 2, resetTimeoutMs: 1000, clock });
 * health.recordFailure("db:5432");
 * health.recordFailure("db:5432");
 * console.log(health.state("db:5432"), health.allow("db:5432")); // "open" false
 * console.log(health.allow("cache:6379")); // true: each origin has its own circuit
 * clock.advance(1000);
 * console.log(health.allow("db:5432")); // true: the probe
 * health.recordSuccess("db:5432");
 * console.log(health.state("db:5432")); // "closed"
 * ```
 *
 * @module
 */
import { CircuitBreaker, CircuitOpenError, type CircuitState } from "../core/circuit_breaker.ts";
import type { Clock } from "../core/clock.ts";
import { checkOptions } from "../core/options.ts";

/**
 * Options of {@link HostHealth} (unknown keys are a TypeError).
 *
 * @example
 * ```ts
 * import { HostHealth, type HostHealthOptions } from "./health.ts";
 * const options: HostHealthOptions = { failureThreshold: 3, resetTimeoutMs: 10_000, maxHosts: 256 };
 * const health = new HostHealth(options);
 * ```
 */
export interface HostHealthOptions {
  /** Failures in a row that open an origin's circuit (default 5). */
  failureThreshold?: number;
  /** How long a circuit stays open before a probe, in ms (default 30 000). */
  resetTimeoutMs?: number;
  /** Probes at once while half-open (default 1). */
  halfOpenProbes?: number;
  /** Successful probes that close it (default 1). */
  successThreshold?: number;
  /** Origins tracked at once; the least recently used is forgotten beyond it (default 1024). */
  maxHosts?: number;
  /** The time source (default the monotonic system clock). */
  clock?: Clock;
  /** Called when an origin's circuit changes state (an exception it throws is ignored). */
  onStateChange?: (origin: string, to: CircuitState, from: CircuitState) => void;
}

const KEYS: ReadonlySet<string> = new Set([
  "failureThreshold", "resetTimeoutMs", "halfOpenProbes", "successThreshold", "maxHosts", "clock", "onStateChange",
]);

/**
 * One origin's figures.
 *
 * @example
 * ```ts
 * import { HostHealth, type OriginHealth } from "./health.ts";
 * const h: OriginHealth = new HostHealth().origin("a:1");
 * console.log(h.state); // "closed"
 * ```
 */
export interface OriginHealth {
  /** The circuit: "closed" (requests pass), "open" (refused) or "half-open" (one probe passes). */
  state: CircuitState;
  /** Failures in a row (while closed). */
  failures: number;
  /** ms until an open circuit lets a probe through. */
  retryAfterMs: number;
  /** Outcomes reported since tracked. */
  successes: number;
  /** Failures reported since tracked. */
  totalFailures: number;
}

interface Tracked {
  breaker: CircuitBreaker;
  successes: number;
  failures: number;
}

/**
 * Circuit breakers per origin; see the module doc.
 *
 * @example
 * ```ts
 * import { HostHealth } from "./health.ts";
 * const health = new HostHealth();
 * const result = await health.run("127.0.0.1:9", async () => "connected");
 * console.log(result); // "connected"
 * ```
 */
export class HostHealth {
  readonly #options: HostHealthOptions;
  readonly #maxHosts: number;
  /** Least recently used first. */
  readonly #origins = new Map<string, Tracked>();

  /**
   * Creates a health tracker for at most `maxHosts` (default 1024) origins with the given breaker options.
   * @throws {TypeError} for an unknown option; {@link RangeError} for bad numbers.
   */
  constructor(options: HostHealthOptions = {}) {
    checkOptions(options, KEYS, "HostHealth");
    const maxHosts = options.maxHosts ?? 1024;
    if (!Number.isSafeInteger(maxHosts) || maxHosts < 1) throw new RangeError(`maxHosts must be a positive integer, got ${String(maxHosts)}`);
    this.#maxHosts = maxHosts;
    this.#options = options;
    this.#make("validate:0"); // throws now for bad breaker options
    this.#origins.clear();
  }

  /** Origins tracked now. */
  get size(): number {
    return this.#origins.size;
  }

  /**
   * Whether a connect to `origin` may go ahead (half-open: takes the probe
   * slot; report the outcome).
   */
  allow(origin: string): boolean {
    return this.#get(origin).breaker.allow();
  }

  /** Gives back the half-open probe slot `allow(origin)` took for a connect that was not made. */
  releaseProbe(origin: string): void {
    this.#origins.get(checkOrigin(origin))?.breaker.releaseProbe();
  }

  /** A connect (or request) to `origin` succeeded. */
  recordSuccess(origin: string): void {
    const t = this.#get(origin);
    t.successes++;
    t.breaker.recordSuccess();
  }

  /** A connect (or request) to `origin` failed. */
  recordFailure(origin: string): void {
    const t = this.#get(origin);
    t.failures++;
    t.breaker.recordFailure();
  }

  /** `origin`'s circuit state ("closed" for one not tracked). */
  state(origin: string): CircuitState {
    return this.#origins.get(checkOrigin(origin))?.breaker.state ?? "closed";
  }

  /** `origin`'s figures. */
  origin(origin: string): OriginHealth {
    const t = this.#origins.get(checkOrigin(origin));
    if (t === undefined) return { state: "closed", failures: 0, retryAfterMs: 0, successes: 0, totalFailures: 0 };
    return {
      state: t.breaker.state,
      failures: t.breaker.failures,
      retryAfterMs: t.breaker.retryAfterMs(),
      successes: t.successes,
      totalFailures: t.failures,
    };
  }

  /**
   * Runs `fn` when `origin`'s circuit allows it and records the outcome.
   *
   * @throws {CircuitOpenError} (`ERR_CIRCUIT_OPEN`) without calling `fn` when open.
   */
  async run<T>(origin: string, fn: () => Promise<T> | T): Promise<T> {
    const t = this.#get(origin);
    if (!t.breaker.allow()) {
      const wait = t.breaker.retryAfterMs();
      throw new CircuitOpenError(`circuit to ${origin} open: refused for another ${Math.ceil(wait)} ms`, wait);
    }
    try {
      const value = await fn();
      t.successes++;
      t.breaker.recordSuccess();
      return value;
    } catch (err) {
      t.failures++;
      t.breaker.recordFailure();
      throw err;
    }
  }

  /** Closes `origin`'s circuit and forgets its counts (every origin without an argument). */
  reset(origin?: string): void {
    if (origin === undefined) this.#origins.clear();
    else this.#origins.delete(checkOrigin(origin));
  }

  #get(origin: string): Tracked {
    const key = checkOrigin(origin);
    let t = this.#origins.get(key);
    if (t !== undefined) {
      this.#origins.delete(key); // most recently used last
      this.#origins.set(key, t);
      return t;
    }
    if (this.#origins.size >= this.#maxHosts) {
      const oldest = this.#origins.keys().next().value;
      if (oldest !== undefined) this.#origins.delete(oldest);
    }
    t = this.#make(key);
    this.#origins.set(key, t);
    return t;
  }

  #make(origin: string): Tracked {
    const o = this.#options;
    const onStateChange = o.onStateChange;
    const breaker = new CircuitBreaker({
      failureThreshold: o.failureThreshold ?? 5,
      resetTimeoutMs: o.resetTimeoutMs ?? 30_000,
      halfOpenProbes: o.halfOpenProbes ?? 1,
      successThreshold: o.successThreshold ?? 1,
      ...(o.clock === undefined ? {} : { clock: o.clock }),
      ...(onStateChange === undefined ? {} : { onStateChange: (to: CircuitState, from: CircuitState) => onStateChange(origin, to, from) }),
    });
    return { breaker, successes: 0, failures: 0 };
  }
}

function checkOrigin(origin: string): string {
  if (typeof origin !== "string" || origin.length === 0 || origin.length > 300) {
    throw new TypeError("origin must be a non-empty string (host:port) of at most 300 characters");
  }
  return origin;
}
