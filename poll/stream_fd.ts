/**
 * The few stream-socket system calls the async connections need: open a
 * listening or connecting non-blocking socket, accept, read SO_ERROR, set
 * TCP_NODELAY and SO_LINGER 0, read the local and peer addresses. Address
 * encoding is socket/sockaddr.ts's. (To be replaced by the synchronous
 * `Socket` of socket/ once it lands.)
 *
 * @example
 * ```ts
 * import { listenFd, localAddress } from "./stream_fd.ts";
 * import { libc } from "../ffi/libc.ts";
 * const fd = listenFd({ host: "127.0.0.1", port: 0 });
 * console.log(localAddress(fd).family); // "ipv4"
 * libc().close(fd);
 * ```
 *
 * @module
 */
import { check, sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E, LAYOUT } from "../ffi/platform.ts";
import { checkPort, isIP } from "../socket/address.ts";
import {
  encodeSockaddr,
  familyConstant,
  formatSocketAddress,
  SockaddrBuffer,
  type SocketAddress,
} from "../socket/sockaddr.ts";

/** Where to listen or connect: TCP host and port, or a Unix socket path. */
export type Endpoint = { host?: string; port: number } | { path: string };

/** Options of {@link listenFd}. */
export interface ListenFdOptions {
  /** listen(2) backlog (default 511). */
  backlog?: number;
  /** SO_REUSEPORT: several listeners (Workers, processes) share the port. */
  reusePort?: boolean;
}

const int = new Int32Array(1);
const intBytes = new Uint8Array(int.buffer);
const lenBytes = new Uint8Array(4);

/**
 * The socket address of an endpoint. Host names other than "localhost" need
 * the resolver (dns/); literals are used as they are.
 *
 * @example
 * ```ts
 * import { endpointAddress } from "./stream_fd.ts";
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
  if (host === "localhost") host = "127.0.0.1";
  const kind = isIP(host);
  if (kind === 4) return { family: "ipv4", host, port };
  if (kind === 6) return { family: "ipv6", host, port };
  throw new TypeError(`host must be an IP literal or "localhost" (resolve names with dns/ first), got "${host}"`);
}

function openStream(addr: SocketAddress): number {
  return check(
    libc().socket(familyConstant(addr.family), C.SOCK_STREAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0),
    "socket",
  );
}

function setInt(fd: number, level: number, name: number, value: number, what: string): void {
  int[0] = value;
  check(libc().setsockopt(fd, level, name, intBytes, 4), `setsockopt(${what})`);
}

/**
 * A non-blocking listening socket (SO_REUSEADDR on TCP).
 *
 * @example
 * ```ts
 * import { listenFd } from "./stream_fd.ts";
 * import { libc } from "../ffi/libc.ts";
 * libc().close(listenFd({ port: 0 }, { backlog: 128 }));
 * ```
 */
export function listenFd(endpoint: Endpoint, options: ListenFdOptions = {}): number {
  const addr = endpointAddress(endpoint);
  const backlog = options.backlog ?? 511;
  if (!Number.isInteger(backlog) || backlog < 0) throw new RangeError(`backlog must be a non-negative integer, got ${backlog}`);
  const fd = openStream(addr);
  try {
    if (addr.family !== "unix") {
      setInt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1, "SO_REUSEADDR");
      if (options.reusePort) setInt(fd, C.SOL_SOCKET, C.SO_REUSEPORT, 1, "SO_REUSEPORT");
    }
    const sa = new Uint8Array(LAYOUT.sockaddr_storage.size);
    const len = encodeSockaddr(addr, sa);
    check(libc().bind(fd, sa, len), "bind", formatSocketAddress(addr));
    check(libc().listen(fd, backlog), "listen");
    return fd;
  } catch (err) {
    libc().close(fd);
    throw err;
  }
}

/**
 * Starts a non-blocking connect; `pending` is true while it completes
 * (wait for WRITABLE, then read {@link socketError}).
 *
 * @example
 * ```ts
 * import { connectFd } from "./stream_fd.ts";
 * // const { fd, pending } = connectFd({ host: "127.0.0.1", port: 8080 });
 * ```
 */
