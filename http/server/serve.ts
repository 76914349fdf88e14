/**
 * `serve(options)`: an HTTP/1.1 server on the loop with the shape of the
 * `serve` functions Deno and Bun ship. The handler takes the runtime's own WHATWG
 * `Request` and returns a `Response` (or a promise of one), so a Hono app
 * runs as `serve({ fetch: app.fetch })`.
 *
 * Defaults: host "127.0.0.1", port 8000; header read timeout 10 s (from a
 * request head's first byte, or from the connection's opening), keep-alive
 * idle timeout 5 s, request body idle timeout 30 s, at most 10 000
 * connections; the parser's limits of `HTTP1_LIMITS` (core/limits.ts) for
 * heads and bodies. Timeouts are checked by one sweep over the open
 * sessions, every quarter of the shortest timeout (at most once a second),
 * so one fires up to that much late; a response being written is never
 * cut by them.
 *
 * Lifecycle: `shutdown({ deadlineMs })` stops accepting, answers what is in
 * flight with `Connection: close` (HTTP/2: GOAWAY), closes the rest at the
 * deadline; `shutdownOnSignal` does it on SIGINT/SIGTERM; `workers: N`
 * with `module: import.meta.url` serves the port from N threads
 * (serve_workers.ts).
 *
 * @example
 * ```ts ignore
 * import { serve } from "./serve.ts";
 * const server = serve({ port: 8080, fetch: (request) => new Response(`hello ${request.url}`) });
 * await server.finished; // until server.shutdown()
 * ```
 *
 * @module
 */
import { optionKeys, checkOptions } from "../../core/options.ts";
import { defaultLoop, type Loop } from "../../poll/loop.ts";
import { listen, type Listener } from "../../poll/listener.ts";
import { shutdownOnSignal, type SignalName, type SignalSubscription } from "../../poll/signals.ts";
import type { Timer } from "../../core/timer_heap.ts";
import type { Connection } from "../../poll/connection.ts";
import { ServeWorkers, takeWorkerJoin, workerSide } from "./serve_workers.ts";
import type { HTTP1ParserOptions } from "../h1/parser.ts";
import { type H1Session, type ServeHandler, sessionHandler, type SessionConfig, upgradedGoingAway, WRITE_STALL_TIMEOUT_MS } from "./h1_session.ts";
import { alpnHandler, protocolHandler } from "./h2_route.ts";
import { listenServeTLS, type ServeTLSOptions } from "./tls_listen.ts";
import type { TLSListener } from "../../tls/connect_async.ts";
import { h2Config, type H2ServeOptions } from "./h2_session.ts";
import { type ServerUpgradeOptions, type WebSocketHandler, WebSocketSupport } from "../../ws/server.ts";
import { type Middleware, withMiddleware } from "./middleware.ts";
import { type RateLimitOptions, serveProtection, withRateLimit } from "./limits_http.ts";
import { withServeMetrics } from "./metrics_handler.ts";
import type { MetricsRegistry } from "../../core/metrics.ts";
import type { ConnectionGate } from "../../poll/listener.ts";
import type { ListenProtectionOptions } from "../../pool/protect.ts";
import { Logger } from "../../core/log.ts";
import { installLightResponse, LIGHT_RESPONSE_DEFAULT } from "./light_response.ts";

export type { ServeHandler, ServeHandlerInfo, ServerRejections, UpgradeOptions } from "./h1_session.ts";
import type { ServeHandlerInfo, ServerRejections } from "./h1_session.ts";

/**
 * The address a server listens on.
 *
 * @example
 * ```ts
 * import type { ServeAddr } from "./serve.ts";
 * const addr: ServeAddr = { hostname: "127.0.0.1", port: 8000, transport: "tcp" };
 * ```
 */
export interface ServeAddr {
  /** The address bound, as the listener reports it ("" for a Unix socket). */
  readonly hostname: string;
  /** The port bound (the one the kernel chose when 0 was asked for). */
  readonly port: number;
  /** Always "tcp". */
  readonly transport: "tcp";
}

