/**
 * Request-target checks for the HTTP/1.1 parser (RFC 9112 §3.2). The bytes
 * were already checked against the target byte class; this decides the form
 * and checks its structure: origin-form (`/path?query` with valid
 * pct-encoding), asterisk-form (OPTIONS only), authority-form (CONNECT
 * only, and required for it) and absolute-form.
 *
 * @example
 * ```ts
 * import { isValidRequestTarget } from "./target.ts";
 * const t = new TextEncoder().encode("/a%2Fb?c");
 * console.log(isValidRequestTarget(t, 0, t.length, "GET")); // true
 * ```
 *
 * @module
 */
import { parseRequestTarget } from "../core/uri.ts";
import { latin1 } from "./fields.ts";
import { HEX_VALUE } from "./tables.ts";

/**
 * Tells whether the target bytes `buf[start..end)` are a valid request-target
 * for `method`.
 *
 * @example
 * ```ts
 * import { isValidRequestTarget } from "./target.ts";
 * const t = new TextEncoder().encode("*");
 * console.log(isValidRequestTarget(t, 0, 1, "GET")); // false
 * ```
 */
export function isValidRequestTarget(buf: Uint8Array, start: number, end: number, method: string): boolean {
  if (buf[start] === 0x2f && method !== "CONNECT") {
    for (let i = start + 1; i < end; i++) {
      const c = buf[i]!;
      if (c === 0x25) {
        if (i + 2 >= end || HEX_VALUE[buf[i + 1]!]! < 0 || HEX_VALUE[buf[i + 2]!]! < 0) return false;
        i += 2;
      } else if (c === 0x5b || c === 0x5d) {
        return false;
      }
    }
    return true;
  }
  try {
    parseRequestTarget(latin1(buf, start, end), method);
    return true;
  } catch {
    return false;
  }
}
