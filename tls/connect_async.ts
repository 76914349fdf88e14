/**
 * Async TLS on the loop, as the very same {@link Connection} API:
 * `connectTLS` (connect + handshake; resolves once the handler's `open`
 * ran), `listenTLS` (each accepted connection handshakes before its
 * handler's `open`), `tlsConnector` (the `Connector` seam of
 * poll/connector.ts, for the layers above) and `startTLS` (TLS over a
 * connection you already have, a proxy tunnel say). What was negotiated
 * is read with `tlsInfo(conn)`.
 *
 * Readiness connections run TLS in fd mode (`SSL_set_fd`, tls/connection.ts);
 * io_uring connections (`io: "uring"`) and connections that are not a
 * bare descriptor (TLS inside TLS) run it in memory-BIO mode
 * (tls/bio_connection.ts). The handshake is bounded by
 * `handshakeTimeoutMs` (default {@link DEFAULT_HANDSHAKE_TIMEOUT_MS}) and a
 * `signal`; its failures are the blocking path's typed errors:
 * `TLSVerifyError` (reason, depth), `TLSPinError`, `TLSHandshakeError`.
 * `close()` sends close_notify before FIN; the peer's close_notify is the
 * end of stream (`read()` → null, the handler's `end`), an EOF without it
 * a TLSError `ERR_TLS_TRUNCATED` unless `allowTruncation`. `detach()` of
 * a TLS connection frees its `SSL` and hands out the socket mid-stream.
 *
 * @example
 * ```ts ignore
 * import { connectTLS, tlsInfo } from "./connect_async.ts";
 * const conn = await connectTLS({ host: "example.com", port: 443, alpn: ["http/1.1"] });
 * console.log(tlsInfo(conn)?.protocol); // "TLSv1.3"
 * await conn.write(new TextEncoder().encode("HEAD / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"));
 * console.log(new TextDecoder().decode((await conn.read())!));
 * await conn.close(); // close_notify, then FIN
 * ```
 *
 * @module
 */
import { tlsIo } from "./ktls_io.ts";
import { SocketTimeoutError } from "../core/errors.ts";
import { Logger } from "../core/log.ts";
import { checkOptions, optionKeys } from "../core/options.ts";
import { connect, type ConnectOptions, checkConnectionOptions, type IoOption } from "../poll/connect.ts";
import { Connection, CONNECTION_OPTION_KEYS, type ConnectionHandler, type ConnectionOptions } from "../poll/connection.ts";
import { checkHandler } from "../poll/connection_types.ts";
import { type Connector, type ConnectorOptions, defaultConnector } from "../poll/connector.ts";
import { ACCEPT_SOCKET, type ConnectionGate, Listener, type ListenOptions } from "../poll/listener.ts";
import { defaultLoop, type Loop } from "../poll/loop.ts";
import { chooseAsyncIo } from "../poll/uring/probe.ts";
import type { SocketAddress } from "../socket/sockaddr.ts";
import type { Socket } from "../socket/socket.ts";
import { tlsBioTransport } from "./bio_connection.ts";
import { tlsFdTransport } from "./connection.ts";
import { connectionTransport, isLayered } from "./connection_transport.ts";
import { TLSContext } from "./context.ts";
import { TLSEngine, type TLSInfo } from "./engine.ts";
import { ktlsOption } from "./ktls.ts";
import { ClientSessionCache } from "./session_cache.ts";
import { CONTEXT_KEYS, type TLSContextOptions } from "./options.ts";
import { checkServername } from "./ssl_setup.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "./tls_socket.ts";
import { TLS_STATS } from "./tls_stats.ts";

export type { TLSInfo } from "./engine.ts";
export { DEFAULT_HANDSHAKE_TIMEOUT_MS };

const engines = new WeakMap<Connection, TLSEngine>();

/** Closes a context made for a connector or a `listen({ tls })` listener once that is gone. */
const ownedContexts = new FinalizationRegistry<TLSContext>((context) => context.close());

/**
 * What a TLS connection negotiated (protocol, ALPN, cipher, group, peer
 * certificate, session bytes, resumption), or null for a connection that
 * is not TLS. Readable from the handler's `open` on, and after close.
 *
 * @example
 * ```ts ignore
 * const info = tlsInfo(conn)!;
 * console.log(info.protocol, info.alpnProtocol, info.peerCertificate()?.subject);
 * const session = await info.waitSession(1000); // TLS 1.3: after the ticket came
 * ```
 */
export function tlsInfo(conn: Connection): TLSInfo | null {
  return engines.get(conn) ?? null;
}

/** The per-connection TLS settings of {@link startTLS}, {@link tlsConnector} and the `tls` option of `connect`. */
export interface TLSConnectionSettings extends Omit<TLSContextOptions, "role"> {
  /** A context to use instead of one made from the context options here (client role for clients). */
  readonly context?: TLSContext;
  /** Client: the name to verify and send as SNI, when it differs from `host`. */
  readonly servername?: string;
  /** Client: a session from an earlier connection's `tlsInfo(conn).session()`, to resume. */
  readonly session?: Uint8Array;
  /** Limit for the handshake in ms (default {@link DEFAULT_HANDSHAKE_TIMEOUT_MS}; 0: none). */
  readonly handshakeTimeoutMs?: number;
  /**
   * An EOF without close_notify ends the stream cleanly instead of failing
   * with TLSError `ERR_TLS_TRUNCATED` (for protocols that frame their own
   * end, such as HTTP with Content-Length).
   */
  readonly allowTruncation?: boolean;
}

const SETTING_KEYS: ReadonlySet<string> = optionKeys(
  [...CONTEXT_KEYS].filter((key) => key !== "role"),
  ["context", "servername", "session", "handshakeTimeoutMs", "allowTruncation"],
);

/**
 * Every key of the `tls` option of `connect` (and of {@link tlsConnector}).
 *
 * @example
 * ```ts
 * import { TLS_SETTING_KEYS } from "./connect_async.ts";
 * console.log(TLS_SETTING_KEYS.has("servername")); // true
 * ```
 */
export const TLS_SETTING_KEYS: ReadonlySet<string> = SETTING_KEYS;

