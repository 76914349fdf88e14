/**
 * `Set-Cookie` parsing as RFC 6265bis §5.6 (draft-ietf-httpbis-rfc6265bis)
 * specifies it for user agents: lenient where the algorithm is lenient
 * (unknown attributes and bad attribute values are dropped, the last
 * attribute of a name wins) and whole-cookie refusal where it refuses
 * (control characters, name and value together over 4096 bytes). An ignored
 * cookie is `null`, never an exception: a server's bad cookie is no error of
 * the client's.
 *
 * Dates follow the cookie-date algorithm of §5.1.1 (`parseCookieDate`).
 * Expiry is kept as an absolute time, so parsing takes the current time:
 * `Max-Age` and `Expires` are capped at 400 days ahead (§5.6.1, §5.6.2).
 *
 * @example
 * ```ts
 * import { parseSetCookie } from "./cookie_parse.ts";
 * const c = parseSetCookie("sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=60", 0);
 * console.log(c?.name, c?.path, c?.expires); // "sid" "/" 60000
 * ```
 *
 * @module
 */

/**
 * Longest name plus value kept (§5.6 step 5).
 *
 * @example
 * ```ts
 * import { MAX_COOKIE_NAME_VALUE_BYTES } from "./cookie_parse.ts";
 * console.log(MAX_COOKIE_NAME_VALUE_BYTES); // 4096
 * ```
 */
export const MAX_COOKIE_NAME_VALUE_BYTES = 4096;
/**
 * Longest attribute value kept (§5.6 step 6 of the attribute loop).
 *
 * @example
 * ```ts
 * import { MAX_COOKIE_ATTRIBUTE_BYTES } from "./cookie_parse.ts";
 * console.log(MAX_COOKIE_ATTRIBUTE_BYTES); // 1024
 * ```
 */
export const MAX_COOKIE_ATTRIBUTE_BYTES = 1024;
/**
 * Farthest expiry accepted: 400 days (§5.6.1).
 *
 * @example
 * ```ts
 * import { MAX_COOKIE_AGE_MS } from "./cookie_parse.ts";
 * console.log(MAX_COOKIE_AGE_MS / 86_400_000); // 400
 * ```
 */
export const MAX_COOKIE_AGE_MS = 400 * 24 * 3600 * 1000;

/** The SameSite attribute: `default` when absent or unrecognised (§5.6.7). */
export type SameSite = "strict" | "lax" | "none" | "default";

/**
 * One `Set-Cookie` value after parsing, before the jar applies its storage
 * rules. `path` null means the attribute was absent or not absolute, so the
 * request's default-path applies. `expires` is an epoch time in ms, null
 * for a session cookie; a `Max-Age` of zero or less gives `-Infinity`.
 *
 * @example
 * ```ts
 * import type { ParsedSetCookie } from "./cookie_parse.ts";
 * const c: ParsedSetCookie = { name: "a", value: "1", domain: null, path: null, pathAttribute: false, expires: null, secure: false, httpOnly: false, sameSite: "default" };
 * ```
 */
export interface ParsedSetCookie {
  /** The cookie name (empty when the pair had no '='). */
  name: string;
  /** The cookie value. */
  value: string;
  /** Lower-case, leading dot removed; null when absent. */
  domain: string | null;
  /** The Path attribute when absolute, else null (default-path). */
  path: string | null;
  /** A Path attribute was present (even a bad one): `__Host-` needs one (§5.7 step 20). */
  pathAttribute: boolean;
  /** Expiry in epoch ms (Max-Age over Expires); null for a session cookie. */
  expires: number | null;
  /** The Secure attribute. */
  secure: boolean;
  /** The HttpOnly attribute. */
  httpOnly: boolean;
  /** The SameSite attribute. */
  sameSite: SameSite;
}

// %x00-08 / %x0A-1F / %x7F: tab is allowed (§5.6 step 1).
const FORBIDDEN_CTL = /[\x00-\x08\x0a-\x1f\x7f]/;
const WSP_EDGES = /^[ \t]+|[ \t]+$/g;
const trimWSP = (s: string): string => s.replace(WSP_EDGES, "");
const utf8Length = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
};

/**
 * Parses one `Set-Cookie` field value received at `now` (epoch ms); null
 * when §5.6 says to ignore the cookie.
 *
 * @example
 * ```ts
 * import { parseSetCookie } from "./cookie_parse.ts";
 * parseSetCookie("a=b; Domain=.Example.COM", Date.now())?.domain; // "example.com"
 * parseSetCookie("a=\x01", Date.now()); // null
 * ```
 */
