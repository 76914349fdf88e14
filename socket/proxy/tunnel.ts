/**
 * Proxy tunnels on the loop: `connectViaProxy` connects to the proxy with
 * `connect`, takes the socket out of that connection before anything is
 * read, runs the handshake on the raw non-blocking fd (MSG_PEEK, then
 * consume exactly what the handshake took), and hands the socket — now a
 * plain stream to the target, with any bytes the target sent first still
 * in the kernel — to `adopt`, with the caller's handler and connection
 * options. The whole thing is bounded by `timeoutMs` (default: the
 * default connect timeout, `getDefaultTimeouts().connectMs`; a stall is a
 * `SocketTimeoutError`) and `signal`; every failure closes the socket.
 * `proxyConnector(proxy)` is the same in the `Connector` shape.
 *
 * An `https://` proxy gets TLS to the proxy itself first and the CONNECT
 * inside it (tls_tunnel.ts, loaded on demand); the tunnel is then a
 * connection over that TLS connection, and TLS to the target runs inside
 * it in memory-BIO mode (TLS in TLS).
 *
 * @example
 * ```ts ignore
 * import { connectViaProxy } from "./tunnel.ts";
 * const conn = await connectViaProxy({ proxy: "socks5h://127.0.0.1:1080", host: "example.com", port: 80, timeoutMs: 5000 });
 * await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n"));
 * console.log(await conn.read());
 * await conn.close();
 * ```
 *
 * @module
 */
import { SocketTimeoutError } from "../../core/errors.ts";
import { checkOptions, optionKeys } from "../../core/options.ts";
import { C } from "../../ffi/platform.ts";
import { lookupHost, type Resolver } from "../../dns/resolver.ts";
import { ERROR, HANGUP, READABLE, WRITABLE } from "../../poll/backend.ts";
import { adopt, ADOPT_OPTION_KEYS, type AdoptOptions, checkConnectionOptions, connect, CONNECT_OPTION_KEYS, type ConnectOptions } from "../../poll/connect.ts";
import { type Connection, CONNECTION_OPTION_KEYS } from "../../poll/connection.ts";
import type { Connector } from "../../poll/connector.ts";
import type { IoWatcher } from "../../poll/io_watcher.ts";
import { defaultLoop, type Loop, loopClosedError } from "../../poll/loop.ts";
import type { Socket } from "../socket.ts";
import { getDefaultTimeouts } from "../timeouts.ts";
import type { EnvReader } from "./env.ts";
import { checkTargetPort, type ProxyHandshake } from "./handshake.ts";
import { chooseProxy, proxyLocalResolution, makeProxyHandshake, type ProxyOption } from "./plan.ts";
import { handshakeTimedOut } from "./sync.ts";
import { formatProxy, type ProxyConfig, type ProxySpec, type ProxyTLSSettings } from "./url.ts";

/** Options of {@link connectViaProxy}: those of `connect`, plus the proxy. */
export interface ConnectViaProxyOptions extends Omit<ConnectOptions, "proxy"> {
  /** The proxy: a URL, a config, or "env". */
  proxy: ProxyOption;
  /** The target host (IP literal or name; the proxy resolves names where it can). */
  host?: string;
  /** The tunnel will carry TLS: `"env"` reads HTTPS_PROXY instead of HTTP_PROXY (default false). */
  secure?: boolean;
  /** Reads environment variables for `"env"` (default: the process environment). */
  env?: EnvReader;
  /**
   * TLS to an `https://` proxy whose config has no `tls` of its own (a URL,
   * or one from the environment): `ca`, `servername`, `rejectUnauthorized`…
   * (default: the proxy's host name against the system trust store).
   */
  proxyTls?: ProxyTLSSettings;
}

/**
 * Every key {@link connectViaProxy} takes.
 *
 * @example
 * ```ts
 * import { CONNECT_VIA_PROXY_KEYS } from "./tunnel.ts";
 * console.log(CONNECT_VIA_PROXY_KEYS.has("proxy")); // true
 * ```
 */