/** Options of {@link connectTLS}: where to, the TLS settings, and the connection's options. */
export interface ConnectTLSOptions extends TLSConnectionSettings, ConnectionOptions {
  /** Host name or IP literal: connected to (an IP literal or "localhost"), verified, and sent as SNI (unless an IP). */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** Callbacks (handler mode); `open` runs after the handshake. */
  readonly handler?: ConnectionHandler;
  /** The loop (default: the default loop). */
  readonly loop?: Loop;
  /**
   * "readiness" (fd mode) or "uring" (memory-BIO mode over io_uring).
   * Default: `FFINET_IO`, else io_uring on Linux 6.1+ where the kernel
   * allows it, else readiness (see `IoOption`).
   */
  readonly io?: IoOption;
  /** Limit for the TCP connect, in ms. */
  readonly timeoutMs?: number;
  /** Aborts the connect or the handshake; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** TCP_NODELAY (default true). */
  readonly noDelay?: boolean;
  /** Makes the plain connection instead of `connect` (a proxy tunnel, Happy Eyeballs…). */
  readonly connector?: Connector;
  /**
   * Where the connect and the handshake are logged (core/log.ts's
   * `Logger`): the plain connect as `connect` logs it (it gets this
   * logger), a failed handshake at WARN with the name verified, the
   * peer's address and the error's code (`TLSVerifyError`, `TLSPinError`,
   * a timeout, an alert), a finished one at DEBUG with the protocol
   * version, cipher, ALPN and whether the session was resumed. Default:
   * nothing is logged (one check).
   */
  readonly logger?: Logger;
}

const CONNECT_KEYS: ReadonlySet<string> = optionKeys(
  SETTING_KEYS,
  CONNECTION_OPTION_KEYS,
  ["host", "port", "handler", "loop", "io", "timeoutMs", "signal", "noDelay", "connector", "logger"],
);

function pick(options: object, keys: Iterable<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("The operation was aborted", "AbortError");
}

function checkHandshakeMs(ms: unknown): number {
  if (ms === undefined) return DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > 0x7fffffff) {
    throw new RangeError(`handshakeTimeoutMs must be an integer 0–2147483647 ms, got ${String(ms)}`);
  }
  return ms;
}

/** A context for `settings` (its own, or one made that the caller closes). */
function contextFor(settings: TLSConnectionSettings, role: "client" | "server", where: string): { context: TLSContext; owned: boolean } {
  // ktls is also a per-connection setting (SSL_set_options), so it goes with a context too.
  const contextOptions = pick(settings, [...CONTEXT_KEYS].filter((key) => key !== "role" && (key !== "ktls" || settings.context === undefined)));
  if (settings.context !== undefined) {
    if (!(settings.context instanceof TLSContext)) throw new TypeError(`${where}: context must be a TLSContext`);
    if (Object.keys(contextOptions).length > 0) throw new TypeError(`${where}: pass either context or context options, not both`);
    if (settings.context.role !== role) throw new TypeError(`${where}: needs a ${role} TLSContext`);
    return { context: settings.context, owned: false };
  }
  return { context: new TLSContext({ ...contextOptions, role } as TLSContextOptions), owned: true };
}

/** How {@link handshakeOver} runs TLS over `plain`. */
interface Upgrade {
  readonly context: TLSContext;
  readonly host: string;
  readonly session: Uint8Array | undefined;
  readonly allowTruncation: boolean;
  /** Ask for kernel TLS on this connection (fd mode). */
  readonly ktls: boolean;
  readonly handshakeMs: number;
  readonly signal: AbortSignal | undefined;
  readonly handler: ConnectionHandler | undefined;
  readonly connectionOptions: ConnectionOptions;
  /** fd mode (the plain connection is detached and its socket taken over), else memory-BIO over it. */
  readonly fdMode: boolean;
  /** Where the handshake's outcome is logged (see {@link logHandshake}); undefined: nothing (one check). */
  readonly log: Logger | undefined;
  /** "client" or "server" (the level of a failure and the fields logged). */
  readonly role: "client" | "server";
}

/** A TLS connection made, its handshake not run yet. */
interface Made {
  readonly conn: Connection;
  readonly engine: TLSEngine;
  readonly relay: HandshakeRelay;
}

