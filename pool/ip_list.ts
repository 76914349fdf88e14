/**
 * Address lists with CIDR prefixes and expiry (seed: the SYN-protect
 * whitelist and blacklist): `add("10.0.0.0/8")`, `add("2001:db8::/32", ttlMs)`,
 * `has("10.1.2.3")`. IPv4 is matched as IPv4-mapped IPv6 (`::ffff:a.b.c.d`),
 * so `::ffff:10.1.2.3` is in `10.0.0.0/8` too. Bounded: at most `maxEntries`
 * prefixes.
 *
 * @example
 * ```ts
 * import { ManualClock } from "../core/clock.ts";
 * import { IpList } from "./ip_list.ts";
 * const clock = new ManualClock();
 * const list = new IpList({ clock });
 * list.add("192.0.2.0/24");
 * list.add("2001:db8::1", 1000);
 * console.log(list.has("192.0.2.77"), list.has("192.0.3.1")); // true false
 * clock.advance(1000);
 * console.log(list.has("2001:db8::1")); // false: expired
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "../core/clock.ts";
import { LimitError } from "../core/errors.ts";
import { isIPv4MappedBytes as isMapped, parseIP } from "../socket/address.ts";

/** A prefix: 16 bytes (IPv4 mapped), a length in bits of that form. */
interface Prefix {
  bytes: Uint8Array;
  bits: number;
  expiresAt: number;
}

/**
 * Parses an address or CIDR prefix into 16 bytes and a prefix length over
 * them (IPv4 `a.b.c.d/n` becomes `::ffff:a.b.c.d/(96+n)`); host bits are
 * cleared. An IPv4-mapped address with a length of 0–32
 * (`::ffff:10.0.0.0/8`) is that IPv4 prefix (`10.0.0.0/8`); from 96 up it
 * is an IPv6 length (`::ffff:10.0.0.0/104`, the same prefix); a length
 * between (33–95) reaches past the mapped range and is refused.
 *
 * @throws {TypeError} for text that is not an address or prefix.
 * @example
 * ```ts
 * import { parseCidr } from "./ip_list.ts";
 * console.log(parseCidr("10.1.2.3/8").bits); // 104
 * console.log(parseCidr("::ffff:10.1.2.3/8").bits); // 104: the same prefix
 * ```
 */
export function parseCidr(text: string): { bytes: Uint8Array; bits: number } {
  if (typeof text !== "string") throw new TypeError("a CIDR prefix must be a string");
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const bytes = toBytes16(address);
  const v4 = !address.includes(":");
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const digits = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(digits) || Number(digits) > max) throw new TypeError(`invalid prefix length in ${JSON.stringify(text)}`);
    bits = Number(digits);
    // An IPv4-mapped address (::ffff:a.b.c.d) with an IPv4 length means that IPv4 prefix, as the same
    // client is matched whichever form it arrives in; a length between the two forms' would reach past
    // the mapped range (::ffff:10.0.0.0/8 read as IPv6 is ::/8) and is refused.
    if (!v4 && isMapped(bytes) && bits < 96) {
      if (bits > 32) throw new TypeError(`an IPv4-mapped prefix takes an IPv4 length (0-32) or an IPv6 one from 96, got ${JSON.stringify(text)}`);
      bits += 96;
    }
  }
  if (v4) bits += 96;
  mask(bytes, bits);
  return { bytes, bits };
}

/**
 * Whether `ip` is inside the prefix `cidr` (either may be IPv4 or IPv6).
 *
 * @throws {TypeError} for text that is not an address or prefix.
 * @example
 * ```ts
 * import { cidrContains } from "./ip_list.ts";
 * console.log(cidrContains("10.0.0.0/8", "10.200.1.1")); // true
 * console.log(cidrContains("2001:db8::/32", "2001:db9::1")); // false
 * ```
 */
export function cidrContains(cidr: string, ip: string): boolean {
  const prefix = parseCidr(cidr);
  return matches(prefix.bytes, prefix.bits, toBytes16(ip));
}

