/**
 * `connect`, `connectUnix` and `adopt`: async stream connections on a
 * Loop. Each takes one options object, as the runtimes' own TCP connect
 * functions do; an unknown key is a `TypeError`.
 *
 * @example
 * ```ts
 * import { connect } from "./connect.ts";
 * import { listen } from "./listener.ts";
 * const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (conn, bytes) => conn.send(bytes) } });
 * const client = await connect({ host: "127.0.0.1", port: server.port, timeoutMs: 2000 });
 * await client.write(new Uint8Array([1, 2, 3]));
 * console.log(await client.read()); // Uint8Array [1, 2, 3]
 * await client.close();
 * server.close();
 * ```
 *
 * @module
 */
import { Logger } from "../core/log.ts";
import { checkOptions, optionKeys } from "../core/options.ts";
import {
  checkNameOptions,
  connectByName,
  type HappyEyeballsOptions,
  isHostName,
  type ResolverOption,
} from "../socket/happy_eyeballs_connect.ts";
import type { ProxyOption } from "../socket/proxy/plan.ts";
import type { Socket } from "../socket/socket.ts";
import { Connection, CONNECTION_OPTION_KEYS, type ConnectionHandler, type ConnectionOptions } from "./connection.ts";
import { abortReason, connectSocketAsync } from "./connect_socket.ts";
import { checkHandler } from "./connection_types.ts";
import { type Endpoint, setNoDelay } from "./endpoint.ts";
import { defaultLoop, type Loop } from "./loop.ts";
import { type LoopUring, loopIoFor } from "./uring/loop_io.ts";

/**
 * How connections do their I/O: "readiness" (epoll/poll/kqueue and
 * syscalls) or "uring" (accept, connect, recv, send and close complete
 * through the loop's io_uring; falls back to readiness where io_uring is
 * refused). Default: `FFINET_IO` in the environment ("uring" or
 * "readiness"), else io_uring on Linux 6.1+ where the kernel allows it,
 * readiness elsewhere. "readiness" (or `FFINET_IO=readiness`) forces epoll.
 *
 * @example
 * ```ts
 * import type { IoOption } from "./connect.ts";
 * const io: IoOption = "readiness"; // epoll, whatever the kernel
 * ```
 */
export type IoOption = "readiness" | "uring";

/**
 * Options of {@link adopt}, and what every connection option object has:
 * the handler, the loop, the I/O mechanism and the
 * {@link ConnectionOptions} (buffers, timeouts).
 */
export interface AdoptOptions extends ConnectionOptions {
  /** Callbacks for the connection (handler mode); without one, use `read()`/`write()`. */
  handler?: ConnectionHandler;
  /** The loop (default: {@link defaultLoop}). */
  loop?: Loop;
  /** The I/O mechanism (see {@link IoOption}). */
  io?: IoOption;
}

/** Options of {@link connect}: where to (`host`, `port`) and how. */
export interface ConnectOptions extends AdoptOptions {
  /**
   * An IP literal, "localhost" (127.0.0.1) or a host name (default
   * "127.0.0.1"). A name is resolved by the `resolver` and connected to by
   * Happy Eyeballs v2 (see `happyEyeballs`); `signal` and `timeoutMs` cover
   * the resolution and every attempt.
   */
  host?: string;
  /** The TCP port. */
  port: number;
  /** Aborts the connect (and closes the socket); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Fails the connect with `SocketTimeoutError` after this long. */
  timeoutMs?: number;
  /** TCP_NODELAY (default true). */
  noDelay?: boolean;
  /**
   * Who resolves a host name: ffinet's default `Resolver` (dns/, the
   * default), a `Resolver` of your own, or "system" for getaddrinfo(3)
   * (nsswitch, mDNS; it blocks the loop's thread while it runs).
   */
  resolver?: ResolverOption;
  /** The Happy Eyeballs race for a host name (attempt delay, events, family memory). */
  happyEyeballs?: HappyEyeballsOptions;
  /**
   * TLS over the connection (client role): the settings of tls/'s
   * `connectTLS` (context options or a `context`, `servername`, `session`,
   * `handshakeTimeoutMs`, `allowTruncation`). The promise resolves after
   * the handshake (and the handler's `open`); `host` is verified and sent
   * as SNI unless `servername` says otherwise. Read what was negotiated
   * with tls/'s `tlsInfo(conn)`. libssl is loaded only when this is used.
   */
  tls?: object;
  /**
   * Connect through a proxy (socket/proxy): a URL (`http://user:pass@host:port`,
   * `https://` — TLS to the proxy itself, verified by the config's `tls` —,
   * `socks4://`, `socks4a://`, `socks5://`, `socks5h://`), a config
   * object, or "env" for HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/NO_PROXY. With
   * `tls`, TLS runs to the target through the tunnel (inside the proxy's
   * TLS for an `https://` proxy).
   */
  proxy?: ProxyOption;
  /**
   * Where the connect says what it did (core/log.ts's `Logger`; a
   * request's child logger carries its ids): a failed connect at WARN with
   * the address tried, the connection made at DEBUG; for a host name also
   * the resolver's queries and each Happy Eyeballs answer and attempt at
   * DEBUG. Default: nothing is logged (one check).
   */
  logger?: Logger;
}

