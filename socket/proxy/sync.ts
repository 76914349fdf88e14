/**
 * Blocking proxy tunnels over the synchronous {@link Socket}:
 * `connectViaProxySync` connects to the proxy, runs the handshake within
 * the timeout, and returns the socket, now a plain stream to the target.
 * Replies are read with MSG_PEEK and then consumed exactly, so bytes the
 * target sent right after the proxy's reply stay in the socket for
 * whoever reads next (a TLS layer on the fd, say).
 *
 * Blocking: it holds the thread (and so a Loop on it) until done.
 *
 * @example
 * ```ts ignore
 * import { connectViaProxySync } from "./sync.ts";
 * using s = connectViaProxySync({ proxy: "socks5://127.0.0.1:1080", host: "example.com", port: 80, timeoutMs: 5000 });
 * s.sendAll(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 * ```
 *
 * @module
 */
import { SocketTimeoutError, UnsupportedError } from "../../core/errors.ts";
import { checkOptions } from "../../core/options.ts";
import { connectTCPSync } from "../connect.ts";
import { resolveHost } from "../resolve.ts";
import type { Socket } from "../socket.ts";
import { checkTimeout, getDefaultTimeouts } from "../timeouts.ts";
import { deadlineAfter, pollOne, remainingMs, WAIT_READ } from "../wait.ts";
import type { EnvReader } from "./env.ts";
import { checkTargetPort, type ProxyHandshake } from "./handshake.ts";
import { chooseProxy, proxyLocalResolution, makeProxyHandshake, type ProxyOption } from "./plan.ts";
import { formatProxy, type ProxyConfig } from "./url.ts";

/** Options of {@link connectViaProxySync}. */
export interface ConnectViaProxySyncOptions {
  /** The proxy: a URL, a config, or "env". */
  readonly proxy: ProxyOption;
  /** The target host (IP literal or name). */
  readonly host: string;
  /** The target port. */
  readonly port: number;
  /** Limit for everything (connect, lookups, handshake) in ms; 0: none (default: the connect timeout). */
  readonly timeoutMs?: number;
  /** The tunnel will carry TLS: `"env"` reads HTTPS_PROXY instead of HTTP_PROXY (default false). */
  readonly secure?: boolean;
  /** TCP_NODELAY on the socket (default true). */
  readonly noDelay?: boolean;
  /** Reads environment variables for `"env"` (default: the process environment). */
  readonly env?: EnvReader;
}

const KEYS: ReadonlySet<string> = new Set(["proxy", "host", "port", "timeoutMs", "secure", "noDelay", "env"]);

/** Bytes read per peek; a reply longer than this arrives over several. */
const PEEK_BYTES = 4096;

/**
 * Opens a blocking TCP connection to `host:port` through a proxy (or
 * directly, when `proxy: "env"` names none for this target).
 *
 * @throws ProxyError (refused, garbage, closed mid-handshake),
 *   SocketTimeoutError (ETIMEDOUT: the proxy stalled), SocketError,
 *   DNSError, TypeError/RangeError for bad options, UnsupportedError
 *   (`ERR_UNSUPPORTED`) for an `https://` proxy: its tunnel runs inside
 *   TLS to the proxy, which a plain Socket cannot carry (use
 *   `connectViaHttpsProxySync` from https_sync.ts, or the loop)
 *
 * @example
 * ```ts ignore
 * import { connectViaProxySync } from "./sync.ts";
 * using s = connectViaProxySync({ proxy: "http://user:pass@127.0.0.1:3128", host: "10.0.0.5", port: 22 });
 * ```
 */
