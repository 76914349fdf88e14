/**
 * A connection that reconnects by itself: {@link ReconnectingConnection}
 * keeps one {@link Connection} open to a peer; when it closes (the peer
 * went away, a read or write failed, or you closed it) a new one is made,
 * after exponential backoff with jitter between failed attempts (100 ms
 * initial, ×2, 30 s at most, jitter 0.25, 10 attempts in a row by default;
 * core/retry.ts's rule) and through a {@link CircuitBreaker} (5 failures
 * in a row open it; while open no connect is tried; after 60 s one probe
 * goes through); optionally a health check probes the open connection
 * and aborts it when the probe fails or runs late. Every state change is
 * an event.
 *
 * With `health` (pool/health.ts's {@link HostHealth}, shared by every
 * connection and pool that talks to the same hosts), each connect attempt
 * first asks the host's circuit (`host:port`, or `healthKey`): while it is
 * open no connect is tried — the state is `circuit-open` until the host's
 * probe time, then one probe goes through (half-open) — and every attempt
 * reports its outcome there, so failures seen by one connection open the
 * circuit for all of them and one success closes it for all.
 *
 * States: `disconnected` (not yet started, or given up), `connecting`,
 * `connected`, `backoff` (waiting before the next attempt),
 * `circuit-open` (waiting for the breaker's probe time), `closed` (by
 * {@link ReconnectingConnection.close}).
 *
 * A connection in promise mode that reads end-of-stream (`read()` gives
 * null) is closed by whoever reads it; in handler mode the `end` callback
 * closes it unless the handler has its own `end`. Either way the close is
 * what starts the reconnection.
 *
 * @example
 * ```ts
 * import { ReconnectingConnection } from "./reconnect.ts";
 * import { listen } from "../poll/listener.ts";
 * const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) } });
 * const link = new ReconnectingConnection({
 *   connect: { host: "127.0.0.1", port: server.port },
 *   onReconnect: (conn, attempt) => console.log("connected after", attempt, "attempts"),
 * });
 * const conn = await link.ready();
 * await conn.write(new Uint8Array([1]));
 * await link.close();
 * server.close();
 * ```
 *
 * @example Several connections to one host share its circuit
 * ```ts
 * import { ReconnectingConnection } from "./reconnect.ts";
 * import { HostHealth } from "../pool/health.ts";
 * const health = new HostHealth({ failureThreshold: 3, resetTimeoutMs: 10_000 });
 * const links = [1, 2].map(() => new ReconnectingConnection({ connect: { host: "127.0.0.1", port: 6379 }, health }));
 * console.log(links[0]!.healthKey, health.state("127.0.0.1:6379")); // "127.0.0.1:6379" "closed"
 * await Promise.all(links.map((l) => l.close()));
 * ```
 *
 * @module
 */
import { CircuitBreaker, type CircuitBreakerOptions } from "../core/circuit_breaker.ts";
import { SocketTimeoutError, UseAfterCloseError } from "../core/errors.ts";
import { checkOptions } from "../core/options.ts";
import { Logger, silentLogger } from "../core/log.ts";
import { type BackoffOptions, backoffDelay, checkBackoff } from "../core/retry.ts";
import type { Timer, TimerHeap } from "../core/timer_heap.ts";
import { connect, type ConnectOptions } from "../poll/connect.ts";
import type { Connection } from "../poll/connection.ts";
import type { ConnectionHandler } from "../poll/connection_types.ts";
import { defaultLoop } from "../poll/loop.ts";
import type { HostHealth } from "../pool/health.ts";

/** Where a {@link ReconnectingConnection} is (see the module notes). */
export type ReconnectState = "disconnected" | "connecting" | "connected" | "backoff" | "circuit-open" | "closed";

/** What a {@link ReconnectingConnection} did. */
export type ReconnectEvent =
  /** The state changed. */
  | { readonly type: "state"; readonly from: ReconnectState; readonly to: ReconnectState }
  /** A connect attempt started (1-based count of attempts since the last success). */
  | { readonly type: "attempt"; readonly attempt: number }
  /** An attempt failed; the next waits `delayMs` (undefined when giving up or the circuit decides). */
  | { readonly type: "attemptFailed"; readonly attempt: number; readonly error: Error; readonly delayMs: number | undefined }
  /** Connected (again). */
  | { readonly type: "connected"; readonly attempt: number; readonly connection: Connection }
  /** The connection closed (with its error, if any); a reconnection follows. */
  | { readonly type: "disconnected"; readonly error: Error | undefined }
  /** `maxAttempts` attempts in a row failed: no more tries. */
  | { readonly type: "gaveUp"; readonly error: Error }
  /** The health check's probe failed or ran out of time: the connection is aborted with `error` (a reconnection follows). */
  | { readonly type: "healthCheckFailed"; readonly error: Error };