/** Options of {@link connectUnix}: the socket's `path` and how. */
export interface ConnectUnixOptions extends AdoptOptions {
  /**
   * The Unix socket path (`"@name"`: Linux abstract namespace, as
   * `listenUnix` takes it; a NUL, a leading one included, is a TypeError).
   */
  path: string;
  /** Aborts the connect (and closes the socket); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Fails the connect with `SocketTimeoutError` after this long. */
  timeoutMs?: number;
  /** As {@link ConnectOptions.logger}. */
  logger?: Logger;
}

/**
 * Every key {@link adopt} takes.
 *
 * @example
 * ```ts
 * import { ADOPT_OPTION_KEYS } from "./connect.ts";
 * console.log(ADOPT_OPTION_KEYS.has("handler")); // true
 * ```
 */
export const ADOPT_OPTION_KEYS: ReadonlySet<string> = optionKeys(
  CONNECTION_OPTION_KEYS,
  Object.keys({ handler: true, loop: true, io: true } satisfies Record<Exclude<keyof AdoptOptions, keyof ConnectionOptions>, true>),
);

/**
 * Every key {@link connect} takes.
 *
 * @example
 * ```ts
 * import { CONNECT_OPTION_KEYS } from "./connect.ts";
 * console.log(CONNECT_OPTION_KEYS.has("signal")); // true
 * ```
 */
export const CONNECT_OPTION_KEYS: ReadonlySet<string> = optionKeys(
  ADOPT_OPTION_KEYS,
  Object.keys(
    { host: true, port: true, signal: true, timeoutMs: true, noDelay: true, resolver: true, happyEyeballs: true, tls: true, proxy: true, logger: true } satisfies Record<
      Exclude<keyof ConnectOptions, keyof AdoptOptions>,
      true
    >,
  ),
);

/**
 * Every key {@link connectUnix} takes.
 *
 * @example
 * ```ts
 * import { CONNECT_UNIX_OPTION_KEYS } from "./connect.ts";
 * console.log(CONNECT_UNIX_OPTION_KEYS.has("path")); // true
 * ```
 */
export const CONNECT_UNIX_OPTION_KEYS: ReadonlySet<string> = optionKeys(
  ADOPT_OPTION_KEYS,
  Object.keys({ path: true, signal: true, timeoutMs: true, logger: true } satisfies Record<Exclude<keyof ConnectUnixOptions, keyof AdoptOptions>, true>),
);

/**
 * Checks the one options object a call takes: a `TypeError` when it is
 * missing, not an object, has a key not in `keys`, or comes with more
 * arguments (`argumentCount`, the old forms); a `RangeError` for a
 * connection option every connection would refuse (a `TypeError` for a
 * `copy` that is not a boolean).
 *
 * @example
 * ```ts
 * import { requireOptions } from "./connect.ts";
 * requireOptions({ port: 1 }, new Set(["port"]), "listen", 1);
 * ```
 */
export function requireOptions(options: unknown, keys: ReadonlySet<string>, where: string, argumentCount = 1): void {
  // The 0.x forms took the handler and the options as more arguments.
  if (argumentCount > 1) throw new TypeError(`${where}: takes one options object (handler, loop and the rest inside it), got ${argumentCount} arguments`);
  if (options === undefined) throw new TypeError(`${where}: an options object is required`);
  checkOptions(options, keys, where);
  checkConnectionOptions(options as ConnectionOptions);
  checkHandler((options as { handler?: unknown }).handler, where);
}

/**
 * Refuses connection options every connection would refuse, before a
 * socket exists (so a listener does not accept connections it can only
 * drop): the same rules as the `Connection` constructor's.
 *
 * @example
 * ```ts
 * import { checkConnectionOptions } from "./connect.ts";
 * try {
 *   checkConnectionOptions({ highWaterMark: 0 });
 * } catch (err) {
 *   console.log(err instanceof RangeError); // true
 * }
 * ```
 */