/**
 * Options of {@link serve}; an unknown key is a `TypeError`.
 *
 * @example
 * ```ts
 * import type { ServeOptions } from "./serve.ts";
 * const options: ServeOptions = {
 *   port: 0,
 *   fetch: () => new Response("ok"),
 *   onError: () => new Response("sorry", { status: 500 }),
 *   headersTimeoutMs: 5_000,
 * };
 * ```
 */
export interface ServeOptions {
  /**
   * The request handler. With a `websocket` option it may return nothing
   * after `server.upgrade(request)` returned true.
   */
  fetch: ServeHandler | ((request: Request, info: ServeHandlerInfo) => Response | undefined | Promise<Response | undefined>);
  /**
   * WebSocket handlers (Bun's shape, ws/server.ts): `server.upgrade(request,
   * { data })` in `fetch` switches a request to them; negotiation and limits
   * are options here too. Also lets ws/'s `upgradeWebSocket(request)` find
   * the request's connection without its `info`.
   */
  websocket?: WebSocketHandler<unknown>;
  /**
   * Middleware run around `fetch`, in order, on HTTP/1.1 and HTTP/2 alike:
   * `(request, next, info) => Response` (middleware.ts).
   */
  middleware?: Middleware | readonly Middleware[];
  /** The TCP port (default 8000; 0: one the kernel picks, see {@link Server.addr}). */
  port?: number;
  /** An IP literal or "localhost" (default "127.0.0.1"; "0.0.0.0" or "::" for every interface). */
  host?: string;
  /**
   * The same as `host`, under the name Deno's and Bun's own servers use
   * (the default stays "127.0.0.1"); giving both with different values is
   * a `TypeError`.
   */
  hostname?: string;
  /** Aborting it shuts the server down gracefully (as {@link Server.shutdown}). */
  signal?: AbortSignal;
  /** Called once listening. */
  onListen?: (addr: ServeAddr) => void;
  /**
   * Makes the response for a handler that threw or rejected (default: a
   * plain `500 Internal Server Error` that says nothing more). When it
   * throws as well, the default is sent.
   */
  onError?: (error: unknown, request: Request) => Response | Promise<Response>;
  /** Most time to receive a request head, from its first byte (default 10 000 ms; 0 disables). */
  headersTimeoutMs?: number;
  /** Most time a kept-alive connection waits for the next request (default 5 000 ms; 0 disables). */
  keepAliveTimeoutMs?: number;
  /**
   * Most time between two pieces of a request body the handler is waiting
   * for (default 30 000 ms; 0 disables). HTTP/1.1: `408` and a close.
   * HTTP/2: the stream is reset (CANCEL) while its handler has not answered
   * (a stream answered already reads its body at its own pace; CONNECT
   * streams carry no request body). HTTP/1.1, a client that half-closed
   * (FIN after its requests): a handler that has not answered this long
   * after the FIN gets a `503` in its place, then the connection closes.
   */
  bodyTimeoutMs?: number;
  /**
   * Most time queued response bytes (HTTP/1.1 and HTTP/2) wait without the
   * client taking any (default 30 000 ms; 0 disables): a client that stops
   * reading is cut off; one that reads slowly is not (any byte taken
   * restarts the clock).
   */
  writeTimeoutMs?: number;
  /**
   * Most open connections (default 10 000); more get `503 Service
   * Unavailable` with `Retry-After: 1` and a close (HTTP/2 over TLS: on
   * their first stream, then GOAWAY).
   */
  maxConnections?: number;
  /**
   * Admission control at accept: pool/'s `ListenProtection` (or any
   * `ConnectionGate`) or its options, e.g.
   * `{ maxPerIp: 32, ratePerIp: { perSecond: 10 } }`; refused connections
   * are closed before any byte is read (over TLS: before any handshake
   * byte; limits_http.ts).
   */
  protect?: ConnectionGate | ListenProtectionOptions;
  /**
   * Requests per second per client (default key: its address) with bursts;
   * more get `429 Too Many Requests` with `Retry-After` (limits_http.ts's
   * `rateLimit`, run before `middleware`; a synchronous `fetch` stays
   * synchronous).
   */
  rateLimit?: RateLimitOptions;
  /**
   * Request metrics into this registry (core/metrics.ts): requests by
   * status class (`rateLimit`'s 429s included), latency, in flight, handler
   * errors — `withHttpMetrics` around everything else (metrics_handler.ts).
   * Add `serverCollector` for connections and refusals.
   */
  metrics?: MetricsRegistry;
  /** Requests served on one connection; the response to the last says `Connection: close` (default: no bound). */
  maxRequestsPerConnection?: number;
  /** Most bytes of one request body, over HTTP/1.1 and HTTP/2 (413; a body past it fails the handler's read with `HPE_BODY_TOO_LARGE`); default `HTTP1_LIMITS.maxBodyBytes`. */
  maxBodyBytes?: number;
  /** Most bytes of a request head (431); default `HTTP1_LIMITS.maxHeaderBytes`. */
  maxHeaderBytes?: number;
  /** Most header fields of a request (431); default `HTTP1_LIMITS.maxHeaderCount`. */
  maxHeaderCount?: number;
  /** SO_REUSEPORT (several processes or Workers on one port). */
  reusePort?: boolean;
  /**
   * Shuts the server down gracefully on these signals (`true`: SIGINT and
   * SIGTERM), then closes the loop; a second signal exits at once. See
   * `shutdownOnSignal` in poll/signals.ts.
   */
  shutdownOnSignal?: boolean | readonly SignalName[];
  /** The loop (default: the default loop). */
  loop?: Loop;
  /**
   * Threads that serve the port (default 1): this one and `workers − 1`
   * Workers, each listening with SO_REUSEPORT. Needs `module`.
   */
  workers?: number;
  /**
   * With `workers`: the module each Worker imports, the one that calls
   * `serve` (pass `import.meta.url`); its `serve` call in a Worker joins
   * this server's port. See serve_workers.ts.
   */
  module?: string | URL;
  /**
   * HTTP/2 (h2c by prior knowledge and by `Upgrade: h2c`): its settings and
   * limits, or `false` for HTTP/1.1 only (default: on, defaults of
   * {@link H2ServeOptions}).
   */
  http2?: H2ServeOptions | false;
  /** HTTPS: certificate and key (and other TLS settings); ALPN offers `h2` (unless `http2: false`) and `http/1.1`. */
  tls?: ServeTLSOptions;
  /**
   * Where the server says what went wrong (core/log.ts's `Logger`):
   * errors no response can carry and handler failures without `onError`
   * (ERROR, with the error), failed accepts (ERROR), listening and shutdown
   * (INFO), and connections `protect` (given as options) refused (DEBUG,
   * with the address and the reason). With `tls` the TLS listener gets it:
   * each handshake at DEBUG (a failed one with the client's address and
   * the error's code, a finished one with version, cipher, ALPN and
   * resumption), a failed accept at ERROR when accepting pauses and at
   * DEBUG when it concerns one connection. HTTP/2 sessions: a stream the
   * client reset or broke and GOAWAY received or sent at DEBUG, a
   * connection error (GOAWAY sent with its code) at WARN. Default: none,
   * and such errors go to `console.error` as before.
   */
  logger?: Logger;
  /**
   * Replaces `globalThis.Response` with the light class of
   * light_response.ts (a `Response` that records its body and fields and
   * makes the runtime's own only when asked for more than the server
   * needs; validated as the real one), on the first `serve` that asks, for
   * good (a server's shutdown leaves it: code may hold the class). Default:
   * on Node, whose undici `Response` costs more than the rest of a small
   * request; off on Deno and Bun, whose own servers and
   * `WebAssembly.compileStreaming` refuse a light response (hand them
   * `realResponseOf(response)` when it is forced on there); `false` keeps
   * the runtime's class. With `workers`, each Worker installs it.
   */
  lightResponse?: boolean;
}

