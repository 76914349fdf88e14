/**
 * HTTP glue for metrics: a `/metrics` handler for `serve` (Prometheus text,
 * or the JSON snapshot when asked), request metrics around any fetch
 * handler (as a wrapper or as a middleware), and a collector of servers'
 * open connections.
 *
 * Request metrics cost one clock reading per request (core/metrics_clock.ts:
 * `performance.now()`, through FFI on Deno; the start is the event-loop
 * turn's reading, `turnMs`, shared by the requests of a turn), three
 * stores into one small record per registry (in flight up and down, the
 * status class: added to the registry's counters and gauge when it is
 * read) and one histogram bump (see `bench/metrics.ts` and
 * `bench/http_server_limits.ts`); a server without them pays nothing. `serve({ metrics: registry })` measures every
 * request, 429s of its `rateLimit` included, and reads no clock of its
 * own: a request's end is the reading its session takes at the end of the
 * read that carried it, its response written by then
 * (`LatencyRing` in core/metrics_clock.ts).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../../core/metrics.ts";
 * import { metricsHandler, withHttpMetrics } from "./metrics_handler.ts";
 * import { serve } from "./serve.ts";
 * const registry = new MetricsRegistry();
 * const scrape = metricsHandler(registry);
 * const app = (request: Request) => new URL(request.url).pathname === "/metrics" ? scrape(request) : new Response("hello");
 * await using server = serve({ port: 0, fetch: withHttpMetrics(registry, app) });
 * ```
 *
 * @module
 */
import type { Counter, Gauge, Histogram, MetricFamily, MetricsCollector, MetricsRegistry } from "../../core/metrics.ts";
import { turnMs } from "../../core/clock.ts";
import { LatencyRing, metricsNowMs } from "../../core/metrics_clock.ts";
import { checkOptions } from "../../core/options.ts";
import { statusOf } from "./light_response.ts";
import { PROMETHEUS_CONTENT_TYPE, toPrometheusText } from "../../core/prometheus.ts";
import type { Server } from "./serve.ts";

/** Options of {@link metricsHandler}. */
export interface MetricsHandlerOptions {
  /** Answer with the JSON snapshot when the request prefers `application/json` or has `?format=json` (default true). */
  json?: boolean;
}

const HANDLER_KEYS: ReadonlySet<string> = new Set(["json"]);

function wantsJSON(request: Request): boolean {
  const accept = request.headers.get("accept") ?? "";
  if (accept.includes("application/json") && !accept.includes("text/plain")) return true;
  const q = request.url.indexOf("?");
  return q >= 0 && new URLSearchParams(request.url.slice(q + 1)).get("format") === "json";
}

/**
 * A fetch-style handler that answers with the registry: the Prometheus
 * text exposition (`text/plain; version=0.0.4`), or JSON when asked; 405
 * for methods other than GET and HEAD.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../../core/metrics.ts";
 * import { metricsHandler } from "./metrics_handler.ts";
 * const registry = new MetricsRegistry();
 * registry.counter("hits_total", { help: "Hits." }).inc();
 * const response = metricsHandler(registry)(new Request("http://localhost/metrics"));
 * console.log(response.headers.get("content-type")); // text/plain; version=0.0.4; charset=utf-8
 * ```
 */
