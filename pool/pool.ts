/**
 * `ConnectionPool` (seed: `SocketPool`): the connections a server or client
 * holds, with O(1) lookup by connection and by key (an origin
 * `"host:port"` on the client side, a remote address on the server side),
 * a bounded I/O buffer per connection, a maximum size, resize and prewarm,
 * idle timeout with periodic cleanup on the loop's timers, health checks,
 * statistics, and the drain state machine (RUNNING → DRAINING → STOPPED):
 * `drain(timeoutMs)` lets the connections in flight finish and
 * force-closes what is left at the deadline.
 *
 * A connection is "active" while handed out (after `add`, or `get`) and
 * "idle" after `release`; only idle ones are reused by `get`, and only idle
 * ones time out. A connection that closes leaves the pool by itself.
 *
 * @example
 * ```ts
 * import { connect, listen } from "../poll/listener.ts";
 * import { ConnectionPool } from "./pool.ts";
 * const server = listen({ port: 0, handler: { data: (c, d) => c.send(d) } });
 * const pool = new ConnectionPool({ maxConnections: 8, cleanupIntervalMs: 0 });
 * const conn = await connect({ port: server.port });
 * pool.add(conn, `127.0.0.1:${server.port}`);
 * pool.release(conn); // idle: get() hands it out again
 * console.log(pool.get(`127.0.0.1:${server.port}`) === conn); // true
 * await pool.drain(1000); // closes idle ones, waits for active ones
 * server.close();
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "../core/clock.ts";
import { PoolError } from "../core/errors.ts";
import { checkOptions } from "../core/options.ts";
import { Logger, silentLogger } from "../core/log.ts";
import { SocketBuf } from "../core/socket_buf.ts";
import type { Timer } from "../core/timer_heap.ts";
import type { Connection } from "../poll/connection.ts";
import { type Connector, type ConnectorOptions, defaultConnector } from "../poll/connector.ts";
import { defaultLoop, type Loop } from "../poll/loop.ts";
import { type DrainPhase, DrainState } from "./drain.ts";
import { PoolCounters, type PoolStatsSnapshot } from "./stats.ts";

/** Default most connections held. */
const DEFAULT_MAX_CONNECTIONS = 1024;
/** Default bound of a connection's I/O buffer. */
const DEFAULT_BUFFER_BYTES = 64 * 1024;

/**
 * What a pool holds: a `Connection` of poll/, or anything with its closing
 * surface (for a pool of TLS or protocol sessions).
 *
 * @example
 * ```ts
 * import type { PoolMember } from "./pool.ts";
 * import type { Connection } from "../poll/connection.ts";
 * const ok = (c: Connection): PoolMember => c;
 * ```
 */
export interface PoolMember {
  /** Whether it is closed. */
  readonly closed: boolean;
  /** Closes gracefully. */
  close(): unknown;
  /** Closes at once (reset). */
  abort(error?: Error): void;
  /** Resolves when it closed (with the error it closed on, if any). */
  readonly whenClosed?: Promise<Error | undefined>;
}

/**
 * The result of {@link ConnectionPool.checkConnection}: still usable, closed,
 * closed on an error (or refused by `validate`), or idle past the timeout.
 *
 * @example
 * ```ts
 * import type { ConnectionHealth } from "./pool.ts";
 * const usable = (h: ConnectionHealth) => h === "healthy";
 * ```
 */
export type ConnectionHealth = "healthy" | "disconnected" | "error" | "stale";

/**
 * One connection in a pool, as the pool sees it.
 *
 * @example
 * ```ts
 * import type { PoolEntry } from "./pool.ts";
 * import type { Connection } from "../poll/connection.ts";
 * const describe = (e: PoolEntry<Connection>) => `${e.key}: ${e.uses} uses`;
 * ```
 */