const SERVE_OPTION_KEYS: ReadonlySet<string> = optionKeys(Object.keys({
  fetch: true,
  port: true,
  host: true,
  hostname: true,
  signal: true,
  onListen: true,
  onError: true,
  headersTimeoutMs: true,
  keepAliveTimeoutMs: true,
  bodyTimeoutMs: true,
  writeTimeoutMs: true,
  maxConnections: true,
  maxRequestsPerConnection: true,
  maxBodyBytes: true,
  maxHeaderBytes: true,
  maxHeaderCount: true,
  reusePort: true,
  shutdownOnSignal: true,
  loop: true,
  workers: true,
  module: true,
  http2: true,
  tls: true,
  websocket: true,
  middleware: true,
  protect: true,
  rateLimit: true,
  metrics: true,
  logger: true,
  lightResponse: true,
} satisfies Record<keyof ServeOptions, true>));

/**
 * Options of {@link Server.shutdown}.
 *
 * @example
 * ```ts
 * import type { ServerShutdownOptions } from "./serve.ts";
 * const options: ServerShutdownOptions = { deadlineMs: 10_000 };
 * ```
 */
export interface ServerShutdownOptions {
  /** After this long, connections still open are closed (default 30 000 ms). */
  deadlineMs?: number;
}

/** A request size or count limit: a non-negative integer, or Infinity for none (the HTTP/1.1 parser's rule, also applied over HTTP/2). */
function sizeLimit(value: unknown, name: string): number {
  if (typeof value !== "number") throw new TypeError(`serve: ${name} must be a number, got ${value === null ? "null" : typeof value}`);
  if (!(value >= 0) || (value !== Infinity && !Number.isInteger(value))) throw new RangeError(`serve: ${name} must be a non-negative integer or Infinity, got ${value}`);
  return value;
}

