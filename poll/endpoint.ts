/**
 * Endpoints of the async layer, opened with the synchronous {@link Socket}
 * of socket/: `{host, port}` or `{path}` turned into a socket address, a
 * non-blocking listening socket, a non-blocking connect. The hot path
 * (recv/send on a connection) does not go through `Socket`; everything else
 * (accept, options, addresses, SO_ERROR, shutdown, close) does.
 *
 * @example
 * ```ts
 * import { listenSocket } from "./endpoint.ts";
 * const server = listenSocket({ host: "127.0.0.1", port: 0 });
 * console.log(server.localAddress().family); // "ipv4"
 * server.close();
 * ```
 *
 * @module
 */
import { SocketError, SocketTimeoutError } from "../core/errors.ts";
import { C } from "../ffi/platform.ts";
import { checkPort, isIP, isLocalhost } from "../socket/address.ts";
import { setIntOption } from "../socket/options.ts";
import { formatSocketAddress, type SocketAddress } from "../socket/sockaddr.ts";
import { Socket } from "../socket/socket.ts";

/** Where to listen or connect: TCP host and port, or a Unix socket path. */
export type Endpoint = { host?: string; port: number } | { path: string };

/** Options of {@link listenSocket}. */
export interface ListenSocketOptions {
  /** listen(2) backlog (default 511). */
  backlog?: number;
  /** SO_REUSEPORT: several listeners (Workers, processes) share the port. */
  reusePort?: boolean;
}

/** A connect in progress, from {@link connectSocket}. */
export interface StartedConnect {
  /** The non-blocking socket. */
  socket: Socket;
  /** True while the connect completes (wait for WRITABLE, then `socket.getError()`). */
  pending: boolean;
  /**
   * True when a Unix listener's backlog is full (EAGAIN): nothing is in
   * progress; call `socket.connectNonBlocking(path)` again a little later
   * (a blocking connect would wait for room).
   */
  busy: boolean;
  /** The peer, formatted for messages. */
  address: string;
}

/**
 * The socket address of an endpoint. Host names other than "localhost" need
 * the resolver (dns/); literals are used as they are.
 *
 * @example
 * ```ts
 * import { endpointAddress } from "./endpoint.ts";
 * console.log(endpointAddress({ host: "::1", port: 80 }).family); // "ipv6"
 * ```
 */
export function endpointAddress(endpoint: Endpoint): SocketAddress {
  if ("path" in endpoint) {
    if (typeof endpoint.path !== "string") throw new TypeError("path must be a string");
    return { family: "unix", path: endpoint.path };
  }
  const port = checkPort(endpoint.port);
  let host = endpoint.host ?? "127.0.0.1";
  if (isLocalhost(host)) host = "127.0.0.1"; // any case, as names are (RFC 4343)
  const kind = isIP(host);
  if (kind === 4) return { family: "ipv4", host, port };
  if (kind === 6) return { family: "ipv6", host, port };
  throw new TypeError(`host must be an IP literal or "localhost" (resolve names with dns/ first), got "${host}"`);
}

function hostOf(addr: SocketAddress): string {
  return addr.family === "unix" ? addr.path : addr.host;
}

function portOf(addr: SocketAddress): number {
  return addr.family === "unix" ? 0 : addr.port;
}

/**
 * A non-blocking listening socket (SO_REUSEADDR on TCP, SO_REUSEPORT on
 * request).
 *
 * @example
 * ```ts
 * import { listenSocket } from "./endpoint.ts";
 * listenSocket({ port: 0 }, { backlog: 128 }).close();
 * ```
 */
export function listenSocket(endpoint: Endpoint, options: ListenSocketOptions = {}): Socket {
  const addr = endpointAddress(endpoint);
  const backlog = options.backlog ?? 511;
  if (!Number.isInteger(backlog) || backlog < 0) throw new RangeError(`backlog must be a non-negative integer, got ${backlog}`);
  const socket = Socket.create(addr.family, "stream", { nonBlocking: true });
  try {
    if (addr.family !== "unix") {
      socket.options.reuseAddress = true;
      if (options.reusePort) socket.options.reusePort = true;
    }
    socket.bind(hostOf(addr), portOf(addr));
    socket.listen(backlog);
    return socket;
  } catch (err) {
    socket.close();
    throw err;
  }
}

/**
 * Starts a non-blocking connect.
 *
 * @example
 * ```ts
 * import { connectSocket } from "./endpoint.ts";
 * import { listenTCPSync } from "../socket/connect.ts";
 * using server = listenTCPSync("127.0.0.1", 0);
 * const { socket, pending } = connectSocket({ host: "127.0.0.1", port: (server.localAddress() as { port: number }).port });
 * console.log(pending); // true while the connect is in progress
 * socket.close();
 * ```
 */
export function connectSocket(endpoint: Endpoint): StartedConnect {
  const addr = endpointAddress(endpoint);
  const socket = Socket.create(addr.family, "stream", { nonBlocking: true });
  const address = formatSocketAddress(addr);
  try {
    const status = socket.connectNonBlocking(hostOf(addr), portOf(addr));
    return { socket, pending: status === "in-progress", busy: false, address };
  } catch (err) {
    if (addr.family === "unix" && err instanceof SocketError && err.code === "EAGAIN") return { socket, pending: false, busy: true, address };
    socket.close();
    throw err;
  }
}

/**
 * Turns Nagle's algorithm off without allocating the socket's options
 * object (one per connection would cost memory); failures are ignored (a
 * Unix socket has no TCP_NODELAY).
 *
 * @example
 * ```ts
 * import { setNoDelay } from "./endpoint.ts";
 * import { Socket } from "../socket/socket.ts";
 * using socket = Socket.create("ipv4");
 * setNoDelay(socket.fd);
 * ```
 */
export function setNoDelay(fd: number): void {
  try {
    setIntOption(fd, C.IPPROTO_TCP, C.TCP_NODELAY, 1, "noDelay");
  } catch {
    // not TCP
  }
}

/**
 * The error of a connect that ran out of time: `SocketTimeoutError`
 * (code ETIMEDOUT) naming the operation and the address.
 *
 * @example
 * ```ts
 * import { connectTimedOut } from "./endpoint.ts";
 * console.log(connectTimedOut(100, "127.0.0.1:80").message); // connect timed out after 100 ms (127.0.0.1:80)
 * ```
 */
export function connectTimedOut(timeoutMs: number, address: string): SocketTimeoutError {
  return new SocketTimeoutError(`connect timed out after ${timeoutMs} ms (${address})`, { syscall: "connect", address });
}