export const CONNECT_VIA_PROXY_KEYS: ReadonlySet<string> = optionKeys(CONNECT_OPTION_KEYS, ["proxy", "secure", "env", "proxyTls"]);

/** Bytes read per peek; a reply longer than this arrives over several. */
const PEEK_BYTES = 4096;

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("The operation was aborted", "AbortError");
}

/**
 * Opens a connection to `host:port` through a proxy (or directly when
 * `proxy: "env"` names none for this target); resolves once the tunnel is
 * open and the handler's `open` has run.
 *
 * @throws (rejects) ProxyError (refused, garbage, closed mid-handshake),
 *   SocketTimeoutError (ETIMEDOUT: `timeoutMs` passed, the proxy stalled),
 *   the signal's reason, SocketError, DNSError, TypeError/RangeError
 *
 * @example
 * ```ts ignore
 * import { connectViaProxy } from "./tunnel.ts";
 * const conn = await connectViaProxy({ proxy: "http://user:pass@127.0.0.1:3128", host: "10.0.0.5", port: 22, signal: AbortSignal.timeout(5000) });
 * ```
 */
export async function connectViaProxy(options: ConnectViaProxyOptions): Promise<Connection> {
  if (options === undefined) throw new TypeError("connectViaProxy: an options object is required");
  checkOptions(options, CONNECT_VIA_PROXY_KEYS, "connectViaProxy");
  if (options.tls !== undefined) return viaProxyWithTLS(options);
  const { proxy: option, host = "127.0.0.1", secure = false, env, signal, timeoutMs: given, proxyTls, ...rest } = options;
  const port = checkTargetPort(options.port, "connectViaProxy");
  if (typeof host !== "string" || host === "") throw new TypeError("connectViaProxy: host must be a non-empty string");
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError("connectViaProxy: signal must be an AbortSignal");
  if (given !== undefined && (typeof given !== "number" || !(given >= 0) || !Number.isFinite(given))) {
    throw new RangeError(`connectViaProxy: timeoutMs must be a finite number >= 0, got ${given}`);
  }
  // Without timeoutMs a proxy that accepts and never finishes its reply hung
  // the caller: the default connect timeout bounds it, as for
  // connectViaProxySync (0 there: no bound).
  const fallback = getDefaultTimeouts().connectMs;
  const timeoutMs = given ?? (fallback > 0 ? fallback : undefined);
  // What the tunnelled connection takes, checked before any socket exists.
  const adoptOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) if (ADOPT_OPTION_KEYS.has(key)) adoptOptions[key] = value;
  checkConnectionOptions(adoptOptions as AdoptOptions);
  const proxy = chooseProxy(option, host, port, secure, env);
  if (proxy === null) {
    const direct: ConnectOptions = { ...rest, port };
    if (options.host !== undefined) direct.host = host;
    if (signal !== undefined) direct.signal = signal;
    if (timeoutMs !== undefined) direct.timeoutMs = timeoutMs;
    return connect(direct);
  }
  if (signal?.aborted) throw abortReason(signal);
  const loop = rest.loop ?? defaultLoop();
  const started = performance.now();
  const left = (): number | undefined => {
    if (timeoutMs === undefined) return undefined;
    const ms = timeoutMs - (performance.now() - started);
    if (ms <= 0) throw timedOut(timeoutMs, proxy);
    return ms;
  };
  const lookupSignal = timeoutMs === undefined ? signal : anySignal(signal, timeoutMs);
  let targetHost = host;
  const family = proxyLocalResolution(proxy, host);
  if (family !== null) {
    const resolver = typeof rest.resolver === "object" ? rest.resolver : undefined;
    targetHost = await firstAddress(host, family === "ipv4" ? 4 : 0, lookupSignal, timeoutMs, proxy, resolver);
  }
  const handshake = makeProxyHandshake(proxy, { host: targetHost, port });
  const overTLS = proxy.protocol === "https" ? (await import("./tls_tunnel.ts")).tunnelOverTLS : undefined;
  // A proxy named by host name is resolved (and raced) by connect itself.
  const toProxyOptions: ConnectOptions = { host: proxy.host, port: proxy.port, loop, io: "readiness", noDelay: rest.noDelay ?? true };
  if (rest.resolver !== undefined) toProxyOptions.resolver = rest.resolver;
  if (rest.happyEyeballs !== undefined) toProxyOptions.happyEyeballs = rest.happyEyeballs;
  if (rest.logger !== undefined) toProxyOptions.logger = rest.logger; // the connect to the proxy is logged
  if (signal !== undefined) toProxyOptions.signal = signal;
  const ms = left();
  if (ms !== undefined) toProxyOptions.timeoutMs = ms;
  const toProxy = await connect(toProxyOptions);
  if (overTLS !== undefined) {
    const { handler, loop: _loop, io: _io, ...connectionOptions } = adoptOptions as AdoptOptions;
    return overTLS(toProxy, { loop, proxy, fallbackTLS: proxyTls, handshake, left, timeoutMs: timeoutMs ?? 0, signal, handler, connectionOptions });
  }
  const socket = toProxy.detach();
  try {
    await runProxyHandshake(loop, socket, handshake, proxy, left(), timeoutMs ?? 0, signal);
  } catch (err) {
    socket.close();
    throw err;
  }
  return adopt(socket, adoptOptions as AdoptOptions);
}

