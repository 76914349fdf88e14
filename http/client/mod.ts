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
export { authFromURL, basicAuthorization, bearerAuthorization, type Credentials, HttpAuth, type HttpAuthOptions, parseChallengeFields } from "./auth.ts";
export { CHALLENGE_LIMITS, type ParsedChallenge, parseAuthChallenges } from "./auth_challenge.ts";
export {
  chooseDigestChallenge,
  type DigestAuthAlgorithm,
  digestAuthorization,
  type DigestChoice,
  type DigestInput,
  digestResponse,
  ncHex,
} from "./auth_digest.ts";
export { type DigestHashName, digestHex, md5, sha512_256 } from "./auth_hash.ts";
export { type ConvenienceOptions, expectOk, getJSON, HTTPStatusError, postJSON, upload } from "./convenience.ts";
export { download, type DownloadOptions, type DownloadProgress, type DownloadResult } from "./download.ts";
export {
  type Cookie,
  type CookieContext,
  CookieJar,
  type CookieJarJSON,
  type CookieJarOptions,
  defaultPath,
  domainMatch,
  isSecureContextURL,
  pathMatch,
} from "./cookie_jar.ts";
export {
  MAX_COOKIE_AGE_MS,
  MAX_COOKIE_ATTRIBUTE_BYTES,
  MAX_COOKIE_NAME_VALUE_BYTES,
  parseCookieDate,
  type ParsedSetCookie,
  parseSetCookie,
  type SameSite,
} from "./cookie_parse.ts";
export { DEFAULT_PUBLIC_SUFFIXES, defaultPublicSuffixList, isIPAddress, PublicSuffixList } from "./public_suffix.ts";
export { Agent, type AgentOptions, getGlobalDispatcher, setGlobalDispatcher } from "./agent.ts";
export { Client, type ClientOptions } from "./client.ts";
export type { Dispatcher, DispatchHandler, DispatchOptions, ResponseControl } from "./dispatcher.ts";
export { fetch, type FetchInit } from "./fetch.ts";
export type { AuthChallenge, AuthProvider, AuthRequest, CookieStore } from "./hooks.ts";
export { type OriginParts, originParts, Pool, POOL_OPTION_KEYS, type PoolOptions, type PoolTLSSettings } from "./pool.ts";
export type { H1Connection, H1Owner } from "./h1_connection.ts";
export type { ClientStream, H2ClientConnection, H2ClientOwner } from "./h2_client.ts";
export type { PendingRequest } from "./pending.ts";
export { ProxyAgent, type ProxyAgentOptions, type ProxyRoute, proxyRoute } from "./proxy_dispatch.ts";
export { BODY_FIELDS, CREDENTIAL_FIELDS, nextRedirect, REDIRECT_STATUSES, type RedirectStep } from "./redirect.ts";
export { headerPairs, headersRecord, request, type RequestHeaders, type RequestOptions, type ResponseData } from "./request.ts";
export { type RequestBody, type RequestBodyInit, toRequestBody, toRequestBodySync } from "./request_body.ts";
export { type BodySource, ResponseBody } from "./response_body.ts";
export { type Deadline, deadlineSignal } from "./timeouts.ts";
