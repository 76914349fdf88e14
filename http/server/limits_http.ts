/**
 * Limits of `serve` answered in HTTP rather than with a bare close:
 *
 * - {@link rateLimit}: requests per second per client (by default its
 *   address: IPv4 exactly, IPv6 by its /64, as `ipKey` in core/ip_key.ts),
 *   with bursts; an over-limit request gets `429 Too Many
 *   Requests` with `Retry-After`. Also `serve({ rateLimit: {...} })`.
 * - {@link answerOverloaded}: a connection over `maxConnections` gets
 *   `503 Service Unavailable` with `Retry-After` (after its request head
 *   arrived, so the answer is not lost to a reset), then a close.
 * - {@link serveProtection}: `serve({ protect })` takes pool/'s
 *   `ListenProtection` (or any `ConnectionGate`) or its options, and gives
 *   it to the listener: over-limit connections are refused with a close
 *   at accept.
 *
 * @example
 * ```ts ignore
 * import { serve } from "./serve.ts";
 * const server = serve({
 *   port: 0,
 *   protect: { maxPerIp: 32 },
 *   rateLimit: { perSecond: 10, burst: 20 },
 *   fetch: () => new Response("ok"),
 * });
 * await server.shutdown();
 * ```
 *
 * @module
 */
import { type Clock, turnClock } from "../../core/clock.ts";
import { ipKey } from "../../core/ip_key.ts";
import { checkOptions } from "../../core/options.ts";
import { eventBurst, TokenBucket } from "../../core/rate_limit.ts";
import type { Connection, ConnectionHandler } from "../../poll/connection.ts";
import type { ConnectionGate } from "../../poll/listener.ts";
import { ListenProtection, type ListenProtectionOptions } from "../../pool/protect.ts";
import type { ServeHandlerInfo } from "./h1_session.ts";
import type { Middleware } from "./middleware.ts";

/**
 * Options of {@link rateLimit} (unknown keys are a TypeError).
 *
 * @example
 * ```ts
 * import type { RateLimitOptions } from "./limits_http.ts";
 * const options: RateLimitOptions = {
 *   perSecond: 5,
 *   burst: 10,
 *   by: (request, info) => request.headers.get("x-api-key") ?? info.remoteAddr.hostname,
 * };
 * ```
 */
export interface RateLimitOptions {
  /** Requests per second per key, on average. */
  perSecond: number;
  /** Requests a key may make at once (≥ 1; default `perSecond`, at least 1). */
  burst?: number;
  /**
   * The key a request counts against. Default: the client's address under
   * `ipKey` (core/ip_key.ts): IPv4 exactly (IPv4-mapped IPv6 as IPv4),
   * IPv6 by its /64, so a client cannot get a new bucket per address of
   * its /64. A key `by` returns is taken as it is.
   */
  by?: (request: Request, info: ServeHandlerInfo) => string;
  /** Keys remembered at once; the least recently seen is forgotten first (default 65536). */
  maxKeys?: number;
  /** The time source (default `turnClock`: the monotonic clock, read once per event-loop turn). */
  clock?: Clock;
}

const RATE_KEYS: ReadonlySet<string> = new Set(["perSecond", "burst", "by", "maxKeys", "clock"]);

/**
 * The limit's state: a token bucket per key, the least recently seen
 * forgotten first beyond `maxKeys`. {@link Limiter.admit} is the
 * per-request part, small enough for a caller to inline whole.
 */
class Limiter {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #clock: Clock;
  readonly #onRejected: (() => void) | undefined;
  /** What a key given to `admit` is counted under: the address's `ipKey` when the key is the address. */
  readonly #group: ((key: string) => string) | undefined;
  readonly #buckets = new Map<string, TokenBucket>();
  // The key looked up last (as given) is the most recently seen already: a
  // run of requests with one key (one client, many connections) skips the
  // map and the grouping.
  #lastKey: string | undefined;
  #lastBucket: TokenBucket | undefined;

  constructor(options: RateLimitOptions, onRejected: (() => void) | undefined) {
    checkOptions(options, RATE_KEYS, "rateLimit");
    const { perSecond, by, maxKeys = 65_536, clock = turnClock } = options;
    const burst = eventBurst(perSecond, options.burst, "rateLimit");
    if (by !== undefined && typeof by !== "function") throw new TypeError("rateLimit: by must be a function");
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError(`rateLimit: maxKeys must be a positive integer, got ${String(maxKeys)}`);
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#maxKeys = maxKeys;
    this.#clock = clock;
    this.#onRejected = onRejected;
    this.#group = by === undefined ? ipKey : undefined;
  }

  /** Whether a request with `key` may go on (it took a token); false: answer 429 ({@link Limiter.refuse}). */
  admit(key: string): boolean {
    const bucket = key === this.#lastKey ? this.#lastBucket! : this.#lookUp(key);
    return bucket.tryAcquire(1);
  }