function timeoutOption(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0)) throw new RangeError(`serve: ${name} must be a non-negative number, got ${String(value)}`);
  return value;
}

/**
 * A running server (made by {@link serve}).
 *
 * @example
 * ```ts ignore
 * import { serve } from "./serve.ts";
 * await using server = serve({ port: 0, fetch: () => new Response("hi") });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * console.log(await response.text()); // "hi"
 * ```
 */
export class Server {
  /** Where the server listens. */
  readonly addr: ServeAddr;
  /** Resolves once the server is shut down and its last connection is closed. */
  readonly finished: Promise<void>;
  readonly #listener: Listener | TLSListener;
  readonly #config: SessionConfig;
  readonly #websocket: WebSocketSupport<unknown> | undefined;
  readonly #loop: Loop;
  #resolveFinished!: () => void;
  #shutdown: Promise<void> | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #sweep: Timer | undefined;
  #workersStopped: Promise<void> | undefined;
  #workers: ServeWorkers | undefined;
  /** Resolves once every Worker of `workers` listens (at once without Workers); rejects when one fails to start. */
  readonly ready: Promise<void>;
  readonly #sweepMs: number;
  #signals: SignalSubscription | undefined;
  readonly #rejected: ServerRejections;
  readonly #logger: Logger | undefined;

