/**
 * Error pages: plain responses for a status that say only its reason
 * phrase (no message, no stack, no path), and a middleware that turns a
 * handler's throw into one, through an `onError(error, request)` hook
 * when given.
 *
 * An error that carries a `status` of 400–599 (as Hono's `HTTPException`
 * and the `http-errors` package's do) is answered with that status; any
 * other error is a 500. Its message is never sent: a hook that wants to
 * show it builds its own response.
 *
 * @example
 * ```ts
 * import { errorPages, errorResponse } from "./error_page.ts";
 * import { withMiddleware } from "./middleware.ts";
 * const handler = withMiddleware(errorPages(), () => {
 *   throw new Error("secret detail");
 * });
 * console.log(errorResponse(404).status); // 404
 * ```
 *
 * @module
 */
import { reasonPhrase } from "../core/status.ts";
import { checkOptions } from "../../core/options.ts";
import type { Middleware } from "./middleware.ts";

/**
 * The hook that makes the response for an error: `(error, request)`.
 *
 * @example
 * ```ts
 * import type { ErrorHandler } from "./error_page.ts";
 * const onError: ErrorHandler = (_error, request) => new Response(`no luck with ${new URL(request.url).pathname}`, { status: 500 });
 * ```
 */
export type ErrorHandler = (error: unknown, request: Request) => Response | Promise<Response>;

/**
 * A plain `text/plain` response for `status` whose body is its reason
 * phrase ("Not Found"), with `Cache-Control: no-store` and
 * `X-Content-Type-Options: nosniff`; extra `headers` are added.
 *
 * @throws RangeError for a status outside 400–599
 * @example
 * ```ts
 * import { errorResponse } from "./error_page.ts";
 * const r = errorResponse(416, { "content-range": "bytes *\/10" });
 * console.log(r.status, await r.text()); // 416 "Range Not Satisfiable"
 * ```
 */
export function errorResponse(status: number, headers?: HeadersInit): Response {
  if (!Number.isInteger(status) || status < 400 || status > 599) throw new RangeError(`errorResponse: status must be 400-599, got ${String(status)}`);
  const h = new Headers(headers);
  h.set("content-type", "text/plain; charset=utf-8");
  h.set("cache-control", "no-store");
  h.set("x-content-type-options", "nosniff");
  return new Response(reasonPhrase(status) || "Error", { status, headers: h });
}

/**
 * The status an error asks for: its `status` (or `statusCode`) when that
 * is an integer in 400–599, else 500.
 *
 * @example
 * ```ts
 * import { errorStatus } from "./error_page.ts";
 * console.log(errorStatus(Object.assign(new Error("x"), { status: 404 })), errorStatus(new Error("y"))); // 404 500
 * ```
 */
export function errorStatus(error: unknown): number {
  if (error !== null && typeof error === "object") {
    const e = error as { status?: unknown; statusCode?: unknown };
    const s = typeof e.status === "number" ? e.status : e.statusCode;
    if (typeof s === "number" && Number.isInteger(s) && s >= 400 && s <= 599) return s;
  }
  return 500;
}

/**
 * The default error response: {@link errorResponse} of
 * {@link errorStatus}. Says nothing about the error itself.
 *
 * @example
 * ```ts
 * import { defaultErrorResponse } from "./error_page.ts";
 * console.log(defaultErrorResponse(new Error("/home/me/secret")).status); // 500
 * ```
 */
export function defaultErrorResponse(error: unknown): Response {
  return errorResponse(errorStatus(error));
}

/**
 * Options of {@link errorPages}.
 *
 * @example
 * ```ts
 * import type { ErrorPagesOptions } from "./error_page.ts";
 * const options: ErrorPagesOptions = { onError: (e) => new Response("oops", { status: 500 }) };
 * ```
 */
export interface ErrorPagesOptions {
  /**
   * Makes the response for an error thrown (or rejected) further down the
   * chain; when it throws too, or returns no `Response`, the default page
   * is sent. Default: {@link defaultErrorResponse}.
   */
  onError?: ErrorHandler;
  /** Called with every caught error before it is answered (logging); its own failures are ignored. */
  report?: (error: unknown, request: Request) => void;
}

const KEYS: ReadonlySet<string> = new Set(["onError", "report"]);

/**
 * A middleware that catches what the rest of the chain throws and answers
 * it with `onError(error, request)` or a plain page (see the module text).
 * Put it first, so it sees every later middleware's failures.
 *
 * @throws TypeError for an unknown option key or a non-function hook
 * @example
 * ```ts
 * import { errorPages } from "./error_page.ts";
 * import { withMiddleware } from "./middleware.ts";
 * const handler = withMiddleware(
 *   errorPages({ report: (error) => console.error(error) }),
 *   () => Promise.reject(Object.assign(new Error("gone"), { status: 410 })),
 * ); // answers 410 "Gone"
 * ```
 */
export function errorPages(options: ErrorPagesOptions = {}): Middleware {
  checkOptions(options, KEYS, "errorPages");
  const { onError, report } = options;
  if (onError !== undefined && typeof onError !== "function") throw new TypeError("errorPages: onError must be a function");
  if (report !== undefined && typeof report !== "function") throw new TypeError("errorPages: report must be a function");
  return async (request, next) => {
    try {
      return await next();
    } catch (error) {
      if (report !== undefined) {
        try {
          report(error, request);
        } catch {
          // a failing logger does not change the answer
        }
      }
      if (onError !== undefined) {
        try {
          const response = await onError(error, request);
          if (response instanceof Response) return response;
        } catch {
          // fall through to the default page
        }
      }
      return defaultErrorResponse(error);
    }
  };
}