export function checkConnectionOptions(options: ConnectionOptions): void {
  for (const name of ["highWaterMark", "readBufferBytes"] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  for (const name of ["idleTimeoutMs", "readTimeoutMs", "writeTimeoutMs"] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== "number" || !(value >= 0))) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  }
  if (options.copy !== undefined && typeof options.copy !== "boolean") throw new TypeError(`copy must be a boolean, got ${typeof options.copy}`);
}

/**
 * Connects to `host:port`; resolves with an open connection (whose
 * handler's `open` has run, in handler mode). A refused connect rejects
 * with a `SocketError` whose message names the operation and the address
 * (`connect failed: ECONNREFUSED (127.0.0.1:1)`), `code` and `errno` set.
 *
 * @example
 * ```ts
 * import { connect } from "./connect.ts";
 * import { listen } from "./listener.ts";
 * const server = listen({ host: "127.0.0.1", port: 0 });
 * const conn = await connect({ host: "127.0.0.1", port: server.port, timeoutMs: 2000, signal: AbortSignal.timeout(5000) });
 * await conn.close();
 * server.close();
 * ```
 */
export function connect(options: ConnectOptions): Promise<Connection> {
  try {
    requireOptions(options, CONNECT_OPTION_KEYS, "connect", arguments.length);
    checkNameOptions(options);
    // A proxy first: it picks HTTPS_PROXY for TLS targets, then hands back.
    if (options.proxy !== undefined) return connectViaProxy(options);
    if (options.tls !== undefined) return connectWithTLS(options);
    const endpoint: Endpoint = options.host === undefined ? { port: options.port } : { host: options.host, port: options.port };
    return connectEndpoint(endpoint, options, options.noDelay ?? true);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Connects to the Unix socket at `path`; resolves with an open connection.
 *
 * @example
 * ```ts
 * import { connectUnix } from "./connect.ts";
 * import { listenUnix } from "./listener.ts";
 * const server = listenUnix({ path: "@ffinet-connect-unix-example" });
 * const conn = await connectUnix({ path: "@ffinet-connect-unix-example", timeoutMs: 1000 });
 * await conn.close();
 * server.close();
 * ```
 */
export function connectUnix(options: ConnectUnixOptions): Promise<Connection> {
  try {
    requireOptions(options, CONNECT_UNIX_OPTION_KEYS, "connectUnix", arguments.length);
    return connectEndpoint({ path: options.path }, options, false);
  } catch (err) {
    return Promise.reject(err);
  }
}

function checkSignal(signal: unknown, where: string): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`${where}: signal must be an AbortSignal`);
}

function connectEndpoint(
  endpoint: Endpoint,
  options: ConnectOptions | ConnectUnixOptions,
  noDelay: boolean,
): Promise<Connection> {
  const where = "path" in endpoint ? "connectUnix" : "connect";
  const loop = options.loop ?? defaultLoop();
  const signal = options.signal;
  checkSignal(signal, where);
  // Checked before the socket exists: a timer refused after the connect
  // started would leave the socket, its watcher and the connect behind.
  const timeoutMs = options.timeoutMs;
  if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs))) {
    throw new RangeError(`${where}: timeoutMs must be a finite number >= 0, got ${timeoutMs}`);
  }
  const log = options.logger;
  if (log !== undefined && !(log instanceof Logger)) throw new TypeError(`${where}: logger must be a Logger (core/log.ts)`);
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const io = loopIoFor(loop, options.io);
  const open = (socket: Socket): Connection => {
    if (noDelay) setNoDelay(socket.fd);
    // io_uring operations on a blocking socket wait in the kernel.
    if (io !== undefined && socket.nonBlocking) socket.options.nonBlocking = false;
    return opened(openConnection(loop, socket, options.handler, options, io), options.handler);
  };
  if (!("path" in endpoint) && isHostName(endpoint.host)) {
    const o = options as ConnectOptions;
    const made = connectByName({
      host: endpoint.host,
      port: endpoint.port,
      loop,
      io,
      signal,
      timeoutMs,
      resolver: o.resolver,
      happyEyeballs: o.happyEyeballs,
      logger: log,
    }).then((winner) => open(winner.socket));
    return log === undefined ? made : logged(made, log, `${endpoint.host}:${endpoint.port}`, signal);
  }
  const made = connectSocketAsync(loop, endpoint, { signal, timeoutMs, io }).then(open);
  if (log === undefined) return made;
  const host = "path" in endpoint ? undefined : endpoint.host ?? "127.0.0.1";
  const address = "path" in endpoint ? endpoint.path : host!.includes(":") ? `[${host}]:${endpoint.port}` : `${host}:${endpoint.port}`;
  return logged(made, log, address, signal);
}