  /** @internal Use {@link serve}. */
  constructor(options: ServeOptions) {
    checkOptions(options, SERVE_OPTION_KEYS, "serve");
    if (options === undefined || typeof options.fetch !== "function") throw new TypeError("serve: fetch must be a function");
    if (options.onError !== undefined && typeof options.onError !== "function") throw new TypeError("serve: onError must be a function");
    if (options.onListen !== undefined && typeof options.onListen !== "function") throw new TypeError("serve: onListen must be a function");
    const logger = options.logger;
    if (logger !== undefined && !(logger instanceof Logger)) throw new TypeError("serve: logger must be a Logger (core/log.ts)");
    this.#logger = logger;
    const lightResponse = options.lightResponse ?? LIGHT_RESPONSE_DEFAULT;
    if (typeof lightResponse !== "boolean") throw new TypeError("serve: lightResponse must be a boolean");
    if (lightResponse) installLightResponse();
    const maxConnections = options.maxConnections ?? 10_000;
    if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) throw new RangeError(`serve: maxConnections must be a positive integer, got ${maxConnections}`);
    const maxRequests = options.maxRequestsPerConnection ?? Infinity;
    if (maxRequests !== Infinity && (!Number.isSafeInteger(maxRequests) || maxRequests < 1)) {
      throw new RangeError(`serve: maxRequestsPerConnection must be a positive integer, got ${maxRequests}`);
    }
    const parser: HTTP1ParserOptions = { kind: "request" };
    // Checked here, not when the first connection makes its parser (a throw there ends the process).
    if (options.maxBodyBytes !== undefined) parser.maxBodyBytes = sizeLimit(options.maxBodyBytes, "maxBodyBytes");
    if (options.maxHeaderBytes !== undefined) parser.maxHeaderBytes = sizeLimit(options.maxHeaderBytes, "maxHeaderBytes");
    if (options.maxHeaderCount !== undefined) parser.maxHeaderCount = sizeLimit(options.maxHeaderCount, "maxHeaderCount");
    const workers = options.workers ?? 1;
    if (!Number.isSafeInteger(workers) || workers < 1) throw new RangeError(`serve: workers must be a positive integer, got ${workers}`);
    if (options.module !== undefined && typeof options.module !== "string" && !(options.module instanceof URL)) throw new TypeError("serve: module must be a URL or a string");
    if (workers > 1 && options.module === undefined) throw new TypeError("serve: workers needs module (the URL of the module that calls serve, import.meta.url)");
    // In a Worker of another server: join its port.
    const join = takeWorkerJoin();
    const local = new Promise<void>((resolve) => (this.#resolveFinished = resolve));
    this.finished = local.then(() => this.#workersStopped);
    if (options.host !== undefined && options.hostname !== undefined && options.host !== options.hostname) {
      throw new TypeError(`serve: host ${JSON.stringify(options.host)} and hostname ${JSON.stringify(options.hostname)} disagree (they are one option)`);
    }
    const host = options.host ?? options.hostname ?? "127.0.0.1";
    const port = join?.port ?? options.port ?? 8000;
    const reusePort = join !== undefined || workers > 1 ? true : options.reusePort;
    // A websocket handler that throws fails its connection (1011) and is reported as a failed request is.
    const websocket = options.websocket === undefined ? undefined : new WebSocketSupport(
      options.websocket,
      logger !== undefined ? (error) => logger.error("serve: a WebSocket handler failed", { error }) : (error) => console.error("serve:", error),
    );
    this.#websocket = websocket;
    const rejected: ServerRejections = { maxConnections: 0, rateLimit: 0, protect: 0 };
    this.#rejected = rejected;
    // metrics(rateLimit(middleware(fetch))): each synchronous while what it wraps is.
    let fetch = options.middleware === undefined ? options.fetch : withMiddleware(options.middleware, options.fetch as ServeHandler);
    if (options.rateLimit !== undefined) fetch = withRateLimit(options.rateLimit, fetch, () => void rejected.rateLimit++);
    if (options.metrics !== undefined) fetch = withServeMetrics(options.metrics, fetch);
    // Protection made here from its options logs its refusals (DEBUG) to the server's logger.
    const given = options.protect;
    const protectOptions = logger !== undefined && given !== undefined && given !== null && typeof given === "object" &&
        typeof (given as Partial<ConnectionGate>).admit !== "function" && (given as ListenProtectionOptions).logger === undefined
      ? { ...given as ListenProtectionOptions, logger }
      : given;
    const protect = serveProtection(protectOptions, () => void rejected.protect++);
    const config: SessionConfig = {
      fetch: websocket === undefined ? fetch as ServeHandler : websocket.wrap(fetch),
      onError: options.onError,
      headersTimeoutMs: timeoutOption(options.headersTimeoutMs, 10_000, "headersTimeoutMs"),
      keepAliveTimeoutMs: timeoutOption(options.keepAliveTimeoutMs, 5_000, "keepAliveTimeoutMs"),
      bodyTimeoutMs: timeoutOption(options.bodyTimeoutMs, 30_000, "bodyTimeoutMs"),
      writeTimeoutMs: timeoutOption(options.writeTimeoutMs, WRITE_STALL_TIMEOUT_MS, "writeTimeoutMs"),
      maxConnections,
      maxRequestsPerConnection: maxRequests,
      parser,
      authority: "",
      origin: options.tls === undefined ? "http://" : "https://",
      rejected,
      sessions: new Set<H1Session>(),
      upgraded: new Set<Connection>(),
      draining: false,
      unrefed: false,
      sessionOpened: () => this.#startSweep(),
      sessionClosed: () => this.#checkFinished(),
      report: logger !== undefined
        ? (error) => logger.error("serve: request failed", { error })
        : (error) => {
          // Without a logger: say it on stderr, as the runtimes' servers do.
          console.error("serve:", error);
        },
    };
    this.#config = config;
    this.#loop = options.loop ?? defaultLoop();
    // Timeouts are checked by one sweep over the sessions (a quarter of the shortest, at most once a second).
    const shortest = Math.min(...[config.headersTimeoutMs, config.keepAliveTimeoutMs, config.bodyTimeoutMs, config.writeTimeoutMs ?? 0].filter((t) => t > 0 && t !== Infinity), 4000);
    this.#sweepMs = Math.max(5, Math.min(1000, Math.floor(shortest / 4)));
    const h2 = options.http2 === false ? undefined : h2Config(options.http2 ?? {}, config.keepAliveTimeoutMs);
    if (h2 !== undefined && logger !== undefined) h2.logger = logger;
    if (options.tls !== undefined) {
      const where = {
        host,
        port,
        reusePort,
        loop: this.#loop,
        // The TLS listener logs itself: a failed accept (ERROR when accepting pauses), each handshake at DEBUG.
        ...(logger !== undefined ? { logger } : {}),
        ...(protect !== undefined ? { protect } : {}),
      };
      this.#listener = listenServeTLS(options.tls, where, alpnHandler(config, sessionHandler(config), h2), h2 !== undefined);
    } else {
      const handler = h2 === undefined ? sessionHandler(config) : protocolHandler(config, sessionHandler(config), h2);
      const listenOptions: Parameters<typeof listen>[0] = { host, port, handler };
      if (reusePort !== undefined) listenOptions.reusePort = reusePort;
      if (protect !== undefined) listenOptions.protect = protect;
      if (logger !== undefined) listenOptions.onError = logger.errorHandler("serve: accept failed");
      listenOptions.loop = this.#loop;
      this.#listener = listen(listenOptions);
    }
    const a = this.#listener.address;
    const hostname = a.family === "unix" ? "" : a.host;
    this.addr = { hostname, port: this.#listener.port, transport: "tcp" };
    config.authority = a.family === "ipv6" ? `[${hostname}]:${this.addr.port}` : `${hostname}:${this.addr.port}`;
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) queueMicrotask(() => void this.shutdown());
      else {
        this.#signal = signal;
        this.#onAbort = () => void this.shutdown();
        signal.addEventListener("abort", this.#onAbort, { once: true });
      }
    }
    if (join !== undefined) workerSide(join, (deadlineMs) => this.shutdown(deadlineMs === undefined ? {} : { deadlineMs }), this.#loop);
    else if (workers > 1) this.#workers = new ServeWorkers(String(options.module), this.addr.port, workers - 1);
    this.ready = this.#workers?.ready ?? Promise.resolve();
    const onSignal = join === undefined ? options.shutdownOnSignal : undefined;
    if (onSignal !== undefined && onSignal !== false) {
      const signals = onSignal === true ? undefined : onSignal;
      this.#signals = shutdownOnSignal(() => this.shutdown(), signals === undefined ? { loop: this.#loop } : { signals, loop: this.#loop });
    }
    logger?.info("serve: listening", { hostname: this.addr.hostname, port: this.addr.port, tls: options.tls !== undefined });
    options.onListen?.(this.addr);
  }

  /** The timeout sweep runs while sessions are open. */
  #startSweep(): void {
    if (this.#sweep !== undefined) return;
    const sessions = this.#config.sessions as Set<{ checkTimer?(now: number): void }>;
    this.#sweep = this.#loop.timers.every(this.#sweepMs, () => {
      if (sessions.size === 0) {
        this.#sweep?.cancel();
        this.#sweep = undefined;
        return;
      }
      const now = performance.now();
      for (const s of sessions) s.checkTimer?.(now);
    }).unref();
  }

  /** Connections open now. */
  /**
   * Bun's `server.upgrade`: switches `request` (being handled by this
   * server's `fetch`) to the `websocket` handlers; true when it goes ahead
   * (`fetch` then returns nothing), false for a request that is no valid
   * upgrade (or a server without a `websocket` option).
   */
  upgrade<T>(request: Request, options?: ServerUpgradeOptions<T>): boolean {
    return this.#websocket?.upgrade(request, options as ServerUpgradeOptions<unknown>) ?? false;
  }

  /** Sends `message` to every WebSocket subscribed to `topic`; returns how many got it. */
  publish(topic: string, message: string | Uint8Array | ArrayBuffer): number {
    return this.#websocket?.publish(topic, message) ?? 0;
  }

  /** How many WebSockets subscribe to `topic`. */
  subscriberCount(topic: string): number {
    return this.#websocket?.subscriberCount(topic) ?? 0;
  }

  /** Connections open now: HTTP sessions and the connections they handed to another protocol (WebSocket). */
  get connections(): number {
    return this.#config.sessions.size + this.#config.upgraded.size;
  }

  /**
   * What the server's limits refused so far, by reason: connections over
   * `maxConnections` (503), requests over `rateLimit` (429), connections the
   * `protect` gate closed at accept (`serverCollector` exports them).
   */
  get rejected(): Readonly<ServerRejections> {
    return { ...this.#rejected };
  }

  /**
   * Graceful shutdown: stops accepting, closes idle connections, answers
   * the requests in flight (with `Connection: close`) and closes each
   * connection after its last response; after `deadlineMs`, closes the
   * rest. Resolves when every connection is closed.
   */
  shutdown(options: ServerShutdownOptions = {}): Promise<void> {
    if (this.#shutdown !== undefined) return this.#shutdown;
    checkOptions(options, new Set(["deadlineMs"]), "shutdown");
    const deadlineMs = timeoutOption(options.deadlineMs, 30_000, "deadlineMs");
    const config = this.#config;
    this.#logger?.info("serve: shutting down", { connections: config.sessions.size + config.upgraded.size, deadlineMs });
    config.draining = true;
    if (this.#signal !== undefined) this.#signal.removeEventListener("abort", this.#onAbort!);
    this.#signals?.close();
    this.#listener.close();
    for (const s of [...config.sessions]) s.shutdown();
    for (const c of [...config.upgraded]) upgradedGoingAway(c); // a WebSocket sends Close 1001
    if (config.sessions.size + config.upgraded.size > 0) {
      const deadline = this.#loop.timers.once(deadlineMs, () => {
        this.#logger?.warn("serve: shutdown deadline passed, closing connections", { connections: config.sessions.size + config.upgraded.size });
        for (const s of [...config.sessions]) s.conn.abort();
        for (const c of [...config.upgraded]) c.abort();
      });
      void this.finished.then(() => deadline.cancel());
    }
    this.#workersStopped = this.#workers?.stop(deadlineMs);
    this.#checkFinished();
    this.#shutdown = this.finished;
    return this.#shutdown;
  }

  /** Keeps the process alive while the server runs (the default). */
  ref(): this {
    this.#config.unrefed = false;
    this.#listener.ref();
    for (const s of this.#config.sessions) s.conn.ref();
    for (const c of this.#config.upgraded) c.ref();
    return this;
  }

  /** Lets the process exit while the server runs (its connections too). */
  unref(): this {
    this.#config.unrefed = true;
    this.#listener.unref();
    for (const s of this.#config.sessions) s.conn.unref();
    for (const c of this.#config.upgraded) c.unref();
    return this;
  }

  /** Same as `shutdown()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  #checkFinished(): void {
    const config = this.#config;
    if (!config.draining || config.sessions.size + config.upgraded.size > 0) return;
    this.#sweep?.cancel();
    this.#sweep = undefined;
    this.#resolveFinished();
  }
}

/**
 * Starts an HTTP/1.1 server. See the module documentation for defaults.
 *
 * @throws TypeError for an unknown option key or a missing `fetch`; a `SocketError` when the address cannot be bound.
 * @example
 * ```ts ignore
 * import { serve } from "./serve.ts";
 * const server = serve({
 *   port: 0,
 *   fetch: async (request) => Response.json({ method: request.method, body: await request.text() }),
 *   onListen: ({ hostname, port }) => console.log(`http://${hostname}:${port}/`),
 * });
 * await server.shutdown({ deadlineMs: 1000 });
 * ```
 */
export function serve(options: ServeOptions): Server {
  return new Server(options);
}
