/**
 * SYN-flood and connection-flood protection (seed: `SocketSYNProtect`): a
 * reputation per remote address scored from its connection attempts,
 * failures (connections closed before they did anything useful) and
 * successes, decaying over time; an action per connection attempt (allow,
 * throttle, challenge, block); a whitelist and a blacklist with CIDR
 * prefixes and expiry; an LRU bound on the addresses tracked; and the
 * kernel's own defences (`TCP_DEFER_ACCEPT` on the listener, the SYN-cookie
 * setting read from `/proc/sys/net/ipv4/tcp_syncookies`).
 *
 * The score is a suspicion: each attempt adds `attemptWeight`, each
 * failure `failureWeight`, each success subtracts `successWeight`; it
 * halves every `halfLifeMs`; successes take it no lower than the lesser of
 * `trustedAtMost` and `-hostileAt` (earned trust is capped, so a flood
 * cannot be paid for in advance). Levels by score: trusted (≤ `trustedAtMost`),
 * neutral, suspect (≥ `suspectAt`), hostile (≥ `hostileAt`). Actions:
 * trusted and neutral → allow; suspect → throttle (below `challengeAt`)
 * or challenge; hostile → block (and, with `blacklistMs`, the address is
 * blacklisted for that long). I/O-free except {@link synCookiesStatus}.
 *
 * Addresses are scored under their `key` (the option of the same name and
 * meaning as `IpConnectionTracker`'s, core/ip_key.ts): by default IPv4
 * exactly (an IPv4-mapped IPv6 address as its IPv4 address) and IPv6 by
 * its /64, so a client cannot shed a bad score by moving to another address
 * of its own /64. The white- and blacklists match the address itself; a
 * hostile key that is a prefix (`2001:db8:1:2::/64`) is blacklisted whole.
 *
 * @example
 * ```ts
 * import { ManualClock } from "../core/clock.ts";
 * import { SynGuard } from "./syn_protect.ts";
 * const clock = new ManualClock();
 * const guard = new SynGuard({ clock });
 * for (let i = 0; i < 30; i++) guard.check("198.51.100.9") !== "block" && guard.recordFailure("198.51.100.9");
 * console.log(guard.reputation("198.51.100.9")); // "hostile"
 * console.log(guard.check("203.0.113.5")); // "allow": another address
 * clock.advance(120_000); // the score decays
 * console.log(guard.reputation("198.51.100.9")); // "neutral"
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "../core/clock.ts";
import { ipKey } from "../core/ip_key.ts";
import { checkOptions } from "../core/options.ts";
import { readFileBytes } from "../ffi/read_file.ts";
import { IpList } from "./ip_list.ts";

/**
 * How far an address is trusted.
 *
 * @example
 * ```ts
 * import type { Reputation } from "./syn_protect.ts";
 * const bad = (r: Reputation) => r === "suspect" || r === "hostile";
 * ```
 */
export type Reputation = "trusted" | "neutral" | "suspect" | "hostile";

/**
 * What to do with a connection attempt.
 *
 * @example
 * ```ts
 * import type { SynAction } from "./syn_protect.ts";
 * const refuse = (a: SynAction) => a === "block";
 * ```
 */
export type SynAction = "allow" | "throttle" | "challenge" | "block";

/**
 * Options of a {@link SynGuard} (unknown keys are a TypeError). The
 * defaults suit a public server: a client that connects, talks and closes
 * stays neutral; one that opens and drops 10+ connections a second turns
 * hostile within a second or two.
 *
 * @example
 * ```ts
 * import { SynGuard, type SynGuardOptions } from "./syn_protect.ts";
 * const options: SynGuardOptions = { whitelist: ["10.0.0.0/8"], hostileAt: 100, blacklistMs: 60_000 };
 * const guard = new SynGuard(options);
 * ```
 */
