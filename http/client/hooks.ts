/**
 * Where cookies and authentication plug into `fetch`: two small
 * interfaces the cookie jar and the auth schemes implement (they live
 * beside this file and do no I/O), called at fixed points of each hop.
 *
 * - `cookieJar.cookieHeader(url)` before each request (redirects
 *   included); `cookieJar.storeSetCookie(url, values)` after each response
 *   head with its `Set-Cookie` fields.
 * - `auth.authorization(request)` before the first request (preemptive
 *   Basic or Bearer, Digest with a known nonce), and
 *   `auth.proxyAuthorization(request)` before each request that goes to an
 *   HTTP proxy in absolute form (`request.proxy`); after a 401 (or 407) with challenges,
 *   `auth.respond(challenge)` gives the field value for one retry (Digest),
 *   or null to hand the 401 back.
 *
 * @example
 * ```ts
 * import type { CookieStore } from "./hooks.ts";
 * // A jar that keeps one cookie string per host.
 * const byHost = new Map<string, string>();
 * const jar: CookieStore = {
 *   cookieHeader: (url) => byHost.get(url.host) ?? null,
 *   storeSetCookie: (url, values) => void byHost.set(url.host, values.map((v) => v.split(";")[0]).join("; ")),
 * };
 * ```
 *
 * @module
 */

/**
 * A cookie jar as `fetch` uses it.
 *
 * @example
 * ```ts
 * import type { CookieStore } from "./hooks.ts";
 * const none: CookieStore = { cookieHeader: () => null, storeSetCookie: () => {} };
 * ```
 */
export interface CookieStore {
  /** The Cookie field value for a request to `url`, or null for none. */
  cookieHeader(url: URL): string | null | Promise<string | null>;
  /** Keeps the `Set-Cookie` field values of a response from `url`. */
  storeSetCookie(url: URL, setCookie: readonly string[]): void | Promise<void>;
}

/**
 * A request as an {@link AuthProvider} sees it.
 *
 * @example
 * ```ts
 * import type { AuthRequest } from "./hooks.ts";
 * const r: AuthRequest = { method: "GET", url: new URL("http://a.test/"), body: null };
 * ```
 */
export interface AuthRequest {
  /** The request method. */
  method: string;
  /** The request URL. */
  url: URL;
  /** The body bytes when they are in memory (Digest `auth-int` hashes them), else null. */
  body: Uint8Array | null;
  /** The HTTP proxy (`http://host:port`) the request goes to in absolute form, when it does: the protection space of a 407. */
  proxy?: string;
}

/**
 * A 401 or 407 answer.
 *
 * @example
 * ```ts
 * import type { AuthChallenge } from "./hooks.ts";
 * const c: AuthChallenge = { status: 401, challenges: ['Basic realm="x"'], request: { method: "GET", url: new URL("http://a.test/"), body: null } };
 * ```
 */
export interface AuthChallenge {
  /** 401 (server authentication) or 407 (proxy authentication). */
  status: 401 | 407;
  /** The `WWW-Authenticate` (401) or `Proxy-Authenticate` (407) field values. */
  challenges: readonly string[];
  /** The request that was challenged. */
  request: AuthRequest;
  /** 0 for the first challenge of this request, 1 after one answer was refused (Digest `stale=true` may be answered once more). */
  attempt?: number;
}

/**
 * Credentials as `fetch` uses them.
 *
 * @example
 * ```ts
 * import type { AuthProvider } from "./hooks.ts";
 * const bearer: AuthProvider = { authorization: () => "Bearer token", respond: () => null };
 * ```
 */
export interface AuthProvider {
  /** The Authorization value to send up front (Basic, Bearer), or null. */
  authorization?(request: AuthRequest): string | null | Promise<string | null>;
  /** The Proxy-Authorization value to send up front to `request.proxy` (e.g. Digest after its first 407), or null. */
  proxyAuthorization?(request: AuthRequest & { proxy: string }): string | null | Promise<string | null>;
  /** The Authorization (or Proxy-Authorization) value answering a challenge, for one retry; null gives up. */
  respond(challenge: AuthChallenge): string | null | Promise<string | null>;
}
