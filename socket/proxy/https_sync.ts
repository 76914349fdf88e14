/**
 * Blocking tunnels through an `https://` proxy: `connectViaHttpsProxySync`
 * connects to the proxy, runs TLS to the proxy itself with a blocking
 * {@link TLSSocket} (verified like any TLS server: the proxy's name, or the
 * settings' `servername`, and `ca` or the system trust store), then the
 * HTTP CONNECT handshake inside it, all within the timeout. It returns that
 * `TLSSocket`, which now carries the tunnel: its `send`/`recv` are the
 * target's stream (TLS to the proxy around it).
 *
 * It cannot be a plain {@link Socket} as `connectViaProxySync` returns: the
 * descriptor carries TLS records to the proxy. For the same reason TLS to
 * the target inside it (TLS in TLS) is not offered here: that needs the
 * memory-BIO mode of the loop (`connect({ proxy, tls })`).
 *
 * The reply is read with `SSL_peek` and consumed exactly, so bytes the
 * target sent right after the proxy's reply stay for the first `recv`.
 *
 * Blocking: it holds the thread (and so a Loop on it) until done.
 *
 * @example
 * ```ts ignore
 * import { connectViaHttpsProxySync } from "./https_sync.ts";
 * using tunnel = connectViaHttpsProxySync({ proxy: "https://user:pass@proxy.example:443", host: "10.0.0.5", port: 80, timeoutMs: 5000 });
 * tunnel.sendAll(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 * ```
 *
 * @module
 */
import { SocketTimeoutError, TLSError } from "../../core/errors.ts";
import { checkOptions } from "../../core/options.ts";
import type { TLSConnectionSettings } from "../../tls/connect_async.ts";
import { TLSContext } from "../../tls/context.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, TLSSocket } from "../../tls/tls_socket.ts";
import { connectTCPSync } from "../connect.ts";
import type { Socket } from "../socket.ts";
import { checkTimeout, getDefaultTimeouts } from "../timeouts.ts";
import { deadlineAfter } from "../wait.ts";
import type { EnvReader } from "./env.ts";
import { checkTargetPort, type ProxyHandshake } from "./handshake.ts";
import { chooseProxy, makeProxyHandshake, type ProxyOption } from "./plan.ts";
import { handshakeBudget, handshakeTimedOut } from "./sync.ts";
import type { ProxyConfig, ProxyTLSSettings } from "./url.ts";

/** Options of {@link connectViaHttpsProxySync}. */
export interface ConnectViaHttpsProxySyncOptions {
  /** The proxy: an `https://` URL, a config, or "env" (which must name an https:// proxy for this target). */
  readonly proxy: ProxyOption;
  /** The target host (IP literal or name; the proxy resolves names). */
  readonly host: string;
  /** The target port. */
  readonly port: number;
  /** Limit for everything (connect, TLS to the proxy, CONNECT) in ms; 0: none (default: the connect timeout). */
  readonly timeoutMs?: number;
  /** The tunnel will carry TLS: `"env"` reads HTTPS_PROXY instead of HTTP_PROXY (default false). */
  readonly secure?: boolean;
  /** TCP_NODELAY on the socket (default true). */
  readonly noDelay?: boolean;
  /** Reads environment variables for `"env"` (default: the process environment). */
  readonly env?: EnvReader;
  /** TLS settings for the proxy when its config has no `tls` of its own (a URL, "env"). */
  readonly proxyTls?: ProxyTLSSettings;
  /** Limit for each send/recv on the returned tunnel (0: none, the default). */
  readonly ioTimeoutMs?: number;
}

const KEYS: ReadonlySet<string> = new Set(["proxy", "host", "port", "timeoutMs", "secure", "noDelay", "env", "proxyTls", "ioTimeoutMs"]);

/** Bytes read per peek; a reply longer than this arrives over several. */
const PEEK_BYTES = 4096;

/**
 * Opens a blocking tunnel to `host:port` through an `https://` proxy and
 * returns the TLS connection to the proxy that carries it (see the module
 * text).
 *
 * @throws TypeError when the proxy chosen is not `https://` (use
 *   `connectViaProxySync`) or for bad options; TLSVerifyError /
 *   TLSHandshakeError for the proxy's TLS; ProxyError (refused, garbage,
 *   closed mid-handshake); SocketTimeoutError (ETIMEDOUT: the proxy
 *   stalled); SocketError; DNSError
 *
 * @example
 * ```ts ignore
 * import { connectViaHttpsProxySync } from "./https_sync.ts";
 * using tunnel = connectViaHttpsProxySync({
 *   proxy: { protocol: "https", host: "127.0.0.1", port: 8443, tls: { ca: caPem, servername: "proxy.internal" } },
 *   host: "db.internal",
 *   port: 5432,
 * });
 * ```
 */
