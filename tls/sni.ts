/**
 * Server-side SNI: picking a context by the name the client sent. The
 * matching is pure (exact name, case-insensitive, then a `*.` wildcard
 * covering one label); the callback switches the connection's `SSL_CTX`
 * (`SSL_set_SSL_CTX`) and never throws into C.
 *
 * @example
 * ```ts
 * import { matchServername } from "./sni.ts";
 * console.log(matchServername("api.example.com", ["example.com", "*.example.com"])); // "*.example.com"
 * ```
 *
 * @module
 */
import { libssl } from "../ffi/libssl.ts";
import { readCString } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import type { NativeCallback, Pointer } from "../ffi/types.ts";
import { SSL_TLSEXT_ERR, TLSEXT_NAMETYPE_HOST_NAME } from "./ctrl.ts";

/**
 * The entry of `names` that `servername` selects, or undefined.
 *
 * @example
 * ```ts
 * import { matchServername } from "./sni.ts";
 * console.log(matchServername("a.b.example.com", ["*.example.com"])); // undefined: one label only
 * ```
 */
export function matchServername(servername: string, names: readonly string[]): string | undefined {
  const wanted = servername.toLowerCase().replace(/\.$/, "");
  if (wanted === "") return undefined;
  const exact = names.find((n) => n.toLowerCase() === wanted);
  if (exact !== undefined) return exact;
  const dot = wanted.indexOf(".");
  if (dot <= 0) return undefined;
  const parent = wanted.slice(dot + 1);
  return names.find((n) => n.startsWith("*.") && n.slice(2).toLowerCase() === parent);
}

/**
 * The servername callback: `choose` maps the client's name to an `SSL_CTX`
 * (null keeps the default context).
 *
 * @example
 * ```ts
 * import { makeServernameCallback } from "./sni.ts";
 * const cb = makeServernameCallback(() => null);
 * cb.close();
 * ```
 */
export function makeServernameCallback(choose: (servername: string) => Pointer | null): NativeCallback {
  // int servername_cb(SSL *s, int *al, void *arg)
  return native.callback({ args: ["pointer", "pointer", "pointer"], result: "i32" }, ((ssl: Pointer | null) => {
    try {
      if (ssl === null) return SSL_TLSEXT_ERR.OK;
      const lib = libssl();
      const name = readCString(lib.SSL_get_servername(ssl, TLSEXT_NAMETYPE_HOST_NAME), 256);
      const ctx = name === "" ? null : choose(name);
      if (ctx !== null) lib.SSL_set_SSL_CTX(ssl, ctx);
    } catch {
      // never throw into C: the default context serves
    }
    return SSL_TLSEXT_ERR.OK;
  }) as never);
}
