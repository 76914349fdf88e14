/**
 * Per-IP connection accounting for listeners: at most `maxPerIp`
 * connections open (or pending) per remote address, optionally at most
 * `rate.limit` new connections per address per `rate.windowMs`, in bounded
 * memory. The building block of SYN-flood and connection-flood protection.
 * An address is counted under its `key` (default: IPv4 exact, IPv6 by its
 * /64; see core/ip_key.ts).
 *
 * @example
 * ```ts
 * import { IpConnectionTracker } from "./ip_tracker.ts";
 * const tracker = new IpConnectionTracker({ maxPerIp: 2 });
 * tracker.tryAcquire("192.0.2.7"); // true
 * tracker.tryAcquire("192.0.2.7"); // true
 * console.log(tracker.tryAcquire("192.0.2.7")); // false: over the limit
 * tracker.release("192.0.2.7");
 * console.log(tracker.count("192.0.2.7")); // 1
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "./clock.ts";
import { ipKey } from "./ip_key.ts";
import { SOCKET_LIMITS } from "./limits.ts";
import { SlidingWindowCounter } from "./rate_limit.ts";

/**
 * Default number of addresses tracked at once. (Not an input-controlled size
 * of one message: it bounds the table, and the tracker rejects new addresses
 * rather than grow past it.)
 */
const DEFAULT_MAX_TRACKED_IPS = 65_536;
/** Longest address key accepted (an IPv6 literal with a zone id fits). */
const MAX_KEY_LENGTH = 255;

/**
 * Options of an {@link IpConnectionTracker}.
 *
 * @example
 * ```ts
 * import { IpConnectionTracker, type IpTrackerOptions } from "./ip_tracker.ts";
 * const options: IpTrackerOptions = {
 *   maxPerIp: 16,
 *   maxTrackedIps: 10_000,
 *   rate: { limit: 50, windowMs: 10_000 },
 * };
 * const tracker = new IpConnectionTracker(options);
 * ```
 */
export interface IpTrackerOptions {
  /** Connections allowed per address at once (default `SOCKET_LIMITS.maxPendingPerIp`). */
  maxPerIp?: number;
  /**
   * Addresses tracked at once (default 65536). When the table is full, the
   * address that has been idle (zero connections) longest is forgotten; if
   * every tracked address has connections, new addresses are refused.
   */
  maxTrackedIps?: number;
  /**
   * Optional limit on new connections per address over a sliding window.
   * An address's window is remembered after its last connection closes,
   * until the entry is evicted or {@link IpConnectionTracker.prune}d.
   */
  rate?: { limit: number; windowMs: number; buckets?: number };
  /**
   * Maps an address to the key it is counted under. Default
   * {@link ipKey}: IPv4 exact (an IPv4-mapped IPv6 address as its IPv4
   * address), IPv6 by its /64; `ipPrefixKey({ ipv6Bits: 56 })` for other
   * prefixes, `(ip) => ip` for exact addresses.
   */
  key?: (ip: string) => string;
  /** Where time comes from for `rate` (default: {@link systemClock}). */
  clock?: Clock;
}

/**
 * Counters of an {@link IpConnectionTracker}'s decisions.
 *
 * @example
 * ```ts
 * import { IpConnectionTracker, type IpTrackerStats } from "./ip_tracker.ts";
 * const stats: IpTrackerStats = new IpConnectionTracker().stats();
 * console.log(stats.accepted); // 0
 * ```
 */
export interface IpTrackerStats {
  /** Successful `tryAcquire` calls. */
  accepted: number;
  /** Refusals because the address had `maxPerIp` connections. */
  rejectedPerIp: number;
  /** Refusals because of the `rate` limit. */
  rejectedRate: number;
  /** Refusals because the table was full of busy addresses. */
  rejectedTableFull: number;
  /** Idle entries forgotten to make room. */
  evictions: number;
}

interface Entry {
  count: number;
  window: SlidingWindowCounter | undefined;
}

/**
 * Counts open connections per remote address, with a per-address limit and
 * bounded memory.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * import { IpConnectionTracker } from "./ip_tracker.ts";
 * const clock = new ManualClock();
 * const tracker = new IpConnectionTracker({
 *   maxPerIp: 10,
 *   rate: { limit: 2, windowMs: 1000 },
 *   clock,
 * });
 * for (let i = 0; i < 2; i++) {
 *   tracker.tryAcquire("2001:db8::1");
 *   tracker.release("2001:db8::1");
 * }
 * console.log(tracker.tryAcquire("2001:db8::1")); // false: 3rd in one second
 * clock.advance(1250); // the window plus one bucket (windowMs / 4)
 * console.log(tracker.tryAcquire("2001:db8::1")); // true
 * ```
 */
