/**
 * Blocking TLS to the target through a proxy: `connectTLSViaProxySync`
 * opens the tunnel with `connectViaProxySync` (the fd is then a plain
 * stream to the target), wraps it with `TLSSocket.client` and completes the
 * handshake with what is left of `timeoutMs`. The server is verified as
 * `connectTLSSync` does (the name is the target host, or `servername`).
 *
 * @example
 * ```ts ignore
 * import { connectTLSViaProxySync } from "./tls_sync.ts";
 * using tls = connectTLSViaProxySync({ proxy: "http://127.0.0.1:3128", host: "example.com", port: 443, alpn: ["http/1.1"] });
 * console.log(tls.protocol);
 * ```
 *
 * @module
 */
import { SocketTimeoutError } from "../../core/errors.ts";
import { checkOptions, optionKeys } from "../../core/options.ts";
import { TLSContext } from "../../tls/context.ts";
import { CONTEXT_KEYS, type TLSContextOptions } from "../../tls/options.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, TLSSocket } from "../../tls/tls_socket.ts";
import { deadlineAfter, remainingMs } from "../wait.ts";
import { type ConnectViaProxySyncOptions, connectViaProxySync } from "./sync.ts";

/** Options of {@link connectTLSViaProxySync}: the tunnel's, plus TLS context options. */
export interface ConnectTLSViaProxySyncOptions extends ConnectViaProxySyncOptions, Omit<TLSContextOptions, "role"> {
  /** The name to verify and send as SNI when it differs from `host`. */
  readonly servername?: string;
  /** A client context to use instead of one made from the options here. */
  readonly context?: TLSContext;
  /** Limit for each send/recv after the handshake (0: none). */
  readonly ioTimeoutMs?: number;
  /** A session from an earlier connection's `session()`, to resume. */
  readonly session?: Uint8Array;
}

const TUNNEL_KEYS = ["proxy", "host", "port", "timeoutMs", "noDelay", "env"] as const;
const KEYS: ReadonlySet<string> = optionKeys(CONTEXT_KEYS, TUNNEL_KEYS, ["servername", "context", "ioTimeoutMs", "session"]);

/**
 * Connects through `proxy` to `host:port` and completes a TLS client
 * handshake over the tunnel, all within `timeoutMs` (default 10 000).
 *
 * @throws ProxyError, SocketTimeoutError, SocketError, TLSVerifyError,
 *   TLSHandshakeError
 *
 * @example
 * ```ts ignore
 * import { connectTLSViaProxySync } from "./tls_sync.ts";
 * using tls = connectTLSViaProxySync({ proxy: "socks5h://127.0.0.1:1080", host: "localhost", port: 8443, ca: caPem });
 * tls.sendAll(new TextEncoder().encode("ping"));
 * ```
 */
export function connectTLSViaProxySync(options: ConnectTLSViaProxySyncOptions): TLSSocket {
  checkOptions(options, KEYS, "connectTLSViaProxySync");
  if (options === undefined) throw new TypeError("connectTLSViaProxySync: an options object is required");
  const { proxy, host, port, timeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS, noDelay, env, servername, context, ioTimeoutMs, session, ...contextOptions } = options;
  if (context !== undefined && Object.keys(contextOptions).length > 0) {
    throw new TypeError("connectTLSViaProxySync: pass either context or context options, not both");
  }
  const ctx = context ?? new TLSContext({ ...contextOptions, role: "client" });
  try {
    const deadline = deadlineAfter(timeoutMs);
    const socket = connectViaProxySync({
      proxy,
      host,
      port,
      timeoutMs,
      secure: true,
      ...(noDelay === undefined ? {} : { noDelay }),
      ...(env === undefined ? {} : { env }),
    });
    let tls: TLSSocket;
    try {
      tls = TLSSocket.client(socket, ctx, {
        host: servername ?? host,
        ...(ioTimeoutMs === undefined ? {} : { timeoutMs: ioTimeoutMs }),
        ...(session === undefined ? {} : { session }),
      });
    } catch (err) {
      socket.close();
      throw err;
    }
    try {
      let budget = 0;
      if (timeoutMs > 0) {
        budget = remainingMs(deadline);
        if (budget === 0) throw new SocketTimeoutError(`TLS over the proxy timed out after ${timeoutMs} ms`, { syscall: "handshake" });
      }
      tls.handshake(budget);
    } catch (err) {
      tls.close();
      throw err;
    }
    return tls;
  } finally {
    // The connection holds its own reference to the SSL_CTX.
    if (context === undefined) ctx.close();
  }
}
