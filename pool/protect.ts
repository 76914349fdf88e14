/**
 * `ListenProtection`: per-IP limits and SYN-flood protection for a
 * listener, given as its `protect` option:
 * `listen({ port, handler, protect: new ListenProtection({ maxPerIp: 8 }) })`.
 * Each accepted connection is admitted or refused (closed with a reset)
 * before the handler or `accept()` sees it:
 *
 * - **SYN guard** (pool/syn_protect.ts): a reputation per address;
 *   "block" refuses, "throttle" admits one connection at a time from the
 *   address, "challenge" admits it only if it sends its first bytes within
 *   `challengeTimeoutMs` (handler mode), as TCP_DEFER_ACCEPT does.
 * - **connection rate per IP** with burst: a token bucket per address.
 * - **connections per IP** and **unique IPs** (core/ip_tracker.ts).
 * - **bandwidth per connection** (handler mode): reading pauses while the
 *   connection's receive bucket is empty.
 * - **kernel**: `deferAcceptSec` sets TCP_DEFER_ACCEPT on the listening
 *   socket; {@link ListenProtection.synCookies} is the kernel's SYN-cookie
 *   setting at listen time.
 *
 * Addresses are counted under their `key` (default: IPv4 exactly, an
 * IPv4-mapped IPv6 address as its IPv4 address, IPv6 by its /64; see
 * core/ip_key.ts): the per-IP limits, the rate and, unless `syn` is a
 * `SynGuard` of its own, the SYN guard's reputation.
 *
 * A connection counts until it closes, or until the kernel says its peer
 * is gone: a new connection from an address at its limit first frees the
 * slots of that address's connections whose peer has closed or reset
 * (FIN or RST already received, before the loop delivered it), so a client
 * that closes and reconnects at once is never refused for its own closed
 * connection.
 *
 * In handler mode a connection that sends data counts as a success for its
 * address and one that closes without sending anything as a failure; with
 * `accept()` only attempts and refusals are scored.
 *
 * The protection follows the connection, not its first handler: an admitted
 * connection counts against its address until it closes (released once,
 * however it ends), and scoring and the bandwidth limit stay around
 * whatever handler it gets later (`Connection.interpose`), so a connection
 * an HTTP/1.1 session hands to a WebSocket stays limited and counted.
 *
 * @example
 * ```ts
 * import { connect, listen } from "../poll/listener.ts";
 * import { ListenProtection } from "./protect.ts";
 * const protect = new ListenProtection({ maxPerIp: 1 });
 * const server = listen({ port: 0, protect, handler: { data: (c, d) => c.send(d) } });
 * const first = await connect({ port: server.port });
 * await first.write(new Uint8Array([1]));
 * await first.read(); // echoed: admitted
 * const refused = await connect({ port: server.port })
 *   .then((second) => second.read().finally(() => second.close()))
 *   .catch(() => null); // reset during connect or read
 * console.log(refused); // null: refused with a close
 * console.log(protect.stats().refusedPerIp); // 1
 * await first.close();
 * server.close();
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "../core/clock.ts";
import { ipKey } from "../core/ip_key.ts";
import { IpConnectionTracker } from "../core/ip_tracker.ts";
import { Logger } from "../core/log.ts";
import { checkOptions } from "../core/options.ts";
import { eventBurst, TokenBucket } from "../core/rate_limit.ts";
import type { Timer } from "../core/timer_heap.ts";
import { C } from "../ffi/platform.ts";
import type { Connection, ConnectionHandler } from "../poll/connection.ts";
import type { Listener } from "../poll/listener.ts";
import { pollOne, WAIT_TROUBLE } from "../socket/wait.ts";
import { SynGuard, type SynGuardOptions, synCookiesStatus } from "./syn_protect.ts";

/**
 * Options of a {@link ListenProtection} (unknown keys are a TypeError).
 *
 * @example
 * ```ts
 * import { ListenProtection, type ListenProtectionOptions } from "./protect.ts";
 * const options: ListenProtectionOptions = {
 *   maxPerIp: 16,
 *   maxIps: 10_000,
 *   ratePerIp: { perSecond: 10, burst: 20 },
 *   bandwidth: { bytesPerSecond: 1_000_000 },
 *   syn: { blacklistMs: 60_000 },
 *   deferAcceptSec: 5,
 * };
 * const protect = new ListenProtection(options);
 * ```
 */
