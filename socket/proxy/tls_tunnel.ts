/**
 * Tunnels through an `https://` proxy on the loop: TLS to the proxy
 * itself (fd mode, verified with the proxy's `tls` settings: its host name
 * and the system trust store by default), the HTTP CONNECT handshake over
 * that TLS connection, and a new {@link Connection} for the tunnel on top
 * of it (memory-BIO style: the TLS connection is its inner transport). TLS
 * to the target then runs inside it in memory-BIO mode: TLS in TLS.
 *
 * Nothing can be peeked through TLS, so bytes the target sent in the same
 * read as the proxy's reply are kept and handed to the tunnel first
 * (prefixed_transport.ts). Loaded on demand by tunnel.ts; libssl is not
 * touched by plain proxies.
 *
 * Such a tunnel cannot be detached: its descriptor carries TLS records to
 * the proxy, not the target's bytes, and the TLS state lives in this
 * process. `detach()` throws {@link UnsupportedError} (`ERR_UNSUPPORTED`)
 * and leaves the tunnel open and working.
 *
 * @example
 * ```ts ignore
 * import { connectViaProxy } from "./tunnel.ts";
 * const proxy = { protocol: "https", host: "127.0.0.1", port: 8443, tls: { ca: caPem, servername: "localhost" } } as const;
 * const conn = await connectViaProxy({ proxy, host: "localhost", port: 443, tls: { ca: caPem }, timeoutMs: 5000 });
 * ```
 *
 * @module
 */
import { UnsupportedError } from "../../core/errors.ts";
import { Connection, type ConnectionHandler, type ConnectionOptions } from "../../poll/connection.ts";
import type { Loop } from "../../poll/loop.ts";
import { startTLS } from "../../tls/connect_async.ts";
import { connectionTransport, markLayered } from "../../tls/connection_transport.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "../../tls/tls_socket.ts";
import { closedError, type ProxyHandshake } from "./handshake.ts";
import { prefixedTransport } from "./prefixed_transport.ts";
import { handshakeTimedOut } from "./sync.ts";
import type { Socket } from "../socket.ts";
import type { ProxyConfig, ProxyTLSSettings } from "./url.ts";

/** What {@link tunnelOverTLS} needs from the caller. */
export interface TLSTunnelParams {
  /** The loop of `toProxy`. */
  readonly loop: Loop;
  /** The `https` proxy. */
  readonly proxy: ProxyConfig;
  /** TLS settings when the proxy config has none (`proxyTls`). */
  readonly fallbackTLS: ProxyTLSSettings | undefined;
  /** The CONNECT handshake for the target. */
  readonly handshake: ProxyHandshake;
  /** What is left of the caller's time limit (undefined: none; throws once it ran out). */
  readonly left: () => number | undefined;
  /** The caller's whole limit, for messages (0: none). */
  readonly timeoutMs: number;
  /** Aborts everything. */
  readonly signal: AbortSignal | undefined;
  /** The tunnel connection's handler and options (adopt's keys). */
  readonly handler: ConnectionHandler | undefined;
  /** The tunnel connection's options. */
  readonly connectionOptions: ConnectionOptions;
}

/**
 * The tunnel through an `https://` proxy: a {@link Connection} over the TLS
 * connection to the proxy, which it owns. It has no descriptor of its own
 * to hand out, so {@link TLSTunnelConnection.detach} throws.
 *
 * @example
 * ```ts ignore
 * const tunnel = await connectViaProxy({ proxy: "https://proxy.example:443", host: "10.0.0.5", port: 22 });
 * try {
 *   tunnel.detach();
 * } catch (err) {
 *   console.log((err as UnsupportedError).code); // "ERR_UNSUPPORTED"
 * }
 * ```
 */
export class TLSTunnelConnection extends Connection {
  /**
   * Always throws: the descriptor under the tunnel carries TLS to the
   * proxy (and the TLS state is in this process), so no socket could carry
   * the tunnel's bytes. The tunnel stays open and usable.
   *
   * @throws UnsupportedError (`ERR_UNSUPPORTED`, feature "detach() of a tunnel through an https:// proxy")
   */
  override detach(): Socket {
    throw new UnsupportedError(
      "detach() of a tunnel through an https:// proxy",
      "its descriptor carries TLS records to the proxy, not the tunnel's bytes; keep the connection, or use an http:// or SOCKS proxy to get a bare socket",
    );
  }
}


function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("The operation was aborted", "AbortError");
}