export function metricsHandler(registry: MetricsRegistry, options: MetricsHandlerOptions = {}): (request: Request) => Response {
  checkOptions(options, HANDLER_KEYS, "metricsHandler");
  const json = options.json ?? true;
  return (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    if (json && wantsJSON(request)) {
      return new Response(request.method === "HEAD" ? null : JSON.stringify(registry), { headers: { "content-type": "application/json" } });
    }
    const body = toPrometheusText(registry.snapshot());
    return new Response(request.method === "HEAD" ? null : body, { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
  };
}

const CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

/** `RequestMetrics.counts` slots: requests in flight (their change since the last read), handler errors, then answers by class 1xx…5xx. */
const IN_FLIGHT = 0;
const ERRORS = 1;
const FIRST_CLASS = 2;

/**
 * What one registry's request metrics count per request, in one compact
 * record: a request's few stores go to one small typed array (and its
 * latency to the histogram's batch, core/metrics.ts's `record`) instead of
 * a gauge, a class array and a counter object each; the registry adds the
 * counts to its instruments before any of them is read (`beforeRead`:
 * a snapshot, an export, or one instrument's `value` or `sketch`), and
 * adds `serve`'s latencies held in its ring to the histogram, ending
 * those still waiting for a clock reading (`LatencyRing.flush`), so every
 * read sees every request answered before it. One record per registry (the
 * servers and wrappers of a registry share it, as they share its
 * instruments): `beforeRead` is given one fold per registry, ever.
 */
interface RequestMetrics {
  /** [in flight (change), errors, 1xx, 2xx, 3xx, 4xx, 5xx] since the last read. */
  readonly counts: Float64Array;
  readonly latency: Histogram;
  /** `serve`'s latencies: their starts until the read's clock reading ends them, then seconds until a read adds them to `latency`. */
  readonly ring: LatencyRing;
}

const perRegistry = new WeakMap<MetricsRegistry, RequestMetrics>();

function requestMetrics(registry: MetricsRegistry): RequestMetrics {
  const known = perRegistry.get(registry);
  if (known !== undefined) return known;
  const requests = registry.counter("http_server_requests_total", { help: "HTTP requests answered, by status class.", labelNames: ["class"] });
  const byClass: Counter[] = CLASSES.map((c) => requests.labels(c));
  const errors: Counter = registry.counter("http_server_handler_errors_total", { help: "HTTP handlers that threw or rejected." });
  const latency = registry.histogram("http_server_request_duration_seconds", { help: "Time from the request (the start of the event-loop turn that delivered it) to its response, in seconds." });
  const inFlight: Gauge = registry.gauge("http_server_requests_in_flight", { help: "HTTP requests being handled." });
  const counts = new Float64Array(FIRST_CLASS + CLASSES.length);
  const ring = new LatencyRing(latency);
  registry.beforeRead(() => {
    // serve's latencies, those still waiting for their end included (they end at this read), into the histogram.
    ring.flush();
    inFlight.value += counts[IN_FLIGHT]!;
    errors.value += counts[ERRORS]!;
    for (let i = 0; i < CLASSES.length; i++) byClass[i]!.value += counts[FIRST_CLASS + i]!;
    counts.fill(0);
  });
  const made: RequestMetrics = { counts, latency, ring };
  perRegistry.set(registry, made);
  return made;
}

/**
 * Counts one answered request: its status class, its latency from `start`
 * (a `turnMs` reading) to now. The counts go to the registry's record
 * (whole numbers, added to the counters when read), the latency through
 * the histogram's batched `record`.
 */
function finish<R extends Response | undefined>(m: RequestMetrics, start: number, response: R): R {
  m.counts[IN_FLIGHT]!--;
  // One clock reading, the request's end; its start is the turn's reading
  // (the clock the server reads once per turn anyway). Never the turn's
  // reading again for the end: a request that took time would count 0.
  // Clamped: the end's clock is aligned to the start's to well under a microsecond, not exactly.
  const ms = metricsNowMs() - start;
  m.latency.record(ms > 0 ? ms / 1000 : 0);
  count(m.counts, response);
  return response;
}

/**
 * {@link finish} for `serve`: the latency ends at the next reading of the
 * metrics clock (core/metrics_clock.ts's `LatencyRing`), which the session
 * takes at the end of the read that carried the request (its response
 * written by then) or, for a handler that answered later, at the end of
 * that synchronous run: no clock reading of its own per request, one
 * store (the start) into the registry's ring.
 */
function finishServed<R extends Response | undefined>(m: RequestMetrics, start: number, response: R): R {
  const counts = m.counts;
  counts[IN_FLIGHT]!--;
  m.ring.start(start);
  count(counts, response);
  return response;
}

/**
 * Counts `response`'s status class (none: the request switched protocols,
 * a WebSocket upgrade under serve's `websocket`: 1xx). A result that is not
 * a Response (null, a string: a handler's mistake, which serve answers 500
 * and hands to onError as it would without metrics) is a handler error, and
 * is passed on unchanged: reading its status threw here, and serve reported
 * that TypeError instead of its own.
 */
function count(counts: Float64Array, response: Response | undefined): void {
  if (response === undefined) {
    counts[FIRST_CLASS]!++;
    return;
  }
  // A light response's recorded status without its accessor (serve's default on Node).
  const status = typeof response === "object" && response !== null ? statusOf(response) : undefined;
  if (typeof status !== "number") {
    counts[ERRORS]!++;
    return;
  }
  const cls = ((status / 100) | 0) - 1;
  counts[FIRST_CLASS + (cls >= 0 && cls < 5 ? cls : 4)]!++;
}

function failed(m: RequestMetrics, error: unknown): never {
  m.counts[IN_FLIGHT]!--;
  m.counts[ERRORS]!++;
  throw error;
}

/** A handler's promise measured into `m` once it settles. */
function later<R extends Response | undefined>(m: RequestMetrics, start: number, result: R | Promise<R>, served: boolean): Promise<R> {
  return Promise.resolve(result).then((r) => served ? finishServed(m, start, r) : finish(m, start, r), (error: unknown) => failed(m, error));
}

/**
 * Whether a handler's result is its answer now (a `Response`, or nothing
 * after a WebSocket upgrade) rather than one to wait for. Not `instanceof
 * Response`: on Deno and Node the global `Response` is an accessor, a
 * getter call per read (30–40 ns per request on Deno); a Response has no
 * `then`. Anything else (a promise, a thenable, null, a string) goes the
 * promise way, as before.
 */
function isAnswer(result: unknown): boolean {
  return result === undefined || (typeof result === "object" && result !== null && typeof (result as { then?: unknown }).then !== "function");
}

/**
 * `handler` measured into `m` (synchronous while the handler is). The
 * per-request function stays small (the promise path and the error path
 * out of line): a runtime that inlines the server's dispatch into one
 * optimized function (V8, up to a total bytecode size) then keeps room for
 * the handler's own code. `served`: the latency ends as {@link finishServed} says.
 */
function measure<I, R extends Response | undefined>(
  m: RequestMetrics,
  handler: (request: Request, info: I) => R | Promise<R>,
  served: boolean,
): (request: Request, info: I) => R | Promise<R> {
  if (served) {
    return (request, info) => {
      const start = turnMs();
      m.counts[IN_FLIGHT]!++;
      let result: R | Promise<R>;
      try {
        result = handler(request, info);
      } catch (error) {
        failed(m, error);
      }
      return isAnswer(result) ? finishServed(m, start, result as R) : later(m, start, result, true);
    };
  }
  return (request, info) => {
    const start = turnMs();
    m.counts[IN_FLIGHT]!++;
    let result: R | Promise<R>;
    try {
      result = handler(request, info);
    } catch (error) {
      failed(m, error);
    }
    return isAnswer(result) ? finish(m, start, result as R) : later(m, start, result, false);
  };
}

/**
 * Wraps a fetch handler with request metrics:
 * `http_server_requests_total{class="2xx"}`,
 * `http_server_request_duration_seconds` (a summary with p50…p99.9, from
 * the start of the event-loop turn that delivered the request — when its
 * bytes were read, under `serve` — to the handler's response; a streamed
 * body is not waited for),
 * `http_server_requests_in_flight` and `http_server_handler_errors_total`.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../../core/metrics.ts";
 * import { withHttpMetrics } from "./metrics_handler.ts";
 * const registry = new MetricsRegistry();
 * const fetch = withHttpMetrics(registry, () => new Response("ok"));
 * await fetch(new Request("http://localhost/"), undefined);
 * ```
 */
export function withHttpMetrics<I>(
  registry: MetricsRegistry,
  handler: (request: Request, info: I) => Response | Promise<Response>,
): (request: Request, info: I) => Response | Promise<Response> {
  if (typeof handler !== "function") throw new TypeError("withHttpMetrics: handler must be a function");
  return measure(requestMetrics(registry), handler, false);
}

/**
 * What `serve({ metrics })` puts around its handler (inside the WebSocket
 * support, outside the rate limit and the middleware, so 429s are
 * counted): {@link withHttpMetrics} for a handler that may also return
 * nothing (it upgraded the request to a WebSocket: counted as 1xx), whose
 * latency ends at the next reading of the metrics clock instead of one of
 * its own: `serve`'s sessions take it at the end of each read (a handler
 * that answered at once: its response written), and a later answer's is
 * taken when its synchronous run ends (core/metrics_clock.ts's
 * `LatencyRing`). Outside `serve`, a latency may then run on to the
 * end of the synchronous run: {@link withHttpMetrics} reads the clock per
 * request.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../../core/metrics.ts";
 * import { withServeMetrics } from "./metrics_handler.ts";
 * const fetch = withServeMetrics(new MetricsRegistry(), () => undefined);
 * console.log(fetch(new Request("http://localhost/"), undefined)); // undefined
 * ```
 */
export function withServeMetrics<I>(
  registry: MetricsRegistry,
  handler: (request: Request, info: I) => Response | undefined | Promise<Response | undefined>,
): (request: Request, info: I) => Response | undefined | Promise<Response | undefined> {
  if (typeof handler !== "function") throw new TypeError("serve: fetch must be a function");
  if (registry === null || typeof registry !== "object" || typeof (registry as Partial<MetricsRegistry>).histogram !== "function") {
    throw new TypeError("serve: metrics must be a MetricsRegistry (core/metrics.ts)");
  }
  return measure(requestMetrics(registry), handler, true);
}

/**
 * The same request metrics as a middleware (`serve({ middleware: [httpMetrics(registry)] })`
 * or any `(request, next) => Promise<Response>` chain).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../../core/metrics.ts";
 * import { httpMetrics } from "./metrics_handler.ts";
 * const measure = httpMetrics(new MetricsRegistry());
 * const response = await measure(new Request("http://localhost/"), () => Promise.resolve(new Response("ok")));
 * console.log(response.status); // 200
 * ```
 */
export function httpMetrics(registry: MetricsRegistry): (request: Request, next: (request?: Request) => Promise<Response>) => Promise<Response> {
  const m = requestMetrics(registry);
  return (_request, next) => {
    const start = turnMs();
    m.counts[IN_FLIGHT]!++;
    let result: Promise<Response>;
    try {
      result = next();
    } catch (error) {
      return Promise.reject(error).catch((e: unknown) => failed(m, e));
    }
    return result.then((r) => finish(m, start, r), (error: unknown) => failed(m, error));
  };
}

const REJECTIONS = [["maxConnections", "max_connections"], ["rateLimit", "rate_limit"], ["protect", "protect"]] as const;

/**
 * A collector of `http_server_connections` (open connections) and
 * `http_server_rejected_total{reason}` (what the server's limits refused:
 * `max_connections` answered 503, `rate_limit` answered 429, `protect`
 * closed at accept) per server, labelled `server` (the key in `servers`).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../../core/metrics.ts";
 * import { serverCollector } from "./metrics_handler.ts";
 * import { serve } from "./serve.ts";
 * await using server = serve({ port: 0, fetch: () => new Response("ok") });
 * const registry = new MetricsRegistry();
 * registry.collect(serverCollector({ web: server }));
 * ```
 */
export function serverCollector(servers: Readonly<Record<string, Server>>): MetricsCollector {
  return (): MetricFamily[] => [{
    name: "http_server_connections",
    help: "Open HTTP connections.",
    type: "gauge",
    series: Object.keys(servers).map((server) => ({ labels: { server }, value: (servers[server] as Server).connections })),
  }, {
    name: "http_server_rejected_total",
    help: "Connections and requests refused by the server's limits, by reason (max_connections: 503, rate_limit: 429, protect: closed at accept).",
    type: "counter",
    series: Object.keys(servers).flatMap((server) => {
      const rejected = (servers[server] as Server).rejected;
      return REJECTIONS.map(([key, reason]) => ({ labels: { server, reason }, value: rejected[key] }));
    }),
  }];
}