export interface SynGuardOptions {
  /** Score per attempt (default 1). */
  attemptWeight?: number;
  /** Score per failure (default 2). */
  failureWeight?: number;
  /** Score taken off per success (default 2). */
  successWeight?: number;
  /** The score halves every this many ms (default 10 000). */
  halfLifeMs?: number;
  /** Trusted at or below this score (default -10). */
  trustedAtMost?: number;
  /** Suspect from this score (default 20). */
  suspectAt?: number;
  /** Challenge instead of throttle from this score (default 35). */
  challengeAt?: number;
  /** Hostile from this score (default 50). */
  hostileAt?: number;
  /** Blacklist a hostile address for this long, in ms (default 0: no, it is blocked while hostile). */
  blacklistMs?: number;
  /** Keys tracked at once; the least recently seen is forgotten beyond it (default 65536). */
  maxTrackedIps?: number;
  /**
   * Maps an address to the key it is scored under. Default `ipKey`
   * (core/ip_key.ts): IPv4 exact (IPv4-mapped IPv6 as IPv4), IPv6 by its
   * /64; `ipPrefixKey({ ipv6Bits: 56 })` for other prefixes, `(ip) => ip`
   * for exact addresses. A key function that throws or returns no key (a
   * string of 1 to 255 characters) scores that address by itself, as
   * `ListenProtection` counts it.
   */
  key?: (ip: string) => string;
  /** Prefixes always allowed. */
  whitelist?: readonly string[];
  /** Prefixes always blocked. */
  blacklist?: readonly string[];
  /** The time source (default the monotonic system clock). */
  clock?: Clock;
}

const KEYS: ReadonlySet<string> = new Set([
  "attemptWeight", "failureWeight", "successWeight", "halfLifeMs", "trustedAtMost", "suspectAt", "challengeAt",
  "hostileAt", "blacklistMs", "maxTrackedIps", "key", "whitelist", "blacklist", "clock",
]);

/**
 * One address's record.
 *
 * @example
 * ```ts
 * import { SynGuard, type IpRecord } from "./syn_protect.ts";
 * const r: IpRecord | undefined = new SynGuard().record("192.0.2.1");
 * console.log(r); // undefined: never seen
 * ```
 */
export interface IpRecord {
  /** The reputation score (higher is worse), decayed by the half-life. */
  score: number;
  /** Connection attempts seen. */
  attempts: number;
  /** Attempts that failed. */
  failures: number;
  /** Attempts that succeeded. */
  successes: number;
  /** When the score was last decayed (clock ms). */
  at: number;
}

/**
 * Counters of a {@link SynGuard}'s decisions.
 *
 * @example
 * ```ts
 * import { SynGuard, type SynGuardStats } from "./syn_protect.ts";
 * const s: SynGuardStats = new SynGuard().stats();
 * console.log(s.blocked); // 0
 * ```
 */
export interface SynGuardStats {
  /** Checks answered "allow". */
  allowed: number;
  /** Checks answered "throttle". */
  throttled: number;
  /** Checks answered "challenge". */
  challenged: number;
  /** Checks answered "block". */
  blocked: number;
  /** Addresses forgotten for the LRU bound. */
  evictions: number;
}

/**
 * Reputation and actions per address; see the module doc.
 *
 * @example
 * ```ts
 * import { SynGuard } from "./syn_protect.ts";
 * const guard = new SynGuard({ blacklist: ["192.0.2.0/24"] });
 * console.log(guard.check("192.0.2.1"), guard.check("127.0.0.1")); // "block" "allow"
 * ```
 */
export class SynGuard {
  /** Addresses always allowed (checked before the blacklist). */
  readonly whitelist: IpList;
  /** Addresses blocked (the configured prefixes, and hostile ones for `blacklistMs`). */
  readonly blacklist: IpList;
  readonly #clock: Clock;
  readonly #w: { attempt: number; failure: number; success: number };
  readonly #halfLife: number;
  readonly #levels: { trusted: number; suspect: number; challenge: number; hostile: number };
  readonly #blacklistMs: number;
  /** The lowest score successes reach (see the module doc). */
  readonly #floor: number;
  readonly #max: number;
  readonly #key: (ip: string) => string;
  /** By key, least recently seen first. */
  readonly #records = new Map<string, IpRecord>();
  readonly #stats: SynGuardStats = { allowed: 0, throttled: 0, challenged: 0, blocked: 0, evictions: 0 };

