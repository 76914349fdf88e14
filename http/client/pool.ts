/**
 * `Pool`: HTTP/1.1 connections to one origin, as undici's Pool. Requests
 * queue in order and go to an idle connection (the most recently used
 * first, so the warm ones stay warm), else to a new one up to
 * `connections`; with `pipelining > 1` bodiless idempotent requests share a
 * busy connection. Idle connections are kept for `keepAliveTimeoutMs`
 * (4 s, below the 5 s that Node's own HTTP server and our `serve` keep
 * them), or one second less than the server's `Keep-Alive: timeout=N`, and do not keep
 * the process alive. `Client` is a pool of one connection.
 *
 * Connections come from a {@link Connector}: poll's `defaultConnector` by
 * default (host names resolved and raced by Happy Eyeballs), with TLS for
 * an `https:` origin (`tls`: the settings of tls/'s `connectTLS` — a
 * `context` or context options such as `ca`, `servername`, …; the host is
 * verified). A `connector` of your own replaces all of that (for `https:`
 * it must open TLS connections, e.g. tls/'s `tlsConnector`).
 *
 * HTTP/2 (h2_client.ts): an `https:` pool offers `h2` and `http/1.1` by
 * ALPN and, when the server picks `h2`, sends every request over one
 * connection (as many at once as the server's MAX_CONCURRENT_STREAMS,
 * the rest queued); `http2: "prior-knowledge"` speaks HTTP/2 from the
 * start (h2c on `http:`), `http2: false` never. A `connector` of your own
 * for `https:` chooses by ALPN too: when the TLS connection it returns
 * negotiated `h2` (e.g. `tlsConnector({ alpn: ["h2", "http/1.1"] })`),
 * HTTP/2 is spoken on it; with `http2: false` such a connection is a
 * PoolError `ERR_POOL_ALPN`. `protocol` tells which the
 * origin speaks, `ping()` measures the round trip of its HTTP/2 connection.
 *
 * Health (`health`: a pool/'s `HostHealth`, shared by every pool of an
 * Agent): each connect's outcome is recorded for the origin as
 * `host:port` (an IPv6 literal in brackets); once its circuit is open,
 * requests fail at once with `CircuitOpenError` (`ERR_CIRCUIT_OPEN`)
 * instead of connecting, until the reset timeout lets one probe connect
 * through (the other requests wait for its outcome).
 *
 * @example
 * ```ts ignore
 * import { Pool } from "./pool.ts";
 * import { request } from "./request.ts";
 * const pool = new Pool("http://127.0.0.1:8080", { connections: 8 });
 * const { statusCode, body } = await request("http://127.0.0.1:8080/", { dispatcher: pool });
 * console.log(statusCode, await body.text());
 * await pool.close();
 * ```
 *
 * @module
 */
import { CircuitOpenError } from "../../core/circuit_breaker.ts";
import { PoolError, UseAfterCloseError } from "../../core/errors.ts";
import { Logger } from "../../core/log.ts";
import { checkOptions } from "../../core/options.ts";
import type { ConnectOptions } from "../../poll/connect.ts";
import type { Connector } from "../../poll/connector.ts";
import { defaultConnector } from "../../poll/connector.ts";
import type { Loop } from "../../poll/loop.ts";
import type { Connection } from "../../poll/connection.ts";
import type { HostHealth } from "../../pool/health.ts";
import type { TLSConnectorSettings } from "../../tls/connect_async.ts";
import type { ProxyOption } from "../../socket/proxy/plan.ts";
import type { Dispatcher, DispatchHandler, DispatchOptions } from "./dispatcher.ts";
import { H1Connection, type H1ConnectionConfig, type H1Owner } from "./h1_connection.ts";
import { H2ClientConnection, type H2ClientConfig, type H2ClientOwner } from "./h2_client.ts";
import { abortReason, PendingRequest } from "./pending.ts";

