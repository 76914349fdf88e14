/**
 * Socket timeouts: process-wide defaults (connect, send, receive, DNS) that
 * each socket may override (the seed's SocketTimeouts).
 *
 * A value is milliseconds; `0` means "no timeout" (wait as long as it takes).
 * A socket reads the defaults whenever it needs a value it has not
 * overridden, so changing a default affects existing sockets too.
 *
 * @example
 * ```ts
 * import { getDefaultTimeouts, setDefaultTimeouts } from "./timeouts.ts";
 * setDefaultTimeouts({ connectMs: 5000 });
 * console.log(getDefaultTimeouts().connectMs); // 5000
 * ```
 *
 * @module
 */

/** A full set of timeouts, in milliseconds; 0 = no timeout. */
export interface SocketTimeouts {
  /** Establishing a connection. */
  readonly connectMs: number;
  /** A blocking send, and each wait inside `sendAll`. */
  readonly sendMs: number;
  /** A blocking receive, and each wait inside `recvAll`. */
  readonly recvMs: number;
  /**
   * Resolving a host name (resolveHost, connectTCPSync, listenTCPSync). Enforced
   * where glibc's getaddrinfo_a exists; see `dnsTimeoutEnforced()`.
   */
  readonly dnsMs: number;
}

const FACTORY: SocketTimeouts = Object.freeze({ connectMs: 30_000, sendMs: 0, recvMs: 0, dnsMs: 5_000 });
let defaults: SocketTimeouts = FACTORY;

/**
 * Checks one timeout value: a finite integer ≥ 0 (0 = no timeout), at most
 * 2^31 - 1 ms (what poll(2) accepts).
 *
 * @throws RangeError naming the value
 *
 * @example
 * ```ts
 * import { checkTimeout } from "./timeouts.ts";
 * console.log(checkTimeout(250, "connectMs")); // 250
 * ```
 */
export function checkTimeout(ms: number, what = "timeout"): number {
  if (typeof ms !== "number") throw new TypeError(`${what} must be a number of milliseconds, got ${typeof ms}`);
  if (!Number.isInteger(ms) || ms < 0 || ms > 0x7fffffff) {
    throw new RangeError(`${what} must be an integer 0–2147483647 ms, got ${ms}`);
  }
  return ms;
}

/**
 * Validates a partial set of timeouts and returns it merged over `base`.
 *
 * @example
 * ```ts
 * import { mergeTimeouts, getDefaultTimeouts } from "./timeouts.ts";
 * console.log(mergeTimeouts(getDefaultTimeouts(), { recvMs: 100 }).recvMs); // 100
 * ```
 */
export function mergeTimeouts(base: SocketTimeouts, patch: Partial<SocketTimeouts>): SocketTimeouts {
  if (typeof patch !== "object" || patch === null) throw new TypeError("timeouts must be an object");
  const out: Record<keyof SocketTimeouts, number> = { ...base };
  for (const key of ["connectMs", "sendMs", "recvMs", "dnsMs"] as const) {
    const value = patch[key];
    if (value !== undefined) out[key] = checkTimeout(value, key);
  }
  for (const key of Object.keys(patch)) {
    if (!(key in FACTORY)) throw new TypeError(`unknown timeout: ${key}`);
  }
  return Object.freeze(out);
}

/**
 * The process-wide default timeouts.
 *
 * @example
 * ```ts
 * import { getDefaultTimeouts } from "./timeouts.ts";
 * console.log(getDefaultTimeouts().dnsMs); // 5000 unless changed
 * ```
 */
export function getDefaultTimeouts(): SocketTimeouts {
  return defaults;
}

/**
 * Changes some process-wide defaults; returns the new set.
 *
 * @throws RangeError for a value that is not an integer 0–2^31-1
 *
 * @example
 * ```ts
 * import { setDefaultTimeouts } from "./timeouts.ts";
 * setDefaultTimeouts({ recvMs: 10_000 });
 * ```
 */
export function setDefaultTimeouts(patch: Partial<SocketTimeouts>): SocketTimeouts {
  defaults = mergeTimeouts(defaults, patch);
  return defaults;
}

/**
 * Restores the built-in defaults (connect 30 s, DNS 5 s, send and receive
 * unlimited).
 *
 * @example
 * ```ts
 * import { resetDefaultTimeouts } from "./timeouts.ts";
 * resetDefaultTimeouts();
 * ```
 */
export function resetDefaultTimeouts(): void {
  defaults = FACTORY;
}

/**
 * The time allowed for a name lookup made on the way to something with its
 * own timeout (a connection): the smaller of `dnsMs` and `overallMs`, where
 * 0 means "no limit" for either, so 0 comes back only when both are 0.
 *
 * @throws RangeError for a value that is not an integer 0–2^31-1
 *
 * @example
 * ```ts
 * import { dnsLookupTimeout } from "./timeouts.ts";
 * console.log(dnsLookupTimeout(5000, 300)); // 300
 * console.log(dnsLookupTimeout(5000, 0)); // 5000
 * ```
 */
export function dnsLookupTimeout(dnsMs: number, overallMs: number): number {
  checkTimeout(dnsMs, "dnsMs");
  checkTimeout(overallMs, "timeoutMs");
  if (dnsMs === 0) return overallMs;
  if (overallMs === 0) return dnsMs;
  return Math.min(dnsMs, overallMs);
}

/**
 * Per-socket overrides over the process-wide defaults.
 *
 * @example
 * ```ts
 * import { TimeoutOverrides } from "./timeouts.ts";
 * const t = new TimeoutOverrides();
 * t.set({ sendMs: 200 });
 * console.log(t.effective().sendMs); // 200
 * ```
 */
export class TimeoutOverrides {
  #own: Partial<SocketTimeouts> = {};

  /** Overrides some values (validated); `undefined` leaves a value alone. */
  set(patch: Partial<SocketTimeouts>): void {
    const merged = mergeTimeouts(getDefaultTimeouts(), patch);
    const own: Partial<Record<keyof SocketTimeouts, number>> = { ...this.#own };
    for (const key of Object.keys(patch) as (keyof SocketTimeouts)[]) {
      if (patch[key] !== undefined) own[key] = merged[key];
    }
    this.#own = own;
  }

  /** Drops every override: the socket follows the defaults again. */
  clear(): void {
    this.#own = {};
  }

  /** The overrides alone. */
  overrides(): Partial<SocketTimeouts> {
    return { ...this.#own };
  }

  /** The timeouts in force: overrides over the current defaults. */
  effective(): SocketTimeouts {
    const d = getDefaultTimeouts();
    const o = this.#own;
    return {
      connectMs: o.connectMs ?? d.connectMs,
      sendMs: o.sendMs ?? d.sendMs,
      recvMs: o.recvMs ?? d.recvMs,
      dnsMs: o.dnsMs ?? d.dnsMs,
    };
  }

  /** One timeout in force, without building an object. */
  get(key: keyof SocketTimeouts): number {
    return this.#own[key] ?? getDefaultTimeouts()[key];
  }
}