/**
 * TLS to the target: the proxy is chosen here (for "env", HTTPS_PROXY
 * applies), then tls/ connects through it (back here, without `tls`) and
 * runs the handshake over the tunnel.
 */
async function viaProxyWithTLS(options: ConnectViaProxyOptions): Promise<Connection> {
  const { proxy: option, secure: _secure, env, proxyTls, ...plain } = options;
  const port = checkTargetPort(options.port, "connectViaProxy");
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "") throw new TypeError("connectViaProxy: host must be a non-empty string");
  const proxy = chooseProxy(option, host, port, true, env);
  const tlsModule = await import("../../tls/connect_async.ts");
  if (proxy?.protocol === "https") {
    // TLS in TLS: the tunnel is a connection over TLS to the proxy, so the
    // target's TLS runs in memory-BIO mode over it.
    const { tls, handler, signal, ...rest } = plain;
    if (tls === null || typeof tls !== "object" || Array.isArray(tls)) throw new TypeError("connect: tls must be an object of TLS settings");
    const connectionOptions: Record<string, unknown> = {};
    const tunnelOptions: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) {
      if ((CONNECTION_OPTION_KEYS as readonly string[]).includes(key)) connectionOptions[key] = value;
      else tunnelOptions[key] = value;
    }
    const tunnel = await connectViaProxy({
      ...(tunnelOptions as Omit<ConnectViaProxyOptions, "proxy">),
      proxy,
      ...(proxyTls === undefined ? {} : { proxyTls }),
      ...(signal === undefined ? {} : { signal }),
    });
    return tlsModule.startTLS(tunnel, {
      ...(tls as object),
      ...connectionOptions,
      host,
      bio: true,
      ...(handler === undefined ? {} : { handler }),
      ...(signal === undefined ? {} : { signal }),
    });
  }
  const next: ConnectOptions = proxy === null ? plain : { ...plain, proxy };
  return tlsModule.connectWithTLS(next as Parameters<typeof tlsModule.connectWithTLS>[0]);
}

/** The whole deadline ran out; `phase`: what the handshake waited for, `host`: the lookup that ran out. */
function timedOut(timeoutMs: number, proxy: ProxyConfig, phase?: string, host?: string): SocketTimeoutError {
  if (host !== undefined) {
    return new SocketTimeoutError(`lookup of ${host} for the proxy ${formatProxy(proxy)} timed out after ${timeoutMs} ms`, { syscall: "proxy" });
  }
  return handshakeTimedOut(timeoutMs, proxy, phase);
}

/** `signal` and a timeout together, for the lookups. */
function anySignal(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
}