export class IpConnectionTracker {
  readonly #maxPerIp: number;
  readonly #maxTracked: number;
  readonly #rate: { limit: number; windowMs: number; buckets: number } | undefined;
  readonly #key: (ip: string) => string;
  readonly #clock: Clock;
  /** Every tracked address. */
  readonly #entries = new Map<string, Entry>();
  /** Tracked addresses with no connection, longest idle first. */
  readonly #idle = new Map<string, Entry>();
  #total = 0;
  readonly #stats: IpTrackerStats = {
    accepted: 0,
    rejectedPerIp: 0,
    rejectedRate: 0,
    rejectedTableFull: 0,
    evictions: 0,
  };

  /**
   * Creates a tracker allowing `maxPerIp` concurrent connections per key, remembering at most `maxTrackedIps` keys.
   * @throws {RangeError} for limits that are not positive integers or a bad
   *   rate.
   */
  constructor(options: IpTrackerOptions = {}) {
    this.#maxPerIp = checkCount(options.maxPerIp ?? SOCKET_LIMITS.maxPendingPerIp, "maxPerIp");
    this.#maxTracked = checkCount(options.maxTrackedIps ?? DEFAULT_MAX_TRACKED_IPS, "maxTrackedIps");
    this.#clock = options.clock ?? systemClock;
    if (options.key !== undefined && typeof options.key !== "function") {
      throw new TypeError("key must be a function");
    }
    this.#key = options.key ?? ipKey;
    if (options.rate !== undefined) {
      const { limit, windowMs, buckets = 4 } = options.rate;
      // Validates the numbers once, with the counter's own messages.
      new SlidingWindowCounter({ limit, windowMs, buckets, clock: this.#clock });
      this.#rate = { limit, windowMs, buckets };
    }
  }

  /** Addresses tracked now (busy and idle). */
  get trackedIps(): number {
    return this.#entries.size;
  }

  /** Connections counted now, over all addresses. */
  get total(): number {
    return this.#total;
  }

  /**
   * Counts one more connection from `ip` if its limits allow it.
   *
   * @returns true when the connection is admitted (call
   *   {@link IpConnectionTracker.release} when it closes); false when it
   *   should be refused.
   * @throws {TypeError} when `ip` is not a non-empty string.
   * @throws {RangeError} when the key is longer than 255 characters.
   */
  tryAcquire(ip: string): boolean {
    const key = this.#keyOf(ip);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= this.#maxTracked && !this.#evictOne()) {
        this.#stats.rejectedTableFull++;
        return false;
      }
      entry = { count: 0, window: this.#newWindow() };
      this.#entries.set(key, entry);
      this.#idle.set(key, entry);
    }
    if (entry.count >= this.#maxPerIp) {
      this.#stats.rejectedPerIp++;
      return false;
    }
    if (entry.window !== undefined && !entry.window.tryRecord()) {
      this.#stats.rejectedRate++;
      return false;
    }
    if (entry.count++ === 0) this.#idle.delete(key);
    this.#total++;
    this.#stats.accepted++;
    return true;
  }

  /**
   * Counts one connection from `ip` as closed.
   *
   * @returns false when `ip` had no connection counted (nothing changes).
   */
  release(ip: string): boolean {
    const key = this.#keyOf(ip);
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.count === 0) return false;
    this.#total--;
    if (--entry.count === 0) {
      if (entry.window === undefined) this.#entries.delete(key);
      else this.#idle.set(key, entry); // the newest idle entry
    }
    return true;
  }

  /** Connections counted for `ip` now. */
  count(ip: string): number {
    return this.#entries.get(this.#keyOf(ip))?.count ?? 0;
  }

  /**
   * Forgets idle addresses whose rate window is empty (call it now and then,
   * for example from a repeating timer).
   *
   * @returns the number of entries removed.
   */
  prune(): number {
    let removed = 0;
    for (const [key, entry] of this.#idle) {
      if (entry.window === undefined || entry.window.count() === 0) {
        this.#idle.delete(key);
        this.#entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** A copy of the decision counters. */
  stats(): IpTrackerStats {
    return { ...this.#stats };
  }

  /** Forgets every address and connection. */
  clear(): void {
    this.#entries.clear();
    this.#idle.clear();
    this.#total = 0;
  }

  #keyOf(ip: string): string {
    if (typeof ip !== "string" || ip.length === 0) {
      throw new TypeError("ip must be a non-empty string");
    }
    const key = this.#key(ip);
    if (typeof key !== "string" || key.length === 0) {
      throw new TypeError(`the key function returned no string for ${ip}`);
    }
    if (key.length > MAX_KEY_LENGTH) {
      throw new RangeError(`address key longer than ${MAX_KEY_LENGTH} characters`);
    }
    return key;
  }

  #evictOne(): boolean {
    for (const key of this.#idle.keys()) {
      this.#idle.delete(key);
      this.#entries.delete(key);
      this.#stats.evictions++;
      return true;
    }
    return false;
  }

  #newWindow(): SlidingWindowCounter | undefined {
    const r = this.#rate;
    if (r === undefined) return undefined;
    return new SlidingWindowCounter({
      limit: r.limit,
      windowMs: r.windowMs,
      buckets: r.buckets,
      clock: this.#clock,
    });
  }
}

function checkCount(value: number, name: string): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer ≥ 1, got ${value}`);
  }
  return value;
}
