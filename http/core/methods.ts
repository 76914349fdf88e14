/**
 * Request methods (RFC 9110 §9, RFC 5789): the standard ones with their
 * properties, and validation of extension methods (any token).
 *
 * @example
 * ```ts
 * import { isSafeMethod, isValidMethod } from "./methods.ts";
 * console.log(isSafeMethod("GET"), isValidMethod("PURGE"), isValidMethod("BAD METHOD")); // true true false
 * ```
 *
 * @module
 */
import { isToken } from "./headers.ts";

/**
 * The methods RFC 9110 defines, plus PATCH (RFC 5789).
 *
 * @example
 * ```ts
 * import { STANDARD_METHODS } from "./methods.ts";
 * console.log(STANDARD_METHODS.includes("PATCH")); // true
 * ```
 */
export const STANDARD_METHODS: readonly string[] = Object.freeze([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
]);

const SAFE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/**
 * Tells whether `method` is a valid method token (RFC 9110 §9.1: methods
 * are case-sensitive tokens; extension methods are allowed).
 *
 * @example
 * ```ts
 * import { isValidMethod } from "./methods.ts";
 * console.log(isValidMethod("M-SEARCH")); // true
 * ```
 */
export function isValidMethod(method: string): boolean {
  return isToken(method);
}

/**
 * Tells whether a method is safe (RFC 9110 §9.2.1).
 *
 * @example
 * ```ts
 * import { isSafeMethod } from "./methods.ts";
 * console.log(isSafeMethod("POST")); // false
 * ```
 */
export function isSafeMethod(method: string): boolean {
  return SAFE.has(method);
}

/**
 * Tells whether a method is idempotent (RFC 9110 §9.2.2), so a request may
 * be retried automatically.
 *
 * @example
 * ```ts
 * import { isIdempotentMethod } from "./methods.ts";
 * console.log(isIdempotentMethod("PUT")); // true
 * ```
 */
export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/**
 * Normalizes a method the way `fetch` does: the six methods DELETE, GET,
 * HEAD, OPTIONS, POST and PUT are upper-cased case-insensitively; others are
 * kept as given. Throws TypeError for a non-token.
 *
 * @example
 * ```ts
 * import { normalizeMethod } from "./methods.ts";
 * console.log(normalizeMethod("post"), normalizeMethod("patch")); // "POST" "patch"
 * ```
 */
export function normalizeMethod(method: string): string {
  if (!isToken(method)) throw new TypeError(`Invalid method ${JSON.stringify(method)}`);
  const upper = method.toUpperCase();
  return upper === "DELETE" || upper === "GET" || upper === "HEAD" || upper === "OPTIONS" ||
      upper === "POST" || upper === "PUT"
    ? upper
    : method;
}