export function connectViaHttpsProxySync(options: ConnectViaHttpsProxySyncOptions): TLSSocket {
  checkOptions(options, KEYS, "connectViaHttpsProxySync");
  if (options === undefined) throw new TypeError("connectViaHttpsProxySync: an options object is required");
  const { host, secure = false, noDelay = true, env, proxyTls, ioTimeoutMs } = options;
  const port = checkTargetPort(options.port, "connectViaHttpsProxySync");
  if (typeof host !== "string" || host === "") throw new TypeError("connectViaHttpsProxySync: host must be a non-empty string");
  const timeoutMs = checkTimeout(options.timeoutMs ?? getDefaultTimeouts().connectMs, "timeoutMs");
  const proxy = chooseProxy(options.proxy, host, port, secure, env);
  if (proxy === null || proxy.protocol !== "https") {
    const chosen = proxy === null ? "no proxy applies to this target" : `the proxy is ${proxy.protocol}://`;
    throw new TypeError(`connectViaHttpsProxySync needs an https:// proxy (${chosen}): use connectViaProxySync`);
  }
  const settings: TLSConnectionSettings = proxy.tls ?? proxyTls ?? {};
  if (settings === null || typeof settings !== "object" || Array.isArray(settings)) throw new TypeError("proxyTls must be an object of TLS settings");
  const { context, servername, session, handshakeTimeoutMs, allowTruncation, ...contextOptions } = settings;
  if (allowTruncation !== undefined) throw new TypeError("proxyTls.allowTruncation is not available on a blocking TLSSocket");
  if (context !== undefined && Object.keys(contextOptions).length > 0) {
    throw new TypeError("connectViaHttpsProxySync: pass either a context or context options for the proxy's TLS, not both");
  }
  const deadline = deadlineAfter(timeoutMs);
  const handshake = makeProxyHandshake(proxy, { host, port });
  const ctx = context ?? new TLSContext({ ...contextOptions, role: "client" });
  try {
    const socket: Socket = connectTCPSync(proxy.host, proxy.port, handshakeBudget(deadline, timeoutMs, proxy), { noDelay });
    let tls: TLSSocket;
    try {
      tls = TLSSocket.client(socket, ctx, {
        host: servername ?? proxy.host,
        ...(ioTimeoutMs === undefined ? {} : { timeoutMs: ioTimeoutMs }),
        ...(session === undefined ? {} : { session }),
      });
    } catch (err) {
      socket.close();
      throw err;
    }
    try {
      let limit = handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
      if (timeoutMs > 0) {
        const left = handshakeBudget(deadline, timeoutMs, proxy);
        if (limit === 0 || left < limit) limit = left;
      }
      tls.handshake(limit);
      runProxyHandshakeOverTLSSync(tls, handshake, deadline, timeoutMs, proxy);
      return tls;
    } catch (err) {
      tls.close();
      throw err;
    }
  } finally {
    // The connection holds its own reference to the SSL_CTX.
    if (context === undefined) ctx.close();
  }
}

/**
 * Drives `handshake` over a blocking TLS connection to the proxy until it
 * is done, within `deadline` (Infinity: none). The reply is peeked and
 * consumed exactly: what follows it stays in the TLS connection.
 *
 * @throws ProxyError, SocketTimeoutError, TLSError, SocketError
 *
 * @example
 * ```ts ignore
 * import { runProxyHandshakeOverTLSSync } from "./https_sync.ts";
 * runProxyHandshakeOverTLSSync(tls, new HttpConnectHandshake({ host: "10.0.0.1", port: 80 }), Infinity, 0, proxy);
 * ```
 */
export function runProxyHandshakeOverTLSSync(tls: TLSSocket, handshake: ProxyHandshake, deadline: number, timeoutMs: number, proxy: ProxyConfig): void {
  const buf = new Uint8Array(PEEK_BYTES);
  for (;;) {
    const out = handshake.takeOutput();
    if (out !== null) {
      handshakeBudget(deadline, timeoutMs, proxy);
      tls.sendAll(out);
    }
    if (handshake.done) return;
    let n: number;
    try {
      n = tls.peek(buf, handshakeBudget(deadline, timeoutMs, proxy));
    } catch (err) {
      if (err instanceof SocketTimeoutError) throw handshakeTimedOut(timeoutMs, proxy, handshake.phase);
      // An EOF without close_notify ends the handshake as an EOF does.
      if (err instanceof TLSError && err.code === "ERR_TLS_TRUNCATED") n = 0;
      else throw err;
    }
    if (n === 0) {
      handshake.end();
      return;
    }
    const used = handshake.push(buf.subarray(0, n));
    // Consume exactly what the handshake took; the rest is the target's.
    if (used > 0) tls.recvAll(buf.subarray(0, used));
  }
}