/**
 * Runs TLS to the proxy over the fresh plain connection `toProxy`, then
 * the CONNECT handshake inside it; resolves with the tunnel (after its
 * handler's `open`). `toProxy` belongs to this call: closed on failure,
 * owned by the tunnel on success.
 *
 * @throws (rejects) TLSVerifyError / TLSHandshakeError for the proxy's TLS,
 *   ProxyError, SocketTimeoutError, the signal's reason
 *
 * @example
 * ```ts ignore
 * const tunnel = await tunnelOverTLS(await connect({ host: "127.0.0.1", port: 8443 }), params);
 * ```
 */
export async function tunnelOverTLS(toProxy: Connection, params: TLSTunnelParams): Promise<Connection> {
  const { proxy, left, signal } = params;
  const settings: ProxyTLSSettings = proxy.tls ?? params.fallbackTLS ?? {};
  if (settings === null || typeof settings !== "object" || Array.isArray(settings)) {
    toProxy.abort();
    throw new TypeError("proxyTls must be an object of TLS settings");
  }
  let handshakeTimeoutMs = settings.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  let ms: number | undefined;
  try {
    ms = left();
  } catch (err) {
    toProxy.abort();
    throw err;
  }
  if (ms !== undefined && (handshakeTimeoutMs === 0 || ms < handshakeTimeoutMs)) handshakeTimeoutMs = Math.max(1, Math.ceil(ms));
  let tls: Connection;
  try {
    tls = await startTLS(toProxy, {
      ...settings,
      host: proxy.host,
      handshakeTimeoutMs,
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (err) {
    // (startTLS leaves the connection open when it refuses its options.)
    if (!toProxy.closed) toProxy.abort();
    throw err;
  }
  let leftover: Uint8Array;
  try {
    leftover = await runProxyHandshakeOver(tls, params.handshake, proxy, left(), params.timeoutMs, signal);
  } catch (err) {
    tls.abort();
    throw err;
  }
  const handler = params.handler;
  let tunnel: Connection;
  try {
    tunnel = new TLSTunnelConnection(params.loop, tls.socket, handler, params.connectionOptions, prefixedTransport(connectionTransport(tls), leftover));
    markLayered(tunnel); // TLS over it runs in memory-BIO mode
  } catch (err) {
    tls.abort();
    throw err;
  }
  try {
    handler?.open?.(tunnel);
  } catch (err) {
    tunnel.abort(err instanceof Error ? err : undefined);
    throw err;
  }
  return tunnel;
}

/**
 * Drives `handshake` over an open connection (handler mode) until it is
 * done; resolves with the bytes that came after the proxy's reply (the
 * tunnel's first bytes), the connection paused. Fails after `ms`
 * (undefined: no limit) or on `signal`; the caller closes on failure.
 *
 * @example
 * ```ts ignore
 * const rest = await runProxyHandshakeOver(tls, new HttpConnectHandshake({ host: "a.test", port: 443 }), proxy, 5000, 5000, undefined);
 * ```
 */
export function runProxyHandshakeOver(
  conn: Connection,
  handshake: ProxyHandshake,
  proxy: ProxyConfig,
  ms: number | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    let done = false;
    const finish = (error: unknown, rest?: Uint8Array): void => {
      if (done) return;
      done = true;
      timer?.cancel();
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) {
        conn.pause();
        resolve(rest ?? new Uint8Array(0));
      } else reject(error);
    };
    const flush = (): void => {
      for (let out = handshake.takeOutput(); out !== null; out = handshake.takeOutput()) conn.send(out);
    };
    const onAbort = (): void => finish(abortReason(signal!));
    const timer = ms === undefined ? undefined : conn.loop.timers.once(ms, () => finish(handshakeTimedOut(timeoutMs, proxy, handshake.phase)));
    if (signal?.aborted) {
      finish(abortReason(signal));
      return;
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    conn.setHandler({
      data: (_c, bytes) => {
        if (done) return;
        try {
          let offset = 0;
          // Each push ends at most one reply; a zero means the machine wants nothing more now.
          while (offset < bytes.length && !handshake.done) {
            const used = handshake.push(offset === 0 ? bytes : bytes.subarray(offset));
            flush();
            if (used === 0) break;
            offset += used;
          }
          if (handshake.done) finish(undefined, bytes.slice(offset));
        } catch (err) {
          finish(err);
        }
      },
      end: () => {
        try {
          handshake.end();
          finish(undefined);
        } catch (err) {
          finish(err);
        }
      },
      close: (_c, error) => finish(error ?? closedError("HTTPS", "the CONNECT reply")),
    });
    try {
      flush();
    } catch (err) {
      finish(err);
    }
  });
}
