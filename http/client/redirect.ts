/**
 * Redirects, as the Fetch standard's "HTTP-redirect fetch" does them, I/O
 * free: where the next request goes, with which method, body and header
 * fields.
 *
 * - 301 and 302 turn POST into GET; 303 turns every method but GET and
 *   HEAD into GET; the body and its `Content-*` fields go with it.
 * - 307 and 308 keep the method and send the body again (a body that
 *   cannot be replayed, such as a stream, fails the redirect).
 * - When the origin changes, `Authorization`, `Cookie` and
 *   `Proxy-Authorization` are dropped.
 * - https → http is refused unless allowed; so is a non-HTTP(S) Location.
 * - A Location's octets above 0x7F (field values reach us one char per
 *   octet) are read as UTF-8, as browsers and undici read them; octets
 *   that are not UTF-8 are percent-encoded as they are (curl's way).
 *
 * @example
 * ```ts
 * import { nextRedirect } from "./redirect.ts";
 * const step = nextRedirect(303, "POST", "/done", new URL("http://a.test/form"), true, false);
 * console.log(step.method, step.url.href, step.dropBody); // "GET" "http://a.test/done" true
 * ```
 *
 * @module
 */
import { HTTPError } from "../../core/errors.ts";

/**
 * Statuses that redirect (with a Location).
 *
 * @example
 * ```ts
 * import { REDIRECT_STATUSES } from "./redirect.ts";
 * console.log(REDIRECT_STATUSES.has(307), REDIRECT_STATUSES.has(304)); // true false
 * ```
 */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * Where a redirect goes.
 *
 * @example
 * ```ts
 * import type { RedirectStep } from "./redirect.ts";
 * const step: RedirectStep = { url: new URL("http://a.test/"), method: "GET", dropBody: true, crossOrigin: false };
 * ```
 */
export interface RedirectStep {
  /** The URL to request next (the resolved `Location`). */
  url: URL;
  /** The method to use for it (301/302 turn POST into GET; 303 turns all but GET and HEAD into GET). */
  method: string;
  /** Send no body (and drop the Content-* fields). */
  dropBody: boolean;
  /** The origin changed: drop the credentials fields. */
  crossOrigin: boolean;
}

/**
 * Fields dropped when a redirect changes origin.
 *
 * @example
 * ```ts
 * import { CREDENTIAL_FIELDS } from "./redirect.ts";
 * console.log(CREDENTIAL_FIELDS.has("cookie")); // true
 * ```
 */
export const CREDENTIAL_FIELDS: ReadonlySet<string> = new Set(["authorization", "cookie", "proxy-authorization"]);

/**
 * Fields dropped with the body (Fetch: request-body-header names).
 *
 * @example
 * ```ts
 * import { BODY_FIELDS } from "./redirect.ts";
 * console.log(BODY_FIELDS.has("content-type"), BODY_FIELDS.has("authorization")); // true false
 * ```
 */
export const BODY_FIELDS: ReadonlySet<string> = new Set(["content-encoding", "content-language", "content-location", "content-type", "content-length"]);

const fatalUTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The text of a Location field value whose octets arrived one char each
 * (`\u0080`–`\u00ff` for octets above 0x7F): UTF-8 decoded when they are
 * UTF-8 (`/caf\u00c3\u00a9` is `/café`, which the URL parser encodes
 * `/caf%C3%A9`), else each such octet percent-encoded as sent (`%E9`).
 * Before, the chars were taken as Latin-1 text and a UTF-8 path went out
 * as `/caf%C3%83%C2%A9`. A value with a char above `\u00ff` is not octets
 * and is left as it is.
 *
 * @example
 * ```ts
 * import { locationText } from "./redirect.ts";
 * locationText("/caf\u00c3\u00a9"); // "/café"
 * locationText("/caf\u00e9"); // "/caf%E9"
 * ```
 */
export function locationText(location: string): string {
  if (!/[\u0080-\uffff]/.test(location) || /[\u0100-\uffff]/.test(location)) return location;
  const octets = new Uint8Array(location.length);
  for (let i = 0; i < location.length; i++) octets[i] = location.charCodeAt(i);
  try {
    return fatalUTF8.decode(octets);
  } catch {
    return location.replace(/[\u0080-\u00ff]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  }
}

/**
 * Works out the next request of a redirect.
 *
 * @param status the 3xx status
 * @param method the method of the request that got it
 * @param location the Location field's value
 * @param current the URL that answered
 * @param hasBody whether the request had a body
 * @param bodyReplayable whether that body can be sent again
 * @param allowDowngrade follow https → http
 * @throws HTTPError `ERR_HTTP_REDIRECT_LOCATION` (bad Location), `ERR_HTTP_REDIRECT_DOWNGRADE`,
 * `ERR_HTTP_REDIRECT_BODY` (307/308 with a body sent once already).
 * @example
 * ```ts
 * import { nextRedirect } from "./redirect.ts";
 * const step = nextRedirect(307, "PUT", "http://b.test/x", new URL("http://a.test/"), true, true);
 * console.log(step.method, step.dropBody, step.crossOrigin); // "PUT" false true
 * ```
 */
export function nextRedirect(
  status: number,
  method: string,
  location: string,
  current: URL,
  hasBody: boolean,
  bodyReplayable: boolean,
  allowDowngrade = false,
): RedirectStep {
  let url: URL;
  try {
    url = new URL(locationText(location), current);
  } catch {
    throw new HTTPError("ERR_HTTP_REDIRECT_LOCATION", `invalid Location: ${JSON.stringify(location.slice(0, 200))}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new HTTPError("ERR_HTTP_REDIRECT_LOCATION", `redirect to a ${url.protocol} URL`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new HTTPError("ERR_HTTP_REDIRECT_LOCATION", "redirect to a URL with credentials");
  }
  if (current.protocol === "https:" && url.protocol === "http:" && !allowDowngrade) {
    throw new HTTPError("ERR_HTTP_REDIRECT_DOWNGRADE", `refused to follow a redirect from https to ${url.origin}`);
  }
  if (current.hash !== "" && url.hash === "") url.hash = current.hash;
  let next = method;
  let dropBody = false;
  if (((status === 301 || status === 302) && method === "POST") || (status === 303 && method !== "GET" && method !== "HEAD")) {
    next = "GET";
    dropBody = true;
  } else if (hasBody && !bodyReplayable) {
    throw new HTTPError("ERR_HTTP_REDIRECT_BODY", `a ${status} redirect needs the body again, and it was a stream sent once`);
  }
  return { url, method: next, dropBody: dropBody || !hasBody, crossOrigin: url.origin !== current.origin };
}
