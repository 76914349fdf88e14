/**
 * The resolver's cache: answers kept for their TTL (positive), and failures
 * per RFC 2308 (negative): NXDOMAIN for a name (every type), NODATA for a
 * name and type, each for the SOA's negative TTL. TTLs are clamped to
 * `[minTtl, maxTtl]` (`maxNegativeTtl` for failures); an entry whose TTL
 * clamps to 0 is not stored, so 0-TTL floods take no room. At most
 * `maxEntries` entries: the least recently used go first. Time comes from
 * an injectable {@link Clock}.
 *
 * Only the resolver puts answers here, and only answers that matched their
 * query (id, question, server address).
 *
 * @example
 * ```ts
 * import { DNSCache } from "./cache.ts";
 * import { ManualClock } from "../core/clock.ts";
 * const clock = new ManualClock(0);
 * const cache = new DNSCache({ clock });
 * cache.setRecords("a.test", 1, [{ name: "a.test", type: 1, class: 1, ttl: 60, data: { kind: "A", address: "10.0.0.1" } }]);
 * clock.advance(10_000);
 * const hit = cache.get("a.test", 1);
 * console.log(hit?.kind === "records" ? hit.records[0]!.ttl : hit); // 50
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "../core/clock.ts";
import { DNS_LIMITS } from "../core/limits.ts";
import { checkOptions } from "../core/options.ts";
import { canonicalName } from "./name.ts";
import type { ResourceRecord } from "./records.ts";

/** Options of {@link DNSCache}. */
export interface DNSCacheOptions {
  /** Entries at most (default `DNS_LIMITS.maxCacheEntries`, 10 000). */
  maxEntries?: number;
  /** Seconds an answer is kept at least (default 0). */
  minTtl?: number;
  /** Seconds an answer is kept at most (default 86 400). */
  maxTtl?: number;
  /** Seconds a failure (NXDOMAIN, NODATA) is kept at most (default 3 600). */
  maxNegativeTtl?: number;
  /** The time source (default the monotonic system clock). */
  clock?: Clock;
}

const CACHE_KEYS: ReadonlySet<string> = new Set(["maxEntries", "minTtl", "maxTtl", "maxNegativeTtl", "clock"]);

/** What {@link DNSCache.get} finds. */
export type CacheHit =
  | { readonly kind: "records"; readonly records: readonly ResourceRecord[] }
  | { readonly kind: "nxdomain" }
  | { readonly kind: "nodata" };

interface Entry {
  readonly hit: CacheHit;
  readonly stored: number;
  readonly expires: number;
}

function seconds(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number of seconds, got ${String(v)}`);
  return v;
}

/** RFC 2181 §8: a TTL with the top bit set is taken as 0 (a server's 0xFFFFFFFF is not "keep for maxTtl"). */
function wireTtl(ttl: number): number {
  return ttl > 0x7fffffff ? 0 : ttl;
}

/**
 * A bounded TTL cache of DNS answers and failures.
 *
 * @example
 * ```ts
 * import { DNSCache } from "./cache.ts";
 * const cache = new DNSCache({ maxEntries: 100, maxTtl: 300 });
 * cache.setNxdomain("gone.test", 30);
 * console.log(cache.get("gone.test", 28)); // { kind: "nxdomain" }
 * ```
 */
export class DNSCache {
  /** Entries at most. */
  readonly maxEntries: number;
  /** Minimum TTL (s). */
  readonly minTtl: number;
  /** Maximum TTL (s). */
  readonly maxTtl: number;
  /** Maximum negative TTL (s). */
  readonly maxNegativeTtl: number;
  /** Lookups answered from the cache (for metrics). */
  hits = 0;
  /** Lookups the cache could not answer (for metrics). */
  misses = 0;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  /**
   * An empty cache.
   *
   * @param options bounds, clamps and clock (see {@link DNSCacheOptions})
   */
  constructor(options: DNSCacheOptions = {}) {
    checkOptions(options, CACHE_KEYS, "DNSCache");
    const max = options.maxEntries ?? DNS_LIMITS.maxCacheEntries;
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`maxEntries must be a non-negative integer, got ${String(max)}`);
    this.maxEntries = max;
    this.minTtl = seconds(options.minTtl, 0, "minTtl");
    this.maxTtl = seconds(options.maxTtl, 86_400, "maxTtl");
    this.maxNegativeTtl = seconds(options.maxNegativeTtl, 3_600, "maxNegativeTtl");
    if (this.minTtl > this.maxTtl) throw new RangeError(`minTtl ${this.minTtl} is above maxTtl ${this.maxTtl}`);
    this.#clock = options.clock ?? systemClock;
  }

  /** Entries held (expired ones included until touched). */
  get size(): number {
    return this.#entries.size;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }

  #get(key: string): Entry | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (this.#clock.now() >= e.expires) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e;
  }

  #set(key: string, hit: CacheHit, ttl: number): void {
    if (!(ttl > 0) || this.maxEntries === 0) return;
    const now = this.#clock.now();
    this.#entries.delete(key);
    while (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { hit, stored: now, expires: now + ttl * 1000 });
  }

  /**
   * What is known about `name`/`type`: the records (TTLs counted down),
   * NXDOMAIN for the name, NODATA for the pair, or undefined.
   */
  get(name: string, type: number): CacheHit | undefined {
    const n = canonicalName(name);
    const nx = this.#get(n);
    if (nx !== undefined) return (this.hits++, nx.hit);
    const e = this.#get(`${n} ${type}`);
    if (e === undefined) return (this.misses++, undefined);
    this.hits++;
    if (e.hit.kind !== "records") return e.hit;
    const elapsed = Math.floor((this.#clock.now() - e.stored) / 1000);
    return { kind: "records", records: e.hit.records.map((r) => ({ ...r, ttl: Math.max(0, r.ttl - elapsed) })) };
  }

  /**
   * Stores an answer's records for `name`/`type`, kept for the smallest
   * record TTL clamped to `[minTtl, maxTtl]` (or `ttl` when given).
   */
  setRecords(name: string, type: number, records: readonly ResourceRecord[], ttl?: number): void {
    if (records.length === 0) return;
    const raw = ttl ?? Math.min(...records.map((r) => wireTtl(r.ttl)));
    const kept = Math.min(this.maxTtl, Math.max(this.minTtl, raw));
    const n = canonicalName(name);
    this.#entries.delete(n); // a fresh answer ends an NXDOMAIN
    this.#set(`${n} ${type}`, { kind: "records", records: records.map((r) => ({ ...r, ttl: kept })) }, kept);
  }

  /** Stores NXDOMAIN for `name` (every type) for `ttl` seconds (clamped). */
  setNxdomain(name: string, ttl: number): void {
    this.#set(canonicalName(name), { kind: "nxdomain" }, Math.min(this.maxNegativeTtl, wireTtl(ttl)));
  }

  /** Stores NODATA for `name`/`type` for `ttl` seconds (clamped). */
  setNodata(name: string, type: number, ttl: number): void {
    this.#set(`${canonicalName(name)} ${type}`, { kind: "nodata" }, Math.min(this.maxNegativeTtl, wireTtl(ttl)));
  }
}