/**
 * The `tls` option of a {@link Pool} (and of `Client`, `Agent` and
 * `ProxyAgent`): the TLS settings of its connections to an `https:` origin
 * (tls/'s `TLSConnectionSettings`: `ca`, `alpn`, `servername`, …) and
 * `maxCachedSessions`, how many places (host, port, name) its connector
 * keeps sessions for, to resume them (default 100; 0: every connection
 * makes a full handshake). The plain connection is the pool's own
 * (`connector`, `proxy`), so `connector` is not one of these (a
 * `TypeError`).
 *
 * @example
 * ```ts
 * import type { PoolTLSSettings } from "./pool.ts";
 * const tls: PoolTLSSettings = { alpn: ["http/1.1"], maxCachedSessions: 0 };
 * ```
 */
export type PoolTLSSettings = Omit<TLSConnectorSettings, "connector">;

/**
 * Options of a {@link Pool} (and, without `connections`, of a `Client`);
 * an unknown key is a `TypeError`.
 *
 * @example
 * ```ts
 * import type { PoolOptions } from "./pool.ts";
 * const options: PoolOptions = { connections: 16, keepAliveTimeoutMs: 2_000, headersTimeoutMs: 10_000 };
 * ```
 */
export interface PoolOptions {
  /** Opens connections (default: poll's `defaultConnector`, with `tls` for `https:`). */
  connector?: Connector;
  /** `https:` origins with the default connector: TLS settings and the session cache's size ({@link PoolTLSSettings}; default: verify against the system's CAs, cache 100 places). Ignored for `http:`. */
  tls?: PoolTLSSettings;
  /**
   * With the default connector: connect through a proxy (poll's `connect`
   * option: a `socks5://`, `socks4://`, `http://` proxy URL or config, or
   * "env" for HTTP_PROXY/HTTPS_PROXY/NO_PROXY). Every target, http: too,
   * goes through a tunnel (CONNECT for HTTP proxies), TLS for https: inside it.
   */
  proxy?: ProxyOption;
  /** Most connections at once (default 128). */
  connections?: number;
  /** Requests in flight per connection: above 1, bodiless idempotent requests are pipelined (default 1). */
  pipelining?: number;
  /** How long an idle connection is kept (default 4 000 ms). */
  keepAliveTimeoutMs?: number;
  /** The most a server's `Keep-Alive: timeout=N` is believed (default 600 000 ms). */
  keepAliveMaxTimeoutMs?: number;
  /** Most time to connect (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** Most time from a request written to its response head (default 300 000 ms; 0: none). */
  headersTimeoutMs?: number;
  /** Most time between two pieces of a response body (default 300 000 ms; 0: none). */
  bodyTimeoutMs?: number;
  /** Bodies of at least this many bytes wait for `100 Continue` (default 1 MiB; Infinity: never). */
  expectContinueBytes?: number;
  /** How long to wait for `100 Continue` before sending the body anyway (default 1 000 ms). */
  continueTimeoutMs?: number;
  /** Most requests waiting for a connection (default 10 000; more is `PoolError` `ERR_POOL_QUEUE_FULL`). */
  maxQueued?: number;
  /** Bytes of a response header section (default `HTTP1_LIMITS.maxHeaderBytes`). */
  maxHeaderBytes?: number;
  /** Fields in a response header section (default `HTTP1_LIMITS.maxHeaderCount`). */
  maxHeaderCount?: number;
  /** Bytes of one response body (default: no bound; bodies stream with backpressure). */
  maxResponseBytes?: number;
  /** The loop (default: the default loop; used by the default connector). */
  loop?: Loop;
  /**
   * HTTP/2: `true` (default) offers `h2` before `http/1.1` by ALPN to
   * `https:` origins (with the default connector, unless `tls.alpn` says
   * otherwise) and uses it when the server picks it; "prior-knowledge"
   * speaks HTTP/2 from the start (h2c for `http:`); `false`: HTTP/1.1 only.
   * Over HTTP/2 one connection per origin carries every request.
   */
  http2?: boolean | "prior-knowledge";
  /** HTTP/2: PING every this many ms; a connection whose PING goes unanswered for as long is closed (default 0: off). */
  h2PingIntervalMs?: number;
  /** Circuit breakers per `host:port` (pool/'s `HostHealth`): connects are recorded, an open circuit fails requests at once with `CircuitOpenError`. */
  health?: HostHealth;
  /**
   * Where the pool's connections say what happened (core/log.ts's
   * `Logger`): each connect as `connect({ logger })` logs it (a failure at
   * WARN, for a name the resolver's queries and each Happy Eyeballs
   * attempt at DEBUG), with the default connector of an `https:` origin
   * its TLS handshake (a failure at WARN with the host, the address and
   * the error's code; a finished one at DEBUG with version, cipher, ALPN
   * and resumption), and on HTTP/2 a stream the server reset and GOAWAY
   * received at DEBUG, a connection error at WARN. A connector of your own
   * gets it in its options. Default: nothing (one check per connect and
   * per such HTTP/2 event).
   */
  logger?: Logger;
}