export interface PoolEntry<C extends PoolMember = Connection> {
  /** The pooled connection. */
  readonly connection: C;
  /** The key it is found under ("" when added without one). */
  readonly key: string;
  /** When it was added (clock ms). */
  readonly addedAt: number;
  /** When it was added or last released (clock ms; `get` does not read the clock). */
  lastUsedAt: number;
  /** Times handed out (1 after `add`). */
  uses: number;
  /** Whether handed out now (false: idle). */
  active: boolean;
  /** The error it closed on, once closed. */
  error: Error | undefined;
  /**
   * Its I/O buffer, made on first use; bounded by the pool's `bufferBytes`
   * (writing past it throws a `LimitError`).
   */
  readonly buffer: SocketBuf;
}

/**
 * Options of a {@link ConnectionPool} (unknown keys are a TypeError).
 *
 * @example
 * ```ts
 * import { ConnectionPool, type ConnectionPoolOptions } from "./pool.ts";
 * const options: ConnectionPoolOptions = { maxConnections: 100, idleTimeoutMs: 30_000, cleanupIntervalMs: 0 };
 * const pool = new ConnectionPool(options);
 * ```
 */
export interface ConnectionPoolOptions<C extends PoolMember = Connection> {
  /** Most connections held at once (default 1024). */
  maxConnections?: number;
  /** Close connections idle this long, in ms (default 0: never). */
  idleTimeoutMs?: number;
  /**
   * How often idle connections are looked for, in ms, on the loop's timers
   * (default: half the idle timeout, at least 100; 0: no timer, call
   * {@link ConnectionPool.cleanupIdle} yourself).
   */
  cleanupIntervalMs?: number;
  /** Bound of each connection's I/O buffer in bytes (default 65536). */
  bufferBytes?: number;
  /** Whose timers run the cleanup (default: the default loop, only when a timer is needed). */
  loop?: Loop;
  /** The time source (default the monotonic system clock). */
  clock?: Clock;
  /** Whether an idle connection may be handed out again (checked by `get` and `checkConnection`; a throw counts as no, logged at WARN). */
  validate?: (connection: C, entry: PoolEntry<C>) => boolean;
  /** Called before an idle connection is closed for its idle timeout (a throw is logged; the connection closes anyway). */
  onIdle?: (connection: C, entry: PoolEntry<C>) => void;
  /** Called on each drain phase change. */
  onDrain?: (phase: DrainPhase) => void;
  /**
   * Where the pool says what happened (core/log.ts's `Logger`): drain
   * phases (INFO), connections force-closed at the drain deadline (WARN),
   * a close that failed or an `onDrain` or `onIdle` that threw (WARN, with the error),
   * idle cleanups (DEBUG). Default: none.
   */
  logger?: Logger;
}

const KEYS: ReadonlySet<string> = new Set([
  "maxConnections", "idleTimeoutMs", "cleanupIntervalMs", "bufferBytes", "loop", "clock", "validate", "onIdle", "onDrain", "logger",
]);

/**
 * How a drain ended: `forced` connections were closed at the deadline (0:
 * every connection in flight finished in time).
 *
 * @example
 * ```ts
 * import type { DrainResult } from "./pool.ts";
 * const clean = (r: DrainResult) => r.forced === 0;
 * ```
 */
export interface DrainResult {
  /** Connections force-closed at the deadline (or by `drainForce`). */
  forced: number;
}

/**
 * A pool of connections; see the module doc.
 *
 * @example
 * ```ts
 * import { ConnectionPool } from "./pool.ts";
 * const pool = new ConnectionPool({ cleanupIntervalMs: 0 });
 * console.log(pool.size, pool.state); // 0 "running"
 * ```
 */
