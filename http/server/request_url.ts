/**
 * The `request.url` `serve` hands a handler: what the runtime's own
 * `Request` would report for the same request (its URL as the WHATWG URL
 * parser leaves it), built cheaply where the parser would change nothing.
 *
 * The parser lower-cases a host, drops a default port and rewrites IPv4
 * shorthands (`HTTP://B:80/x` → `http://b/x`); it removes dot segments,
 * plain or percent-encoded (`/a/../admin`, `/%2e%2e/admin` → `/admin`), and
 * percent-encodes some characters of a path or query. A handler or
 * middleware that matches `request.url` as a string (Hono's router does)
 * must see that form, or `/public/../admin` would miss a rule for
 * `/admin`: Deno's and Bun's own HTTP servers hand out the parser's form,
 * and so does `serve`.
 *
 * @module
 */

/** Sequences the URL parser changes in a path or query: dot segments (also percent-encoded) and characters it percent-encodes. */
const CHANGED_BY_PARSER = /\/\.|%2e|["'<>`{} \\]/i;

/** Most distinct hosts remembered per scheme (the cache is emptied when full). */
const MAX_HOSTS = 256;
const httpHosts = new Map<string, string>();
const httpsHosts = new Map<string, string>();

/** `authority` as the URL parser leaves it for `origin` ("http://" or "https://"), remembered. */
function normalHost(origin: string, authority: string): string {
  const hosts = origin === "https://" ? httpsHosts : httpHosts;
  let host = hosts.get(authority);
  if (host === undefined) {
    try {
      host = new URL(`${origin}${authority}/`).host;
    } catch {
      host = authority; // refused earlier by the server's Host checks; kept as sent
    }
    if (hosts.size >= MAX_HOSTS) hosts.clear();
    hosts.set(authority, host);
  }
  return host;
}

/**
 * The URL of a request to `authority` (a Host or `:authority` the server
 * has checked) over `origin` (the connection's scheme and "://"), for
 * `rest`, the path and query ("/" first; "" or "?…" are given the root),
 * as the WHATWG URL parser would spell it.
 *
 * @example
 * ```ts
 * import { requestUrl } from "./request_url.ts";
 * console.log(requestUrl("http://", "Example.COM:80", "/a/../b?q")); // "http://example.com/b?q"
 * ```
 */
export function requestUrl(origin: "http://" | "https://", authority: string, rest: string): string {
  const path = rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
  const url = `${origin}${normalHost(origin, authority)}${path}`;
  if (!CHANGED_BY_PARSER.test(path)) return url;
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