/** Carries the transport's handshake outcome to {@link awaitHandshake}, which may start listening after it came. */
class HandshakeRelay {
  #settle: ((error?: Error) => void) | undefined;
  #early: { error: Error | undefined } | undefined;
  /** The transport's `onHandshake`. */
  readonly done = (error?: Error): void => {
    if (this.#settle !== undefined) this.#settle(error);
    else this.#early ??= { error };
  };
  listen(settle: (error?: Error) => void): void {
    this.#settle = settle;
    if (this.#early !== undefined) settle(this.#early.error);
  }
}

/** The TLS connection over `plain` (fd mode: its socket taken over); on failure `plain` is closed. */
function tlsOverPlain(plain: Connection, up: Upgrade): Made {
  const loop = plain.loop;
  try {
    if (up.fdMode) {
      const socket = plain.detach();
      return tlsOverSocket(loop, socket, up);
    }
    const engine = new TLSEngine(up.context, engineOptions(up));
    try {
      const relay = new HandshakeRelay();
      const conn = new Connection(loop, plain.socket, undefined, up.connectionOptions, tlsBioTransport(connectionTransport(plain), engine, relay.done));
      return { conn, engine, relay };
    } catch (err) {
      engine.free();
      throw err;
    }
  } catch (err) {
    if (!plain.closed) plain.abort();
    throw err;
  }
}

function engineOptions(up: Upgrade): { host: string; allowTruncation: boolean; session?: Uint8Array } {
  return { host: up.host, allowTruncation: up.allowTruncation, ...(up.session === undefined ? {} : { session: up.session }) };
}

/**
 * fd mode over a bare socket (a listener's accepted one, or a detached
 * connection's): the socket is watched once, by the TLS transport. On
 * failure the socket is closed.
 */
function tlsOverSocket(loop: Loop, socket: Socket, up: Upgrade): Made {
  try {
    const engine = new TLSEngine(up.context, { ...engineOptions(up), fd: socket.fd, bufferWrites: true, ...(up.ktls ? { ktls: true } : {}) });
    const relay = new HandshakeRelay();
    try {
      const conn = new Connection(loop, socket, undefined, up.connectionOptions, tlsFdTransport(loop, socket, engine, relay.done));
      return { conn, engine, relay };
    } catch (err) {
      engine.free();
      throw err;
    }
  } catch (err) {
    socket.close();
    throw err;
  }
}

/**
 * A stand-in for `user` that a `protect` gate may wrap before the
 * handshake: it passes nothing on until `live()` (a failed handshake is
 * not the user's connection), then every callback to `user`.
 */
function standIn(user: ConnectionHandler): { readonly handler: ConnectionHandler; live(): void } {
  let on = false;
  const handler: Record<string, unknown> = {};
  for (const key of ["data", "end", "drain", "close", "error", "timeout"] as const) {
    if (typeof user[key] !== "function") continue;
    handler[key] = (...args: unknown[]) => on ? (user[key] as (...a: unknown[]) => unknown)(...args) : undefined;
  }
  return { handler: handler as ConnectionHandler, live: () => (on = true) };
}

/** The `protect` option: undefined, or an object with an `admit` method. */
function checkGate(gate: unknown, where: string): ConnectionGate | undefined {
  if (gate === undefined) return undefined;
  if (gate === null || typeof gate !== "object" || typeof (gate as ConnectionGate).admit !== "function") {
    throw new TypeError(`${where}: protect must be an object with an admit method (e.g. a ListenProtection)`);
  }
  return gate as ConnectionGate;
}

/**
 * Server side of a listener: runs `gate` on the TLS connection before its
 * handshake (a refused one is closed by the gate and never reads a byte),
 * then the handshake. Resolves with the connection, null when refused.
 */
function admitAndHandshake(made: Made, up: Upgrade, gate: ConnectionGate | undefined): Promise<Connection | null> {
  if (gate === undefined) return awaitHandshake(made, up, undefined);
  const user = up.handler;
  const stand = user === undefined ? undefined : standIn(user);
  if (stand !== undefined) made.conn.setHandler(stand.handler);
  let admitted: boolean;
  try {
    admitted = gate.admit(made.conn, stand?.handler);
  } catch (err) {
    made.conn.abort();
    return Promise.reject(err);
  }
  if (!admitted) {
    if (!made.conn.closed) made.conn.abort();
    return Promise.resolve(null);
  }
  return awaitHandshake(made, up, stand);
}

/**
 * The TLS connection over `plain`, resolved after the handshake and the
 * handler's `open`; on failure everything made is closed (plain included).
 */
function handshakeOver(plain: Connection, up: Upgrade): Promise<Connection> {
  let made: Made;
  try {
    made = tlsOverPlain(plain, up);
  } catch (err) {
    return Promise.reject(err);
  }
  return awaitHandshake(made, up, undefined);
}

/**
 * Waits for the handshake of `made` (bounded by the timeout and the
 * signal); then installs the handler (or, with a gate's `stand`-in, lets
 * it through) and runs `open`.
 */
function awaitHandshake(made: Made, up: Upgrade, stand: { live(): void } | undefined): Promise<Connection> {
  const { conn, engine } = made;
  const loop = conn.loop;
  const signal = up.signal;
  // Read now: a failed handshake may have closed the socket by the time it is logged.
  const address = up.log === undefined ? undefined : peerAddress(conn);
  if (signal?.aborted) {
    conn.abort(abortReason(signal));
    return Promise.reject(abortReason(signal));
  }
  return new Promise<Connection>((resolve, reject) => {
    let done = false;
    const timer = up.handshakeMs > 0
      ? loop.timers.once(up.handshakeMs, () => settle(new SocketTimeoutError(`TLS handshake timed out after ${up.handshakeMs} ms`, { syscall: "handshake" })))
      : undefined;
    const onAbort = () => settle(abortReason(signal!));
    signal?.addEventListener("abort", onAbort, { once: true });
    function settle(error?: Error): void {
      if (done) return;
      done = true;
      timer?.cancel();
      signal?.removeEventListener("abort", onAbort);
      if (up.log !== undefined) logHandshake(up.log, up, address, engine, error, signal);
      if (error !== undefined) {
        // A refused handshake sent its alert already: a plain close. A
        // timeout or an abort: reset.
        if (engine.handshaken || error instanceof SocketTimeoutError || error === signal?.reason || (error as { name?: string }).name === "AbortError") conn.abort(error);
        else void conn.close();
        reject(error);
        return;
      }
      engines.set(conn, engine);
      const handler = up.handler;
      if (handler !== undefined) {
        if (stand !== undefined) stand.live(); // the gate's wrapper (or the stand-in) stays the handler
        else conn.setHandler(handler);
        try {
          handler.open?.(conn);
        } catch (err) {
          conn.abort(err instanceof Error ? err : undefined);
          reject(err);
          return;
        }
      }
      resolve(conn);
    }
    made.relay.listen(settle);
  });
}

/** `host:port` of the peer, `[v6]:port`, or undefined once the socket is gone. */
function peerAddress(conn: Connection): string | undefined {
  try {
    const a = conn.remoteAddress;
    return a.family === "unix" ? a.path : a.family === "ipv6" ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  } catch {
    return undefined;
  }
}

/**
 * A handshake's outcome as a record (only with a logger): done at DEBUG
 * with the protocol version, cipher, ALPN and whether the session was
 * resumed (read only when DEBUG is on); failed at WARN for a client (the
 * name verified, the peer's address, the error's code: a verify or pin
 * error, a timeout, an alert), at DEBUG for a server (one client's
 * failure; a scanner must not flood the log) and for an abort.
 */
function logHandshake(log: Logger, up: Upgrade, address: string | undefined, engine: TLSEngine, error: Error | undefined, signal: AbortSignal | undefined): void {
  if (error === undefined) {
    if (!log.enabled("debug")) return;
    let fields: Record<string, unknown>;
    try {
      fields = { protocol: engine.protocol, cipher: engine.cipher, alpn: engine.alpnProtocol, resumed: engine.isSessionReused() };
    } catch (err) {
      fields = { infoError: err };
    }
    log.debug("tls: handshake done", { role: up.role, ...(up.role === "client" ? { host: up.host } : {}), address, ...fields });
    return;
  }
  const code = (error as { code?: unknown }).code;
  const fields = { role: up.role, ...(up.role === "client" ? { host: up.host } : {}), address, code, error };
  if (error === signal?.reason || error.name === "AbortError") log.debug("tls: handshake aborted", fields);
  else if (up.role === "client") log.warn("tls: handshake failed", fields);
  else log.debug("tls: handshake failed", fields);
}

/** The `logger` option: undefined, or a core/log.ts Logger. */
function checkLogger(logger: unknown, where: string): Logger | undefined {
  if (logger !== undefined && !(logger instanceof Logger)) throw new TypeError(`${where}: logger must be a Logger (core/log.ts)`);
  return logger;
}

/**
 * Runs TLS over an open plain connection (fresh: nothing read from it yet),
 * say a proxy's tunnel, as a client or a server. Resolves with the new TLS
 * connection once the handshake is done and the handler's `open` ran;
 * `plain` belongs to it from then on (closed with it, or on failure).
 *
 * @example
 * ```ts ignore
 * import { startTLS } from "./connect_async.ts";
 * const tunnel = await openTunnel("example.com", 443); // a Connection
 * const conn = await startTLS(tunnel, { host: "example.com", ca });
 * ```
 */
export function startTLS(plain: Connection, options: TLSConnectionSettings & ConnectionOptions & {
  /** Client: the name verified and sent as SNI (`servername` wins). */
  readonly host?: string;
  /** "client" (default) or "server". */
  readonly role?: "client" | "server";
  readonly handler?: ConnectionHandler;
  readonly signal?: AbortSignal;
  /** Run in memory-BIO mode over `plain` instead of taking over its descriptor (required for io_uring and for connections that are not a bare socket). */
  readonly bio?: boolean;
  /** Where the handshake's outcome is logged (as {@link ConnectTLSOptions.logger}). */
  readonly logger?: Logger;
}): Promise<Connection> {
  try {
    checkOptions(options, optionKeys(SETTING_KEYS, CONNECTION_OPTION_KEYS, ["host", "role", "handler", "signal", "bio", "logger"]), "startTLS");
    const role = options.role ?? "client";
    if (role !== "client" && role !== "server") throw new TypeError(`startTLS: role must be "client" or "server"`);
    return upgrade(plain, options, role, options.bio === true || tlsInfo(plain) !== null, "startTLS");
  } catch (err) {
    return Promise.reject(err);
  }
}

function upgrade(
  plain: Connection,
  options: TLSConnectionSettings & ConnectionOptions & { host?: string; handler?: ConnectionHandler; signal?: AbortSignal; logger?: Logger | undefined },
  role: "client" | "server",
  bio: boolean,
  where: string,
): Promise<Connection> {
  let made: { context: TLSContext; owned: boolean };
  try {
    const connectionOptions = pick(options, CONNECTION_OPTION_KEYS) as ConnectionOptions;
    checkConnectionOptions(connectionOptions);
    const handshakeMs = checkHandshakeMs(options.handshakeTimeoutMs);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError(`${where}: signal must be an AbortSignal`);
    checkHandler(options.handler, where);
    const log = checkLogger(options.logger, where);
    if (role === "client" && options.servername !== undefined) checkServername(options.servername, where);
    made = contextFor(options, role, where);
    const host = role === "client" ? options.servername ?? options.host ?? "" : "";
    const promise = handshakeOver(plain, {
      context: made.context,
      host,
      session: options.session,
      allowTruncation: options.allowTruncation === true,
      ktls: ktlsOption(options.ktls, "ktls"),
      handshakeMs,
      signal: options.signal,
      handler: options.handler,
      connectionOptions,
      fdMode: !bio && !isLayered(plain), // a tunnel over a connection has no descriptor of its own
      log,
      role,
    });
    // The connection holds its own reference to the SSL_CTX.
    if (made.owned) made.context.close();
    return promise;
  } catch (err) {
    if (!plain.closed) plain.abort();
    return Promise.reject(err);
  }
}

/** The {@link Upgrade} of a listener's server connections (its options checked already). */
function serverUpgrade(
  context: TLSContext,
  options: { readonly handshakeTimeoutMs?: number; readonly allowTruncation?: boolean; readonly ktls?: boolean | "require" } & ConnectionOptions,
  handler: ConnectionHandler | undefined,
  fdMode: boolean,
  log: Logger | undefined,
): Upgrade {
  return {
    context,
    host: "",
    session: undefined,
    allowTruncation: options.allowTruncation === true,
    ktls: ktlsOption(options.ktls, "ktls"),
    handshakeMs: checkHandshakeMs(options.handshakeTimeoutMs),
    signal: undefined,
    handler,
    connectionOptions: pick(options, CONNECTION_OPTION_KEYS) as ConnectionOptions,
    fdMode,
    log,
    role: "server",
  };
}

/**
 * Connects over TCP and completes a TLS handshake as a client (verifying
 * the server by default); resolves with the open connection (after its
 * handler's `open`). Pass `context` to share one `SSL_CTX` between
 * connections (much cheaper than making one per connection).
 *
 * @throws (rejects) SocketError / SocketTimeoutError for the TCP connect,
 *   TLSVerifyError, TLSPinError, TLSHandshakeError, SocketTimeoutError for
 *   the handshake, the signal's reason; TypeError for an unknown option
 *
 * @example
 * ```ts ignore
 * import { connectTLS, tlsInfo } from "./connect_async.ts";
 * const conn = await connectTLS({ host: "localhost", port: 8443, ca: caPem, alpn: ["h2", "http/1.1"] });
 * console.log(tlsInfo(conn)!.alpnProtocol);
 * ```
 */
export function connectTLS(options: ConnectTLSOptions): Promise<Connection> {
  try {
    if (arguments.length > 1) throw new TypeError(`connectTLS: takes one options object, got ${arguments.length} arguments`);
    if (options === undefined) throw new TypeError("connectTLS: an options object is required");
    checkOptions(options, CONNECT_KEYS, "connectTLS");
    checkHandler(options.handler, "connectTLS");
    if (typeof options.host !== "string" || options.host === "") throw new TypeError("connectTLS: host must be a non-empty string");
    checkHandshakeMs(options.handshakeTimeoutMs);
    checkServername(options.servername ?? options.host, "connectTLS");
    const io = tlsIo(options.io, options.ktls, options.context);
    const plainOptions = { ...pick(options, ["host", "port", "loop", "timeoutMs", "signal", "noDelay", "logger"]), ...(io === undefined ? {} : { io }) } as unknown as ConnectOptions;
    checkLogger(options.logger, "connectTLS");
    const connector = options.connector ?? defaultConnector;
    if (typeof connector !== "function") throw new TypeError("connectTLS: connector must be a function");
    const bio = chooseAsyncIo(io) === "io_uring";
    return connector(plainOptions).then((plain) => upgrade(plain, options, "client", bio || tlsInfo(plain) !== null, "connectTLS"));
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * @internal `connect({ …, tls: {…} })` of poll/connect.ts lands here (loaded
 * on demand): the plain connect with every other option (a proxy, say),
 * then the handshake with the `tls` settings.
 *
 * @example
 * ```ts ignore
 * const conn = await connectWithTLS({ host: "localhost", port: 8443, tls: { ca } });
 * ```
 */
export function connectWithTLS(options: ConnectOptions & { readonly tls?: TLSConnectionSettings }): Promise<Connection> {
  try {
    const { tls, handler, ...rest } = options;
    const settings = tls ?? {};
    checkOptions(settings, SETTING_KEYS, "connect: tls");
    checkHandshakeMs(settings.handshakeTimeoutMs);
    if (settings.servername !== undefined) checkServername(settings.servername, "connect: tls");
    const plainOptions: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) if (!(CONNECTION_OPTION_KEYS as readonly string[]).includes(key)) plainOptions[key] = value;
    const connectionOptions = pick(options, CONNECTION_OPTION_KEYS);
    const io = tlsIo(options.io, settings.ktls, settings.context);
    if (io !== undefined) plainOptions.io = io;
    const bio = chooseAsyncIo(io) === "io_uring";
    const host = options.host ?? "127.0.0.1";
    return connect(plainOptions as unknown as ConnectOptions).then((plain) =>
      upgrade(plain, { ...settings, ...connectionOptions, host, ...(handler === undefined ? {} : { handler }), ...(options.signal === undefined ? {} : { signal: options.signal }), logger: options.logger }, "client", bio || tlsInfo(plain) !== null, "connect")
    );
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * A {@link Connector} that opens TLS connections with `settings`: the plain
 * connection comes from `settings.connector` (default: `connect`, or
 * `connectUnix` for a `path`), then the handshake runs over it. For
 * clients of the layers above (HTTP, WebSocket, pools) that take a
 * `connector` option. The name verified is `servername`, else the
 * connector options' `host`. Without a `context`, one is made from the
 * settings and shared by every connection of this connector. A later
 * connection to the same host, port and name resumes the session an
 * earlier one got, each session once (`maxCachedSessions`, default 100
 * places; 0 turns it off), as Node's `https.Agent` and browsers do.
 *
 * @example
 * ```ts ignore
 * import { tlsConnector } from "./connect_async.ts";
 * import { TLSContext } from "./context.ts";
 * const connector = tlsConnector({ context: new TLSContext({ ca }) });
 * const conn = await connector({ host: "localhost", port: 8443 });
 * ```
 */
export function tlsConnector(settings: TLSConnectorSettings = {}): Connector {
  checkOptions(settings, optionKeys(SETTING_KEYS, ["connector", "maxCachedSessions"]), "tlsConnector");
  checkHandshakeMs(settings.handshakeTimeoutMs);
  if (settings.servername !== undefined) checkServername(settings.servername, "tlsConnector");
  const { connector = defaultConnector, maxCachedSessions = DEFAULT_MAX_CACHED_SESSIONS, ...tls } = settings;
  // An explicit session is offered on every connection; otherwise each
  // connection offers what an earlier one to the same place left.
  const cache = tls.session === undefined ? new ClientSessionCache(maxCachedSessions) : null;
  // One context for every connection this connector makes.
  const shared = tls.context === undefined ? contextFor(tls, "client", "tlsConnector").context : tls.context;
  const base: TLSConnectionSettings = {
    context: shared,
    ...pick(tls, ["servername", "session", "handshakeTimeoutMs", "allowTruncation", "ktls"]),
  };
  const tlsConnect: Connector = (options: ConnectorOptions) => {
    const { handler, signal, ...rest } = options as ConnectorOptions & { signal?: AbortSignal };
    const plain: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) if (!(CONNECTION_OPTION_KEYS as readonly string[]).includes(key)) plain[key] = value;
    if (signal !== undefined) plain.signal = signal;
    const connectionOptions = pick(options, CONNECTION_OPTION_KEYS);
    const host = "host" in options ? options.host ?? "127.0.0.1" : "";
    const io = tlsIo(options.io, base.ktls, shared);
    if (io !== undefined) plain.io = io;
    const bio = chooseAsyncIo(io) === "io_uring";
    const place = cache === null ? "" : sessionPlace(options, host, base.servername);
    const offered = cache?.take(place);
    // A plain connection that failed (a rejection, or a connector that
    // threw) sent nothing: the session goes back where it was, still unused.
    let connected: Promise<Connection>;
    try {
      connected = connector(plain as unknown as ConnectorOptions);
    } catch (error) {
      connected = Promise.reject(error);
    }
    if (offered !== undefined) {
      connected = connected.catch((error: unknown) => {
        cache!.putBack(place, offered);
        throw error;
      });
    }
    return connected.then((conn) =>
      upgrade(conn, { ...base, ...connectionOptions, host, ...(offered === undefined ? {} : { session: offered }), ...(handler === undefined ? {} : { handler }), ...(signal === undefined ? {} : { signal }), logger: options.logger }, "client", bio || tlsInfo(conn) !== null, "tlsConnector")
    ).then((conn) => {
      const engine = cache === null ? undefined : engines.get(conn);
      // Kept for the next connection once the connection has one (TLS
      // 1.3: the server's ticket, read with the first bytes after the
      // handshake; a resumed connection waits for its new ticket).
      // (TLS 1.2 resumes the same session again: it is stored again.)
      const except = engine?.isSessionReused() && engine.protocol === "TLSv1.3" ? offered ?? null : null;
      if (engine !== undefined) void engine.nextSession(except).then((session) => {
        if (session !== null) cache!.store(place, session);
      });
      return conn;
    });
  };
  // A context made here lives as long as the connector (connections keep their own reference).
  if (tls.context === undefined) ownedContexts.register(tlsConnect, shared);
  return tlsConnect;
}

/** How many places (host, port, name) a {@link tlsConnector} keeps sessions for by default. */
const DEFAULT_MAX_CACHED_SESSIONS = 100;

/** The settings of {@link tlsConnector}: the TLS settings, the plain connector, the session cache's size. */
export interface TLSConnectorSettings extends TLSConnectionSettings {
  /** Opens the plain connections (default: `connect`, or `connectUnix` for a `path`). */
  readonly connector?: Connector;
  /**
   * The most places (host, port, name verified) whose sessions the
   * connector keeps, so a later connection there resumes one (default
   * 100; 0: every connection makes a full handshake). Each session is
   * offered once; ignored when `session` is given.
   */
  readonly maxCachedSessions?: number;
}

/** The cache key of a connection: where it goes and the name it verifies. */
function sessionPlace(options: ConnectorOptions, host: string, servername: string | undefined): string {
  const where = "path" in options && typeof options.path === "string" ? `unix:${options.path}` : `${host}:${"port" in options ? options.port : ""}`;
  return `${where}\0${servername ?? host}`;
}

/**
 * Default `maxHandshakes` of a TLS listener: server handshakes in progress
 * at once (1024, as nginx's default `worker_connections` bounds all of a
 * worker's connections). Each pending handshake holds an `SSL` and its buffers (~50 kB: 2,000 pending cost +106 MB on Node 24);
 * past the bound a new connection is closed at once, before any `SSL` is
 * made, and counted in `TLS_STATS.refused`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_TLS_HANDSHAKES } from "./connect_async.ts";
 * console.log(DEFAULT_MAX_TLS_HANDSHAKES); // 1024
 * ```
 */
export const DEFAULT_MAX_TLS_HANDSHAKES = 1024;

/** How often (ms) a listener at `maxHandshakes` says so in its log, at most. */
const REFUSED_LOG_INTERVAL_MS = 10_000;

/** The `maxHandshakes` option: undefined (the default) or an integer 1–2147483647. */
function checkMaxHandshakes(value: unknown, where: string): number {
  if (value === undefined) return DEFAULT_MAX_TLS_HANDSHAKES;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 0x7fffffff) {
    throw new RangeError(`${where}: maxHandshakes must be an integer 1–2147483647, got ${String(value)}`);
  }
  return value;
}

/**
 * One listener's server handshakes in progress, bounded: `take()` before
 * an `SSL` is made (false: close the connection unread), `free()` once
 * the handshake settled (done, failed, timed out or refused by the gate).
 */
class HandshakeSlots {
  readonly #max: number;
  readonly #log: Logger | undefined;
  #busy = 0;
  #refused = 0;
  #toldAt = -Infinity;

  constructor(max: number, log: Logger | undefined) {
    this.#max = max;
    this.#log = log;
  }

  get busy(): number {
    return this.#busy;
  }

  get refused(): number {
    return this.#refused;
  }

  take(port: number): boolean {
    if (this.#busy < this.#max) {
      this.#busy++;
      return true;
    }
    this.#refused++;
    TLS_STATS.refused++;
    const log = this.#log;
    if (log !== undefined) {
      const now = performance.now();
      if (now - this.#toldAt >= REFUSED_LOG_INTERVAL_MS) {
        this.#toldAt = now;
        log.warn("listen: TLS handshakes at maxHandshakes, new connections are closed", { port, maxHandshakes: this.#max, refused: this.#refused });
      }
    }
    return false;
  }

  free(): void {
    this.#busy--;
  }
}

/** Options of {@link listenTLS}: the listener's, the server's TLS settings and the connections' options. */
export interface ListenTLSOptions extends Omit<TLSConnectionSettings, "servername" | "session">, ConnectionOptions {
  /** An IP literal or "localhost" (default "127.0.0.1"). */
  readonly host?: string;
  /** The TCP port (0: one the kernel picks). */
  readonly port: number;
  /** Callbacks for each connection; `open` runs after its handshake. Without one, use `accept()`. */
  readonly handler?: ConnectionHandler;
  /** Each failed handshake and failed accept (the listener goes on); without it they are only counted. */
  readonly onError?: (error: Error, listener: TLSListener) => void;
  /** listen(2) backlog. */
  readonly backlog?: number;
  /** Without a handler: the most handshaken connections held for `accept()` (default 128); more are closed. */
  readonly maxPending?: number;
  /**
   * The most server handshakes in progress at once on this listener
   * (default {@link DEFAULT_MAX_TLS_HANDSHAKES}). A connection accepted
   * past it is closed at once, unread and without an `SSL` (the cheapest
   * answer to clients that connect and never finish a ClientHello), counted
   * in {@link TLSListener.handshakesRefused} and `TLS_STATS.refused`, and
   * logged at WARN at most every 10 s. A handshake that finishes, fails or
   * times out (`handshakeTimeoutMs`) frees its slot.
   */
  readonly maxHandshakes?: number;
  /** SO_REUSEPORT. */
  readonly reusePort?: boolean;
  /** TCP_NODELAY on accepted connections (default true). */
  readonly noDelay?: boolean;
  /** The loop. */
  readonly loop?: Loop;
  /**
   * "readiness" (fd mode) or "uring" (memory-BIO mode over io_uring).
   * Default: `FFINET_IO`, else io_uring on Linux 6.1+ where the kernel
   * allows it, else readiness (see `IoOption`).
   */
  readonly io?: IoOption;
  /**
   * Admission control (pool/'s `ListenProtection`, or any
   * `ConnectionGate`), run on each accepted connection before its
   * handshake: a refused client gets no handshake byte. Its handler
   * wrapping (scoring, bandwidth) applies from `open` on.
   */
  readonly protect?: ConnectionGate;
  /**
   * Where the listener says what happened (core/log.ts's `Logger`): what
   * poll/'s `listen` logs (listening, closed, a failed accept: ERROR when
   * accepting pauses, DEBUG for one connection), each failed handshake at
   * DEBUG with the client's address and the error's code (a timeout, a
   * refused client certificate, garbage), each finished one at DEBUG with
   * the protocol version, cipher, ALPN and resumption; a `protect` gate
   * without a logger of its own logs here. Default: nothing (one check).
   */
  readonly logger?: Logger;
}

const LISTEN_KEYS: ReadonlySet<string> = optionKeys(
  [...SETTING_KEYS].filter((key) => key !== "servername" && key !== "session"),
  CONNECTION_OPTION_KEYS,
  ["host", "port", "handler", "onError", "backlog", "maxPending", "maxHandshakes", "reusePort", "noDelay", "loop", "io", "protect", "logger"],
);

/**
 * A TLS listener: a plain listener whose connections handshake (server
 * role, one `SSL` each from the listener's context) before they reach the
 * handler's `open` or `accept()`. A failed handshake closes that
 * connection only; it is counted in {@link TLSListener.handshakeErrors}
 * and passed to `onError`.
 *
 * @example
 * ```ts ignore
 * import { listenTLS } from "./connect_async.ts";
 * await using server = listenTLS({ port: 0, cert, key, handler: { data: (c, d) => c.send(d) } });
 * console.log(server.port);
 * ```
 */
export class TLSListener {
  readonly #plain: Listener;
  readonly #context: TLSContext;
  readonly #ownsContext: boolean;
  readonly #options: ListenTLSOptions;
  readonly #pending: Connection[] = [];
  readonly #acceptors: ((conn: Connection | null) => void)[] = [];
  readonly #maxPending: number;
  readonly #slots: HandshakeSlots;
  #handshakeErrors = 0;
  #closed = false;
  #gate: ConnectionGate | undefined;
  #up!: Upgrade;

  /** @internal Use {@link listenTLS}. */
  constructor(options: ListenTLSOptions) {
    checkOptions(options, LISTEN_KEYS, "listenTLS");
    checkHandshakeMs(options.handshakeTimeoutMs);
    checkConnectionOptions(pick(options, CONNECTION_OPTION_KEYS) as ConnectionOptions);
    checkHandler(options.handler, "listenTLS");
    if (options.onError !== undefined && typeof options.onError !== "function") throw new TypeError("listenTLS: onError must be a function");
    const log = checkLogger(options.logger, "listenTLS");
    const maxPending = options.maxPending ?? 128;
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new RangeError(`maxPending must be a positive integer, got ${maxPending}`);
    this.#maxPending = maxPending;
    this.#slots = new HandshakeSlots(checkMaxHandshakes(options.maxHandshakes, "listenTLS"), log);
    this.#options = options;
    const made = contextFor(options, "server", "listenTLS");
    this.#context = made.context;
    this.#ownsContext = made.owned;
    const io = tlsIo(options.io, options.ktls, this.#context);
    const listenOptions = { ...pick(options, ["host", "port", "backlog", "reusePort", "noDelay", "loop", "logger"]), ...(io === undefined ? {} : { io }) } as unknown as ListenOptions;
    const fdMode = chooseAsyncIo(io) !== "io_uring";
    try {
      this.#gate = checkGate(options.protect, "listenTLS");
      this.#up = serverUpgrade(this.#context, options, options.handler, fdMode, log);
      const loop = options.loop ?? defaultLoop();
      this.#plain = new Listener(options.host === undefined ? { port: options.port } : { host: options.host, port: options.port }, {
        ...listenOptions,
        handler: { open: (plain) => this.#start(plain, false) },
        onError: (error) => this.#report(error),
        // fd mode: the accepted socket goes straight to the TLS transport (one epoll registration).
        ...(fdMode ? { [ACCEPT_SOCKET]: (socket: Socket) => this.#start(socket, true, loop) } : {}),
      });
    } catch (err) {
      if (this.#ownsContext) this.#context.close();
      throw err;
    }
    try {
      this.#gate?.listening?.(this.#plain);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** The listening address. */
  get address(): SocketAddress {
    return this.#plain.address;
  }

  /** The bound TCP port. */
  get port(): number {
    return this.#plain.port;
  }

  /** The listening descriptor. */
  get fd(): number {
    return this.#plain.fd;
  }

  /** "io_uring" or "readiness". */
  get io(): "readiness" | "io_uring" {
    return this.#plain.io;
  }

  /** Whether the listener is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Failed accepts (see the plain listener's `acceptErrors`). */
  get acceptErrors(): number {
    return this.#plain.acceptErrors;
  }

  /** Handshakes that failed (timeouts, bad ClientHellos, refused certificates). */
  get handshakeErrors(): number {
    return this.#handshakeErrors;
  }

  /** Server handshakes in progress (at most `maxHandshakes`). */
  get handshaking(): number {
    return this.#slots.busy;
  }

  /** Accepted connections closed unread because `maxHandshakes` handshakes were in progress. */
  get handshakesRefused(): number {
    return this.#slots.refused;
  }

  /** Connections handshaken and waiting for `accept()` (without a handler). */
  get pending(): number {
    return this.#pending.length;
  }

  /** The server context (its own, or the one passed as `context`). */
  get context(): TLSContext {
    return this.#context;
  }

  /** The next handshaken connection (without a handler); null once closed. */
  accept(): Promise<Connection | null> {
    const ready = this.#pending.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#acceptors.push(resolve));
  }

  /** Async iteration over handshaken connections until the listener closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Connection, void, undefined> {
    for (;;) {
      const conn = await this.accept();
      if (conn === null) return;
      yield conn;
    }
  }

  /** Keeps the process alive while listening (the default). */
  ref(): this {
    this.#plain.ref();
    return this;
  }

  /** Lets the process exit while listening. */
  unref(): this {
    this.#plain.unref();
    return this;
  }

  /**
   * Stops listening; connections handed out stay open, ones waiting for
   * `accept()` are closed (as are handshakes that complete afterwards).
   * Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#plain.close();
    for (const conn of this.#pending.splice(0)) void conn.close();
    for (const resolve of this.#acceptors.splice(0)) resolve(null);
    if (this.#ownsContext) this.#context.close();
  }

  /** Same as {@link TLSListener.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #report(error: unknown): void {
    try {
      this.#options.onError?.(error instanceof Error ? error : new Error(String(error)), this);
    } catch {
      // an onError that throws must not stop the listener
    }
  }

  /** `accepted`: a plain connection (io_uring: memory-BIO mode over it), or a socket with its loop (fd mode). */
  #start(accepted: Connection | Socket, fdMode: boolean, loop?: Loop): void {
    if (this.#closed) {
      if (fdMode) (accepted as Socket).close();
      else (accepted as Connection).abort();
      return;
    }
    if (!this.#slots.take(this.#plain.port)) {
      if (fdMode) (accepted as Socket).close();
      else (accepted as Connection).abort();
      return;
    }
    const options = this.#options;
    const handler = options.handler;
    let promise: Promise<Connection | null>;
    try {
      const up = this.#up;
      const made = fdMode ? tlsOverSocket(loop!, accepted as Socket, up) : tlsOverPlain(accepted as Connection, up);
      promise = admitAndHandshake(made, up, this.#gate);
    } catch (err) {
      if (this.#up.log !== undefined) this.#up.log.debug("listen: TLS connection failed", { error: err });
      promise = Promise.reject(err);
    }
    promise.then((conn) => {
      this.#slots.free();
      if (conn === null || handler !== undefined) return;
      if (this.#closed) {
        void conn.close();
        return;
      }
      const resolve = this.#acceptors.shift();
      if (resolve !== undefined) resolve(conn);
      else if (this.#pending.length < this.#maxPending) this.#pending.push(conn);
      else void conn.close();
    }, (error: unknown) => {
      this.#slots.free();
      this.#handshakeErrors++;
      this.#report(error);
    });
  }
}

/**
 * Listens for TLS connections on `host:port` (server role; `cert`/`key` or
 * a server `context` required). Each connection handshakes (bounded by
 * `handshakeTimeoutMs`) before its handler's `open` runs or `accept()`
 * returns it; a failed handshake only costs that connection.
 *
 * @throws SocketError (EADDRINUSE, …), TypeError for an unknown option, TLSError for a context OpenSSL refuses
 *
 * @example
 * ```ts ignore
 * import { listenTLS } from "./connect_async.ts";
 * const server = listenTLS({ port: 8443, cert, key, alpn: ["h2", "http/1.1"], handler: { data: (c, d) => c.send(d) } });
 * server.close();
 * ```
 */
export function listenTLS(options: ListenTLSOptions): TLSListener {
  if (arguments.length > 1) throw new TypeError(`listenTLS: takes one options object, got ${arguments.length} arguments`);
  if (options === undefined) throw new TypeError("listenTLS: an options object is required");
  return new TLSListener(options);
}


/**
 * What {@link tlsAcceptor} hands each accepted connection to: `socket`
 * (fd mode: the bare accepted socket, watched once by the TLS transport)
 * or `plain` (io_uring: memory-BIO mode over the plain connection).
 *
 * @example
 * ```ts ignore
 * const acceptor: TLSAcceptor = tlsAcceptor({ cert, key }, {}, console.error, undefined);
 * acceptor.socket(acceptedSocket, loop, handler, listener);
 * ```
 */
export interface TLSAcceptor {
  /** fd mode: TLS over the accepted socket. */
  socket(socket: Socket, loop: Loop, handler: ConnectionHandler, listener: object): void;
  /** Memory-BIO mode over an accepted plain connection (paused). */
  plain(plain: Connection, handler: ConnectionHandler, listener: object): void;
}

/**
 * @internal `listen({ …, tls })` of poll/listener.ts lands here (loaded on
 * demand): one server context for the listener (made from `settings`, or
 * its `context`), and what runs the `protect` gate and then the handshake
 * on each accepted connection before `handler.open`. Failures (the
 * context's too) go to `report`.
 *
 * @example
 * ```ts ignore
 * const accept = tlsAcceptor({ cert, key }, { io: "readiness" }, console.error, undefined);
 * ```
 */
export function tlsAcceptor(
  settings: object,
  options: { readonly io?: IoOption; readonly logger?: Logger | undefined } & ConnectionOptions,
  report: (error: unknown) => void,
  gate: ConnectionGate | undefined,
): TLSAcceptor {
  const log = options.logger;
  let made: { context: TLSContext; owned: boolean } | undefined;
  let failure: unknown;
  let slots: HandshakeSlots | undefined;
  try {
    checkOptions(settings, LISTEN_SETTING_KEYS, "listen: tls");
    checkHandshakeMs((settings as TLSConnectionSettings).handshakeTimeoutMs);
    slots = new HandshakeSlots(checkMaxHandshakes((settings as { maxHandshakes?: unknown }).maxHandshakes, "listen: tls"), log);
    made = contextFor(settings as TLSConnectionSettings, "server", "listen: tls");
  } catch (err) {
    failure = err;
  }
  const fdMode = chooseAsyncIo(options.io) !== "io_uring";
  const ups = new WeakMap<ConnectionHandler, Upgrade>();
  let registered = false;
  let toldFailure = false;
  const start = (accepted: Connection | Socket, loop: Loop | undefined, handler: ConnectionHandler, listener: object): void => {
    if (made === undefined) {
      if (loop !== undefined) (accepted as Socket).close();
      else (accepted as Connection).abort();
      if (log !== undefined && !toldFailure) {
        toldFailure = true;
        log.error("listen: TLS settings refused, every connection is closed", { error: failure });
      }
      report(failure);
      return;
    }
    if (!slots!.take((listener as { port?: number }).port ?? 0)) {
      if (loop !== undefined) (accepted as Socket).close();
      else (accepted as Connection).abort();
      return;
    }
    if (made.owned && !registered) {
      registered = true;
      ownedContexts.register(listener, made.context);
    }
    const free = slots!;
    try {
      let up = ups.get(handler);
      if (up === undefined) {
        up = serverUpgrade(made.context, { ...(settings as TLSConnectionSettings), ...pick(options, CONNECTION_OPTION_KEYS) }, handler, fdMode, log);
        ups.set(handler, up);
      }
      const conn = loop !== undefined ? tlsOverSocket(loop, accepted as Socket, up) : tlsOverPlain(accepted as Connection, up);
      admitAndHandshake(conn, up, gate).then(() => free.free(), (error: unknown) => {
        free.free();
        report(error);
      });
    } catch (err) {
      free.free();
      if (log !== undefined) log.debug("listen: TLS connection failed", { error: err });
      report(err);
    }
  };
  return {
    socket: (socket, loop, handler, listener) => start(socket, loop, handler, listener),
    plain: (plain, handler, listener) => start(plain, undefined, handler, listener),
  };
}

const LISTEN_SETTING_KEYS: ReadonlySet<string> = optionKeys([...SETTING_KEYS].filter((key) => key !== "servername" && key !== "session"), ["maxHandshakes"]);