  /** The 429 for the key {@link Limiter.admit} refused last. */
  refuse(): Response {
    this.#onRejected?.();
    return tooManyRequests(this.#lastBucket!.waitTimeMs(1));
  }

  #lookUp(given: string): TokenBucket {
    const buckets = this.#buckets;
    const key = this.#group === undefined ? given : this.#group(given);
    let bucket = buckets.get(key);
    if (bucket !== undefined) {
      buckets.delete(key); // most recently seen last
      buckets.set(key, bucket);
    } else {
      if (buckets.size >= this.#maxKeys) {
        const oldest = buckets.keys().next().value;
        if (oldest !== undefined) buckets.delete(oldest);
      }
      bucket = new TokenBucket({ rate: this.#perSecond, burst: this.#burst, clock: this.#clock });
      buckets.set(key, bucket);
    }
    this.#lastKey = given;
    this.#lastBucket = bucket;
    return bucket;
  }
}

/** A custom key as a string (`by`'s result). */
function keyBy(by: (request: Request, info: ServeHandlerInfo) => string, request: Request, info: ServeHandlerInfo): string {
  return String(by(request, info));
}

/** The 429 for a request whose bucket refills its token in `waitMs`. */
function tooManyRequests(waitMs: number): Response {
  const retryAfter = Math.max(1, Math.ceil((Number.isFinite(waitMs) ? waitMs : 1000) / 1000));
  return new Response("Too Many Requests\n", {
    status: 429,
    headers: { "content-type": "text/plain; charset=utf-8", "retry-after": String(retryAfter) },
  });
}

/**
 * A middleware that answers `429 Too Many Requests` (with `Retry-After`
 * in whole seconds) to a request whose key has no token left in its
 * bucket; other requests go on. `onRejected` is called for each 429
 * (`serve` counts them in `server.rejected.rateLimit`). Time comes from
 * `turnClock` (read once per event-loop turn) unless `clock` says
 * otherwise. As `serve`'s `rateLimit` option it costs less: see
 * {@link withRateLimit}.
 *
 * @throws TypeError for an unknown option or a `by` that is no function; RangeError for bad numbers.
 * @example
 * ```ts
 * import { rateLimit } from "./limits_http.ts";
 * import type { ServeHandlerInfo } from "./h1_session.ts";
 * const limit = rateLimit({ perSecond: 1, burst: 2 });
 * const info = { remoteAddr: { hostname: "127.0.0.1", port: 1, transport: "tcp" } } as ServeHandlerInfo;
 * const next = () => Promise.resolve(new Response("ok"));
 * const statuses: number[] = [];
 * for (let i = 0; i < 3; i++) statuses.push((await limit(new Request("http://x/"), next, info)).status);
 * console.log(statuses); // [200, 200, 429]
 * ```
 */
export function rateLimit(options: RateLimitOptions, onRejected?: () => void): Middleware {
  const limit = new Limiter(options, onRejected);
  const by = options.by;
  return (request, next, info) => {
    const key = by === undefined ? info.remoteAddr.hostname : keyBy(by, request, info);
    return limit.admit(key) ? next() : limit.refuse();
  };
}

/**
 * `handler` behind the same limit as {@link rateLimit}, without the
 * middleware chain: a synchronous handler stays synchronous (no promise
 * per request), which keeps `serve`'s fast path; `serve({ rateLimit })`
 * uses it. A refused request gets the 429 and never reaches `handler`.
 *
 * @throws TypeError for an unknown option, a `by` or a handler that is no function; RangeError for bad numbers.
 * @example
 * ```ts
 * import { withRateLimit } from "./limits_http.ts";
 * import type { ServeHandlerInfo } from "./h1_session.ts";
 * const fetch = withRateLimit({ perSecond: 1, burst: 1 }, () => new Response("ok"));
 * const info = { remoteAddr: { hostname: "127.0.0.1", port: 1, transport: "tcp" } } as ServeHandlerInfo;
 * const first = fetch(new Request("http://x/"), info) as Response;
 * const second = fetch(new Request("http://x/"), info) as Response;
 * console.log(first.status, second.status); // 200 429
 * ```
 */
export function withRateLimit<R extends Response | undefined | Promise<Response | undefined>>(
  options: RateLimitOptions,
  handler: (request: Request, info: ServeHandlerInfo) => R,
  onRejected?: () => void,
): (request: Request, info: ServeHandlerInfo) => R | Response {
  if (typeof handler !== "function") throw new TypeError("withRateLimit: the handler must be a function");
  const limit = new Limiter(options, onRejected);
  const by = options.by;
  // One function per request (the key, the bucket, the handler), the
  // map, the 429 and a custom key out of line: a runtime inlining the
  // server's dispatch (V8 inlines up to a total bytecode size per
  // optimized function) keeps room for the handler's own code.
  if (by !== undefined) return (request, info) => limit.admit(keyBy(by, request, info)) ? handler(request, info) : limit.refuse();
  return (request, info) => limit.admit(info.remoteAddr.hostname) ? handler(request, info) : limit.refuse();
}

/**
 * What `serve`'s `protect` option becomes for the listener: a gate as
 * given, a new `ListenProtection` for its options, undefined for none;
 * wrapped so that each refusal calls `onRefused` and so that the handler
 * the gate wraps (for scoring and bandwidth) stays the connection's when
 * the server picks a protocol handler ({@link switchHandler}).
 *
 * @throws TypeError for something else, or unknown protection options.
 * @example
 * ```ts
 * import { serveProtection } from "./limits_http.ts";
 * const gate = serveProtection({ maxPerIp: 4 });
 * console.log(typeof gate?.admit); // "function"
 * ```
 */
export function serveProtection(
  protect: ConnectionGate | ListenProtectionOptions | undefined,
  onRefused?: () => void,
): ConnectionGate | undefined {
  if (protect === undefined) return undefined;
  if (protect === null || typeof protect !== "object") throw new TypeError("serve: protect must be a ListenProtection (or ConnectionGate) or its options");
  const gate = typeof (protect as Partial<ConnectionGate>).admit === "function" ? protect as ConnectionGate : new ListenProtection(protect as ListenProtectionOptions);
  // A ListenProtection puts its scoring and bandwidth wrapper on with
  // Connection.interpose, which stays around every handler given later:
  // its connections need no router (one call less per read).
  const counted: ConnectionGate = gate instanceof ListenProtection ? {
    admit(conn, handler) {
      const admitted = gate.admit(conn, handler);
      if (!admitted) onRefused?.();
      return admitted;
    },
  } : {
    admit(conn, handler) {
      // The gate wraps a router whose target the server moves (switchHandler) instead of the
      // connection's handler, so that its scoring and bandwidth wrapper stays on top.
      let route: Route | undefined;
      let given = handler;
      if (handler !== undefined) {
        route = { target: handler };
        given = router(route);
        conn.setHandler(given);
      }
      const admitted = gate.admit(conn, given);
      if (!admitted) onRefused?.();
      else if (route !== undefined) routes.set(conn, route);
      return admitted;
    },
  };
  if (gate.listening !== undefined) counted.listening = (listener) => gate.listening!(listener);
  return counted;
}

/** Where a gated connection's callbacks go now. */
interface Route {
  target: ConnectionHandler;
}

const routes = new WeakMap<Connection, Route>();

/** A handler that passes every callback to `route.target` (a missing `timeout` aborts, as on a connection). */
function router(route: Route): ConnectionHandler {
  return {
    open: (c) => route.target.open?.(c),
    data: (c, bytes) => route.target.data?.(c, bytes),
    end: (c) => route.target.end?.(c),
    drain: (c) => route.target.drain?.(c),
    close: (c, error) => route.target.close?.(c, error),
    error: (c, error) => route.target.error?.(c, error),
    timeout: (c, kind) => {
      const t = route.target;
      if (t.timeout !== undefined) t.timeout(c, kind);
      else c.abort();
    },
  };
}

/**
 * Makes `handler` the one `conn`'s callbacks go to: `conn.setHandler`,
 * except for a connection admitted by a gate from {@link serveProtection},
 * whose gate wrapper stays and passes them on to `handler`.
 *
 * @example
 * ```ts ignore
 * import { switchHandler } from "./limits_http.ts";
 * declare const conn: import("../../poll/connection.ts").Connection;
 * switchHandler(conn, { data: (c, bytes) => void c.send(bytes) });
 * ```
 */
export function switchHandler(conn: Connection, handler: ConnectionHandler): void {
  const route = routes.get(conn);
  if (route !== undefined) route.target = handler;
  else conn.setHandler(handler);
}

const OVERLOADED = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 1\r\n" +
    "connection: close\r\ncontent-length: 20\r\n\r\nService Unavailable\n",
);

/** Connections being answered 503 at once per server, beyond which they are reset. */
const MAX_ANSWERING = 256;
/** Most time a connection being answered 503 stays open. */
const ANSWER_DEADLINE_MS = 5_000;
const answering = new WeakMap<object, number>();

/**
 * Answers a connection over the server's `maxConnections` with `503
 * Service Unavailable` and `Retry-After: 1` once its first bytes arrive,
 * half-closes, drops what else it sends and closes when it does (or after
 * 5 s). At most 256 such connections per `owner` (the server) are
 * answered at once; more are reset.
 *
 * @example
 * ```ts ignore
 * import { listen } from "../../poll/listener.ts";
 * import { answerOverloaded } from "./limits_http.ts";
 * const owner = {};
 * listen({ port: 0, handler: { open: (conn) => answerOverloaded(conn, owner) } });
 * ```
 */
export function answerOverloaded(conn: Connection, owner: object): void {
  const count = answering.get(owner) ?? 0;
  if (count >= MAX_ANSWERING) {
    conn.abort();
    return;
  }
  answering.set(owner, count + 1);
  let answered = false;
  const deadline = conn.loop.timers.once(ANSWER_DEADLINE_MS, () => conn.abort()).unref();
  const handler: ConnectionHandler = {
    data(c) {
      if (answered) return;
      answered = true;
      try {
        c.send(OVERLOADED);
        void c.end().catch(() => c.abort());
      } catch {
        c.abort();
      }
    },
    end(c) {
      void c.close();
    },
    close() {
      deadline.cancel();
      answering.set(owner, (answering.get(owner) ?? 1) - 1);
    },
    timeout() {
      // bounded by the deadline above
    },
  };
  switchHandler(conn, handler);
}
