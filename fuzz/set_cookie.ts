/**
 * Fuzz target for cookies: the input, as Latin-1 text, is split at NUL
 * into Set-Cookie values that a `CookieJar` (small limits, a fixed clock)
 * stores from URLs picked by the first byte, then a Cookie header is built
 * for each URL and the jar goes through JSON and back. `parseSetCookie`
 * and `setCookie` must never throw (a bad cookie is ignored, not an
 * error); the header must hold no control character or `;` inside a
 * pair; the limits must hold; the JSON copy must send the same header.
 *
 * @module
 */
import { CookieJar } from "../http/client/cookie_jar.ts";
import { parseSetCookie } from "../http/client/cookie_parse.ts";

const URLS = [
  "http://example.com/",
  "https://a.example.com/x/y",
  "http://127.0.0.1:8080/p/",
  "https://localhost/",
  "http://example.co.uk/a",
  "http://[::1]/v6",
];
const NOW = Date.UTC(2026, 0, 1);

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./set_cookie.ts";
 * fuzz(new TextEncoder().encode("\x00a=b; Path=/; Secure"));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  if (data.length === 0) return;
  let text = "";
  for (let i = 1; i < data.length; i++) text += String.fromCharCode(data[i]!);
  const jar = new CookieJar({ now: () => NOW, maxCookiesPerDomain: 4, maxCookies: 8 });
  let pick = data[0]!;
  for (const value of text.split("\x00")) {
    const parsed = parseSetCookie(value, NOW);
    if (parsed !== null && parsed.name === "" && parsed.value === "") throw new Error("an empty cookie was kept");
    const url = URLS[pick % URLS.length]!;
    pick = (pick * 7 + 3) & 0xff;
    const stored = jar.setCookie(value, url);
    if (stored !== null && parsed === null) throw new Error("a cookie the parser ignores was stored");
  }
  const all = jar.cookies();
  if (all.length > 8) throw new Error("the total limit does not hold");
  const copy = CookieJar.fromJSON(JSON.stringify(jar), { now: () => NOW });
  for (const url of URLS) {
    const header = jar.getCookieHeader(url);
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(header)) throw new Error("control character in a Cookie header");
    if (copy.getCookieHeader(url) !== header) throw new Error("the JSON copy sends another header");
  }
}

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * Valid inputs that mutations start from (used by scripts/fuzz.ts).
 *
 * @example
 * ```ts
 * import { fuzz, seeds } from "./set_cookie.ts";
 * for (const s of seeds) fuzz(s);
 * ```
 */
export const seeds: readonly Uint8Array[] = [
  enc("\x00sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=60"),
  enc("\x01a=1; Domain=.example.com; Expires=Wed, 21 Oct 2015 07:28:00 GMT\x00b=2; Path=/x"),
  enc("\x03__Host-x=1; Secure; Path=/\x00__Secure-y=2; Secure; Domain=localhost"),
  enc("\x02=v; Domain=127.0.0.1\x00lonely\x00c=\"q\"; SameSite=None; Secure"),
];
