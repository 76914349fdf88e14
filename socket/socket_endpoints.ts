/**
 * The addressing side of `Socket`: bind, listen, accept, connect
 * (blocking, with a timeout, or non-blocking) and the local and peer
 * addresses, as functions of the socket's core (socket_core.ts). The
 * `Socket` methods of the same names call them and carry the documentation.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * using server = Socket.create("ipv4");
 * server.bind("127.0.0.1", 0);
 * server.listen();
 * console.log((server.localAddress() as { port: number }).port > 0); // true
 * ```
 *
 * @module
 */
import { SocketTimeoutError } from "../core/errors.ts";
import { check, sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import { parseIPv4, parseIPv6 } from "./address.ts";
import { acceptDescriptor } from "./descriptor.ts";
import { getIntOption, setNonBlocking } from "./options.ts";
import {
  encodeIPv4,
  encodeIPv6,
  encodeUnix,
  formatSocketAddress,
  SockaddrBuffer,
  type SocketAddress,
  zoneToScopeId,
} from "./sockaddr.ts";
import { checkMs, SocketCore } from "./socket_core.ts";
import { deadlineAfter, pollOne, remainingMs, WAIT_READ, WAIT_WRITE } from "./wait.ts";

// Address memory shared by every call (calls are synchronous).
const ADDR = new SockaddrBuffer();
const EMPTY4 = new Uint8Array(4);
const EMPTY16 = new Uint8Array(16);

/**
 * Whether the socket `fd` has a peer (getpeername succeeds).
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { hasPeer } from "./socket_endpoints.ts";
 * using s = Socket.create("ipv4");
 * console.log(hasPeer(s.fd)); // false
 * ```
 */
export function hasPeer(fd: number): boolean {
  if (libc().getpeername(fd, ADDR.bytes, ADDR.resetLength()) === 0) return true;
  const errno = native.errno();
  if (errno === E.ENOTCONN || errno === E.EINVAL) return false;
  throw sysError(errno, "getpeername");
}

/** Encodes host/port (literal IPs only) or a Unix path into ADDR; returns its length. */
function encode(c: SocketCore, host: string | null, port: number): number {
  const out = ADDR.bytes;
  if (c.family === "unix") {
    if (typeof host !== "string") throw new TypeError("a Unix socket address is a path string");
    return encodeUnix(out, host);
  }
  if (c.family === "ipv4") {
    if (host !== null && host.includes(":")) throw new TypeError(`an IPv4 socket cannot use the IPv6 address ${JSON.stringify(host)}`);
    return encodeIPv4(out, host === null ? EMPTY4 : parseIPv4(host), port);
  }
  if (host === null) return encodeIPv6(out, EMPTY16, port);
  if (!host.includes(":")) {
    // An IPv4 literal on an IPv6 socket: its IPv4-mapped form (dual stack).
    const v4 = parseIPv4(host);
    const mapped = new Uint8Array(16);
    mapped[10] = mapped[11] = 0xff;
    mapped.set(v4, 12);
    return encodeIPv6(out, mapped, port);
  }
  const { bytes, zone } = parseIPv6(host);
  return encodeIPv6(out, bytes, port, zone === undefined ? 0 : zoneToScopeId(zone));
}

/** First and longest pause between connects to a Unix listener with a full backlog. */
const BACKLOG_PAUSE_MS = 1;
const BACKLOG_PAUSE_MAX_MS = 50;

/**
 * Retries a non-blocking Unix connect (address in ADDR) that failed with
 * EAGAIN, the kernel's answer when the listener's backlog is full. Nothing
 * can be polled for room in another socket's backlog, so it pauses 1 ms,
 * doubling up to 50 ms, between tries, the last try at the deadline. Returns 0 once connected, -1 when the deadline passed with
 * the backlog still full, or the errno of another failure.
 */
function connectPastFullBacklog(fd: number, len: number, deadline: number): number {
  for (let pause = BACKLOG_PAUSE_MS; ; pause = Math.min(pause * 2, BACKLOG_PAUSE_MAX_MS)) {
    const left = remainingMs(deadline);
    if (left === 0) return -1;
    libc().usleep((left < 0 ? pause : Math.min(pause, left)) * 1000);
    if (libc().connect(fd, ADDR.bytes, len) === 0) return 0;
    const errno = native.errno();
    if (errno !== E.EAGAIN && errno !== E.EINTR) return errno;
  }
}

function describe(c: SocketCore, host: string | null, port: number): string {
  if (c.family === "unix") return String(host);
  const h = host ?? (c.family === "ipv6" ? "::" : "0.0.0.0");
  return formatSocketAddress({ family: c.family, host: h, port } as SocketAddress);
}

/** Options of `Socket.accept`. */
export interface AcceptOptions {
  /** Make the accepted socket non-blocking (default true, as accept4 NONBLOCK). */
  readonly nonBlocking?: boolean;
}

/** Outcome of `Socket.connectNonBlocking`. */
export type ConnectStatus = "connected" | "in-progress";

/**
 * `Socket.bind`: binds to a local address (`host` null: every interface).
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { bind } from "./socket_endpoints.ts";
 * using s = Socket.create("ipv4");
 * bind(coreOf(s), "127.0.0.1", 0); // s.bind("127.0.0.1", 0)
 * ```
 */
export function bind(c: SocketCore, host: string | null, port: number): void {
  const fd = c.liveFd();
  const len = encode(c, host, port);
  check(libc().bind(fd, ADDR.bytes, len), "bind", describe(c, host, port));
}

/**
 * `Socket.listen`: starts listening with a backlog.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { listen } from "./socket_endpoints.ts";
 * using s = Socket.create("ipv4");
 * s.bind("127.0.0.1", 0);
 * listen(coreOf(s), 16); // s.listen(16)
 * ```
 */
export function listen(c: SocketCore, backlog: number): void {
  if (!Number.isInteger(backlog) || backlog < 0 || backlog > 0x7fffffff) {
    throw new RangeError(`backlog must be a non-negative integer, got ${backlog}`);
  }
  check(libc().listen(c.liveFd(), backlog), "listen");
}

/**
 * `Socket.accept`: the core of the accepted socket, `null` when none is
 * waiting on a non-blocking listener.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { accept } from "./socket_endpoints.ts";
 * using s = Socket.create("ipv4", "stream", { nonBlocking: true });
 * s.bind("127.0.0.1", 0);
 * s.listen();
 * console.log(accept(coreOf(s), {})); // null: nobody is connecting
 * ```
 */
export function accept(c: SocketCore, options: AcceptOptions): SocketCore | null {
  const nonBlocking = options.nonBlocking !== false;
  const fd = acceptDescriptor(c.liveFd(), nonBlocking);
  return fd < 0 ? null : new SocketCore(fd, c.family, c.type, nonBlocking);
}

/**
 * `Socket.acceptTimeout`: waits up to `timeoutMs` for a connection and
 * accepts it; `null` on timeout.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { acceptTimeout } from "./socket_endpoints.ts";
 * using s = Socket.create("ipv4");
 * s.bind("127.0.0.1", 0);
 * s.listen();
 * console.log(acceptTimeout(coreOf(s), 10, {})); // null after 10 ms
 * ```
 */
export function acceptTimeout(c: SocketCore, timeoutMs: number, options: AcceptOptions): SocketCore | null {
  checkMs(timeoutMs);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const revents = pollOne(c.liveFd(), WAIT_READ, remainingMs(deadline));
    if (revents === 0) return null;
    if (c.nonBlocking) {
      const s = accept(c, options);
      if (s !== null) return s;
    } else {
      // A blocking listener: accept without waiting so a lost race cannot block.
      setNonBlocking(c.fd, true);
      try {
        const s = accept(c, options);
        if (s !== null) return s;
      } finally {
        setNonBlocking(c.fd, false);
      }
    }
    if (remainingMs(deadline) === 0) return null;
  }
}