/** The first address of `host` (the caller's Resolver, else the default one). */
async function firstAddress(
  host: string,
  family: 0 | 4,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  proxy: ProxyConfig,
  resolver: Resolver | undefined,
): Promise<string> {
  try {
    const options = { family, all: false as const, ...(signal === undefined ? {} : { signal }) };
    const found = resolver === undefined ? await lookupHost(host, options) : await resolver.lookup(host, options);
    return found.address;
  } catch (err) {
    if (timeoutMs !== undefined && err instanceof DOMException && err.name === "TimeoutError") throw timedOut(timeoutMs, proxy, undefined, host);
    throw err;
  }
}

/**
 * Drives `handshake` over the connected non-blocking `socket` on `loop`
 * until it is done, failing after `ms` (undefined: no limit) or on `signal`.
 * The socket stays open either way; the caller closes it on failure.
 *
 * @example
 * ```ts ignore
 * import { runProxyHandshake } from "./tunnel.ts";
 * await runProxyHandshake(loop, socket, new Socks5Handshake({ host: "10.0.0.1", port: 80 }), proxy, 5000, 5000, undefined);
 * ```
 */
export function runProxyHandshake(
  loop: Loop,
  socket: Socket,
  handshake: ProxyHandshake,
  proxy: ProxyConfig,
  ms: number | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!socket.nonBlocking) socket.options.nonBlocking = true;
  return new Promise<void>((resolve, reject) => {
    const buf = new Uint8Array(PEEK_BYTES);
    let pending: Uint8Array | null = null;
    let done = false;
    let watcher: IoWatcher | undefined;
    const finish = (error: unknown): void => {
      if (done) return;
      done = true;
      watcher?.close();
      timer?.cancel();
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    /** Sends what is queued; true when all of it went. */
    const flush = (): boolean => {
      for (;;) {
        if (pending === null) pending = handshake.takeOutput();
        if (pending === null) return true;
        const n = socket.send(pending);
        if (n < pending.length) {
          pending = pending.subarray(n);
          return false;
        }
        pending = null;
      }
    };
    const step = (): void => {
      for (;;) {
        if (!flush()) {
          watcher!.update(WRITABLE);
          return;
        }
        if (handshake.done) {
          finish(undefined);
          return;
        }
        const n = socket.recv(buf, C.MSG_PEEK);
        if (n === null) {
          watcher!.update(READABLE);
          return;
        }
        if (n === 0) {
          handshake.end();
          finish(undefined);
          return;
        }
        const used = handshake.push(buf.subarray(0, n));
        if (used > 0) socket.recvAll(buf.subarray(0, used));
      }
    };
    const onEvents = (events: number): void => {
      if (done || !(events & (READABLE | WRITABLE | ERROR | HANGUP))) return;
      try {
        step();
      } catch (err) {
        finish(err);
      }
    };
    const onAbort = (): void => finish(abortReason(signal!));
    const timer = ms === undefined ? undefined : loop.timers.once(ms, () => finish(timedOut(timeoutMs, proxy, handshake.phase)));
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      watcher = loop.watch(socket.fd, WRITABLE, onEvents);
      watcher.onLoopClose = () => finish(loopClosedError());
    } catch (err) {
      finish(err);
    }
  });
}

/**
 * A `Connector` (poll/connector.ts) that opens every TCP connection
 * through `proxy`; Unix socket paths are refused (TypeError).
 *
 * @example
 * ```ts
 * import { proxyConnector } from "./tunnel.ts";
 * const connector = proxyConnector("socks5h://127.0.0.1:1080");
 * console.log(typeof connector); // "function"
 * ```
 */
export function proxyConnector(proxy: ProxySpec | "env"): Connector {
  if (proxy !== "env") chooseProxy(proxy, "", 0, false); // checks the URL or config now
  return (options) => {
    if ("path" in options) return Promise.reject(new TypeError("proxyConnector: a proxy tunnels TCP only, not Unix sockets"));
    return connectViaProxy({ ...options, proxy });
  };
}