/** `made`, its outcome logged: the connection at DEBUG, a failure at WARN (an abort at DEBUG). */
function logged(made: Promise<Connection>, log: Logger, address: string, signal: AbortSignal | undefined): Promise<Connection> {
  return made.then((conn) => {
    let local = "";
    try {
      const a = conn.localAddress;
      local = a.family === "unix" ? a.path : a.family === "ipv6" ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
    } catch {
      // closed already
    }
    log.debug("connect: connected", { address, local });
    return conn;
  }, (error: unknown) => {
    if (signal?.aborted && error === signal.reason) log.debug("connect: aborted", { address, error });
    else log.warn("connect: failed", { address, error });
    throw error;
  });
}

/**
 * @internal A connection over `socket`, or, when none can be made
 * (options it refuses, a closed loop), the socket closed and the error
 * thrown. Shared by connect, adopt and the listener.
 *
 * @example
 * ```ts
 * import { openConnection } from "./connect.ts";
 * import { defaultLoop } from "./loop.ts";
 * import { Socket } from "../socket/socket.ts";
 * const [a, b] = Socket.pair("stream", { nonBlocking: true });
 * const conn = openConnection(defaultLoop(), a, undefined, {}, undefined);
 * await conn.close();
 * b.close();
 * ```
 */
export function openConnection(
  loop: Loop,
  socket: Socket,
  handler: ConnectionHandler | undefined,
  options: ConnectionOptions,
  io: LoopUring | undefined,
): Connection {
  try {
    return new Connection(loop, socket, handler, options, io);
  } catch (err) {
    socket.close();
    throw err;
  }
}

/**
 * Runs an already-connected stream socket (say, one handed over from
 * another Worker by fd) as a {@link Connection} on a loop. The socket is
 * made non-blocking; the connection owns it from now on (it is closed if
 * no connection can be made of it).
 *
 * @example
 * ```ts
 * import { adopt } from "./connect.ts";
 * import { Socket } from "../socket/socket.ts";
 * const [mine, theirs] = Socket.pair();
 * // In a Worker that received a descriptor by postMessage, Socket.fromFd(fd, "ipv4") makes the Socket.
 * const conn = adopt(mine, { handler: { data: (c, d) => c.send(d) } });
 * await conn.close();
 * theirs.close();
 * ```
 */
export function adopt(socket: Socket, options: AdoptOptions = {}): Connection {
  if (arguments.length > 2) throw new TypeError(`adopt: takes the socket and one options object (handler inside), got ${arguments.length} arguments`);
  checkOptions(options, ADOPT_OPTION_KEYS, "adopt");
  checkConnectionOptions(options);
  const loop = options.loop ?? defaultLoop();
  const io = loopIoFor(loop, options.io);
  if (io !== undefined) {
    if (socket.nonBlocking) socket.options.nonBlocking = false;
  } else if (!socket.nonBlocking) socket.options.nonBlocking = true;
  return opened(openConnection(loop, socket, options.handler, options, io), options.handler);
}

/**
 * Runs the handler's `open` on a new connection; when it throws, the
 * connection is aborted (with the error) before the error goes on to the
 * caller, who never gets the connection to close.
 */
function opened(conn: Connection, handler: ConnectionHandler | undefined): Connection {
  try {
    handler?.open?.(conn);
  } catch (err) {
    conn.abort(err instanceof Error ? err : undefined);
    throw err;
  }
  return conn;
}

/**
 * `connect({ …, tls })`: TLS is the layer above, loaded on demand (no
 * static import from poll/ into tls/, and libssl stays unloaded for plain
 * connections). The plain connect runs there with every other option.
 */
function connectWithTLS(options: ConnectOptions): Promise<Connection> {
  const tls = options.tls;
  if (tls === null || typeof tls !== "object" || Array.isArray(tls)) return Promise.reject(new TypeError("connect: tls must be an object of TLS settings"));
  return import("../tls/connect_async.ts").then((m) => m.connectWithTLS(options));
}

/**
 * `connect({ …, proxy })`: the tunnel is socket/proxy's, loaded on demand
 * (no static import from poll/ into the connection helpers); it connects
 * to the proxy with this `connect` and every other option, and with `tls`
 * comes back through `connectWithTLS` with the proxy chosen.
 */
function connectViaProxy(options: ConnectOptions): Promise<Connection> {
  return import("../socket/proxy/tunnel.ts").then((m) => m.connectViaProxy(options as ConnectOptions & { proxy: ProxyOption }));
}
