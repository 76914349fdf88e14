/**
 * The HTTP client: `fetch` with the runtime's own Request/Response/Headers,
 * and undici-like lower levels — `request` (plain objects, streaming body),
 * `Client` (one connection), `Pool` (connections to one origin), `Agent`
 * (origin → pool) — over HTTP/1.1 with keep-alive, pipelining,
 * `Expect: 100-continue`, typed timeouts and one retry for idempotent
 * requests on a dead kept-alive connection.
 *
 * @example
 * ```ts ignore
 * import { fetch, request } from "./mod.ts";
 * console.log((await fetch("http://127.0.0.1:8080/")).status);
 * console.log((await request("http://127.0.0.1:8080/")).statusCode);
 * ```
 *
 * @module
 */
export { Agent, type AgentOptions, getGlobalDispatcher, setGlobalDispatcher } from "./agent.ts";
export { Client, type ClientOptions } from "./client.ts";
export type { Dispatcher, DispatchHandler, DispatchOptions, ResponseControl } from "./dispatcher.ts";
export { fetch, type FetchInit } from "./fetch.ts";
export type { AuthChallenge, AuthProvider, AuthRequest, CookieStore } from "./hooks.ts";
export { type OriginParts, originParts, Pool, POOL_OPTION_KEYS, type PoolOptions } from "./pool.ts";
export { BODY_FIELDS, CREDENTIAL_FIELDS, nextRedirect, REDIRECT_STATUSES, type RedirectStep } from "./redirect.ts";
export { headerPairs, headersRecord, request, type RequestHeaders, type RequestOptions, type ResponseData } from "./request.ts";
export { type RequestBody, type RequestBodyInit, toRequestBody, toRequestBodySync } from "./request_body.ts";
export { type BodySource, ResponseBody } from "./response_body.ts";