/** A periodic check of the open connection (see {@link ReconnectOptions.healthCheck}). */
export interface HealthCheckOptions {
  /** Milliseconds between probes (> 0). */
  intervalMs: number;
  /** Milliseconds a probe may take (default `intervalMs`). */
  timeoutMs?: number;
  /** The probe: resolves when the peer is healthy; throws (or rejects) when not. Gets a signal that aborts at its timeout. */
  probe: (connection: Connection, signal: AbortSignal) => Promise<unknown> | unknown;
}

/** Options of {@link ReconnectingConnection} (unknown keys are a TypeError). */
export interface ReconnectOptions extends BackoffOptions {
  /**
   * How to connect: `connect()`'s options, or a function that opens a
   * connection. Each attempt gets a signal that aborts when
   * {@link ReconnectingConnection.close} runs during it (with options, it
   * is joined to their own `signal`, if any).
   */
  connect: ConnectOptions | ((signal: AbortSignal) => Promise<Connection>);
  /** Failed attempts in a row before giving up (default 10; `Infinity`: never). */
  maxAttempts?: number;
  /** The circuit breaker, its options, or `false` for none (default a new one: 5 failures, 60 s). */
  breaker?: CircuitBreaker | CircuitBreakerOptions | false;
  /** Timers for the waits (default the loop's: `connect.loop` or the default loop). */
  timers?: TimerHeap;
  /** The random source for jitter, in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Called after every successful connect with the connection and the attempts it took. */
  onReconnect?: (connection: Connection, attempt: number) => void;
  /** Called on every event (an exception it throws is ignored). */
  onEvent?: (event: ReconnectEvent) => void;
  /** Probes the open connection every `intervalMs`; a failed or late probe aborts it, which reconnects. */
  healthCheck?: HealthCheckOptions;
  /**
   * Circuits per host shared with other connections and pools
   * (pool/health.ts): attempts skip a host whose circuit is open and report
   * their outcomes there (see the module notes).
   */
  health?: HostHealth;
  /** The host's key in `health` (default `host:port` of `connect`; required when `connect` is a function). */
  healthKey?: string;
  /**
   * Where the connection says what happened (core/log.ts's `Logger`): a
   * failed attempt, a lost connection and a failed health check (WARN, with
   * the error), giving up (ERROR), connecting (INFO), attempts and state
   * changes (DEBUG). Default: none.
   */
  logger?: Logger;
}

/** Writes `event` to `log` at its level (see {@link ReconnectOptions.logger}). */
function logEvent(log: Logger, event: ReconnectEvent): void {
  switch (event.type) {
    case "state":
      log.debug("reconnect: state", { from: event.from, to: event.to });
      return;
    case "attempt":
      log.debug("reconnect: attempt", { attempt: event.attempt });
      return;
    case "attemptFailed":
      log.warn("reconnect: attempt failed", { attempt: event.attempt, delayMs: event.delayMs, error: event.error });
      return;
    case "connected":
      log.info("reconnect: connected", { attempt: event.attempt });
      return;
    case "disconnected":
      log.warn("reconnect: disconnected", { error: event.error });
      return;
    case "gaveUp":
      log.error("reconnect: gave up", { error: event.error });
      return;
    case "healthCheckFailed":
      log.warn("reconnect: health check failed", { error: event.error });
      return;
  }
}

const KEYS: ReadonlySet<string> = new Set([
  "connect", "maxAttempts", "breaker", "timers", "random", "onReconnect", "onEvent", "initialDelayMs", "maxDelayMs", "multiplier", "jitter",
  "healthCheck", "logger", "health", "healthKey",
]);

/** `connect(options)` that also stops when `signal` aborts (joined to the options' own signal, if any). */
function connectWithin(options: ConnectOptions, signal: AbortSignal): Promise<Connection> {
  const own = options.signal;
  if (own === undefined) return connect({ ...options, signal });
  const both = new AbortController();
  const fromOwn = (): void => both.abort(own.reason);
  const fromClose = (): void => both.abort(signal.reason);
  if (own.aborted) fromOwn();
  else own.addEventListener("abort", fromOwn, { once: true });
  signal.addEventListener("abort", fromClose, { once: true });
  return connect({ ...options, signal: both.signal }).finally(() => {
    own.removeEventListener("abort", fromOwn);
    signal.removeEventListener("abort", fromClose);
  });
}