export interface ListenProtectionOptions {
  /** Connections open at once per address (default: no limit). */
  maxPerIp?: number;
  /** Addresses with connections (or a rate record) at once (default 65536). */
  maxIps?: number;
  /** New connections per second per address, with bursts up to `burst` (≥ 1; default `perSecond`, at least 1). */
  ratePerIp?: { perSecond: number; burst?: number };
  /** Bytes per second received per connection, bursts up to `burst` (default one second's worth); handler mode. */
  bandwidth?: { bytesPerSecond: number; burst?: number };
  /** SYN-flood protection: a {@link SynGuard}, its options, or true for the defaults (default: off). */
  syn?: SynGuard | SynGuardOptions | boolean;
  /** ms a "challenge" connection has to send its first bytes (default 3000). */
  challengeTimeoutMs?: number;
  /**
   * Maps an address to the key it is counted under (the per-IP limits, the
   * rate, and the SYN guard made from `syn` options). Default `ipKey`
   * (core/ip_key.ts): IPv4 exact (IPv4-mapped IPv6 as IPv4), IPv6 by its
   * /64; `ipPrefixKey({ ipv6Bits: 56 })` for other prefixes, `(ip) => ip`
   * for exact addresses.
   */
  key?: (ip: string) => string;
  /** TCP_DEFER_ACCEPT seconds set on the listening socket (Linux; default: not set). */
  deferAcceptSec?: number;
  /** Called with each refusal (an exception it throws is ignored). */
  onRefuse?: (ip: string, reason: RefusalReason) => void;
  /**
   * Where refusals are logged, at DEBUG with the address and the reason
   * (a bandwidth pause at TRACE); default: the listener's `logger`.
   */
  logger?: Logger;
  /** The time source (default the monotonic system clock). */
  clock?: Clock;
}

const KEYS: ReadonlySet<string> = new Set([
  "maxPerIp", "maxIps", "ratePerIp", "bandwidth", "syn", "key", "challengeTimeoutMs", "deferAcceptSec", "onRefuse", "clock", "logger",
]);

/**
 * Why a connection was refused.
 *
 * @example
 * ```ts
 * import type { RefusalReason } from "./protect.ts";
 * const reason: RefusalReason = "perIp";
 * ```
 */
export type RefusalReason = "perIp" | "tooManyIps" | "rate" | "blocked" | "throttled" | "challenge";

/**
 * Counters of a {@link ListenProtection}.
 *
 * @example
 * ```ts
 * import { ListenProtection, type ListenProtectionStats } from "./protect.ts";
 * const s: ListenProtectionStats = new ListenProtection().stats();
 * console.log(s.admitted); // 0
 * ```
 */
export interface ListenProtectionStats {
  /** Connections let through. */
  admitted: number;
  /** Slots freed at admission for connections whose peer had already closed or reset them (see the module doc). */
  freedEarly: number;
  /** Admitted connections (of IP addresses) open now, whatever protocol they speak by now. */
  open: number;
  /** Refused: the address already had its most connections. */
  refusedPerIp: number;
  /** Refused: too many distinct addresses connected already. */
  refusedTooManyIps: number;
  /** Refused: the address connected faster than its rate and burst allow. */
  refusedRate: number;
  /** Refused: the SYN guard blocked the address. */
  refusedBlocked: number;
  /** Refused: the SYN guard throttled the address. */
  refusedThrottled: number;
  /** Challenged connections closed for sending nothing in time. */
  refusedChallenge: number;
  /** Times a connection's reading paused for its bandwidth limit. */
  bandwidthPauses: number;
}

/**
 * Admission control for a listener; see the module doc.
 *
 * @example
 * ```ts
 * import { ListenProtection } from "./protect.ts";
 * const protect = new ListenProtection({ ratePerIp: { perSecond: 5, burst: 10 }, syn: true });
 * console.log(protect.guard !== undefined); // true
 * ```
 */
