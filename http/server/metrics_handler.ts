/**
 * HTTP glue for metrics: a `/metrics` handler for `serve` (Prometheus text,
 * or the JSON snapshot when asked), request metrics around any fetch
 * handler (as a wrapper or as a middleware), and a collector of servers'
 * open connections.
 *
 * Request metrics cost two `performance.now()` calls, one counter and one
 * histogram bump per request (see `bench/metrics.ts`); a server without
 * them pays nothing.
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
import type { Histogram, MetricFamily, MetricsCollector, MetricsRegistry } from "../../core/metrics.ts";
import { checkOptions } from "../../core/options.ts";
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

/** The request instruments, declared once per registry. */
interface RequestMetrics {
  byClass: { inc(n?: number): void }[];
  errors: { inc(n?: number): void };
  latency: Histogram;
  inFlight: { inc(n?: number): void; dec(n?: number): void };
}

function requestMetrics(registry: MetricsRegistry): RequestMetrics {
  const requests = registry.counter("http_server_requests_total", { help: "HTTP requests answered, by status class.", labelNames: ["class"] });
  return {
    byClass: CLASSES.map((c) => requests.labels(c)),
    errors: registry.counter("http_server_handler_errors_total", { help: "HTTP handlers that threw or rejected." }),
    latency: registry.histogram("http_server_request_duration_seconds", { help: "Time from the request to its response's head, in seconds." }),
    inFlight: registry.gauge("http_server_requests_in_flight", { help: "HTTP requests being handled." }),
  };
}

function finish(m: RequestMetrics, start: number, response: Response): Response {
  m.inFlight.dec();
  m.latency.observe((performance.now() - start) / 1000);
  const cls = ((response.status / 100) | 0) - 1;
  m.byClass[cls >= 0 && cls < 5 ? cls : 4]?.inc();
  return response;
}

function failed(m: RequestMetrics, error: unknown): never {
  m.inFlight.dec();
  m.errors.inc();
  throw error;
}

/**
 * Wraps a fetch handler with request metrics:
 * `http_server_requests_total{class="2xx"}`,
 * `http_server_request_duration_seconds` (a summary with p50…p99.9, to
 * the response's head; a streamed body is not waited for),
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
  const m = requestMetrics(registry);
  return (request, info) => {
    const start = performance.now();
    m.inFlight.inc();
    let result: Response | Promise<Response>;
    try {
      result = handler(request, info);
    } catch (error) {
      failed(m, error);
    }
    if (result instanceof Response) return finish(m, start, result);
    return Promise.resolve(result).then((r) => finish(m, start, r), (error: unknown) => failed(m, error));
  };
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
    const start = performance.now();
    m.inFlight.inc();
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