/**
 * Options of an {@link IpList}.
 *
 * @example
 * ```ts
 * import { IpList, type IpListOptions } from "./ip_list.ts";
 * const options: IpListOptions = { maxEntries: 100 };
 * const list = new IpList(options);
 * ```
 */
export interface IpListOptions {
  /** Most prefixes held (default 4096); adding past it throws `LimitError` `ERR_LIMIT_IP_LIST`. */
  maxEntries?: number;
  /** The time source for expiry (default the monotonic system clock). */
  clock?: Clock;
}

/**
 * A set of address prefixes with optional expiry; see the module doc.
 *
 * @example
 * ```ts
 * import { IpList } from "./ip_list.ts";
 * const list = new IpList();
 * list.add("127.0.0.0/8");
 * console.log(list.has("127.0.0.2"), list.size); // true 1
 * ```
 */
export class IpList {
  readonly #max: number;
  readonly #clock: Clock;
  /** By canonical "hex/bits" text. */
  readonly #prefixes = new Map<string, Prefix>();
  /**
   * Single addresses (/32, /128: what SynGuard blacklists, one per hostile
   * address) by their 16 bytes' hex, to their expiry: found by one lookup,
   * so `has` scans only the real prefixes (a flood from thousands of
   * addresses made every check scan them all).
   */
  readonly #hosts = new Map<string, number>();
  /**
   * /64 prefixes (what SynGuard blacklists for a hostile IPv6 client, its
   * key by default) by their first 8 bytes' hex, to their expiry: one
   * lookup too, not a scan per check.
   */
  readonly #nets = new Map<string, number>();
  /** No entry expires before this (a full list is pruned only once one may have: adding to a full one stays cheap). */
  #nextExpiry = Infinity;