/**
 * `Socket.connectTimeout` (and `Socket.connect`, with the connect
 * timeout): connects, waiting at most `timeoutMs` (0: no limit).
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { connectTimeout } from "./socket_endpoints.ts";
 * using server = Socket.create("ipv4");
 * server.bind("127.0.0.1", 0);
 * server.listen();
 * using client = Socket.create("ipv4");
 * connectTimeout(coreOf(client), "127.0.0.1", (server.localAddress() as { port: number }).port, 1000);
 * ```
 */
export function connectTimeout(c: SocketCore, host: string, port: number, timeoutMs: number): void {
  checkMs(timeoutMs);
  const fd = c.liveFd();
  const len = encode(c, host, port);
  const where = describe(c, host, port);
  const deadline = deadlineAfter(timeoutMs);
  const temporary = !c.nonBlocking && timeoutMs > 0;
  if (temporary) setNonBlocking(fd, true);
  try {
    if (libc().connect(fd, ADDR.bytes, len) === 0) {
      c.peerText = where;
      return;
    }
    let errno = native.errno();
    if (errno === E.EAGAIN && c.family === "unix" && (temporary || c.nonBlocking)) {
      // The listener's backlog is full: a blocking connect would sleep
      // until there is room, a non-blocking one fails at once. Retry.
      errno = connectPastFullBacklog(fd, len, deadline);
      if (errno === 0) {
        c.peerText = where;
        return;
      }
      if (errno < 0) throw new SocketTimeoutError(`connect to ${where} timed out after ${timeoutMs} ms (backlog full)`, { syscall: "connect", address: where });
    }
    if (errno !== E.EINPROGRESS && errno !== E.EINTR && errno !== E.EALREADY) throw sysError(errno, "connect", where);
    const revents = pollOne(fd, WAIT_WRITE, remainingMs(deadline));
    if (revents === 0) throw new SocketTimeoutError(`connect to ${where} timed out after ${timeoutMs} ms`, { syscall: "connect", address: where });
    const soError = getIntOption(fd, C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR");
    if (soError !== 0) throw sysError(soError, "connect", where);
    c.peerText = where;
  } finally {
    if (temporary && c.fd >= 0) setNonBlocking(fd, false);
  }
}

/**
 * `Socket.connectNonBlocking`: starts a connection without waiting.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { connectNonBlocking } from "./socket_endpoints.ts";
 * using server = Socket.create("ipv4");
 * server.bind("127.0.0.1", 0);
 * server.listen();
 * using client = Socket.create("ipv4");
 * console.log(connectNonBlocking(coreOf(client), "127.0.0.1", (server.localAddress() as { port: number }).port)); // "in-progress" or "connected"
 * ```
 */
export function connectNonBlocking(c: SocketCore, host: string, port: number): ConnectStatus {
  const fd = c.liveFd();
  const len = encode(c, host, port);
  const where = describe(c, host, port);
  const temporary = !c.nonBlocking;
  if (temporary) setNonBlocking(fd, true);
  try {
    c.peerText = where;
    if (libc().connect(fd, ADDR.bytes, len) === 0) return "connected";
    const errno = native.errno();
    if (errno === E.EINPROGRESS || errno === E.EINTR || errno === E.EALREADY) return "in-progress";
    throw sysError(errno, "connect", where);
  } finally {
    if (temporary) setNonBlocking(fd, false);
  }
}

/**
 * `Socket.finishConnect`: true once a non-blocking connect completed,
 * false while it is in progress.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { finishConnect } from "./socket_endpoints.ts";
 * const [a, b] = Socket.pair();
 * console.log(finishConnect(coreOf(a))); // true
 * a.close(); b.close();
 * ```
 */
export function finishConnect(c: SocketCore): boolean {
  const fd = c.liveFd();
  const revents = pollOne(fd, WAIT_WRITE, 0);
  if (revents === 0) return false;
  const soError = getIntOption(fd, C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR");
  if (soError !== 0) throw sysError(soError, "connect", c.peerText);
  return hasPeer(fd);
}

/**
 * `Socket.localAddress`: the local address (getsockname).
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { localAddress } from "./socket_endpoints.ts";
 * using s = Socket.create("ipv4");
 * s.bind("127.0.0.1", 0);
 * console.log(localAddress(coreOf(s))); // { family: "ipv4", host: "127.0.0.1", port: … }
 * ```
 */
export function localAddress(c: SocketCore): SocketAddress {
  check(libc().getsockname(c.liveFd(), ADDR.bytes, ADDR.resetLength()), "getsockname");
  return ADDR.decode();
}

/**
 * `Socket.remoteAddress`: the peer's address (getpeername).
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { remoteAddress } from "./socket_endpoints.ts";
 * const [a, b] = Socket.pair();
 * console.log(remoteAddress(coreOf(a)).family); // "unix"
 * a.close(); b.close();
 * ```
 */
export function remoteAddress(c: SocketCore): SocketAddress {
  check(libc().getpeername(c.liveFd(), ADDR.bytes, ADDR.resetLength()), "getpeername");
  return ADDR.decode();
}