export function connectViaProxySync(options: ConnectViaProxySyncOptions): Socket {
  checkOptions(options, KEYS, "connectViaProxySync");
  if (options === undefined) throw new TypeError("connectViaProxySync: an options object is required");
  const { host, secure = false, noDelay = true, env } = options;
  const port = checkTargetPort(options.port, "connectViaProxySync");
  if (typeof host !== "string" || host === "") throw new TypeError("connectViaProxySync: host must be a non-empty string");
  const timeoutMs = checkTimeout(options.timeoutMs ?? getDefaultTimeouts().connectMs, "timeoutMs");
  const proxy = chooseProxy(options.proxy, host, port, secure, env);
  const deadline = deadlineAfter(timeoutMs);
  if (proxy === null) return connectTCPSync(host, port, timeoutMs, { noDelay });
  if (proxy.protocol === "https") {
    throw new UnsupportedError(
      "https:// proxies on a blocking socket",
      "the tunnel runs inside TLS to the proxy, which a plain Socket cannot carry: use connectViaHttpsProxySync (a TLSSocket carrying the tunnel), or connectViaProxy / connect({ proxy }) on the loop (also for TLS to the target inside it)",
    );
  }
  let targetHost = host;
  const family = proxyLocalResolution(proxy, host);
  if (family !== null) {
    const [first] = resolveHost(host, port, { timeoutMs: handshakeBudget(deadline, timeoutMs, proxy), ...(family === "ipv4" ? { family } : {}) });
    targetHost = first!.host;
  }
  const handshake = makeProxyHandshake(proxy, { host: targetHost, port });
  const socket = connectTCPSync(proxy.host, proxy.port, handshakeBudget(deadline, timeoutMs, proxy), { noDelay });
  try {
    runProxyHandshakeSync(socket, handshake, deadline, timeoutMs, proxy);
    return socket;
  } catch (err) {
    socket.close();
    throw err;
  }
}

/**
 * What is left of a blocking proxy handshake's deadline for its next step
 * (0: no limit), or a timeout (shared by the plain and the https:// paths).
 *
 * @example
 * ```ts ignore
 * import { handshakeBudget } from "./sync.ts";
 * const ms = handshakeBudget(Infinity, 0, proxy); // 0: no limit
 * ```
 */
export function handshakeBudget(deadline: number, timeoutMs: number, proxy: ProxyConfig): number {
  if (timeoutMs === 0) return 0;
  const left = remainingMs(deadline);
  if (left === 0) throw handshakeTimedOut(timeoutMs, proxy);
  return left;
}

/**
 * The error of a proxy handshake that ran out of time, naming what it
 * waited for (`phase`, e.g. "the SOCKS5 method selection").
 *
 * @example
 * ```ts ignore
 * import { handshakeTimedOut } from "./sync.ts";
 * throw handshakeTimedOut(500, proxy, handshake.phase);
 * ```
 */
export function handshakeTimedOut(timeoutMs: number, proxy: ProxyConfig, phase?: string): SocketTimeoutError {
  const waiting = phase === undefined ? "" : ` waiting for ${phase}`;
  return new SocketTimeoutError(`proxy handshake with ${formatProxy(proxy)} timed out after ${timeoutMs} ms${waiting}`, { syscall: "proxy" });
}

/**
 * Drives `handshake` over a connected blocking `socket` until it is done,
 * within `deadline` (Infinity: none).
 *
 * @throws ProxyError, SocketTimeoutError, SocketError
 *
 * @example
 * ```ts ignore
 * import { runProxyHandshakeSync } from "./sync.ts";
 * runProxyHandshakeSync(socket, new Socks5Handshake({ host: "10.0.0.1", port: 80 }), Infinity, 0, proxy);
 * ```
 */
export function runProxyHandshakeSync(socket: Socket, handshake: ProxyHandshake, deadline: number, timeoutMs: number, proxy: ProxyConfig): void {
  const buf = new Uint8Array(PEEK_BYTES);
  for (;;) {
    const out = handshake.takeOutput();
    if (out !== null) {
      const sent = socket.sendAllTimeout(out, handshakeBudget(deadline, timeoutMs, proxy));
      if (sent < out.length) throw handshakeTimedOut(timeoutMs, proxy, handshake.phase);
    }
    if (handshake.done) return;
    const wait = timeoutMs === 0 ? -1 : handshakeBudget(deadline, timeoutMs, proxy);
    if (pollOne(socket.fd, WAIT_READ, wait) === 0) throw handshakeTimedOut(timeoutMs, proxy, handshake.phase);
    const n = socket.peek(buf);
    if (n === null) continue;
    if (n === 0) {
      handshake.end();
      return;
    }
    const used = handshake.push(buf.subarray(0, n));
    // Consume exactly what the handshake took; the rest is the target's.
    if (used > 0) socket.recvAll(buf.subarray(0, used));
  }
}