/** The `host:port` key of connect options (IPv6 in brackets), as the client pools make it. */
function hostKey(options: ConnectOptions): string {
  const host = options.host ?? "127.0.0.1";
  return `${host.includes(":") ? `[${host}]` : host}:${String(options.port)}`;
}

function checkHealthCheck(h: HealthCheckOptions | undefined): HealthCheckOptions | undefined {
  if (h === undefined) return undefined;
  if (h === null || typeof h !== "object") throw new TypeError("healthCheck must be an object");
  checkOptions(h, new Set(["intervalMs", "timeoutMs", "probe"]), "healthCheck");
  if (typeof h.probe !== "function") throw new TypeError("healthCheck.probe must be a function");
  for (const [name, v] of [["intervalMs", h.intervalMs], ["timeoutMs", h.timeoutMs ?? h.intervalMs]] as const) {
    if (typeof v !== "number" || !Number.isFinite(v) || !(v > 0)) throw new RangeError(`healthCheck.${name} must be a finite number > 0, got ${String(v)}`);
  }
  return h;
}

interface Waiter {
  resolve(conn: Connection): void;
  reject(err: unknown): void;
}

/**
 * A connection that reconnects by itself (see the module notes). It starts
 * connecting when made.
 *
 * @example
 * ```ts
 * import { ReconnectingConnection } from "./reconnect.ts";
 * const link = new ReconnectingConnection({ connect: { host: "127.0.0.1", port: 1 }, maxAttempts: 2, initialDelayMs: 10 });
 * await link.ready().catch((e) => console.log(e.code)); // ECONNREFUSED (after 2 attempts)
 * console.log(link.state); // "disconnected"
 * await link.close();
 * ```
 */
export class ReconnectingConnection {
  /** The breaker, or null without one. */
  readonly breaker: CircuitBreaker | null;
  /** Failed attempts in a row before giving up. */
  readonly maxAttempts: number;
  readonly #open: (signal: AbortSignal) => Promise<Connection>;
  /** Aborts the attempt in flight (close() during it). */
  #attemptAbort: AbortController | undefined;
  readonly #backoff: BackoffOptions;
  readonly #timers: TimerHeap;
  readonly #random: () => number;
  readonly #onReconnect: ((connection: Connection, attempt: number) => void) | undefined;
  readonly #onEvent: ((event: ReconnectEvent) => void) | undefined;
  #state: ReconnectState = "disconnected";
  #connection: Connection | null = null;
  #attempt = 0;
  #timer: Timer | undefined;
  #waiters: Waiter[] = [];
  #lastError: Error | undefined;
  #connects = 0;
  readonly #health: HealthCheckOptions | undefined;
  readonly #hosts: HostHealth | undefined;
  readonly #hostKey: string;
  readonly #log: Logger;
  #healthTimer: Timer | undefined;