export class ListenProtection {
  /** The SYN guard, when `syn` is on. */
  readonly guard: SynGuard | undefined;
  readonly #tracker: IpConnectionTracker;
  readonly #key: (ip: string) => string;
  /** The admitted connections of each key, with what releases each one's slot. */
  readonly #counted = new Map<string, Map<Connection, CountedSlot>>();
  /**
   * Per key, the connections whose slot was freed while they stay open (the
   * peer finished sending, the answer may still be going out): at most
   * {@link #drainingCap} per key, so a client that half-closes and never
   * reads cannot hold more than twice its limit of connections open.
   */
  readonly #draining = new Map<string, number>();
  readonly #drainingCap: number;
  readonly #rate: { perSecond: number; burst: number } | undefined;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #maxIps: number;
  readonly #bandwidth: { rate: number; burst: number } | undefined;
  readonly #challengeMs: number;
  readonly #deferAcceptSec: number | undefined;
  readonly #onRefuse: ((ip: string, reason: RefusalReason) => void) | undefined;
  readonly #clock: Clock;
  #log: Logger | undefined;
  #synCookies: "off" | "on" | "always" | "unknown" = "unknown";
  readonly #stats: ListenProtectionStats = {
    admitted: 0, freedEarly: 0, open: 0, refusedPerIp: 0, refusedTooManyIps: 0, refusedRate: 0, refusedBlocked: 0, refusedThrottled: 0,
    refusedChallenge: 0, bandwidthPauses: 0,
  };

  /**
   * Protection with `options`' limits and checks.
   *
   * @throws {TypeError} for an unknown option; {@link RangeError} for bad numbers.
   */
  constructor(options: ListenProtectionOptions = {}) {
    checkOptions(options, KEYS, "ListenProtection");
    this.#clock = options.clock ?? systemClock;
    this.#maxIps = options.maxIps ?? 65_536;
    if (options.key !== undefined && typeof options.key !== "function") throw new TypeError("ListenProtection: key must be a function");
    this.#key = options.key ?? ipKey;
    this.#drainingCap = Math.min(options.maxPerIp ?? 1, 1024);
    this.#tracker = new IpConnectionTracker({
      maxPerIp: options.maxPerIp ?? Number.MAX_SAFE_INTEGER,
      maxTrackedIps: this.#maxIps,
      key: sameKey, // given keys
      clock: this.#clock,
    });
    if (options.ratePerIp !== undefined) {
      const { perSecond } = options.ratePerIp;
      this.#rate = { perSecond, burst: eventBurst(perSecond, options.ratePerIp.burst, "ListenProtection: ratePerIp") };
    }
    if (options.bandwidth !== undefined) {
      const { bytesPerSecond, burst = bytesPerSecond } = options.bandwidth;
      new TokenBucket({ rate: bytesPerSecond, burst });
      this.#bandwidth = { rate: bytesPerSecond, burst };
    }
    const syn = options.syn;
    if (syn instanceof SynGuard) this.guard = syn;
    else if (syn === true) this.guard = new SynGuard({ clock: this.#clock, key: this.#key });
    else if (syn !== undefined && syn !== false) this.guard = new SynGuard({ clock: this.#clock, key: this.#key, ...syn });
    this.#challengeMs = options.challengeTimeoutMs ?? 3000;
    if (!(this.#challengeMs > 0) || !Number.isFinite(this.#challengeMs)) throw new RangeError("challengeTimeoutMs must be a finite number > 0");
    if (options.deferAcceptSec !== undefined && (!Number.isInteger(options.deferAcceptSec) || options.deferAcceptSec < 0)) {
      throw new RangeError(`deferAcceptSec must be an integer >= 0, got ${String(options.deferAcceptSec)}`);
    }
    this.#deferAcceptSec = options.deferAcceptSec;
    if (options.onRefuse !== undefined && typeof options.onRefuse !== "function") throw new TypeError("onRefuse must be a function");
    this.#onRefuse = options.onRefuse;
    if (options.logger !== undefined && !(options.logger instanceof Logger)) throw new TypeError("ListenProtection: logger must be a Logger (core/log.ts)");
    this.#log = options.logger;
  }

  /** The kernel's SYN-cookie setting, read when a listener started with this protection. */
  get synCookies(): "off" | "on" | "always" | "unknown" {
    return this.#synCookies;
  }

  /** Connections admitted and open now from `ip`'s key (its address, or its /64 by default). */
  connections(ip: string): number {
    return this.#tracker.count(this.#key(ip));
  }

  /** A copy of the counters. */
  stats(): ListenProtectionStats {
    return { ...this.#stats };
  }

  /**
   * Called by the listener once it listens: sets TCP_DEFER_ACCEPT when
   * asked and reads the SYN-cookie setting.
   */
  listening(listener: Listener): void {
    this.#log ??= listener.logger;
    if (this.#deferAcceptSec !== undefined && listener.address.family !== "unix") {
      listener.socket.options.deferAcceptSec = this.#deferAcceptSec;
    }
    this.#synCookies = synCookiesStatus();
  }

  /**
   * Admits or refuses an accepted connection (the listener calls it before
   * delivering). A refused one is aborted here.
   *
   * @param handler the listener's handler (wrapped for scoring and
   *   bandwidth), or undefined in `accept()` mode.
   * @returns whether it is admitted.
   */
  admit(conn: Connection, handler: ConnectionHandler | undefined): boolean {
    let address;
    try {
      address = conn.remoteAddress;
    } catch {
      conn.abort();
      return false;
    }
    if (address.family === "unix") {
      this.#stats.admitted++;
      return true;
    }
    const ip = address.host;
    let key: string;
    try {
      key = this.#key(ip);
      if (typeof key !== "string" || key.length === 0 || key.length > 255) throw new TypeError("no key");
    } catch {
      key = ip; // a key function that fails counts the address itself
    }
    const guard = this.guard;
    const action = guard?.check(ip) ?? "allow";
    if (action === "block") return this.#refuse(conn, ip, "blocked");
    if ((action === "throttle" || action === "challenge") && this.#tracker.count(key) > 0 && (this.#freeGone(key), this.#tracker.count(key) > 0)) {
      return this.#refuse(conn, ip, "throttled");
    }
    if (action === "challenge" && handler === undefined) return this.#refuse(conn, ip, "challenge");
    if (this.#rate !== undefined && !this.#bucket(key).tryAcquire(1)) return this.#refuse(conn, ip, "rate");
    const tracker = this.#tracker;
    const before = tracker.stats().rejectedTableFull;
    if (!tracker.tryAcquire(key) && !(this.#freeGone(key) && tracker.tryAcquire(key))) {
      return this.#refuse(conn, ip, tracker.stats().rejectedTableFull > before ? "tooManyIps" : "perIp");
    }
    this.#stats.admitted++;
    this.#stats.open++;
    let ofKey = this.#counted.get(key);
    if (ofKey === undefined) this.#counted.set(key, ofKey = new Map());
    let counted = true;
    let draining = false;
    const uncount = (): void => {
      counted = false;
      tracker.release(key);
      const conns = this.#counted.get(key);
      if (conns !== undefined && conns.delete(conn) && conns.size === 0) this.#counted.delete(key);
    };
    const release = (): void => {
      if (draining) {
        draining = false;
        this.#stats.open--;
        const left = (this.#draining.get(key) ?? 1) - 1;
        if (left > 0) this.#draining.set(key, left);
        else this.#draining.delete(key);
        return;
      }
      if (!counted) return;
      this.#stats.open--;
      uncount();
    };
    const drain = (): boolean => {
      if (!counted) return false;
      const now = this.#draining.get(key) ?? 0;
      if (now >= this.#drainingCap) return false;
      this.#draining.set(key, now + 1);
      draining = true;
      uncount();
      return true;
    };
    ofKey.set(conn, { release, drain });
    conn.whenClosed.then(release, release);
    if (handler !== undefined && (guard !== undefined || this.#bandwidth !== undefined)) {
      // Around this handler and any the connection gets later (a protocol switch, a WebSocket).
      conn.interpose(this.#wrapper(conn, ip, action === "challenge"));
    }
    return true;
  }

  /**
   * Frees the slots of `key`'s connections that are closed or whose peer
   * has closed (its FIN received, bytes it sent before may still wait) or
   * reset them, asked of the kernel: the loop may not have delivered the
   * FIN yet, or the new connection came first in the same batch of events.
   * A connection still open (its answer may still be going out) stays in
   * `open` and in the key's draining tally until it closes, and is freed
   * only while that tally is under the per-IP limit. Looks at the 64
   * oldest at most.
   *
   * @returns whether any slot was freed.
   */
  #freeGone(key: string): boolean {
    const conns = this.#counted.get(key);
    if (conns === undefined) return false;
    let freed = 0;
    let looked = 0;
    for (const [conn, slot] of conns) {
      if (looked++ === 64) break;
      let closed = conn.closed;
      let done = closed;
      if (!closed) {
        try {
          done = peerDone(conn);
        } catch {
          closed = done = true; // its fd is closed already
        }
      }
      if (closed) {
        slot.release();
        freed++;
      } else if (done && slot.drain()) {
        freed++;
      }
    }
    this.#stats.freedEarly += freed;
    return freed > 0;
  }

  #bucket(ip: string): TokenBucket {
    let bucket = this.#buckets.get(ip);
    if (bucket !== undefined) {
      this.#buckets.delete(ip);
      this.#buckets.set(ip, bucket);
      return bucket;
    }
    if (this.#buckets.size >= this.#maxIps) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    const r = this.#rate!;
    bucket = new TokenBucket({ rate: r.perSecond, burst: r.burst, clock: this.#clock });
    this.#buckets.set(ip, bucket);
    return bucket;
  }

  #refuse(conn: Connection, ip: string, reason: RefusalReason): false {
    const s = this.#stats;
    if (reason === "perIp") s.refusedPerIp++;
    else if (reason === "tooManyIps") s.refusedTooManyIps++;
    else if (reason === "rate") s.refusedRate++;
    else if (reason === "blocked") s.refusedBlocked++;
    else if (reason === "throttled") s.refusedThrottled++;
    else s.refusedChallenge++;
    if (reason !== "blocked") this.guard?.recordFailure(ip);
    if (this.#log !== undefined) this.#log.debug("protect: connection refused", { ip, reason });
    conn.abort();
    try {
      this.#onRefuse?.(ip, reason);
    } catch {
      // a callback that throws must not stop the listener
    }
    return false;
  }

  /**
   * What puts scoring, the challenge deadline and the bandwidth limit
   * around a handler of `conn`: one state for the connection, whichever
   * handler it has (read mode, `data` undefined, passes bytes unmetered).
   */
  #wrapper(conn: Connection, ip: string, challenged: boolean): (handler: ConnectionHandler) => ConnectionHandler {
    const guard = this.guard;
    let spoke = false;
    let challenge: Timer | undefined;
    if (challenged) {
      challenge = conn.loop.timers.once(this.#challengeMs, () => {
        if (spoke || conn.closed) return;
        this.#stats.refusedChallenge++;
        if (this.#log !== undefined) this.#log.debug("protect: connection refused", { ip, reason: "challenge" });
        conn.abort();
      }).unref();
    }
    const bw = this.#bandwidth;
    const bucket = bw === undefined ? undefined : new TokenBucket({ rate: bw.rate, burst: bw.burst, clock: this.#clock });
    let debt = 0;
    let resume: Timer | undefined;
    const payDebt = (): void => {
      resume = undefined;
      if (conn.closed) return;
      debt -= bucket!.acquireUpTo(Math.min(debt, bw!.burst));
      if (debt > 0) {
        resume = conn.loop.timers.once(Math.max(1, Math.ceil((Math.min(debt, bw!.burst) * 1000) / bw!.rate)), payDebt).unref();
      } else conn.resume();
    };
    const metered = (bytes: Uint8Array): void => {
      if (!spoke) {
        spoke = true;
        challenge?.cancel();
        guard?.recordSuccess(ip);
      }
      if (bucket !== undefined) {
        debt += bytes.length - bucket.acquireUpTo(bytes.length);
        if (debt > 0 && resume === undefined) {
          this.#stats.bandwidthPauses++;
          if (this.#log !== undefined) this.#log.trace("protect: reading paused for the bandwidth limit", { ip, debt });
          conn.pause();
          resume = conn.loop.timers.once(Math.max(1, Math.ceil((Math.min(debt, bw!.burst) * 1000) / bw!.rate)), payDebt).unref();
        }
      }
    };
    return (handler) => {
      // Inherits the handler's callbacks (a `timeout` only if it has one: its absence means abort).
      const wrapped = Object.create(handler) as ConnectionHandler;
      if (handler.data !== undefined) {
        wrapped.data = (c, bytes) => {
          metered(bytes);
          handler.data?.(c, bytes);
        };
      }
      wrapped.close = (c, error) => {
        challenge?.cancel();
        resume?.cancel();
        if (!spoke) guard?.recordFailure(ip);
        handler.close?.(c, error);
      };
      return wrapped;
    };
  }
}

/** How an admitted connection leaves its key's count: at its close, or early while still open. */
interface CountedSlot {
  /** At the connection's close (or once found closed). */
  release(): void;
  /** Its peer finished sending: freed now if the key's draining tally allows (true). */
  drain(): boolean;
}

/** Whether `conn`'s peer has finished sending (FIN or reset received); throws for a closed fd. */
function peerDone(conn: Connection): boolean {
  // Where poll(2) has no POLLRDHUP, a peer that closed with bytes unread still looks alive.
  if (C.POLLRDHUP === 0) return !conn.socket.probe(0);
  return (pollOne(conn.fd, C.POLLRDHUP, 0) & (C.POLLRDHUP | WAIT_TROUBLE)) !== 0;
}

/** The identity: the tracker is given keys, not addresses. */
function sameKey(key: string): string {
  return key;
}