const POOL_KEYS: ReadonlySet<string> = new Set(Object.keys({
  connector: 1,
  tls: 1,
  proxy: 1,
  connections: 1,
  pipelining: 1,
  keepAliveTimeoutMs: 1,
  keepAliveMaxTimeoutMs: 1,
  connectTimeoutMs: 1,
  headersTimeoutMs: 1,
  bodyTimeoutMs: 1,
  expectContinueBytes: 1,
  continueTimeoutMs: 1,
  maxQueued: 1,
  maxHeaderBytes: 1,
  maxHeaderCount: 1,
  maxResponseBytes: 1,
  loop: 1,
  http2: 1,
  h2PingIntervalMs: 1,
  health: 1,
  logger: 1,
} satisfies Record<keyof PoolOptions, 1>));

/**
 * Every key {@link PoolOptions} has.
 *
 * @example
 * ```ts
 * import { POOL_OPTION_KEYS } from "./pool.ts";
 * console.log(POOL_OPTION_KEYS.has("connections")); // true
 * ```
 */
export const POOL_OPTION_KEYS: ReadonlySet<string> = POOL_KEYS;

function positive(value: number | undefined, fallback: number, name: string, allowZero = true): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? "non-negative" : "positive"} number, got ${String(value)}`);
  }
  return value;
}

/** `scheme://host:port` split into what connecting needs. */
export interface OriginParts {
  /** `scheme://host[:port]`, as URL.origin spells it. */
  origin: string;
  /** The scheme. */
  protocol: "http:" | "https:";
  /** Host name or IP literal without brackets. */
  hostname: string;
  /** The port (the scheme's default when the URL has none). */
  port: number;
  /** `host[:port]` as the Host field carries it. */
  authority: string;
}

/**
 * Splits an origin (or any URL of it).
 *
 * @throws TypeError for a URL that is not http: or https:.
 * @example
 * ```ts
 * import { originParts } from "./pool.ts";
 * console.log(originParts("http://[::1]:8080/x").hostname); // "::1"
 * ```
 */
export function originParts(origin: string | URL): OriginParts {
  const url = typeof origin === "string" ? new URL(origin) : origin;
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`only http: and https: origins are supported, got ${url.protocol}`);
  }
  const protocol = url.protocol;
  const port = url.port === "" ? (protocol === "https:" ? 443 : 80) : Number(url.port);
  let hostname = url.hostname;
  if (hostname.startsWith("[")) hostname = hostname.slice(1, -1);
  return { origin: url.origin, protocol, hostname, port, authority: url.host };
}

/**
 * Connections to one origin. See the module documentation.
 *
 * @example
 * ```ts ignore
 * import { Pool } from "./pool.ts";
 * const pool = new Pool("http://127.0.0.1:8080");
 * console.log(pool.stats);
 * await pool.close();
 * ```
 */