  /** Checks `options` (TypeError/RangeError) and starts the first attempt. */
  constructor(options: ReconnectOptions) {
    checkOptions(options, KEYS, "ReconnectingConnection");
    const target = options.connect;
    if (typeof target === "function") this.#open = target;
    else if (target !== null && typeof target === "object") {
      const handler = target.handler;
      // Handler mode: end-of-stream closes the connection (so it reconnects) unless the handler takes `end` itself.
      const wrapped: ConnectionHandler | undefined = handler === undefined || handler.end !== undefined
        ? handler
        : { ...handler, end: (conn) => void conn.close() };
      const opts: ConnectOptions = wrapped === undefined ? { ...target } : { ...target, handler: wrapped };
      this.#open = (signal) => connectWithin(opts, signal);
    } else throw new TypeError("ReconnectingConnection: connect must be connect() options or a function");
    const max = options.maxAttempts ?? 10;
    if (!(max === Infinity || (Number.isSafeInteger(max) && max >= 1))) throw new RangeError(`maxAttempts must be a positive integer or Infinity, got ${String(max)}`);
    this.maxAttempts = max;
    this.#backoff = checkBackoff(options);
    const b = options.breaker;
    this.breaker = b === false ? null : b instanceof CircuitBreaker ? b : new CircuitBreaker(b ?? {});
    this.#timers = options.timers ?? (typeof target === "object" ? target.loop : undefined)?.timers ?? defaultLoop().timers;
    this.#random = options.random ?? Math.random;
    for (const name of ["onReconnect", "onEvent", "random"] as const) {
      if (options[name] !== undefined && typeof options[name] !== "function") throw new TypeError(`${name} must be a function`);
    }
    this.#onReconnect = options.onReconnect;
    this.#onEvent = options.onEvent;
    this.#health = checkHealthCheck(options.healthCheck);
    const hosts = options.health;
    if (hosts !== undefined && (hosts === null || typeof hosts !== "object" || (["allow", "recordFailure", "recordSuccess", "releaseProbe", "state", "origin"] as const).some((m) => typeof hosts[m] !== "function"))) {
      throw new TypeError("ReconnectingConnection: health must be a HostHealth (pool/health.ts)");
    }
    const key = options.healthKey;
    if (key !== undefined && (typeof key !== "string" || key === "" || key.length > 300)) throw new TypeError("ReconnectingConnection: healthKey must be a non-empty string (host:port) of at most 300 characters");
    if (hosts !== undefined && key === undefined && typeof target === "function") throw new TypeError("ReconnectingConnection: healthKey is required with health when connect is a function");
    this.#hosts = hosts;
    this.#hostKey = key ?? (typeof target === "function" ? "" : hostKey(target));
    if (options.logger !== undefined && !(options.logger instanceof Logger)) throw new TypeError("ReconnectingConnection: logger must be a Logger (core/log.ts)");
    this.#log = options.logger ?? silentLogger;
    this.#attemptNow();
  }

  /** The state now. */
  get state(): ReconnectState {
    return this.#state;
  }

  /** The open connection, or null while there is none. */
  get connection(): Connection | null {
    return this.#connection;
  }

  /** The host's key in the shared `health` ("" without one). */
  get healthKey(): string {
    return this.#hosts === undefined ? "" : this.#hostKey;
  }

  /** Successful connects so far (the first included). */
  get connects(): number {
    return this.#connects;
  }