export class ConnectionPool<C extends PoolMember = Connection> {
  #max: number;
  /** How long an idle connection stays before it is closed, in ms (0: never). */
  readonly idleTimeoutMs: number;
  readonly #interval: number;
  readonly #bufferBytes: number;
  readonly #loop: Loop | undefined;
  readonly #clock: Clock;
  readonly #validate: ((connection: C, entry: PoolEntry<C>) => boolean) | undefined;
  readonly #onIdle: ((connection: C, entry: PoolEntry<C>) => void) | undefined;
  readonly #onDrain: ((phase: DrainPhase) => void) | undefined;
  readonly #log: Logger;
  readonly #entries = new Map<C, PoolEntry<C>>();
  readonly #byKey = new Map<string, Set<PoolEntry<C>>>();
  /** Idle entries per key, as a stack (most recently released last); each entry knows its index. */
  readonly #idleByKey = new Map<string, Slot<C>[]>();
  #idle = 0;
  readonly #counters: PoolCounters;
  readonly #drain: DrainState;
  #timer: Timer | undefined;
  #drainTimer: Timer | undefined;
  #forced = 0;
  /**
   * One controller per `prewarm` connect in progress (one abort listener
   * each: Node warns at 11 on one signal), aborted when the pool stops
   * admitting, so a drain gives them up instead of letting them connect.
   */
  readonly #connectAborts = new Set<AbortController>();

