/**
 * The `tls` option of `serve`: a TLS listener whose handshake offers ALPN
 * `h2` then `http/1.1` (only `http/1.1` with `http2: false`; a client that
 * offers neither still gets HTTP/1.1), each connection handed by
 * `alpnHandler` to an HTTP/2 or an HTTP/1.1 session.
 *
 * @example
 * ```ts ignore
 * import { serve } from "./serve.ts";
 * declare const cert: string, key: string;
 * serve({ port: 8443, tls: { cert, key }, fetch: () => new Response("hello over h2 or http/1.1") });
 * ```
 *
 * @module
 */
import type { ConnectionHandler } from "../../poll/connection.ts";
import type { Logger } from "../../core/log.ts";
import type { ConnectionGate } from "../../poll/listener.ts";
import type { Loop } from "../../poll/loop.ts";
import { listenTLS, type ListenTLSOptions, type TLSConnectionSettings, type TLSListener } from "../../tls/connect_async.ts";

/**
 * TLS settings of a server: certificate and key (or a server `context`),
 * the rest of the TLS settings, and `maxHandshakes` (the most handshakes in
 * progress at once, as {@link ListenTLSOptions.maxHandshakes}); ALPN is the
 * server's to choose.
 *
 * @example
 * ```ts
 * import type { ServeTLSOptions } from "./tls_listen.ts";
 * declare const cert: string, key: string;
 * const tls: ServeTLSOptions = { cert, key, handshakeTimeoutMs: 5000, maxHandshakes: 512 };
 * ```
 */
export type ServeTLSOptions = Omit<TLSConnectionSettings, "servername" | "session" | "alpn" | "alpnMismatch"> & Pick<ListenTLSOptions, "maxHandshakes">;

/**
 * Listens with TLS for `serve`, ALPN `h2` (when `http2`) and `http/1.1`.
 *
 * @throws TypeError for a key the TLS settings do not have; TLSError for a context OpenSSL refuses.
 * @example
 * ```ts ignore
 * import { listenServeTLS } from "./tls_listen.ts";
 * declare const cert: string, key: string;
 * const listener = listenServeTLS({ cert, key }, { host: "127.0.0.1", port: 0 }, { data: (c, d) => c.send(d) }, true);
 * listener.close();
 * ```
 */
export function listenServeTLS(
  tls: ServeTLSOptions,
  where: { host: string; port: number; reusePort?: boolean | undefined; loop?: Loop; onError?: (error: Error) => void; protect?: ConnectionGate; logger?: Logger },
  handler: ConnectionHandler,
  http2: boolean,
): TLSListener {
  if (tls === null || typeof tls !== "object") throw new TypeError("serve: tls must be an object");
  for (const key of ["alpn", "alpnMismatch", "servername", "session"]) {
    if (key in tls) throw new TypeError(`serve: tls.${key} is not a server setting serve takes`);
  }
  const options: ListenTLSOptions = {
    ...tls,
    host: where.host,
    port: where.port,
    handler,
    alpn: http2 ? ["h2", "http/1.1"] : ["http/1.1"],
    alpnMismatch: "ignore",
    ...(where.reusePort !== undefined ? { reusePort: where.reusePort } : {}),
    ...(where.loop !== undefined ? { loop: where.loop } : {}),
    ...(where.onError !== undefined ? { onError: where.onError } : {}),
    ...(where.protect !== undefined ? { protect: where.protect } : {}),
    ...(where.logger !== undefined ? { logger: where.logger } : {}),
  };
  return listenTLS(options);
}