  /**
   * A guard with `options`' weights, levels and lists.
   *
   * @throws {TypeError} for an unknown option or a bad prefix; {@link RangeError} for bad numbers.
   */
  constructor(options: SynGuardOptions = {}) {
    checkOptions(options, KEYS, "SynGuard");
    this.#clock = options.clock ?? systemClock;
    this.#w = {
      attempt: finite(options.attemptWeight ?? 1, "attemptWeight"),
      failure: finite(options.failureWeight ?? 2, "failureWeight"),
      success: finite(options.successWeight ?? 2, "successWeight"),
    };
    this.#halfLife = finite(options.halfLifeMs ?? 10_000, "halfLifeMs");
    if (this.#halfLife <= 0) throw new RangeError("halfLifeMs must be > 0");
    this.#levels = {
      trusted: finite(options.trustedAtMost ?? -10, "trustedAtMost"),
      suspect: finite(options.suspectAt ?? 20, "suspectAt"),
      challenge: finite(options.challengeAt ?? 35, "challengeAt"),
      hostile: finite(options.hostileAt ?? 50, "hostileAt"),
    };
    const l = this.#levels;
    if (!(l.trusted < l.suspect && l.suspect <= l.challenge && l.challenge <= l.hostile)) {
      throw new RangeError("thresholds must satisfy trustedAtMost < suspectAt <= challengeAt <= hostileAt");
    }
    this.#floor = Math.min(l.trusted, -l.hostile);
    this.#blacklistMs = finite(options.blacklistMs ?? 0, "blacklistMs");
    const max = options.maxTrackedIps ?? 65_536;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxTrackedIps must be a positive integer, got ${String(max)}`);
    this.#max = max;
    if (options.key !== undefined && typeof options.key !== "function") throw new TypeError("SynGuard: key must be a function");
    this.#key = options.key ?? ipKey;
    this.whitelist = new IpList({ clock: this.#clock });
    this.blacklist = new IpList({ clock: this.#clock });
    for (const cidr of options.whitelist ?? []) this.whitelist.add(cidr);
    for (const cidr of options.blacklist ?? []) this.blacklist.add(cidr);
  }

  /** Keys (addresses, or their prefixes) tracked now. */
  get trackedIps(): number {
    return this.#records.size;
  }

  /**
   * Records a connection attempt from `ip` and decides what to do with it.
   * Whitelisted: allow (not scored); blacklisted: block.
   *
   * @throws {TypeError} when `ip` is not an IP literal.
   */
  check(ip: string): SynAction {
    if (this.whitelist.has(ip)) return this.#count("allow");
    if (this.blacklist.has(ip)) return this.#count("block");
    const key = this.#keyOf(ip);
    const r = this.#touch(key);
    r.attempts++;
    r.score += this.#w.attempt;
    const action = this.#actionOf(r.score);
    // A full list (thousands of hostile addresses at once) leaves this one blocked by its score while it is hostile:
    // `add` would throw out of the listener's accept path, the connection neither admitted nor refused.
    if (action === "block" && this.#blacklistMs > 0) this.#blacklist(ip, key);
    return this.#count(action);
  }

  /** What {@link SynGuard.check} would decide now, without recording an attempt. */
  peek(ip: string): SynAction {
    if (this.whitelist.has(ip)) return "allow";
    if (this.blacklist.has(ip)) return "block";
    const r = this.#records.get(this.#keyOf(ip));
    return r === undefined ? "allow" : this.#actionOf(this.#decay(r));
  }

  /** A connection from `ip` did something useful (sent data, lived on). */
  recordSuccess(ip: string): void {
    const r = this.#touch(this.#keyOf(ip));
    r.successes++;
    // Trust is capped: a client that banked thousands of successes (a score of -28 000 after 1000 a second for
    // ten seconds) could otherwise open thousands of connections that fail before it even turned suspect.
    r.score = Math.max(r.score - this.#w.success, this.#floor);
  }

  /** A connection from `ip` was dropped without doing anything useful (or was refused). */
  recordFailure(ip: string): void {
    const r = this.#touch(this.#keyOf(ip));
    r.failures++;
    r.score += this.#w.failure;
  }

  /** `ip`'s reputation now ("neutral" when unknown; whitelisted: trusted; blacklisted: hostile). */
  reputation(ip: string): Reputation {
    if (this.whitelist.has(ip)) return "trusted";
    if (this.blacklist.has(ip)) return "hostile";
    const r = this.#records.get(this.#keyOf(ip));
    return r === undefined ? "neutral" : this.#levelOf(this.#decay(r));
  }

  /** The record of `ip`'s key with its score decayed to now (a copy), if tracked. */
  record(ip: string): IpRecord | undefined {
    const r = this.#records.get(this.#keyOf(ip));
    if (r === undefined) return undefined;
    this.#decay(r);
    return { ...r };
  }

  /** Forgets the record of `ip`'s key (every record without an argument); the lists stay. */
  forget(ip?: string): void {
    if (ip === undefined) this.#records.clear();
    else this.#records.delete(this.#keyOf(ip));
  }

  /** The key `ip` is scored under (the `key` option's). */
  keyOf(ip: string): string {
    return this.#keyOf(ip);
  }

  /** A copy of the decision counters. */
  stats(): SynGuardStats {
    return { ...this.#stats };
  }

  #levelOf(score: number): Reputation {
    const l = this.#levels;
    if (score >= l.hostile) return "hostile";
    if (score >= l.suspect) return "suspect";
    if (score <= l.trusted) return "trusted";
    return "neutral";
  }

  #actionOf(score: number): SynAction {
    const l = this.#levels;
    if (score >= l.hostile) return "block";
    if (score >= l.challenge) return "challenge";
    if (score >= l.suspect) return "throttle";
    return "allow";
  }

  #count(action: SynAction): SynAction {
    const s = this.#stats;
    if (action === "allow") s.allowed++;
    else if (action === "throttle") s.throttled++;
    else if (action === "challenge") s.challenged++;
    else s.blocked++;
    return action;
  }

  /** Decays `r`'s score to now and returns it. */
  #decay(r: IpRecord): number {
    const now = this.#clock.now();
    const elapsed = now - r.at;
    if (elapsed > 0) {
      r.score *= Math.pow(0.5, elapsed / this.#halfLife);
      if (Math.abs(r.score) < 1e-6) r.score = 0;
      r.at = now;
    }
    return r.score;
  }

  #keyOf(ip: string): string {
    if (typeof ip !== "string" || ip.length === 0 || ip.length > 64) throw new TypeError("ip must be an IP literal");
    let key: unknown;
    try {
      key = this.#key(ip);
    } catch {
      return ip; // a key function that fails scores the address itself (the listener must not throw out of admission)
    }
    return typeof key === "string" && key.length > 0 && key.length <= 255 ? key : ip;
  }

  /** Blacklists a hostile `ip` for `blacklistMs`: its key when that is a prefix (or an address), else the address. */
  #blacklist(ip: string, key: string): void {
    if (key !== ip) {
      try {
        this.blacklist.tryAdd(key, this.#blacklistMs);
        return;
      } catch {
        // a key of the caller's that is no CIDR prefix
      }
    }
    this.blacklist.tryAdd(ip, this.#blacklistMs);
  }

  /** The record of `key` (made if new), decayed to now, as the most recently seen. */
  #touch(key: string): IpRecord {
    let r = this.#records.get(key);
    if (r !== undefined) {
      this.#records.delete(key);
      this.#decay(r);
    } else {
      r = { score: 0, attempts: 0, failures: 0, successes: 0, at: this.#clock.now() };
      if (this.#records.size >= this.#max) {
        const oldest = this.#records.keys().next().value;
        if (oldest !== undefined) {
          this.#records.delete(oldest);
          this.#stats.evictions++;
        }
      }
    }
    this.#records.set(key, r);
    return r;
  }
}

/**
 * The kernel's SYN-cookie setting (`/proc/sys/net/ipv4/tcp_syncookies`):
 * "off" (0), "on" (1: used when the SYN backlog overflows), "always" (2),
 * or "unknown" (no such file: not Linux, or no /proc).
 *
 * @example
 * ```ts
 * import { synCookiesStatus } from "./syn_protect.ts";
 * console.log(["off", "on", "always", "unknown"].includes(synCookiesStatus())); // true
 * ```
 */
export function synCookiesStatus(): "off" | "on" | "always" | "unknown" {
  let bytes: Uint8Array | null;
  try {
    bytes = readFileBytes("/proc/sys/net/ipv4/tcp_syncookies", 16);
  } catch {
    return "unknown";
  }
  if (bytes === null) return "unknown";
  const text = new TextDecoder().decode(bytes).trim();
  return text === "0" ? "off" : text === "1" ? "on" : text === "2" ? "always" : "unknown";
}

function finite(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number, got ${String(value)}`);
  return value;
}
