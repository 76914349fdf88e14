/**
 * Fields that must not be sent in, nor taken from, a trailer section (RFC
 * 9110 §6.5.1): a recipient that merged them into the header section would
 * let a message's end rewrite its framing, routing, authentication or how
 * its content is processed. One list for every HTTP version's sender and
 * receiver.
 *
 * @example
 * ```ts
 * import { isProhibitedTrailer } from "./trailer_fields.ts";
 * console.log(isProhibitedTrailer("Content-Length"), isProhibitedTrailer("grpc-status")); // true false
 * ```
 *
 * @module
 */

/**
 * The prohibited names, lower case, by the categories of RFC 9110 §6.5.1.
 *
 * @example
 * ```ts
 * import { PROHIBITED_TRAILER_FIELDS } from "./trailer_fields.ts";
 * console.log(PROHIBITED_TRAILER_FIELDS.has("host")); // true
 * ```
 */
export const PROHIBITED_TRAILER_FIELDS: ReadonlySet<string> = new Set([
  // message framing (§6.4, RFC 9112 §6) and connection handling (§7.6)
  "content-length",
  "transfer-encoding",
  "trailer",
  "te",
  "connection",
  "keep-alive",
  "proxy-connection",
  "upgrade",
  // routing (§7.2)
  "host",
  ":authority",
  // request modifiers: controls (§7.6.2, §10.1) and conditionals (§13.1)
  "max-forwards",
  "expect",
  "cache-control",
  "pragma",
  "range",
  "if-match",
  "if-none-match",
  "if-modified-since",
  "if-unmodified-since",
  "if-range",
  // authentication (§11) and state (RFC 6265)
  "authorization",
  "proxy-authorization",
  "www-authenticate",
  "proxy-authenticate",
  "authentication-info",
  "proxy-authentication-info",
  "cookie",
  "set-cookie",
  // response control data (§15, RFC 9111)
  "age",
  "expires",
  "date",
  "location",
  "retry-after",
  "vary",
  "warning",
  // how to process the content (§8)
  "content-type",
  "content-encoding",
  "content-range",
  "content-language",
  "content-location",
]);

/**
 * Tells whether `name` (any case) may not appear in a trailer section.
 *
 * @example
 * ```ts
 * import { isProhibitedTrailer } from "./trailer_fields.ts";
 * console.log(isProhibitedTrailer("Authorization")); // true
 * ```
 */
export function isProhibitedTrailer(name: string): boolean {
  return PROHIBITED_TRAILER_FIELDS.has(name.toLowerCase());
}