  /**
   * The open connection, or the next one: resolves once connected; rejects
   * with the last error when the attempts run out, `UseAfterCloseError`
   * after {@link ReconnectingConnection.close}, or the signal's reason.
   */
  ready(options: { signal?: AbortSignal } = {}): Promise<Connection> {
    if (this.#state === "closed") return Promise.reject(new UseAfterCloseError("ReconnectingConnection"));
    if (this.#connection !== null && !this.#connection.closed) return Promise.resolve(this.#connection);
    if (this.#state === "disconnected" && this.#lastError !== undefined) return Promise.reject(this.#lastError);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Connection>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        resolve: (c) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(c);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Starts again after giving up (state `disconnected` with an error):
   * the attempt count starts over. Does nothing in any other state.
   */
  restart(): void {
    if (this.#state !== "disconnected") return;
    this.#lastError = undefined;
    this.#attempt = 0;
    this.#attemptNow();
  }

  /** Stops reconnecting and closes the connection (a connect in flight is aborted); waiting `ready()` calls reject. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#healthTimer?.cancel();
    this.#healthTimer = undefined;
    this.#move("closed");
    // A connect in flight (a name being resolved, a SYN unanswered, a proxy or TLS handshake) stops now.
    this.#attemptAbort?.abort(new DOMException("the ReconnectingConnection was closed", "AbortError"));
    this.#attemptAbort = undefined;
    const conn = this.#connection;
    this.#connection = null;
    this.#flush(new UseAfterCloseError("ReconnectingConnection"));
    if (conn !== null) await conn.close();
  }

  /** Closes it (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #emit(event: ReconnectEvent): void {
    if (this.#log !== silentLogger) logEvent(this.#log, event);
    try {
      this.#onEvent?.(event);
    } catch {
      // an observer's failure is not the connection's
    }
  }

  #move(to: ReconnectState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#emit({ type: "state", from, to });
  }

  #flush(error: unknown, conn?: Connection): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (conn !== undefined) w.resolve(conn);
      else w.reject(error);
    }
  }

  #attemptNow(): void {
    this.#timer = undefined;
    if (this.#state === "closed") return;
    const breaker = this.breaker;
    if (breaker !== null && !breaker.allow()) {
      // Open: wait for the probe time, then try again (half-open lets one through).
      this.#move("circuit-open");
      this.#timer = this.#timers.once(Math.max(1, breaker.retryAfterMs()), () => this.#attemptNow());
      return;
    }
    const hosts = this.#hosts;
    if (hosts !== undefined && !hosts.allow(this.#hostKey)) {
      // The host's shared circuit is open (or another connection holds its
      // probe): no connect; wait for the probe time, or a backoff step.
      breaker?.releaseProbe();
      this.#move("circuit-open");
      const wait = hosts.origin(this.#hostKey).retryAfterMs;
      this.#timer = this.#timers.once(wait > 0 ? Math.ceil(wait) : backoffDelay(0, this.#backoff, this.#random), () => this.#attemptNow());
      return;
    }
    const attempt = ++this.#attempt;
    this.#move("connecting");
    this.#emit({ type: "attempt", attempt });
    const controller = new AbortController();
    this.#attemptAbort = controller;
    let started: Promise<Connection>;
    try {
      started = Promise.resolve(this.#open(controller.signal));
    } catch (err) {
      started = Promise.reject(err);
    }
    const settled = (): void => {
      if (this.#attemptAbort === controller) this.#attemptAbort = undefined;
    };
    started.then((conn) => {
      settled();
      this.#connected(conn, attempt);
    }, (err: unknown) => {
      settled();
      this.#failed(err, attempt);
    });
  }

  #connected(conn: Connection, attempt: number): void {
    if (this.#state === "closed") {
      void conn.close();
      this.breaker?.releaseProbe();
      this.#hosts?.releaseProbe(this.#hostKey);
      return;
    }
    this.breaker?.recordSuccess();
    this.#hosts?.recordSuccess(this.#hostKey);
    this.#attempt = 0;
    this.#lastError = undefined;
    this.#connection = conn;
    this.#connects++;
    this.#move("connected");
    this.#emit({ type: "connected", attempt, connection: conn });
    try {
      this.#onReconnect?.(conn, attempt);
    } catch {
      // the observer's failure is not the connection's
    }
    this.#flush(undefined, conn);
    this.#startHealthCheck(conn);
    conn.whenClosed.then((error) => {
      if (this.#connection !== conn) return;
      this.#healthTimer?.cancel();
      this.#healthTimer = undefined;
      if (this.#state === "closed") return;
      this.#connection = null;
      this.#move("disconnected");
      this.#emit({ type: "disconnected", error });
      this.#attemptNow();
    });
  }

  #startHealthCheck(conn: Connection): void {
    const health = this.#health;
    if (health === undefined) return;
    const timeoutMs = health.timeoutMs ?? health.intervalMs;
    let running = false;
    this.#healthTimer = this.#timers.every(health.intervalMs, () => {
      if (running || this.#connection !== conn || conn.closed) return;
      running = true;
      const controller = new AbortController();
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        running = false;
        timeout.cancel();
        const error = err instanceof Error ? err : new Error(String(err));
        controller.abort(error);
        if (this.#connection !== conn || this.#state === "closed") return;
        this.#emit({ type: "healthCheckFailed", error });
        conn.abort(error);
      };
      const timeout = this.#timers.once(timeoutMs, () => fail(new SocketTimeoutError(`health check took longer than ${timeoutMs} ms`)));
      let probed: Promise<unknown>;
      try {
        probed = Promise.resolve(health.probe(conn, controller.signal));
      } catch (err) {
        probed = Promise.reject(err);
      }
      probed.then(() => {
        if (settled) return;
        settled = true;
        running = false;
        timeout.cancel();
      }, fail);
    });
  }

  #failed(err: unknown, attempt: number): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.#state === "closed") {
      this.breaker?.releaseProbe();
      this.#hosts?.releaseProbe(this.#hostKey);
      return;
    }
    this.breaker?.recordFailure();
    this.#hosts?.recordFailure(this.#hostKey);
    this.#lastError = error;
    if (attempt >= this.maxAttempts) {
      this.#emit({ type: "attemptFailed", attempt, error, delayMs: undefined });
      this.#move("disconnected");
      this.#emit({ type: "gaveUp", error });
      this.#flush(error);
      return;
    }
    if ((this.breaker !== null && this.breaker.state === "open") || this.#hosts?.state(this.#hostKey) === "open") {
      this.#emit({ type: "attemptFailed", attempt, error, delayMs: undefined });
      this.#attemptNow(); // goes to circuit-open and waits for the probe time
      return;
    }
    const delayMs = backoffDelay(attempt - 1, this.#backoff, this.#random);
    this.#emit({ type: "attemptFailed", attempt, error, delayMs });
    this.#move("backoff");
    this.#timer = this.#timers.once(delayMs, () => this.#attemptNow());
  }
}