  /**
   * Creates an empty list holding at most `maxEntries` (default 4096) prefixes.
   * @throws {RangeError} for a bad `maxEntries`.
   */
  constructor(options: IpListOptions = {}) {
    const max = options.maxEntries ?? 4096;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxEntries must be a positive integer, got ${String(max)}`);
    this.#max = max;
    this.#clock = options.clock ?? systemClock;
  }

  /** Prefixes held (expired ones included until looked at or pruned). */
  get size(): number {
    return this.#prefixes.size + this.#hosts.size + this.#nets.size;
  }

  /**
   * Adds (or renews) a prefix, for `ttlMs` ms or for good.
   *
   * @throws {TypeError} for a bad prefix; {@link LimitError} when full.
   */
  add(cidr: string, ttlMs = Infinity): void {
    if (!this.tryAdd(cidr, ttlMs)) throw new LimitError("ERR_LIMIT_IP_LIST", `the address list holds its maximum of ${this.#max} prefixes`, this.#max);
  }

  /**
   * {@link IpList.add} that returns false instead of throwing when the list
   * is full (and nothing in it expired): for callers that add under a
   * flood, where a throw per attempt would cost more than the attempt.
   *
   * @throws {TypeError} for a bad prefix.
   * @example
   * ```ts
   * import { IpList } from "./ip_list.ts";
   * const list = new IpList({ maxEntries: 1 });
   * console.log(list.tryAdd("192.0.2.1", 60_000), list.tryAdd("192.0.2.2", 60_000)); // true false
   * ```
   */
  tryAdd(cidr: string, ttlMs = Infinity): boolean {
    if (typeof ttlMs !== "number" || !(ttlMs > 0)) throw new RangeError(`ttlMs must be a number > 0, got ${String(ttlMs)}`);
    const prefix = parseCidr(cidr);
    const indexed = this.#indexFor(prefix.bits);
    const key = indexed !== undefined ? hexOf(prefix.bytes, prefix.bits >> 3) : keyOf(prefix.bytes, prefix.bits);
    if (!(indexed ?? this.#prefixes).has(key) && this.size >= this.#max) {
      if (this.#clock.now() >= this.#nextExpiry) this.prune();
      if (this.size >= this.#max) return false;
    }
    const expiresAt = this.#clock.now() + ttlMs;
    if (expiresAt < this.#nextExpiry) this.#nextExpiry = expiresAt;
    if (indexed !== undefined) indexed.set(key, expiresAt);
    else this.#prefixes.set(key, { ...prefix, expiresAt });
    return true;
  }

  /** Removes a prefix (exactly as added, after canonicalisation); false when absent. */
  remove(cidr: string): boolean {
    const prefix = parseCidr(cidr);
    const indexed = this.#indexFor(prefix.bits);
    return indexed !== undefined ? indexed.delete(hexOf(prefix.bytes, prefix.bits >> 3)) : this.#prefixes.delete(keyOf(prefix.bytes, prefix.bits));
  }

  /** The map that holds prefixes of `bits` by their bytes' hex (/128 and /64), if one does. */
  #indexFor(bits: number): Map<string, number> | undefined {
    return bits === 128 ? this.#hosts : bits === 64 ? this.#nets : undefined;
  }

  /**
   * Whether `ip` is inside an unexpired prefix.
   *
   * @throws {TypeError} when `ip` is not an address.
   */
  has(ip: string): boolean {
    const bytes = toBytes16(ip);
    const now = this.#clock.now();
    if (this.#hosts.size > 0) {
      const key = hexOf(bytes, 16);
      const expiresAt = this.#hosts.get(key);
      if (expiresAt !== undefined) {
        if (expiresAt > now) return true;
        this.#hosts.delete(key);
      }
    }
    if (this.#nets.size > 0) {
      const key = hexOf(bytes, 8);
      const expiresAt = this.#nets.get(key);
      if (expiresAt !== undefined) {
        if (expiresAt > now) return true;
        this.#nets.delete(key);
      }
    }
    for (const [key, p] of this.#prefixes) {
      if (p.expiresAt <= now) {
        this.#prefixes.delete(key);
        continue;
      }
      if (matches(p.bytes, p.bits, bytes)) return true;
    }
    return false;
  }

  /** Drops expired prefixes; returns how many. */
  prune(): number {
    const now = this.#clock.now();
    let removed = 0;
    let next = Infinity;
    for (const [key, p] of this.#prefixes) {
      if (p.expiresAt <= now) {
        this.#prefixes.delete(key);
        removed++;
      } else if (p.expiresAt < next) next = p.expiresAt;
    }
    for (const index of [this.#hosts, this.#nets]) {
      for (const [key, expiresAt] of index) {
        if (expiresAt <= now) {
          index.delete(key);
          removed++;
        } else if (expiresAt < next) next = expiresAt;
      }
    }
    this.#nextExpiry = next;
    return removed;
  }

  /** Empties the list. */
  clear(): void {
    this.#prefixes.clear();
    this.#hosts.clear();
    this.#nets.clear();
    this.#nextExpiry = Infinity;
  }
}

function toBytes16(address: string): Uint8Array {
  if (typeof address !== "string") throw new TypeError("an address must be a string");
  const parsed = parseIP(address);
  if (parsed.bytes.length === 16) return new Uint8Array(parsed.bytes);
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(parsed.bytes, 12);
  return out;
}


function mask(bytes: Uint8Array, bits: number): void {
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = (bytes[i] as number) & ((0xff00 >> keep) & 0xff);
  }
}

function matches(prefix: Uint8Array, bits: number, ip: Uint8Array): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (prefix[i] !== ip[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const m = (0xff00 >> rest) & 0xff;
  return ((ip[whole] as number) & m) === prefix[whole];
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** The first `n` bytes of an address as hex: the key of a single address (16) or a /64 (8). */
function hexOf(bytes: Uint8Array, n: number): string {
  let hex = "";
  for (let i = 0; i < n; i++) hex += HEX[bytes[i]!]!;
  return hex;
}

function keyOf(bytes: Uint8Array, bits: number): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return `${hex}/${bits}`;
}