export function connectFd(endpoint: Endpoint): { fd: number; pending: boolean; address: string } {
  const addr = endpointAddress(endpoint);
  const address = formatSocketAddress(addr);
  const fd = openStream(addr);
  const sa = new Uint8Array(LAYOUT.sockaddr_storage.size);
  const len = encodeSockaddr(addr, sa);
  const r = libc().connect(fd, sa, len);
  if (r === 0) return { fd, pending: false, address };
  const errno = native.errno();
  if (errno === E.EINPROGRESS || errno === E.EAGAIN) return { fd, pending: true, address };
  libc().close(fd);
  throw sysError(errno, "connect", address);
}

/**
 * Accepts one connection, non-blocking and close-on-exec; -1 when none is
 * waiting. ECONNABORTED and EINTR are retried.
 *
 * @example
 * ```ts
 * import { acceptFd } from "./stream_fd.ts";
 * // const fd = acceptFd(listener);
 * ```
 */
export function acceptFd(listener: number): number {
  const c = libc();
  for (;;) {
    const fd = c.accept4 !== undefined
      ? c.accept4(listener, null, null, C.SOCK_NONBLOCK | C.SOCK_CLOEXEC)
      : c.accept(listener, null, null);
    if (fd >= 0) {
      if (c.accept4 === undefined) {
        const flags = check(c.fcntl(fd, C.F_GETFL, 0), "fcntl");
        check(c.fcntl(fd, C.F_SETFL, flags | C.O_NONBLOCK), "fcntl");
      }
      return fd;
    }
    const errno = native.errno();
    if (errno === E.EAGAIN || errno === E.EWOULDBLOCK) return -1;
    if (errno === E.EINTR || errno === E.ECONNABORTED) continue;
    throw sysError(errno, "accept");
  }
}

/**
 * The pending error of a socket (SO_ERROR), 0 when none.
 *
 * @example
 * ```ts
 * import { socketError } from "./stream_fd.ts";
 * // if (socketError(fd) !== 0) ...
 * ```
 */
export function socketError(fd: number): number {
  int[0] = 0;
  new Uint32Array(lenBytes.buffer)[0] = 4;
  check(libc().getsockopt(fd, C.SOL_SOCKET, C.SO_ERROR, intBytes, lenBytes), "getsockopt(SO_ERROR)");
  return int[0]!;
}

/**
 * Turns Nagle's algorithm off (TCP only; ignored on other sockets).
 *
 * @example
 * ```ts
 * import { setNoDelay } from "./stream_fd.ts";
 * // setNoDelay(fd);
 * ```
 */
export function setNoDelay(fd: number): void {
  int[0] = 1;
  libc().setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, intBytes, 4);
}

/**
 * SO_LINGER {on, 0}: the next close sends RST instead of FIN.
 *
 * @example
 * ```ts
 * import { setLingerZero } from "./stream_fd.ts";
 * // setLingerZero(fd); libc().close(fd); // RST
 * ```
 */
export function setLingerZero(fd: number): void {
  const l = LAYOUT.linger;
  const bytes = new Uint8Array(l.size);
  const view = new DataView(bytes.buffer);
  view.setInt32(l.onoff, 1, true);
  view.setInt32(l.linger, 0, true);
  libc().setsockopt(fd, C.SOL_SOCKET, C.SO_LINGER, bytes, l.size);
}

/**
 * The local address of a socket.
 *
 * @example
 * ```ts
 * import { listenFd, localAddress } from "./stream_fd.ts";
 * // const { port } = localAddress(listenFd({ port: 0 })) as { port: number };
 * ```
 */
export function localAddress(fd: number): SocketAddress {
  const sa = new SockaddrBuffer();
  check(libc().getsockname(fd, sa.bytes, sa.resetLength()), "getsockname");
  return sa.decode();
}

/**
 * The peer address of a connected socket.
 *
 * @example
 * ```ts
 * import { peerAddress } from "./stream_fd.ts";
 * // console.log(peerAddress(fd));
 * ```
 */
export function peerAddress(fd: number): SocketAddress {
  const sa = new SockaddrBuffer();
  check(libc().getpeername(fd, sa.bytes, sa.resetLength()), "getpeername");
  return sa.decode();
}
