/**
 * Access logging and request correlation for `serve`: a middleware that
 * gives every request an id (its `x-request-id` header when it has a sane
 * one, else a random UUID), reads the trace id from `traceparent`, echoes
 * the id on the response, and writes one access line per request
 * (method, path, status, duration) through a {@link Logger}.
 * {@link requestLogger} gives a handler a child logger carrying the same
 * ids, so its own lines join the access line. A request switched to
 * WebSocket (`server.upgrade(request)`, `upgradeWebSocket`) gets its access
 * line too, with status 101, its `upgrade` and the same ids.
 *
 * @example
 * ```ts
 * import { Logger } from "../../core/log.ts";
 * import { accessLog, requestLogger } from "./access_log.ts";
 * import { serve } from "./serve.ts";
 * const log = new Logger();
 * await using server = serve({
 *   port: 0,
 *   middleware: [accessLog(log)],
 *   fetch: (request) => {
 *     requestLogger(log, request).debug("handling");
 *     return new Response("ok");
 *   },
 * });
 * ```
 *
 * @module
 */
import { type LogLevel, type Logger, parseTraceparent } from "../../core/log.ts";
import { checkOptions } from "../../core/options.ts";
import { isUpgradeResponse } from "./h1_session.ts";

/** The correlation ids of one request. */
export interface RequestIds {
  /** The request id (from the header, or made here). */
  readonly requestId: string;
  /** The W3C trace id from `traceparent`, or undefined. */
  readonly traceId: string | undefined;
}

/** Options of {@link accessLog}. */
export interface AccessLogOptions {
  /** The request-id header read and echoed (default `x-request-id`). */
  header?: string;
  /** The level of access lines (default "info"). */
  level?: LogLevel;
}

const ACCESS_LOG_KEYS: ReadonlySet<string> = new Set(["header", "level"]);
const SANE_ID = /^[\x21-\x7e]{1,128}$/;
const ids = new WeakMap<Request, RequestIds>();

/**
 * The ids of `request`: the same object for the same Request, made on
 * first use from `header` (default `x-request-id`) and `traceparent`.
 *
 * @example
 * ```ts
 * import { requestIds } from "./access_log.ts";
 * const request = new Request("http://x/", { headers: { "x-request-id": "abc" } });
 * console.log(requestIds(request).requestId); // abc
 * ```
 */
export function requestIds(request: Request, header = "x-request-id"): RequestIds {
  let found = ids.get(request);
  if (found === undefined) {
    const given = request.headers.get(header);
    found = {
      requestId: given !== null && SANE_ID.test(given) ? given : crypto.randomUUID(),
      traceId: parseTraceparent(request.headers.get("traceparent"))?.traceId,
    };
    ids.set(request, found);
  }
  return found;
}

/**
 * A child of `logger` whose records carry the request's `requestId` (and
 * `traceId` when the request had a `traceparent`).
 *
 * @example
 * ```ts
 * import { Logger } from "../../core/log.ts";
 * import { requestLogger } from "./access_log.ts";
 * const log = requestLogger(new Logger(), new Request("http://x/"));
 * log.info("handled");
 * ```
 */
export function requestLogger(logger: Logger, request: Request): Logger {
  const { requestId, traceId } = requestIds(request);
  return logger.child(traceId === undefined ? { requestId } : { requestId, traceId });
}

/**
 * The access-log middleware (see the module doc). A handler that throws is
 * logged at ERROR with the error, and the error goes on.
 *
 * @example
 * ```ts
 * import { Logger } from "../../core/log.ts";
 * import { accessLog } from "./access_log.ts";
 * const lines: string[] = [];
 * const mw = accessLog(new Logger({ sink: (l) => lines.push(l) }));
 * await mw(new Request("http://x/a"), () => Promise.resolve(new Response("ok")));
 * console.log(JSON.parse(lines[0]!).status); // 200
 * ```
 */
export function accessLog(logger: Logger, options: AccessLogOptions = {}): (request: Request, next: (request?: Request) => Promise<Response>) => Promise<Response> {
  checkOptions(options, ACCESS_LOG_KEYS, "accessLog");
  const header = (options.header ?? "x-request-id").toLowerCase();
  const level = options.level ?? "info";
  return async (request, next) => {
    const start = performance.now();
    const { requestId, traceId } = requestIds(request, header);
    const q = request.url.indexOf("?");
    const afterScheme = request.url.indexOf("/", request.url.indexOf("//") + 2);
    const path = afterScheme < 0 ? "/" : request.url.slice(afterScheme, q < 0 ? undefined : q);
    const fields = (extra: Record<string, unknown>) => ({
      requestId,
      ...(traceId === undefined ? {} : { traceId }),
      method: request.method,
      path,
      durationMs: Math.round((performance.now() - start) * 1000) / 1000,
      ...extra,
    });
    // Undefined: the handler switched the connection with `server.upgrade(request)` (Bun's shape).
    let response: Response | undefined;
    try {
      response = await next();
    } catch (error) {
      logger.error("request failed", fields({ error }));
      throw error;
    }
    if (response === undefined || isUpgradeResponse(response)) {
      // A protocol switch (WebSocket): written as 101 with the request's ids, like any request.
      if (logger.enabled(level)) logger[level]("request", fields({ status: 101, upgrade: request.headers.get("upgrade") ?? "" }));
      if (response === undefined) return response as unknown as Response; // nothing, as the websocket wrapper expects
    } else if (logger.enabled(level)) logger[level]("request", fields({ status: response.status }));
    try {
      response.headers.set(header, requestId);
    } catch {
      // an immutable Response (from fetch): served as it is
    }
    return response;
  };
}