export class Pool implements Dispatcher, H1Owner, H2ClientOwner {
  /** The origin served. */
  readonly origin: string;
  readonly #parts: OriginParts;
  readonly #connector: Connector;
  readonly #tls: PoolTLSSettings | undefined;
  #tlsConnecting: Promise<Connector> | undefined;
  readonly #proxy: ProxyOption | undefined;
  /** Aborts connects in progress once the pool closes with nothing waiting. */
  readonly #connects = new AbortController();
  /** One controller per connect in progress (one abort listener each, not 50 on one signal: Node warns at 11). */
  readonly #connectAborts = new Set<AbortController>();
  readonly #max: number;
  readonly #maxQueued: number;
  readonly #connectTimeoutMs: number;
  readonly #loop: Loop | undefined;
  readonly #config: H1ConnectionConfig;
  readonly #h2Config: H2ClientConfig;
  /** "off", "alpn" (https: offers h2) or "prior" (HTTP/2 from the start). */
  readonly #http2: "off" | "alpn" | "prior";
  /** What the origin spoke on the last connection made. */
  #protocol: "unknown" | "h1" | "h2" = "unknown";
  #tlsModule: Promise<typeof import("../../tls/connect_async.ts")> | undefined;
  readonly #connections: Array<H1Connection | H2ClientConnection> = [];
  #connecting = 0;
  #queue: PendingRequest[] = [];
  #queueHead = 0;
  /** The last request's {@link PendingRequest.seq}. */
  #seq = 0;
  #closing = false;
  #closed = false;
  #whenClosed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  readonly #health: HostHealth | undefined;
  /** The origin as `options.health` tracks it: `host:port`. */
  readonly #healthKey: string;
  readonly #logger: Logger | undefined;