  /**
   * Creates an empty pool holding at most `maxConnections` (default 1024) connections; throws TypeError for an unknown option.
   * @throws {TypeError} for an unknown option or a callback that is not a function.
   * @throws {RangeError} for a bad size or time.
   */
  constructor(options: ConnectionPoolOptions<C> = {}) {
    checkOptions(options, KEYS, "ConnectionPool");
    this.#max = positiveInt(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, "maxConnections");
    this.idleTimeoutMs = nonNegative(options.idleTimeoutMs ?? 0, "idleTimeoutMs");
    this.#interval = nonNegative(
      options.cleanupIntervalMs ?? (this.idleTimeoutMs > 0 ? Math.max(100, this.idleTimeoutMs / 2) : 0),
      "cleanupIntervalMs",
    );
    this.#bufferBytes = positiveInt(options.bufferBytes ?? DEFAULT_BUFFER_BYTES, "bufferBytes");
    this.#loop = options.loop;
    this.#clock = options.clock ?? systemClock;
    this.#validate = fn(options.validate, "validate");
    this.#onIdle = fn(options.onIdle, "onIdle");
    this.#onDrain = fn(options.onDrain, "onDrain");
    if (options.logger !== undefined && !(options.logger instanceof Logger)) throw new TypeError("ConnectionPool: logger must be a Logger (core/log.ts)");
    this.#log = options.logger ?? silentLogger;
    this.#counters = new PoolCounters(this.#clock);
    this.#drain = new DrainState(this.#clock);
  }

  /** Most connections held at once. */
  get maxConnections(): number {
    return this.#max;
  }

  /** Connections held now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Connections handed out now. */
  get active(): number {
    return this.#entries.size - this.#idle;
  }

  /** Idle connections now. */
  get idle(): number {
    return this.#idle;
  }

  /** Whether the pool holds `maxConnections`. */
  get full(): boolean {
    return this.#entries.size >= this.#max;
  }

  /** The drain phase: "running", "draining" or "stopped". */
  get state(): DrainPhase {
    return this.#drain.state;
  }

  /**
   * Adds a connection, handed out ("active"), under `key`.
   *
   * @throws {PoolError} `ERR_POOL_FULL` at `maxConnections`, `ERR_POOL_DRAINING`
   *   once draining or stopped, `ERR_POOL_DUPLICATE` when already held,
   *   `ERR_POOL_CLOSED` for a closed connection.
   */
  add(connection: C, key = ""): PoolEntry<C> {
    if (typeof key !== "string") throw new TypeError("key must be a string");
    if (!this.#drain.admitting) throw new PoolError("ERR_POOL_DRAINING", `the pool is ${this.#drain.state}: no new connections`);
    if (this.#entries.has(connection)) throw new PoolError("ERR_POOL_DUPLICATE", "the connection is in the pool already");
    if (connection.closed) throw new PoolError("ERR_POOL_CLOSED", "the connection is closed");
    if (this.full) throw new PoolError("ERR_POOL_FULL", `the pool holds its maximum of ${this.#max} connections`);
    const now = this.#clock.now();
    let buffer: SocketBuf | undefined;
    const bufferBytes = this.#bufferBytes;
    const entry: Slot<C> = {
      idleIndex: -1,
      connection,
      key,
      addedAt: now,
      lastUsedAt: now,
      uses: 1,
      active: true,
      error: undefined,
      get buffer(): SocketBuf {
        return (buffer ??= new SocketBuf({ capacity: 0, maxCapacity: bufferBytes }));
      },
    };
    this.#entries.set(connection, entry);
    setOf(this.#byKey, key).add(entry);
    this.#counters.added++;
    connection.whenClosed?.then((error) => {
      entry.error = error;
      this.remove(connection);
    }, () => this.remove(connection));
    this.#startTimer();
    return entry;
  }

  /**
   * Takes `connection` out of the pool without closing it.
   *
   * @returns false when it was not in the pool.
   */
  remove(connection: C): boolean {
    const entry = this.#entries.get(connection);
    if (entry === undefined) return false;
    this.#entries.delete(connection);
    deleteFrom(this.#byKey, entry.key, entry);
    if (!entry.active) this.#unidle(entry as Slot<C>);
    this.#counters.removed++;
    this.#afterRemove();
    return true;
  }

  /**
   * Hands out an idle connection for `key` (the most recently released one
   * that `validate` accepts, so that the others can time out; refused or
   * closed ones are closed and removed).
   *
   * @returns undefined when there is none (connect and `add` a new one).
   */
  get(key = ""): C | undefined {
    if (!this.#drain.admitting) return undefined;
    const idle = this.#idleByKey.get(key);
    if (idle === undefined) return undefined;
    for (let entry = idle[idle.length - 1]; entry !== undefined; entry = idle[idle.length - 1]) {
      this.#setActive(entry, true);
      if (entry.connection.closed || !this.#valid(entry)) {
        this.#counters.healthFailures++;
        this.#discard(entry);
        continue;
      }
      entry.uses++;
      this.#counters.reused++;
      return entry.connection;
    }
    return undefined;
  }

  /**
   * Marks a handed-out connection idle (reusable by `get`). While draining
   * it is closed instead: nothing new will use it.
   *
   * @returns false when it is not in the pool.
   */
  release(connection: C): boolean {
    const entry = this.#entries.get(connection);
    if (entry === undefined) return false;
    entry.lastUsedAt = this.#clock.now();
    if (!this.#drain.admitting) {
      this.#discard(entry);
      return true;
    }
    this.#setActive(entry, false);
    return true;
  }

  /** The pool's record of `connection` (O(1)), if it holds it. */
  entry(connection: C): PoolEntry<C> | undefined {
    return this.#entries.get(connection);
  }

  /** Whether the pool holds `connection`. */
  has(connection: C): boolean {
    return this.#entries.has(connection);
  }

  /** The connections held under `key` (O(1) to reach; a copy). */
  byKey(key: string): C[] {
    return [...(this.#byKey.get(key) ?? [])].map((entry) => entry.connection);
  }

  /** The first connection whose entry satisfies `predicate`. */
  find(predicate: (entry: PoolEntry<C>) => boolean): C | undefined {
    for (const entry of this.#entries.values()) if (predicate(entry)) return entry.connection;
    return undefined;
  }

  /** Every connection whose entry satisfies `predicate`. */
  filter(predicate: (entry: PoolEntry<C>) => boolean): C[] {
    const out: C[] = [];
    for (const entry of this.#entries.values()) if (predicate(entry)) out.push(entry.connection);
    return out;
  }

  /** Calls `fn` with each entry (over a copy: `fn` may remove). */
  forEach(fn: (entry: PoolEntry<C>) => void): void {
    for (const entry of [...this.#entries.values()]) fn(entry);
  }

  /**
   * Connections held: all of them, or those under `key`.
   */
  count(key?: string): number {
    if (key === undefined) return this.#entries.size;
    return this.#byKey.get(key)?.size ?? 0;
  }

  /**
   * Changes `maxConnections`. Shrinking below the size closes idle
   * connections (longest idle first) until it fits or none is left; active
   * ones are not touched (the pool refuses new ones until it fits).
   *
   * @returns the connections closed.
   */
  resize(maxConnections: number): number {
    this.#max = positiveInt(maxConnections, "maxConnections");
    let closed = 0;
    if (this.#entries.size <= this.#max) return 0;
    const idle = [...this.#entries.values()].filter((e) => !e.active).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    for (const entry of idle) {
      if (this.#entries.size <= this.#max) break;
      this.#discard(entry);
      closed++;
    }
    return closed;
  }

  /**
   * Opens connections for `key` until it has `count` idle ones (client
   * side), each through `connector` (default poll's `connect`). Stops at
   * `maxConnections`. The connects run at once and are all waited for: a
   * failed one rejects (with the first failure) once the others settled,
   * those that opened pooled all the same; one that opens while the pool
   * drains or is full is closed, never left unheld. A drain gives up the
   * connects still in progress (TCP, TLS handshake, proxy): each gets an
   * `AbortSignal` (following `options.signal` too) that the drain aborts
   * with `ERR_POOL_DRAINING`.
   *
   * @returns the connections opened.
   * @throws {PoolError} `ERR_POOL_DRAINING` once a drain began (nothing is
   * connected), or when a drain gave up the connects in progress.
   */
  async prewarm(key: string, count: number, options: ConnectorOptions, connector: Connector = defaultConnector): Promise<number> {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be an integer >= 0, got ${String(count)}`);
    if (!this.#drain.admitting) throw new PoolError("ERR_POOL_DRAINING", `the pool is ${this.#drain.state}: no new connections`);
    const have = this.#idleByKey.get(key)?.length ?? 0;
    const want = Math.min(count - have, this.#max - this.#entries.size);
    if (want <= 0) return 0;
    const aborts = Array.from({ length: want }, () => new AbortController());
    for (const abort of aborts) this.#connectAborts.add(abort);
    const signal = options.signal;
    const onAbort = (): void => {
      for (const abort of aborts) abort.abort(signal!.reason);
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    let settled: PromiseSettledResult<Connection>[];
    try {
      // allSettled, not all: with all, a connect that failed first made this
      // reject while the others were still opening, and those went to no one.
      settled = await Promise.allSettled(aborts.map((abort) => connector({ ...options, signal: abort.signal })));
    } finally {
      signal?.removeEventListener("abort", onAbort);
      for (const abort of aborts) this.#connectAborts.delete(abort);
    }
    let added = 0;
    let failed: { reason: unknown } | undefined;
    for (const result of settled) {
      if (result.status === "rejected") {
        failed ??= result;
        continue;
      }
      const member = result.value as unknown as C;
      // One that closed meanwhile would make add() throw, leaving the rest unheld.
      if (!this.#drain.admitting || this.full || member.closed) {
        member.abort();
        continue;
      }
      this.add(member, key);
      this.release(member);
      added++;
    }
    if (failed !== undefined) throw failed.reason;
    return added;
  }

  /**
   * Health of a held connection: "disconnected" (closed), "error" (closed
   * on an error, or refused by `validate`), "stale" (idle past the idle
   * timeout) or "healthy". Counted in the statistics.
   */
  checkConnection(connection: C): ConnectionHealth {
    this.#counters.healthChecks++;
    const entry = this.#entries.get(connection);
    let health: ConnectionHealth = "healthy";
    if (entry?.error !== undefined) health = "error";
    else if (connection.closed || entry === undefined) health = "disconnected";
    else if (!this.#valid(entry)) health = "error";
    else if (!entry.active && this.idleTimeoutMs > 0 && this.#clock.now() - entry.lastUsedAt >= this.idleTimeoutMs) health = "stale";
    if (health !== "healthy") this.#counters.healthFailures++;
    return health;
  }

  /**
   * Closes idle connections idle for `idleTimeoutMs` or longer (the
   * periodic cleanup runs this), calling `onIdle` first.
   *
   * @returns the connections closed.
   */
  cleanupIdle(): number {
    if (this.idleTimeoutMs === 0) return 0;
    const now = this.#clock.now();
    let closed = 0;
    for (const idle of [...this.#idleByKey.values()]) {
      for (const entry of idle.slice()) {
        if (now - entry.lastUsedAt < this.idleTimeoutMs) continue;
        try {
          this.#onIdle?.(entry.connection, entry);
        } catch (error) {
          // a callback that throws must not stop the cleanup (nor escape the
          // periodic timer that runs it): the connection still closes
          this.#log.warn("pool: onIdle threw", { error });
        }
        this.#counters.idleCleanups++;
        this.#discard(entry);
        closed++;
      }
    }
    if (closed > 0) this.#log.debug("pool: idle connections closed", { closed, idleTimeoutMs: this.idleTimeoutMs });
    return closed;
  }

  /**
   * Starts a graceful shutdown: nothing new is admitted, idle connections
   * close now, active ones may finish (and close on `release`) until
   * `timeoutMs` passes; then the rest are force-closed.
   *
   * @returns resolves when stopped, with how many were force-closed.
   */
  drain(timeoutMs: number): Promise<DrainResult> {
    const wasRunning = this.#drain.state === "running";
    if (this.#drain.begin(timeoutMs)) {
      this.#abortConnects();
      if (wasRunning) {
        this.#log.info("pool: draining", { connections: this.#entries.size, active: this.active, timeoutMs });
        this.#emit("draining");
      }
      for (const entry of [...this.#entries.values()]) if (!entry.active) this.#discard(entry);
      this.#afterRemove();
      if (this.#drain.state === "draining") {
        this.#drainTimer?.cancel();
        const remaining = this.#drain.remainingMs();
        if (remaining === 0) this.drainForce();
        else this.#drainTimer = this.#timers().once(remaining, () => this.drainForce());
      }
    }
    return this.drainWait();
  }

  /** Milliseconds until a drain force-closes (0 when stopped, Infinity while running). */
  drainRemainingMs(): number {
    return this.#drain.remainingMs();
  }

  /**
   * Aborts every connection held and stops the pool at once.
   *
   * @returns the connections closed.
   */
  drainForce(): number {
    let closed = 0;
    for (const entry of [...this.#entries.values()]) {
      this.#entries.delete(entry.connection);
      this.#counters.removed++;
      entry.connection.abort();
      closed++;
    }
    this.#byKey.clear();
    this.#idleByKey.clear();
    this.#idle = 0;
    this.#forced += closed;
    if (closed > 0) this.#log.warn("pool: connections force-closed at the drain deadline", { forced: closed });
    this.#stop();
    return closed;
  }

  /** Resolves when the pool is stopped (after a drain), with how many were force-closed. */
  async drainWait(): Promise<DrainResult> {
    await this.#drain.whenStopped;
    return { forced: this.#forced };
  }

  /** The counters and derived figures now. */
  stats(): PoolStatsSnapshot {
    const now = this.#clock.now();
    let totalAgeMs = 0;
    for (const entry of this.#entries.values()) totalAgeMs += now - entry.addedAt;
    return this.#counters.snapshot({ active: this.active, idle: this.#idle, totalAgeMs });
  }

  /** Zeroes the counters (what the pool holds is unchanged). */
  resetStats(): void {
    this.#counters.reset();
  }

  #setActive(entry: PoolEntry<C>, active: boolean): void {
    if (entry.active === active) return;
    entry.active = active;
    const slot = entry as Slot<C>;
    if (active) {
      this.#unidle(slot);
      return;
    }
    let stack = this.#idleByKey.get(entry.key);
    if (stack === undefined) this.#idleByKey.set(entry.key, (stack = []));
    slot.idleIndex = stack.length;
    stack.push(slot);
    this.#idle++;
  }

  /** Takes an idle entry off its key's stack in O(1) (the last one moves into its place). */
  #unidle(slot: Slot<C>): void {
    const stack = this.#idleByKey.get(slot.key);
    const at = slot.idleIndex;
    if (stack === undefined || stack[at] !== slot) return;
    const last = stack.pop()!;
    if (last !== slot) {
      stack[at] = last;
      last.idleIndex = at;
    }
    slot.idleIndex = -1;
    this.#idle--;
    if (stack.length === 0) this.#idleByKey.delete(slot.key);
  }

  /** Removes and closes. */
  #discard(entry: PoolEntry<C>): void {
    this.remove(entry.connection);
    try {
      const closing = entry.connection.close();
      if (closing instanceof Promise) closing.catch((error: unknown) => this.#log.warn("pool: close failed", { key: entry.key, error }));
    } catch (error) {
      this.#log.warn("pool: close failed, aborted", { key: entry.key, error });
      entry.connection.abort();
    }
  }

  #afterRemove(): void {
    if (this.#drain.state === "draining" && this.#entries.size === 0) this.#stop();
  }

  /** Gives up prewarm's connects in progress: nothing new is admitted. */
  #abortConnects(): void {
    if (this.#connectAborts.size === 0) return;
    const reason = new PoolError("ERR_POOL_DRAINING", "the pool began draining: connects in progress were given up");
    for (const abort of this.#connectAborts) abort.abort(reason);
    this.#connectAborts.clear();
  }

  /**
   * Whether `validate` (if given) accepts the entry's connection. One that
   * throws refuses it (logged at WARN): `get` had already taken the entry
   * off the idle stack, so a throw left it active for good, held by nobody
   * (never handed out, never idle-closed, and a drain waited for it until
   * its deadline).
   */
  #valid(entry: PoolEntry<C>): boolean {
    if (this.#validate === undefined) return true;
    try {
      return this.#validate(entry.connection, entry);
    } catch (error) {
      this.#log.warn("pool: validate threw", { error });
      return false;
    }
  }

  #stop(): void {
    this.#abortConnects();
    if (this.#drain.state === "stopped") return;
    this.#drainTimer?.cancel();
    this.#drainTimer = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#drain.stop();
    this.#log.info("pool: stopped", { forced: this.#forced });
    this.#emit("stopped");
  }

  #emit(phase: DrainPhase): void {
    try {
      this.#onDrain?.(phase);
    } catch (error) {
      // a callback that throws must not stop the drain
      this.#log.warn("pool: onDrain threw", { phase, error });
    }
  }

  #timers(): Loop["timers"] {
    return (this.#loop ?? defaultLoop()).timers;
  }

  #startTimer(): void {
    if (this.#timer !== undefined || this.#interval === 0 || this.idleTimeoutMs === 0) return;
    this.#timer = this.#timers().every(this.#interval, () => {
      this.cleanupIdle();
    }).unref();
  }
}

/** An entry with its place on its key's idle stack (-1: active). */
interface Slot<C extends PoolMember> extends PoolEntry<C> {
  idleIndex: number;
}

function setOf<T>(map: Map<string, Set<T>>, key: string): Set<T> {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  return set;
}

function deleteFrom<T>(map: Map<string, Set<T>>, key: string, value: T): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number >= 0, got ${String(value)}`);
  return value;
}

function fn<T>(value: T | undefined, name: string): T | undefined {
  if (value !== undefined && typeof value !== "function") throw new TypeError(`${name} must be a function`);
  return value;
}
