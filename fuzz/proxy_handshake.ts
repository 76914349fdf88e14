/**
 * Fuzz target for the proxy handshakes (socket/proxy): the first byte picks
 * the machine (HTTP CONNECT, SOCKS4, SOCKS4a, SOCKS5 without and with
 * credentials) and a split step; the rest is what the proxy "replies",
 * pushed in pieces (what a push leaves is pushed again after the next
 * request is taken). Only a `ProxyError` with an `ERR_` code may escape;
 * short of done, every push must consume at least one byte and at most the
 * piece; and the outcome (error code, or the count of tunnel bytes) must
 * not depend on the split. `proxy_url` inputs (first byte ≥ 0xf0) go through
 * `parseProxyURL` and `noProxyMatches` instead.
 *
 * @module
 */
import { ProxyError, UnsupportedError } from "../core/errors.ts";
import { noProxyMatches } from "../socket/proxy/env.ts";
import type { ProxyHandshake } from "../socket/proxy/handshake.ts";
import { HttpConnectHandshake } from "../socket/proxy/http_connect.ts";
import { Socks4Handshake } from "../socket/proxy/socks4.ts";
import { Socks5Handshake } from "../socket/proxy/socks5.ts";
import { parseProxyURL } from "../socket/proxy/url.ts";

const MAKERS: ReadonlyArray<() => ProxyHandshake> = [
  () => new HttpConnectHandshake({ host: "example.com", port: 443, username: "u", password: "p" }),
  () => new Socks4Handshake({ host: "10.0.0.1", port: 80 }),
  () => new Socks4Handshake({ host: "example.com", port: 80, remoteResolve: true }),
  () => new Socks5Handshake({ host: "example.com", port: 443 }),
  () => new Socks5Handshake({ host: "::1", port: 443, username: "user", password: "pass" }),
];

/** "done:<tunnel bytes>" or the error code. */
function run(make: () => ProxyHandshake, data: Uint8Array, step: number): string {
  const h = make();
  let tunnel = 0;
  try {
    h.takeOutput();
    for (let p = 0; p < data.length;) {
      const piece = data.subarray(p, Math.min(data.length, p + step));
      p += piece.length;
      if (h.done) {
        tunnel += piece.length;
        continue;
      }
      let rest = piece;
      while (rest.length > 0 && !h.done) {
        const used = h.push(rest);
        // Short of done, every push makes progress.
        if (!Number.isInteger(used) || used < 1 || used > rest.length) throw new Error(`push returned ${used} for ${rest.length} bytes`);
        rest = rest.subarray(used);
        h.takeOutput();
      }
      tunnel += rest.length;
    }
    if (!h.done) h.end();
    return `done:${tunnel}`;
  } catch (e) {
    if (e instanceof ProxyError && e.code.startsWith("ERR_")) return e.code;
    throw e;
  }
}

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./proxy_handshake.ts";
 * fuzz(new Uint8Array([3, 5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 80]));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  if (data.length === 0) return;
  const selector = data[0]!;
  const body = data.subarray(1);
  if (selector >= 0xf0) {
    const text = String.fromCharCode(...body.subarray(0, 4096));
    try {
      const c = parseProxyURL(text);
      if (!(c.port >= 1 && c.port <= 65535) || c.host === "") throw new Error("parseProxyURL returned an invalid config");
    } catch (e) {
      if (!(e instanceof TypeError || e instanceof UnsupportedError)) throw e;
    }
    noProxyMatches(text, "a.example.com", 443);
    return;
  }
  const make = MAKERS[selector % MAKERS.length]!;
  const step = 1 + ((selector >> 3) % 7);
  const a = run(make, body, step);
  const b = run(make, body, 1);
  if (a !== b) throw new Error(`split changed the outcome: ${a} vs ${b}`);
}

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/**
 * Valid inputs that mutations start from (used by scripts/fuzz.ts).
 *
 * @example
 * ```ts
 * import { fuzz, seeds } from "./proxy_handshake.ts";
 * for (const s of seeds) fuzz(s);
 * ```
 */
export const seeds: readonly Uint8Array[] = [
  new Uint8Array([0, ...enc("HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\nhello")]),
  new Uint8Array([0, ...enc("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")]),
  new Uint8Array([1, 0, 90, 0, 0, 0, 0, 0, 0, 1, 2]),
  new Uint8Array([2, 0, 91, 0, 0, 0, 0, 0, 0]),
  new Uint8Array([3, 5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 80, 9]),
  new Uint8Array([4, 5, 2, 1, 0, 5, 0, 0, 3, 3, 97, 98, 99, 0, 80]),
  new Uint8Array([4, 5, 2, 1, 0, 5, 0, 0, 4, ...new Array(16).fill(0), 0, 80]),
  new Uint8Array([0xf0, ...enc("socks5h://user:pa%40ss@[::1]:1080")]),
];
