/**
 * Middleware: functions around a `fetch` handler, each taking the request
 * and `next` (the rest of the chain) and returning a `Response`. A
 * middleware may answer by itself (never calling `next`), change the
 * request it passes on (`next(newRequest)`), or change the response `next`
 * resolves to. They run in the order given, on HTTP/1.1 and HTTP/2 alike
 * (serve's `middleware` option, or {@link withMiddleware} around any
 * handler).
 *
 * @example
 * ```ts
 * import { compose, withMiddleware, type Middleware } from "./middleware.ts";
 * const timing: Middleware = async (request, next) => {
 *   const response = await next();
 *   response.headers.set("x-path", new URL(request.url).pathname);
 *   return response;
 * };
 * const handler = withMiddleware(compose(timing), () => new Response("hi"));
 * ```
 *
 * @module
 */
import { HTTPError } from "../../core/errors.ts";
import type { ServeHandler, ServeHandlerInfo } from "./h1_session.ts";

/**
 * The rest of the chain: the next middleware, or the handler after the
 * last. Called with no argument it passes the same request on. Call it at
 * most once.
 *
 * @example
 * ```ts
 * import type { Next } from "./middleware.ts";
 * const passOn = (next: Next) => next();
 * ```
 */
export type Next = (request?: Request) => Promise<Response>;

/**
 * One middleware: `(request, next, info) => Response | Promise<Response>`.
 *
 * @example
 * ```ts
 * import type { Middleware } from "./middleware.ts";
 * const onlyGet: Middleware = (request, next) =>
 *   request.method === "GET" || request.method === "HEAD" ? next() : new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
 * ```
 */
export type Middleware = (request: Request, next: Next, info: ServeHandlerInfo) => Response | Promise<Response>;

function checkMiddleware(list: readonly unknown[], what: string): void {
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== "function") throw new TypeError(`${what}: middleware ${i} must be a function, got ${list[i] === null ? "null" : typeof list[i]}`);
  }
}

/**
 * One middleware that runs `middleware` in order: the first sees the
 * request first and the response last. A middleware's second call of its
 * `next` rejects with HTTPError `ERR_MIDDLEWARE_NEXT_TWICE`.
 *
 * @throws TypeError when an element is not a function
 * @example
 * ```ts
 * import { compose, type Middleware } from "./middleware.ts";
 * const order: string[] = [];
 * const a: Middleware = async (_r, next) => (order.push("a"), await next());
 * const b: Middleware = async (_r, next) => (order.push("b"), await next());
 * const both = compose(a, b);
 * ```
 */
export function compose(...middleware: Middleware[]): Middleware {
  checkMiddleware(middleware, "compose");
  const chain = middleware.slice();
  return (request, next, info) => run(chain, 0, request, next, info);
}

function run(chain: readonly Middleware[], index: number, request: Request, last: Next, info: ServeHandlerInfo): Promise<Response> {
  if (index === chain.length) return last(request);
  let called = false;
  const next: Next = (nextRequest) => {
    if (called) return Promise.reject(new HTTPError("ERR_MIDDLEWARE_NEXT_TWICE", "middleware: next() called more than once"));
    called = true;
    return run(chain, index + 1, nextRequest ?? request, last, info);
  };
  try {
    return Promise.resolve(chain[index]!(request, next, info));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * `handler` behind `middleware` (one, or a list run in order): the
 * handler to give `serve` (which does this itself with its `middleware`
 * option).
 *
 * @throws TypeError when a middleware or the handler is not a function
 * @example
 * ```ts
 * import { withMiddleware } from "./middleware.ts";
 * const handler = withMiddleware([
 *   async (_request, next) => {
 *     const response = await next();
 *     response.headers.set("x-served-by", "ffinet");
 *     return response;
 *   },
 * ], () => new Response("hello"));
 * ```
 */
export function withMiddleware(middleware: Middleware | readonly Middleware[], handler: ServeHandler): ServeHandler {
  if (typeof handler !== "function") throw new TypeError("withMiddleware: the handler must be a function");
  const list = typeof middleware === "function" ? [middleware] : [...middleware];
  checkMiddleware(list, "withMiddleware");
  if (list.length === 0) return handler;
  return (request, info) => {
    const last: Next = (r = request) => {
      try {
        return Promise.resolve(handler(r, info));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return run(list, 0, request, last, info);
  };
}
