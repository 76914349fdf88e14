/**
 * The addressing side of {@link Socket}: bind, listen, accept, connect
 * (blocking, with a timeout, or non-blocking) and the local and peer
 * addresses. Mixed into `Socket` by socket.ts.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * using server = Socket.create("ipv4");
 * server.bind("127.0.0.1", 0);
 * server.listen();
 * console.log(server.localAddress().port > 0); // true
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
import type { AcceptOptions, ConnectStatus, Socket } from "./socket.ts";
import { adoptSocket, checkMs, coreOf, type SocketCore } from "./socket_core.ts";
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

/**
 * Binding, listening, accepting, connecting and addresses; these methods
 * are `Socket`'s own (see socket.ts), not used alone.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * console.log(a.isConnected()); // true
 * a.close(); b.close();
 * ```
 */
export class SocketEndpoints {
  /**
   * Binds to a local address: `host` null means every interface (for IPv6,
   * `::`, which also takes IPv4 unless `options.v6Only` is set). An IPv4
   * literal on an IPv6 socket binds its IPv4-mapped address.
   *
   * @throws TypeError for an invalid literal, RangeError for a bad port,
   *   SocketError (EADDRINUSE, …)
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv6");
   * s.bind(null, 0);
   * ```
   */
  bind(host: string | null, port = 0): void {
    const c = coreOf(this);
    const fd = c.liveFd();
    const len = encode(c, host, port);
    check(libc().bind(fd, ADDR.bytes, len), "bind", describe(c, host, port));
  }

  /**
   * Starts listening. `backlog` is clamped by the kernel to its somaxconn.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * s.bind("127.0.0.1", 0);
   * s.listen(128);
   * ```
   */
  listen(backlog = C.SOMAXCONN): void {
    const c = coreOf(this);
    if (!Number.isInteger(backlog) || backlog < 0 || backlog > 0x7fffffff) {
      throw new RangeError(`backlog must be a non-negative integer, got ${backlog}`);
    }
    check(libc().listen(c.liveFd(), backlog), "listen");
  }

  /**
   * Accepts one connection; `null` when none is waiting on a non-blocking
   * listener (a blocking listener waits). The new socket is close-on-exec
   * and, by default, non-blocking.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const peer = listener.accept({ nonBlocking: false });
   * ```
   */
  accept(options: AcceptOptions = {}): Socket | null {
    const c = coreOf(this);
    const nonBlocking = options.nonBlocking !== false;
    const fd = acceptDescriptor(c.liveFd(), nonBlocking);
    return fd < 0 ? null : adoptSocket(fd, c.family, c.type, nonBlocking);
  }

  /**
   * Waits up to `timeoutMs` for a connection and accepts it; `null` on
   * timeout.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const peer = listener.acceptTimeout(1000);
   * ```
   */
  acceptTimeout(timeoutMs: number, options: AcceptOptions = {}): Socket | null {
    const c = coreOf(this);
    checkMs(timeoutMs);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const revents = pollOne(c.liveFd(), WAIT_READ, remainingMs(deadline));
      if (revents === 0) return null;
      if (c.nonBlocking) {
        const s = this.accept(options);
        if (s !== null) return s;
      } else {
        // A blocking listener: accept without waiting so a lost race cannot block.
        setNonBlocking(c.fd, true);
        try {
          const s = this.accept(options);
          if (s !== null) return s;
        } finally {
          setNonBlocking(c.fd, false);
        }
      }
      if (remainingMs(deadline) === 0) return null;
    }
  }

  /**
   * Connects, waiting up to the connect timeout (`getTimeouts().connectMs`;
   * 0 waits as long as the kernel does). Works on blocking and non-blocking
   * sockets.
   *
   * @throws SocketError (ECONNREFUSED, …), SocketTimeoutError
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const s = Socket.create("ipv4"); s.connect("127.0.0.1", 8080);
   * ```
   */
  connect(host: string, port = 0): void {
    const c = coreOf(this);
    this.connectTimeout(host, port, c.timeouts.get("connectMs"));
  }

  /**
   * Connects, waiting at most `timeoutMs` (0: no limit). A Unix stream or
   * seqpacket listener with a full backlog is waited for too: the connect
   * is retried, with pauses of 1 ms growing to 50 ms, until it goes through
   * or the time runs out (a blocking socket with no limit leaves the
   * waiting to the kernel).
   *
   * @throws SocketTimeoutError when the time runs out (the socket then
   *   cannot be reused: close it)
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.connectTimeout("::1", 8080, 500);
   * ```
   */
  connectTimeout(host: string, port: number, timeoutMs: number): void {
    const c = coreOf(this);
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
   * Starts a connection without waiting: "connected" when it completed at
   * once (Unix sockets, often), "in-progress" otherwise; then wait for
   * writability and call {@link Socket.finishConnect}.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // if (s.connectNonBlocking("127.0.0.1", 80) === "in-progress") { s.isWritable(1000); s.finishConnect(); }
   * ```
   */
  connectNonBlocking(host: string, port = 0): ConnectStatus {
    const c = coreOf(this);
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
   * Completes a non-blocking connect: true once connected, false while it
   * is still in progress.
   *
   * @throws SocketError with the connect failure (SO_ERROR)
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // while (!s.finishConnect()) s.isWritable(100);
   * ```
   */
  finishConnect(): boolean {
    const c = coreOf(this);
    const fd = c.liveFd();
    const revents = pollOne(fd, WAIT_WRITE, 0);
    if (revents === 0) return false;
    const soError = getIntOption(fd, C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR");
    if (soError !== 0) throw sysError(soError, "connect", c.peerText);
    return hasPeer(fd);
  }

  /**
   * Whether the socket has a peer (getpeername succeeds).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * console.log(s.isConnected()); // false
   * ```
   */
  isConnected(): boolean {
    return hasPeer(coreOf(this).liveFd());
  }

  /**
   * The local address (getsockname).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * s.bind("127.0.0.1", 0);
   * console.log(s.localAddress()); // { family: "ipv4", host: "127.0.0.1", port: … }
   * ```
   */
  localAddress(): SocketAddress {
    const c = coreOf(this);
    check(libc().getsockname(c.liveFd(), ADDR.bytes, ADDR.resetLength()), "getsockname");
    return ADDR.decode();
  }

  /**
   * The peer's address (getpeername).
   *
   * @throws SocketClosedError (ENOTCONN) when not connected
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // console.log(s.remoteAddress());
   * ```
   */
  remoteAddress(): SocketAddress {
    const c = coreOf(this);
    check(libc().getpeername(c.liveFd(), ADDR.bytes, ADDR.resetLength()), "getpeername");
    return ADDR.decode();
  }
}