export function parseSetCookie(setCookie: string, now: number): ParsedSetCookie | null {
  if (FORBIDDEN_CTL.test(setCookie)) return null;
  const semi = setCookie.indexOf(";");
  const pair = semi < 0 ? setCookie : setCookie.slice(0, semi);
  const eq = pair.indexOf("=");
  const name = trimWSP(eq < 0 ? "" : pair.slice(0, eq));
  const value = trimWSP(eq < 0 ? pair : pair.slice(eq + 1));
  if (name === "" && value === "") return null;
  if (utf8Length(name) + utf8Length(value) > MAX_COOKIE_NAME_VALUE_BYTES) return null;
  const cookie: ParsedSetCookie = { name, value, domain: null, path: null, pathAttribute: false, expires: null, secure: false, httpOnly: false, sameSite: "default" };
  if (semi < 0) return cookie;
  let maxAge: number | null = null;
  let expires: number | null = null;
  for (const av of setCookie.slice(semi + 1).split(";")) {
    const avEq = av.indexOf("=");
    const attrName = trimWSP(avEq < 0 ? av : av.slice(0, avEq)).toLowerCase();
    const attrValue = trimWSP(avEq < 0 ? "" : av.slice(avEq + 1));
    if (utf8Length(attrValue) > MAX_COOKIE_ATTRIBUTE_BYTES) continue;
    switch (attrName) {
      case "expires": {
        const t = parseCookieDate(attrValue);
        if (t !== null) expires = Math.min(t, now + MAX_COOKIE_AGE_MS);
        break;
      }
      case "max-age": {
        if (!/^-?[0-9]+$/.test(attrValue)) break;
        const seconds = Number(attrValue);
        maxAge = seconds <= 0 ? -Infinity : now + Math.min(seconds * 1000, MAX_COOKIE_AGE_MS);
        break;
      }
      case "domain":
        if (attrValue !== "") cookie.domain = (attrValue.startsWith(".") ? attrValue.slice(1) : attrValue).toLowerCase();
        break;
      case "path":
        cookie.path = attrValue.startsWith("/") ? attrValue : null;
        cookie.pathAttribute = true;
        break;
      case "secure":
        cookie.secure = true;
        break;
      case "httponly":
        cookie.httpOnly = true;
        break;
      case "samesite": {
        const v = attrValue.toLowerCase();
        cookie.sameSite = v === "none" || v === "strict" || v === "lax" ? v : "default";
        break;
      }
    }
  }
  cookie.expires = maxAge ?? expires;
  return cookie;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
// delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E (§5.1.1)
const DELIMITER = /[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+/;

/**
 * The cookie-date algorithm of RFC 6265bis §5.1.1: an epoch time in ms, or
 * null for a date it does not accept.
 *
 * @example
 * ```ts
 * import { parseCookieDate } from "./cookie_parse.ts";
 * parseCookieDate("Wed, 21 Oct 2015 07:28:00 GMT"); // 1445412480000
 * parseCookieDate("soon"); // null
 * ```
 */
export function parseCookieDate(text: string): number | null {
  let time: [number, number, number] | null = null;
  let day: number | null = null;
  let month: number | null = null;
  let year: number | null = null;
  for (const token of text.split(DELIMITER)) {
    if (token === "") continue;
    if (time === null) {
      const m = /^([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[^0-9]|$)/.exec(token);
      if (m) {
        time = [Number(m[1]), Number(m[2]), Number(m[3])];
        continue;
      }
    }
    if (day === null) {
      const m = /^([0-9]{1,2})(?:[^0-9]|$)/.exec(token);
      if (m) {
        day = Number(m[1]);
        continue;
      }
    }
    if (month === null && token.length >= 3) {
      const i = MONTHS.indexOf(token.slice(0, 3).toLowerCase());
      if (i >= 0) {
        month = i;
        continue;
      }
    }
    if (year === null) {
      const m = /^([0-9]{2,4})(?:[^0-9]|$)/.exec(token);
      if (m) {
        year = Number(m[1]);
        continue;
      }
    }
  }
  if (year !== null && year >= 70 && year <= 99) year += 1900;
  else if (year !== null && year >= 0 && year <= 69) year += 2000;
  if (time === null || day === null || month === null || year === null) return null;
  if (day < 1 || day > 31 || year < 1601 || time[0] > 23 || time[1] > 59 || time[2] > 59) return null;
  const t = Date.UTC(year, month, day, time[0], time[1], time[2]);
  // A day past the month's end (31 Feb) is not a date.
  if (new Date(t).getUTCDate() !== day) return null;
  return t;
}