  /** A pool for `origin` (`http:` or `https:`; its path is ignored) with `options`. */
  constructor(origin: string | URL, options: PoolOptions = {}) {
    checkOptions(options, POOL_KEYS, new.target.name);
    this.#parts = originParts(origin);
    this.origin = this.#parts.origin;
    if ((options.tls !== undefined || options.proxy !== undefined) && options.connector !== undefined) {
      throw new TypeError(`${new.target.name}: tls and proxy are for the default connector; a connector of your own does its own`);
    }
    if (options.tls !== undefined && options.tls !== null && typeof options.tls === "object" && "connector" in options.tls) {
      throw new TypeError(`${new.target.name}: tls.connector is not a TLS setting: the plain connection is the pool's (its connector and proxy options)`);
    }
    this.#proxy = options.proxy;
    this.#tls = this.#parts.protocol === "https:" && options.connector === undefined ? options.tls ?? {} : undefined;
    this.#connector = options.connector ?? defaultConnector;
    this.#max = positive(options.connections, 128, "connections", false);
    this.#maxQueued = positive(options.maxQueued, 10_000, "maxQueued");
    this.#connectTimeoutMs = positive(options.connectTimeoutMs, 10_000, "connectTimeoutMs");
    this.#loop = options.loop;
    if (options.health !== undefined && (options.health === null || typeof options.health.allow !== "function" || typeof options.health.recordFailure !== "function")) {
      throw new TypeError(`${new.target.name}: health must be a HostHealth`);
    }
    this.#health = options.health;
    if (options.logger !== undefined && !(options.logger instanceof Logger)) throw new TypeError(`${new.target.name}: logger must be a Logger (core/log.ts)`);
    this.#logger = options.logger;
    this.#healthKey = `${this.#parts.hostname.includes(":") ? `[${this.#parts.hostname}]` : this.#parts.hostname}:${this.#parts.port}`;
    const parser: H1ConnectionConfig["parser"] = { unfoldObsFold: true, maxBodyBytes: positive(options.maxResponseBytes, Infinity, "maxResponseBytes") };
    if (options.maxHeaderBytes !== undefined) parser.maxHeaderBytes = positive(options.maxHeaderBytes, 0, "maxHeaderBytes");
    if (options.maxHeaderCount !== undefined) parser.maxHeaderCount = positive(options.maxHeaderCount, 0, "maxHeaderCount");
    this.#config = {
      authority: this.#parts.authority,
      pipelining: Math.max(1, Math.floor(positive(options.pipelining, 1, "pipelining", false))),
      headersTimeoutMs: positive(options.headersTimeoutMs, 300_000, "headersTimeoutMs"),
      bodyTimeoutMs: positive(options.bodyTimeoutMs, 300_000, "bodyTimeoutMs"),
      keepAliveTimeoutMs: positive(options.keepAliveTimeoutMs, 4_000, "keepAliveTimeoutMs"),
      keepAliveMaxTimeoutMs: positive(options.keepAliveMaxTimeoutMs, 600_000, "keepAliveMaxTimeoutMs"),
      expectContinueBytes: positive(options.expectContinueBytes, 1 << 20, "expectContinueBytes"),
      continueTimeoutMs: positive(options.continueTimeoutMs, 1_000, "continueTimeoutMs"),
      parser,
    };
    const http2 = options.http2 ?? true;
    if (http2 !== true && http2 !== false && http2 !== "prior-knowledge") throw new TypeError(`http2 must be true, false or "prior-knowledge", got ${String(http2)}`);
    // A connector of your own for https: may have negotiated h2 by ALPN: asked after each connect.
    this.#http2 = http2 === "prior-knowledge" ? "prior" : http2 && this.#parts.protocol === "https:" ? "alpn" : "off";
    if (this.#http2 === "prior") this.#protocol = "h2";
    this.#h2Config = {
      authority: this.#parts.authority,
      scheme: this.#parts.protocol === "https:" ? "https" : "http",
      headersTimeoutMs: this.#config.headersTimeoutMs,
      bodyTimeoutMs: this.#config.bodyTimeoutMs,
      keepAliveTimeoutMs: this.#config.keepAliveTimeoutMs,
      maxHeaderBytes: parser.maxHeaderBytes ?? 65_536,
      maxHeaderCount: parser.maxHeaderCount ?? 100,
      maxResponseBytes: parser.maxBodyBytes ?? Infinity,
      pingIntervalMs: positive(options.h2PingIntervalMs, 0, "h2PingIntervalMs"),
      logger: options.logger,
    };
  }

  /** The protocol of the origin's connections: "h2", "h1", or "unknown" before the first connection. */
  get protocol(): "unknown" | "h1" | "h2" {
    return this.#protocol;
  }

  /**
   * PING over the origin's HTTP/2 connection: resolves with the round trip
   * in ms. Rejects when no HTTP/2 connection is open (`PoolError`
   * `ERR_POOL_NO_H2`), or with `UseAfterCloseError` once the pool is closed.
   */
  ping(): Promise<number> {
    if (this.#closing || this.#closed) return Promise.reject(new UseAfterCloseError(this.constructor.name));
    const c = this.#connections.find((c): c is H2ClientConnection => c instanceof H2ClientConnection && c.acceptsStreams);
    if (c === undefined) return Promise.reject(new PoolError("ERR_POOL_NO_H2", `no HTTP/2 connection to ${this.origin} is open`));
    return c.ping();
  }

  /** Counts: open connections, idle ones, requests in flight and queued. */
  get stats(): { connected: number; free: number; connecting: number; running: number; queued: number } {
    let free = 0;
    let running = 0;
    for (const c of this.#connections) {
      if (c.idle) free++;
      running += c.inFlight;
    }
    return { connected: this.#connections.length, free, connecting: this.#connecting, running, queued: this.#queue.length - this.#queueHead };
  }

  /**
   * Whether nothing is open, opening or queued: an agent may let such a
   * pool go (a later request to its origin gets a new one).
   */
  get empty(): boolean {
    return this.#connections.length === 0 && this.#connecting === 0 && this.#queue.length === this.#queueHead;
  }

  /** Whether `close()` or `destroy()` was called. */
  get closed(): boolean {
    return this.#closing || this.#closed;
  }

  dispatch(options: DispatchOptions, handler: DispatchHandler): void {
    const request = new PendingRequest(options, handler);
    request.seq = ++this.#seq;
    if (this.#closing || this.#closed) {
      request.fail(new UseAfterCloseError(this.constructor.name));
      return;
    }
    if (this.#queue.length - this.#queueHead >= this.#maxQueued) {
      request.fail(new PoolError("ERR_POOL_QUEUE_FULL", `more than ${this.#maxQueued} requests are waiting for ${this.origin}`));
      return;
    }
    if (this.#health !== undefined && this.#health.state(this.#healthKey) === "open") {
      request.fail(this.#circuitOpen());
      return;
    }
    // A closure to abort by only for a request with a signal.
    if (options.signal !== undefined && !request.watchAbort((reason) => this.#abort(request, reason))) {
      request.fail(abortReason(options.signal));
      return;
    }
    // Nothing waits: the request goes straight to a connection with room (the one #drain would pick: the most
    // recently added that can take it), without the queue and the rest of #drain (which has nothing to do then).
    if (this.#queueHead === this.#queue.length) {
      const connections = this.#connections;
      for (let i = connections.length - 1; i >= 0; i--) {
        const c = connections[i]!;
        if (c.canTake(request)) {
          c.dispatch(request);
          return;
        }
      }
    }
    this.#queue.push(request);
    this.#drain();
  }

  close(): Promise<void> {
    if (!this.#whenClosed) {
      this.#closing = true;
      this.#whenClosed = new Promise((resolve) => this.#resolveClosed = resolve);
      this.#drain();
    }
    return this.#whenClosed;
  }

  destroy(error?: Error): Promise<void> {
    const reason = error ?? new UseAfterCloseError(this.constructor.name);
    const closing = this.close();
    for (let i = this.#queueHead; i < this.#queue.length; i++) this.#queue[i]!.fail(reason);
    this.#queue = [];
    this.#queueHead = 0;
    for (const c of [...this.#connections]) c.destroy(reason);
    this.#drain();
    return closing;
  }

  // ---- H1Owner

  connectionFree(_connection: H1Connection | H2ClientConnection): void {
    this.#drain();
  }

  connectionClosed(connection: H1Connection | H2ClientConnection): void {
    const i = this.#connections.indexOf(connection);
    if (i >= 0) this.#connections.splice(i, 1);
    this.#drain();
  }

  retry(request: PendingRequest): void {
    if (this.#closed) {
      request.fail(new UseAfterCloseError(this.constructor.name));
      return;
    }
    // Back in dispatch order: before what was dispatched after it (everything still queued, unless requests sent
    // with it came back first: several refused streams, a pipeline's connection lost, come back one by one).
    const queue = this.#queue;
    let at = this.#queueHead;
    while (at < queue.length && queue[at]!.seq < request.seq) at++;
    if (at === this.#queueHead && at > 0) queue[--this.#queueHead] = request;
    else queue.splice(at, 0, request);
    this.#drain();
  }

  // ----

  #abort(request: PendingRequest, reason: Error): void {
    const i = this.#queue.indexOf(request, this.#queueHead);
    if (i >= 0) {
      this.#queue.splice(i, 1);
      request.fail(reason);
      return;
    }
    const on = this.#connections.find((c) => c.holds(request));
    if (on) on.abortRequest(request, reason);
    else request.fail(reason);
  }

  /**
   * Places what waits on connections with room, then starts the connects it
   * still needs and finishes a close. In small pieces: every freed stream
   * and finished response comes here, and on Bun a large method was
   * compiled again and again while a client warmed up (an FTL compile of
   * the whole method took 0.3-0.6 s of the JIT's CPU); the hot entry is a
   * check that nothing waits.
   */
  #drain(): void {
    if (this.#queueHead === this.#queue.length) {
      // Nothing waits: no request to place, no connect to start; only a close may have to finish.
      if (this.#queue.length !== 0) this.#resetQueue();
      if (this.#closing) this.#finishClose();
      return;
    }
    this.#place();
    const waiting = this.#queue.length - this.#queueHead;
    if (waiting > 0) this.#connectMore(waiting);
    if (this.#closing) this.#finishClose();
  }

  #resetQueue(): void {
    this.#queue.length = 0;
    this.#queueHead = 0;
  }

  /** Hands waiting requests, in order, to connections that can take them (the most recently added first). */
  #place(): void {
    const queue = this.#queue;
    while (this.#queueHead < queue.length) {
      const request = queue[this.#queueHead]!;
      if (request.done) {
        this.#queueHead++;
        continue;
      }
      let target: H1Connection | H2ClientConnection | undefined;
      for (let i = this.#connections.length - 1; i >= 0; i--) {
        const c = this.#connections[i]!;
        if (c.canTake(request)) {
          target = c;
          break;
        }
      }
      if (target === undefined) break;
      queue[this.#queueHead++] = undefined as unknown as PendingRequest;
      target.dispatch(request);
    }
    if (this.#queueHead === queue.length) {
      this.#resetQueue();
    } else if (this.#queueHead > 1024 && this.#queueHead * 2 > queue.length) {
      this.#queue = queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /** Starts the connects `waiting` requests need. */
  #connectMore(waiting: number): void {
    if (this.#protocol === "h2" || (this.#protocol === "unknown" && this.#http2 !== "off")) {
      // HTTP/2 (or perhaps): one connection takes every request; another only once it stops taking new streams.
      let usable = 0;
      for (const c of this.#connections) if (c instanceof H2ClientConnection ? c.acceptsStreams : !c.closed) usable++;
      if (usable === 0 && this.#connecting === 0 && !this.#closed && this.#mayConnect()) void this.#connect();
    } else {
      while (waiting > this.#connecting && this.#connections.length + this.#connecting < this.#max && !this.#closed) {
        if (!this.#mayConnect()) break;
        void this.#connect();
      }
    }
  }

  /** While closing: once nothing waits, gives up connects in progress, and closes once nothing is busy. */
  #finishClose(): void {
    // (An open circuit may have just failed every waiting request.)
    const left = this.#queue.length - this.#queueHead;
    if (left === 0 && this.#connecting > 0 && !this.#connects.signal.aborted) {
      const reason = new UseAfterCloseError(this.constructor.name);
      this.#connects.abort(reason);
      for (const c of this.#connectAborts) c.abort(reason);
    }
    if (left === 0 && this.#connecting === 0) {
      let busy = false;
      for (const c of this.#connections) if (!c.idle) busy = true;
      if (!busy) {
        this.#closed = true;
        for (const c of [...this.#connections]) c.close();
        if (this.#connections.every((c) => c.closed)) this.#resolveClosed?.();
        else void Promise.all(this.#connections.map((c) => c.connection.whenClosed)).then(() => this.#resolveClosed?.());
      }
    }
  }

  #circuitOpen(): CircuitOpenError {
    const wait = this.#health?.origin(this.#healthKey).retryAfterMs ?? 0;
    return new CircuitOpenError(`circuit to ${this.#healthKey} open: requests to ${this.origin} refused for another ${Math.ceil(wait)} ms`, wait);
  }

  /**
   * Whether a connect may start (always without `health`). An open
   * circuit fails every waiting request; a half-open one whose probe is
   * out keeps them waiting for its outcome.
   */
  #mayConnect(): boolean {
    const health = this.#health;
    if (health === undefined || health.allow(this.#healthKey)) return true;
    if (health.state(this.#healthKey) === "open") {
      const error = this.#circuitOpen();
      const queue = this.#queue;
      this.#queue = [];
      for (let i = this.#queueHead; i < queue.length; i++) if (!queue[i]!.done) queue[i]!.fail(error);
      this.#queueHead = 0;
    }
    return false;
  }

  /** The TLS connector of an https: pool: one TLS context for all its connections, libssl loaded on first use. */
  #tlsConnector(): Promise<Connector> {
    this.#tlsModule ??= import("../../tls/connect_async.ts");
    const tls = this.#tls;
    const settings = this.#http2 === "alpn" && tls?.alpn === undefined && tls?.context === undefined ? { ...tls, alpn: ["h2", "http/1.1"] } : tls;
    return this.#tlsConnecting ??= this.#tlsModule.then((m) => m.tlsConnector(settings));
  }

  async #connect(): Promise<void> {
    this.#connecting++;
    let connection: H1Connection | H2ClientConnection;
    let early: Uint8Array | null = null;
    const abort = new AbortController();
    if (this.#connects.signal.aborted) abort.abort(this.#connects.signal.reason);
    this.#connectAborts.add(abort);
    try {
      const parts = this.#parts;
      const options: ConnectOptions = { host: parts.hostname, port: parts.port, timeoutMs: this.#connectTimeoutMs };
      if (this.#loop !== undefined) options.loop = this.#loop;
      if (this.#proxy !== undefined) options.proxy = this.#proxy;
      options.signal = abort.signal;
      if (this.#logger !== undefined) options.logger = this.#logger;
      const connector = this.#tls === undefined ? this.#connector : await this.#tlsConnector();
      // Loaded before connecting: nothing may come between the connection and its HTTP/2 reader.
      const tlsModule = parts.protocol === "https:" && this.#http2 !== "prior" ? await (this.#tlsModule ??= import("../../tls/connect_async.ts")) : undefined;
      const conn = await connector(options);
      let h2 = this.#http2 === "prior";
      if (tlsModule !== undefined) {
        const alpn = tlsModule.tlsInfo(conn)?.alpnProtocol;
        if (alpn === "h2" && this.#http2 === "off") {
          void conn.close();
          throw new PoolError("ERR_POOL_ALPN", `the connection to ${this.origin} negotiated h2 by ALPN, but the pool has http2: false`);
        }
        h2 = alpn === "h2";
      }
      // What the connection read before it had a handler waits for read():
      // an HTTP/2 server's SETTINGS can come with the end of the handshake
      // or while a connector of one's own awaited something. Taken here and
      // fed to the session first (no I/O runs between these microtasks).
      if (h2) early = await takeBuffered(conn);
      this.#protocol = h2 ? "h2" : "h1";
      connection = h2 ? new H2ClientConnection(conn, this.#h2Config, this) : new H1Connection(conn, this.#config, this);
    } catch (err) {
      this.#connecting--;
      this.#connectAborts.delete(abort);
      // A connect given up because the pool closed says nothing about the origin.
      if (this.#health !== undefined) {
        if (this.#connects.signal.aborted) this.#health.releaseProbe(this.#healthKey);
        else this.#health.recordFailure(this.#healthKey);
      }
      // One connect failure fails the oldest waiting request.
      while (this.#queueHead < this.#queue.length) {
        const request = this.#queue[this.#queueHead++]!;
        if (request.done) continue;
        request.fail(err as Error);
        break;
      }
      this.#drain();
      return;
    }
    this.#connecting--;
    this.#connectAborts.delete(abort);
    this.#health?.recordSuccess(this.#healthKey);
    this.#connections.push(connection);
    if (early !== null && early.length > 0) (connection as H2ClientConnection).feed(early);
    if (this.#closed) connection.close();
    connection.connection.unref();
    this.#drain();
  }
}

/** The bytes `conn` holds for `read()` now (null when none): a read that waits is given up at once. */
function takeBuffered(conn: Connection): Promise<Uint8Array | null> {
  const giveUp = new AbortController();
  const read = conn.read({ signal: giveUp.signal });
  giveUp.abort();
  return read.catch(() => null);
}
