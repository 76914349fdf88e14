/**
 * `Socket`: a TCP or Unix-domain (SOCK_STREAM, SOCK_SEQPACKET) socket, one
 * method per system call, errors as exceptions.
 *
 * Conventions:
 * - Every descriptor is close-on-exec; no send ever raises SIGPIPE
 *   (MSG_NOSIGNAL, SO_NOSIGPIPE on macOS).
 * - Would-block results: `accept`, `recv`, `recvv` and `peek` return `null`,
 *   `send`/`sendv` return 0. `recv` returns 0 at end of stream; `recvAll`
 *   throws {@link SocketClosedError} there.
 * - A blocking socket honours its send/receive timeouts (see
 *   `setTimeouts`); a timeout throws {@link SocketTimeoutError}.
 * - After `close()`, every method (and `fd`) throws
 *   {@link UseAfterCloseError}; `close()` again does nothing.
 * - For Unix sockets, `host` arguments are paths (`"@name"`: Linux
 *   abstract) and ports are ignored.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * using server = Socket.create("ipv4");
 * server.bind("127.0.0.1", 0);
 * server.listen();
 * using client = Socket.create("ipv4");
 * client.connect("127.0.0.1", server.localAddress().port);
 * using peer = server.acceptTimeout(1000)!;
 * client.sendAll(new TextEncoder().encode("hi"));
 * const buf = new Uint8Array(2);
 * peer.recvAll(buf);
 * ```
 *
 * @module
 */
import { SocketClosedError, SocketTimeoutError, UseAfterCloseError } from "../core/errors.ts";
import { TokenBucket } from "../core/rate_limit.ts";
import { check, sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import { parseIPv4, parseIPv6 } from "./address.ts";
import { acceptDescriptor, openSocket, openSocketPair, prepareDescriptor, SEND_FLAGS } from "./descriptor.ts";
import { ScatterGather } from "./iovec.ts";
import { getIntOption, setNonBlocking, SocketOptions } from "./options.ts";
import {
  type AddressFamily,
  encodeIPv4,
  encodeIPv6,
  encodeUnix,
  familyConstant,
  formatSocketAddress,
  SockaddrBuffer,
  type SocketAddress,
  zoneToScopeId,
} from "./sockaddr.ts";
import { type SocketStats, SocketStatistics } from "./stats.ts";
import { readCwnd, readRttUs, readTcpInfo, type TcpInfo } from "./tcp_info.ts";
import { type SocketTimeouts, TimeoutOverrides } from "./timeouts.ts";
import {
  peerCredentials as peerCredentialsOf,
  type PeerCredentials,
  type ReceivedFds,
  type RecvFdsOptions,
  recvFds as recvFdsOn,
  sendFds as sendFdsOn,
} from "./unix_fds.ts";
import { dup as dupFd, type SendfileOptions, sendfile as sendfileOn, sendfileAll as sendfileAllOn, spliceAll } from "./zero_copy.ts";
import { deadlineAfter, pollOne, remainingMs, WAIT_READ, WAIT_TROUBLE, WAIT_WRITE } from "./wait.ts";

/** Stream sockets (TCP, Unix) or Unix sequenced packets. */
export type SocketType = "stream" | "seqpacket";

/** Options of {@link Socket.create}. */
export interface CreateOptions {
  /** O_NONBLOCK from the start (default false). */
  readonly nonBlocking?: boolean;
}

/** Options of {@link Socket.accept}. */
export interface AcceptOptions {
  /** Make the accepted socket non-blocking (default true, as accept4 NONBLOCK). */
  readonly nonBlocking?: boolean;
}

/** Outcome of {@link Socket.connectNonBlocking}. */
export type ConnectStatus = "connected" | "in-progress";

/** Which direction {@link Socket.shutdown} closes. */
export type ShutdownHow = "read" | "write" | "both";

// Address memory shared by every call (calls are synchronous).
const ADDR = new SockaddrBuffer();
const PEEK_BYTE = new Uint8Array(1);

/**
 * A TCP or Unix-domain socket.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * a.sendAll(new Uint8Array([1, 2, 3]));
 * console.log(b.recv(new Uint8Array(8))); // 3
 * a.close(); b.close();
 * ```
 */
export class Socket {
  #fd: number;
  /** The address family. */
  readonly family: AddressFamily;
  /** The socket type. */
  readonly type: SocketType;
  #nonBlocking: boolean;
  #options: SocketOptions | undefined;
  #sg: ScatterGather | undefined;
  #bucket: TokenBucket | undefined;
  #peerText: string | undefined;
  readonly #timeouts = new TimeoutOverrides();
  readonly #stats = new SocketStatistics();

  private constructor(fd: number, family: AddressFamily, type: SocketType, nonBlocking: boolean) {
    this.#fd = fd;
    this.family = family;
    this.type = type;
    this.#nonBlocking = nonBlocking;
  }

  /**
   * Creates a socket.
   *
   * @param family "ipv4", "ipv6" or "unix"
   * @param type "stream" (default) or "seqpacket" (Unix only)
   * @throws TypeError for an unknown family or type; SocketError from socket(2)
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv6", "stream", { nonBlocking: true });
   * ```
   */
  static create(family: AddressFamily, type: SocketType = "stream", options: CreateOptions = {}): Socket {
    const af = familyConstant(family);
    const st = typeConstant(type);
    if (type === "seqpacket" && family !== "unix") throw new TypeError("seqpacket sockets are Unix-domain only");
    const nonBlocking = options.nonBlocking === true;
    return new Socket(openSocket(af, st, nonBlocking), family, type, nonBlocking);
  }

  /**
   * Wraps an existing socket descriptor, which the Socket then owns (it
   * closes it). Close-on-exec and SIGPIPE suppression are applied; the
   * blocking mode is read from the descriptor.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const s = Socket.fromFd(fd, "ipv4", "stream");
   * ```
   */
  static fromFd(fd: number, family: AddressFamily, type: SocketType = "stream"): Socket {
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new RangeError(`invalid file descriptor: ${fd}`);
    familyConstant(family);
    typeConstant(type);
    const flags = check(libc().fcntl(fd, C.F_GETFL, 0), "fcntl(F_GETFL)");
    const fdFlags = check(libc().fcntl(fd, C.F_GETFD, 0), "fcntl(F_GETFD)");
    if ((fdFlags & C.FD_CLOEXEC) === 0) check(libc().fcntl(fd, C.F_SETFD, fdFlags | C.FD_CLOEXEC), "fcntl(F_SETFD)");
    if (C.SO_NOSIGPIPE !== 0) prepareDescriptor(fd, (flags & C.O_NONBLOCK) !== 0, false);
    return new Socket(fd, family, type, (flags & C.O_NONBLOCK) !== 0);
  }

  /**
   * A connected pair of Unix sockets (socketpair(2)), both blocking unless
   * asked otherwise.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair("seqpacket");
   * a.close(); b.close();
   * ```
   */
  static pair(type: SocketType = "stream", options: CreateOptions = {}): [Socket, Socket] {
    const nonBlocking = options.nonBlocking === true;
    const [a, b] = openSocketPair(typeConstant(type), nonBlocking);
    return [new Socket(a, "unix", type, nonBlocking), new Socket(b, "unix", type, nonBlocking)];
  }

  /** The descriptor. Throws {@link UseAfterCloseError} once closed. */
  get fd(): number {
    if (this.#fd < 0) throw new UseAfterCloseError("Socket");
    return this.#fd;
  }

  /** Whether `close()` (or `release()`) has run. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Whether the descriptor is in non-blocking mode. */
  get nonBlocking(): boolean {
    this.fd;
    return this.#nonBlocking;
  }

  /** The socket's options (`socket.options.noDelay = true`, …). */
  get options(): SocketOptions {
    this.fd;
    if (this.#options === undefined) {
      const self = this;
      this.#options = new SocketOptions({
        get fd() {
          return self.fd;
        },
        family: this.family,
        get nonBlockingCache() {
          return self.#nonBlocking;
        },
        set nonBlockingCache(on: boolean) {
          self.#nonBlocking = on;
        },
      });
    }
    return this.#options;
  }

  // ---- addresses

  /** Encodes host/port (literal IPs only) or a Unix path into ADDR; returns its length. */
  #encode(host: string | null, port: number): number {
    const out = ADDR.bytes;
    if (this.family === "unix") {
      if (typeof host !== "string") throw new TypeError("a Unix socket address is a path string");
      return encodeUnix(out, host);
    }
    if (this.family === "ipv4") {
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

  #describe(host: string | null, port: number): string {
    if (this.family === "unix") return String(host);
    const h = host ?? (this.family === "ipv6" ? "::" : "0.0.0.0");
    return formatSocketAddress({ family: this.family, host: h, port } as SocketAddress);
  }

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
    const fd = this.fd;
    const len = this.#encode(host, port);
    check(libc().bind(fd, ADDR.bytes, len), "bind", this.#describe(host, port));
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
    if (!Number.isInteger(backlog) || backlog < 0 || backlog > 0x7fffffff) {
      throw new RangeError(`backlog must be a non-negative integer, got ${backlog}`);
    }
    check(libc().listen(this.fd, backlog), "listen");
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
    const nonBlocking = options.nonBlocking !== false;
    const fd = acceptDescriptor(this.fd, nonBlocking);
    return fd < 0 ? null : new Socket(fd, this.family, this.type, nonBlocking);
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
    checkMs(timeoutMs);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const revents = pollOne(this.fd, WAIT_READ, remainingMs(deadline));
      if (revents === 0) return null;
      if (this.#nonBlocking) {
        const s = this.accept(options);
        if (s !== null) return s;
      } else {
        // A blocking listener: accept without waiting so a lost race cannot block.
        setNonBlocking(this.#fd, true);
        try {
          const s = this.accept(options);
          if (s !== null) return s;
        } finally {
          setNonBlocking(this.#fd, false);
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
    this.connectTimeout(host, port, this.#timeouts.get("connectMs"));
  }

  /**
   * Connects, waiting at most `timeoutMs` (0: no limit).
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
    checkMs(timeoutMs);
    const fd = this.fd;
    const len = this.#encode(host, port);
    const where = this.#describe(host, port);
    const deadline = deadlineAfter(timeoutMs);
    const temporary = !this.#nonBlocking && timeoutMs > 0;
    if (temporary) setNonBlocking(fd, true);
    try {
      if (libc().connect(fd, ADDR.bytes, len) === 0) {
        this.#peerText = where;
        return;
      }
      const errno = native.errno();
      if (errno !== E.EINPROGRESS && errno !== E.EINTR && errno !== E.EALREADY) throw sysError(errno, "connect", where);
      const revents = pollOne(fd, WAIT_WRITE, remainingMs(deadline));
      if (revents === 0) throw new SocketTimeoutError(`connect to ${where} timed out after ${timeoutMs} ms`, { syscall: "connect", address: where });
      const soError = getIntOption(fd, C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR");
      if (soError !== 0) throw sysError(soError, "connect", where);
      this.#peerText = where;
    } finally {
      if (temporary && this.#fd >= 0) setNonBlocking(fd, false);
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
    const fd = this.fd;
    const len = this.#encode(host, port);
    const where = this.#describe(host, port);
    const temporary = !this.#nonBlocking;
    if (temporary) setNonBlocking(fd, true);
    try {
      this.#peerText = where;
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
    const fd = this.fd;
    const revents = pollOne(fd, WAIT_WRITE, 0);
    if (revents === 0) return false;
    const soError = getIntOption(fd, C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR");
    if (soError !== 0) throw sysError(soError, "connect", this.#peerText);
    return this.isConnected();
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
    const fd = this.fd;
    if (libc().getpeername(fd, ADDR.bytes, ADDR.resetLength()) === 0) return true;
    const errno = native.errno();
    if (errno === E.ENOTCONN || errno === E.EINVAL) return false;
    throw sysError(errno, "getpeername");
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
    check(libc().getsockname(this.fd, ADDR.bytes, ADDR.resetLength()), "getsockname");
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
    check(libc().getpeername(this.fd, ADDR.bytes, ADDR.resetLength()), "getpeername");
    return ADDR.decode();
  }

  // ---- sending

  /** One send; bytes sent, 0 when it would block (non-blocking). */
  #sendOnce(data: Uint8Array, flags: number, deadline: number): number {
    const fd = this.fd;
    const dontWait = this.#nonBlocking || deadline !== Infinity ? C.MSG_DONTWAIT : 0;
    for (;;) {
      const n = libc().send(fd, data, data.byteLength, flags | SEND_FLAGS | dontWait);
      if (n >= 0) {
        if (n > 0) this.#stats.sent(n);
        return n;
      }
      const errno = native.errno();
      if (errno === E.EINTR) continue;
      if (errno === E.EAGAIN) {
        if (this.#nonBlocking && deadline === Infinity) return 0;
        this.#waitOrTimeout(WAIT_WRITE, deadline, "send");
        continue;
      }
      this.#stats.sendErrors++;
      throw sysError(errno, "send", this.#peerText);
    }
  }

  #waitOrTimeout(events: number, deadline: number, what: string): void {
    if (pollOne(this.#fd, events, remainingMs(deadline)) === 0) {
      throw new SocketTimeoutError(`${what} timed out`, { syscall: what, ...(this.#peerText === undefined ? {} : { address: this.#peerText }) });
    }
  }

  /**
   * Sends some of `data`; returns the bytes the kernel took (0 when a
   * non-blocking socket would block). `flags` are extra MSG_* flags;
   * MSG_NOSIGNAL is always added.
   *
   * @throws SocketClosedError (EPIPE, ECONNRESET), SocketTimeoutError,
   *   SocketError
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.send(new Uint8Array([1, 2, 3]));
   * ```
   */
  send(data: Uint8Array, flags = 0): number {
    checkBytes(data);
    const sendMs = this.#nonBlocking ? 0 : this.#timeouts.get("sendMs");
    return this.#sendOnce(data, flags, deadlineAfter(sendMs));
  }

  /**
   * Sends all of `data`, waiting for room as needed (on non-blocking
   * sockets too). Each wait is bounded by the send timeout.
   *
   * @returns `data.byteLength`
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.sendAll(payload);
   * ```
   */
  sendAll(data: Uint8Array, flags = 0): number {
    checkBytes(data);
    const sendMs = this.#timeouts.get("sendMs");
    let sent = 0;
    while (sent < data.byteLength) {
      const chunk = sent === 0 ? data : data.subarray(sent);
      const n = this.#sendOnce(chunk, flags, this.#nonBlocking || sendMs > 0 ? deadlineAfter(sendMs || 0x7fffffff) : Infinity);
      sent += n;
    }
    return sent;
  }

  /**
   * Sends as much of `data` as fits in `timeoutMs` (0: no limit).
   *
   * @returns the bytes sent; less than `data.byteLength` when time ran out
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.sendAllTimeout(payload, 1000);
   * ```
   */
  sendAllTimeout(data: Uint8Array, timeoutMs: number, flags = 0): number {
    checkBytes(data);
    checkMs(timeoutMs);
    const deadline = deadlineAfter(timeoutMs || 0x7fffffff);
    let sent = 0;
    try {
      while (sent < data.byteLength) {
        sent += this.#sendOnce(sent === 0 ? data : data.subarray(sent), flags, deadline);
      }
    } catch (err) {
      if (err instanceof SocketTimeoutError && err.syscall === "send") return sent;
      throw err;
    }
    return sent;
  }

  // ---- receiving

  /** One recv: bytes, 0 at end of stream, -1 when it would block. */
  #recvOnce(buffer: Uint8Array, flags: number, deadline: number): number {
    const fd = this.fd;
    const dontWait = this.#nonBlocking || deadline !== Infinity ? C.MSG_DONTWAIT : 0;
    for (;;) {
      const n = libc().recv(fd, buffer, buffer.byteLength, flags | dontWait);
      if (n >= 0) {
        if (n > 0 && (flags & C.MSG_PEEK) === 0) this.#stats.received(n);
        return n;
      }
      const errno = native.errno();
      if (errno === E.EINTR) continue;
      if (errno === E.EAGAIN) {
        if (this.#nonBlocking && deadline === Infinity) return -1;
        this.#waitOrTimeout(WAIT_READ, deadline, "recv");
        continue;
      }
      this.#stats.recvErrors++;
      throw sysError(errno, "recv", this.#peerText);
    }
  }

  /**
   * Receives into `buffer`: the byte count, 0 at end of stream, `null` when
   * a non-blocking socket has nothing yet.
   *
   * @throws SocketClosedError (ECONNRESET), SocketTimeoutError, SocketError
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.recv(buf);
   * ```
   */
  recv(buffer: Uint8Array, flags = 0): number | null {
    checkBytes(buffer);
    const recvMs = this.#nonBlocking ? 0 : this.#timeouts.get("recvMs");
    const n = this.#recvOnce(buffer, flags, deadlineAfter(recvMs));
    return n < 0 ? null : n;
  }

  /**
   * Reads without consuming (MSG_PEEK); like {@link Socket.recv}.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.peek(buf);
   * ```
   */
  peek(buffer: Uint8Array): number | null {
    return this.recv(buffer, C.MSG_PEEK);
  }

  /**
   * Fills `buffer` completely, waiting as needed (each wait bounded by the
   * receive timeout).
   *
   * @throws SocketClosedError when the stream ends first
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.recvAll(header);
   * ```
   */
  recvAll(buffer: Uint8Array, flags = 0): number {
    checkBytes(buffer);
    const recvMs = this.#timeouts.get("recvMs");
    let got = 0;
    while (got < buffer.byteLength) {
      const deadline = this.#nonBlocking || recvMs > 0 ? deadlineAfter(recvMs || 0x7fffffff) : Infinity;
      const n = this.#recvOnce(got === 0 ? buffer : buffer.subarray(got), flags, deadline);
      if (n === 0) throw this.#eof(got, buffer.byteLength);
      got += n;
    }
    return got;
  }

  /**
   * Receives into `buffer` until it is full or `timeoutMs` passes (0: no
   * limit).
   *
   * @returns the bytes received; fewer than `buffer.byteLength` on timeout
   * @throws SocketClosedError when the stream ends first
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.recvAllTimeout(buf, 500);
   * ```
   */
  recvAllTimeout(buffer: Uint8Array, timeoutMs: number, flags = 0): number {
    checkBytes(buffer);
    checkMs(timeoutMs);
    const deadline = deadlineAfter(timeoutMs || 0x7fffffff);
    let got = 0;
    try {
      while (got < buffer.byteLength) {
        const n = this.#recvOnce(got === 0 ? buffer : buffer.subarray(got), flags, deadline);
        if (n === 0) throw this.#eof(got, buffer.byteLength);
        got += n;
      }
    } catch (err) {
      if (err instanceof SocketTimeoutError && err.syscall === "recv") return got;
      throw err;
    }
    return got;
  }

  #eof(got: number, wanted: number): SocketClosedError {
    const where = this.#peerText === undefined ? "" : ` (${this.#peerText})`;
    return new SocketClosedError("EOF", `the peer closed the connection after ${got} of ${wanted} bytes${where}`, {
      syscall: "recv",
      ...(this.#peerText === undefined ? {} : { address: this.#peerText }),
    });
  }

  // ---- scatter/gather

  #gather(): ScatterGather {
    return (this.#sg ??= new ScatterGather());
  }

  #sendvOnce(buffers: readonly Uint8Array[], deadline: number): number {
    const fd = this.fd;
    const sg = this.#gather();
    const dontWait = this.#nonBlocking || deadline !== Infinity ? C.MSG_DONTWAIT : 0;
    for (;;) {
      const n = sg.send(fd, buffers, SEND_FLAGS | dontWait);
      if (n >= 0) {
        if (n > 0) this.#stats.sent(n);
        return n;
      }
      const errno = native.errno();
      if (errno === E.EINTR) continue;
      if (errno === E.EAGAIN) {
        if (this.#nonBlocking && deadline === Infinity) return 0;
        this.#waitOrTimeout(WAIT_WRITE, deadline, "sendmsg");
        continue;
      }
      this.#stats.sendErrors++;
      throw sysError(errno, "sendmsg", this.#peerText);
    }
  }

  /**
   * Sends several buffers in one sendmsg (gather); returns the bytes sent
   * (0 when a non-blocking socket would block).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.sendv([header, body]);
   * ```
   */
  sendv(buffers: readonly Uint8Array[]): number {
    const sendMs = this.#nonBlocking ? 0 : this.#timeouts.get("sendMs");
    return this.#sendvOnce(buffers, deadlineAfter(sendMs));
  }

  /**
   * Sends every byte of every buffer, in order.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.sendvAll([header, body]);
   * ```
   */
  sendvAll(buffers: readonly Uint8Array[]): number {
    return this.#sendvUntil(buffers, Infinity);
  }

  /**
   * Sends the buffers until done or until `timeoutMs` passes (0: no limit).
   *
   * @returns the bytes sent; fewer than the total when time ran out
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.sendvTimeout([a, b], 1000);
   * ```
   */
  sendvTimeout(buffers: readonly Uint8Array[], timeoutMs: number): number {
    checkMs(timeoutMs);
    return this.#sendvUntil(buffers, deadlineAfter(timeoutMs || 0x7fffffff));
  }

  #sendvUntil(buffers: readonly Uint8Array[], overall: number): number {
    if (!Array.isArray(buffers)) throw new TypeError("buffers must be an array of Uint8Array");
    let rest: readonly Uint8Array[] = buffers;
    let total = 0;
    for (const b of buffers) total += checkBytes(b).byteLength;
    const sendMs = this.#timeouts.get("sendMs");
    let sent = 0;
    try {
      while (sent < total) {
        const deadline = overall !== Infinity ? overall : this.#nonBlocking || sendMs > 0 ? deadlineAfter(sendMs || 0x7fffffff) : Infinity;
        let n = this.#sendvOnce(rest, deadline);
        sent += n;
        if (sent === total) break;
        // Drop what went out (allocates only on a partial send).
        const next: Uint8Array[] = [];
        for (const b of rest) {
          if (n >= b.byteLength) n -= b.byteLength;
          else {
            next.push(n === 0 ? b : b.subarray(n));
            n = 0;
          }
        }
        rest = next;
      }
    } catch (err) {
      if (overall !== Infinity && err instanceof SocketTimeoutError && err.syscall === "sendmsg") return sent;
      throw err;
    }
    return sent;
  }

  /**
   * Receives into several buffers in one recvmsg (scatter): the byte count,
   * 0 at end of stream, `null` when a non-blocking socket would block.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.recvv([header, body]);
   * ```
   */
  recvv(buffers: readonly Uint8Array[]): number | null {
    const fd = this.fd;
    const sg = this.#gather();
    const recvMs = this.#nonBlocking ? 0 : this.#timeouts.get("recvMs");
    const deadline = deadlineAfter(recvMs);
    const dontWait = this.#nonBlocking || deadline !== Infinity ? C.MSG_DONTWAIT : 0;
    for (;;) {
      const n = sg.recv(fd, buffers, dontWait);
      if (n >= 0) {
        if (n > 0) this.#stats.received(n);
        return n;
      }
      const errno = native.errno();
      if (errno === E.EINTR) continue;
      if (errno === E.EAGAIN) {
        if (this.#nonBlocking) return null;
        this.#waitOrTimeout(WAIT_READ, deadline, "recvmsg");
        continue;
      }
      this.#stats.recvErrors++;
      throw sysError(errno, "recvmsg", this.#peerText);
    }
  }

  // ---- Unix descriptor passing and credentials (socket/unix_fds.ts)

  #unixOnly(what: string): number {
    const fd = this.fd;
    if (this.family !== "unix") throw new TypeError(`${what} needs a Unix-domain socket, this one is ${this.family}`);
    return fd;
  }

  /** On a blocking socket with a receive timeout, waits for data first. */
  #awaitReadable(what: string): void {
    if (this.#nonBlocking) return;
    const recvMs = this.#timeouts.get("recvMs");
    if (recvMs > 0) this.#waitOrTimeout(WAIT_READ, deadlineAfter(recvMs), what);
  }

  /**
   * Passes descriptors to the peer in one SCM_RIGHTS message (with `data`,
   * one zero byte by default); returns the data bytes sent. The caller keeps
   * its own copies of the descriptors.
   *
   * @throws TypeError on a non-Unix socket; RangeError for 0 or more than
   *   {@link MAX_FDS_PER_MESSAGE} descriptors; SocketClosedError when the
   *   peer is gone
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendFds([0, 1]);
   * const msg = b.recvFds({ maxFds: 2 });
   * for (const fd of msg?.fds ?? []) b.closeReceivedFd(fd);
   * a.close(); b.close();
   * ```
   */
  sendFds(fds: readonly number[], data?: Uint8Array): number {
    const fd = this.#unixOnly("sendFds");
    if (data !== undefined) checkBytes(data);
    try {
      const n = sendFdsOn(fd, fds, data);
      this.#stats.sent(n);
      return n;
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) this.#stats.sendErrors++;
      throw err;
    }
  }

  /**
   * Passes one descriptor; see {@link Socket.sendFds}.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendFd(0); // our stdin
   * const fd = b.recvFd();
   * if (fd !== null && fd >= 0) b.closeReceivedFd(fd);
   * a.close(); b.close();
   * ```
   */
  sendFd(fd: number, data?: Uint8Array): number {
    return this.sendFds([fd], data);
  }

  /**
   * Receives one message and the descriptors passed with it (close-on-exec,
   * owned by the caller); `null` when a non-blocking socket has nothing.
   * Descriptors beyond `maxFds` (default `SOCKET_LIMITS.maxReceivedFds`), or
   * carried by a truncated control message, are closed at once and
   * `fdsTruncated` is set. A blocking socket honours its receive timeout.
   *
   * @throws TypeError on a non-Unix socket; SocketTimeoutError
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendFds([0], new TextEncoder().encode("stdin"));
   * const msg = b.recvFds({ maxFds: 4, buffer: new Uint8Array(16) });
   * console.log(msg?.bytes, msg?.fds.length); // 5 1
   * for (const fd of msg?.fds ?? []) b.closeReceivedFd(fd);
   * a.close(); b.close();
   * ```
   */
  recvFds(options: RecvFdsOptions = {}): ReceivedFds | null {
    const fd = this.#unixOnly("recvFds");
    this.#awaitReadable("recvmsg");
    let msg: ReceivedFds | null;
    try {
      msg = recvFdsOn(fd, options);
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) this.#stats.recvErrors++;
      throw err;
    }
    if (msg !== null && msg.bytes > 0) this.#stats.received(msg.bytes);
    return msg;
  }

  /**
   * Receives one descriptor: the descriptor, `-1` when the message carried
   * none, `null` when a non-blocking socket has nothing. Extra descriptors
   * are closed.
   *
   * @throws SocketClosedError when the peer closed first
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendFd(0);
   * const fd = b.recvFd();
   * if (fd !== null && fd >= 0) b.closeReceivedFd(fd);
   * a.close(); b.close();
   * ```
   */
  recvFd(buffer?: Uint8Array): number | null {
    const msg = this.recvFds(buffer === undefined ? { maxFds: 1 } : { maxFds: 1, buffer });
    if (msg === null) return null;
    if (msg.bytes === 0 && msg.fds.length === 0) {
      throw new SocketClosedError("EOF", "recvmsg: the peer closed before sending a descriptor", {
        syscall: "recvmsg",
        ...(this.#peerText === undefined ? {} : { address: this.#peerText }),
      });
    }
    return msg.fds[0] ?? -1;
  }

  /**
   * Closes a descriptor received with {@link Socket.recvFd} or
   * {@link Socket.recvFds} (a convenience: any descriptor may be closed).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const fd = s.recvFd(); if (fd !== null && fd >= 0) s.closeReceivedFd(fd);
   * ```
   */
  closeReceivedFd(fd: number): void {
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new RangeError(`invalid file descriptor: ${fd}`);
    if (fd === this.#fd) throw new RangeError(`descriptor ${fd} is this socket's own`);
    check(libc().close(fd), "close");
  }

  /**
   * The credentials (pid, uid, gid) the kernel recorded for the peer of a
   * connected Unix socket at connect or socketpair time (SO_PEERCRED).
   *
   * @throws TypeError on a non-Unix socket; UnsupportedError off Linux
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * console.log(a.peerCredentials().pid); // this process
   * a.close(); b.close();
   * ```
   */
  peerCredentials(): PeerCredentials {
    return peerCredentialsOf(this.#unixOnly("peerCredentials"));
  }

  // ---- zero-copy (socket/zero_copy.ts)

  /**
   * One sendfile(2): up to `count` bytes of the open file `fileFd` from
   * `offset` (the file's own position is not moved); the bytes sent, 0 at
   * end of file, `null` when a non-blocking socket has no room.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.sendfile(fileFd, 0, 1 << 20);
   * ```
   */
  sendfile(fileFd: number, offset: number, count: number): number | null {
    const fd = this.fd;
    try {
      const n = sendfileOn(fd, fileFd, offset, count);
      if (n !== null && n > 0) this.#stats.sent(n);
      return n;
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) this.#stats.sendErrors++;
      throw err;
    }
  }

  /**
   * Sends a whole file (an open descriptor or a path) or a slice of it,
   * waiting for room as needed; returns the bytes sent (fewer only when the
   * file ended early). Each wait is bounded by `options.timeoutMs`, by
   * default this socket's send timeout (none when 0).
   *
   * @throws SocketTimeoutError, SocketClosedError, SocketError (ENOENT, …)
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.sendfileAll("/var/www/index.html");
   * ```
   */
  sendfileAll(source: number | string, options: SendfileOptions = {}): number {
    const fd = this.fd;
    const sendMs = this.#timeouts.get("sendMs");
    const timeoutMs = options.timeoutMs ?? (sendMs > 0 ? sendMs : -1);
    try {
      const n = sendfileAllOn(fd, source, { ...options, timeoutMs });
      if (n > 0) this.#stats.sent(n);
      return n;
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) this.#stats.sendErrors++;
      throw err;
    }
  }

  /**
   * Moves bytes from this socket to `destination` inside the kernel
   * (splice through a pipe; Linux), until `count` bytes have moved or this
   * socket reaches end of stream. Each wait is bounded by `timeoutMs`
   * (default: no limit). Returns the bytes moved.
   *
   * @throws UnsupportedError off Linux; SocketTimeoutError
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const moved = client.spliceTo(upstream); // proxy until client EOF
   * ```
   */
  spliceTo(destination: Socket, count = Infinity, timeoutMs = -1): number {
    if (!(destination instanceof Socket)) throw new TypeError("destination must be a Socket");
    const n = spliceAll(this.fd, destination.fd, count, timeoutMs);
    if (n > 0) {
      this.#stats.received(n);
      destination.#stats.sent(n);
    }
    return n;
  }

  /**
   * A second Socket on a duplicate of this descriptor (close-on-exec),
   * sharing the connection, options and blocking mode; each Socket closes
   * its own descriptor.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * using copy = s.dup();
   * console.log(copy.fd !== s.fd); // true
   * ```
   */
  dup(): Socket {
    const copy = dupFd(this.fd);
    const s = new Socket(copy, this.family, this.type, this.#nonBlocking);
    s.#peerText = this.#peerText;
    return s;
  }

  // ---- bandwidth limiting

  /**
   * Limits {@link Socket.sendLimited} to `bytesPerSec` (burst: one second's
   * worth unless given). 0 removes the limit.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.setBandwidth(1_000_000); // 1 MB/s
   * ```
   */
  setBandwidth(bytesPerSec: number, burstBytes?: number): void {
    this.fd;
    if (typeof bytesPerSec !== "number" || !(bytesPerSec >= 0) || !Number.isFinite(bytesPerSec)) {
      throw new RangeError(`bytesPerSec must be a finite number ≥ 0, got ${bytesPerSec}`);
    }
    if (bytesPerSec === 0) {
      this.#bucket = undefined;
      return;
    }
    if (this.#bucket === undefined) {
      this.#bucket = new TokenBucket(burstBytes === undefined ? { rate: bytesPerSec } : { rate: bytesPerSec, burst: burstBytes });
    } else {
      this.#bucket.configure(bytesPerSec, burstBytes);
    }
  }

  /** The bandwidth limit in bytes per second, 0 when none. */
  get bandwidth(): number {
    return this.#bucket?.rate ?? 0;
  }

  /**
   * Sends as much of `data` as the bandwidth limit allows now; 0 when the
   * limit (or a full non-blocking socket) allows nothing.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.sendLimited(chunk); if (n === 0) wait(s.bandwidthWaitMs(chunk.length));
   * ```
   */
  sendLimited(data: Uint8Array, flags = 0): number {
    checkBytes(data);
    const bucket = this.#bucket;
    if (bucket === undefined) return this.send(data, flags);
    const allowed = bucket.acquireUpTo(data.byteLength);
    if (allowed === 0) return 0;
    return this.send(allowed === data.byteLength ? data : data.subarray(0, allowed), flags);
  }

  /**
   * Milliseconds until `length` bytes may be sent under the limit (0: now;
   * Infinity when `length` exceeds the burst).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // console.log(s.bandwidthWaitMs(65536));
   * ```
   */
  bandwidthWaitMs(length: number): number {
    this.fd;
    return this.#bucket === undefined ? 0 : this.#bucket.waitTimeMs(length);
  }

  // ---- timeouts

  /**
   * The timeouts in force (this socket's overrides over the defaults).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // console.log(s.getTimeouts().recvMs);
   * ```
   */
  getTimeouts(): SocketTimeouts {
    return this.#timeouts.effective();
  }

  /**
   * Overrides some timeouts for this socket (ms; 0 = no timeout).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.setTimeouts({ recvMs: 500, sendMs: 500 });
   * ```
   */
  setTimeouts(patch: Partial<SocketTimeouts>): void {
    this.#timeouts.set(patch);
  }

  /** Drops this socket's overrides: the process-wide defaults apply again. */
  clearTimeouts(): void {
    this.#timeouts.clear();
  }

  // ---- health and info

  /**
   * The pending socket error (SO_ERROR, which reading clears), or null.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const err = s.getError(); if (err) console.log(err.code);
   * ```
   */
  getError(): Error | null {
    const errno = getIntOption(this.fd, C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR");
    return errno === 0 ? null : sysError(errno, "SO_ERROR", this.#peerText);
  }

  /**
   * Whether the connection still looks alive: no pending error, no hang-up,
   * and (if data or EOF is waiting) not at end of stream. Waits up to
   * `timeoutMs` for an event.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // if (!s.probe()) s.close();
   * ```
   */
  probe(timeoutMs = 0): boolean {
    checkMs(timeoutMs);
    const fd = this.fd;
    const revents = pollOne(fd, WAIT_READ | C.POLLRDHUP, timeoutMs);
    if ((revents & WAIT_TROUBLE) !== 0) return false;
    if (getIntOption(fd, C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR") !== 0) return false;
    if ((revents & (WAIT_READ | C.POLLRDHUP)) === 0) return this.isConnected();
    for (;;) {
      const n = libc().recv(fd, PEEK_BYTE, 1, C.MSG_PEEK | C.MSG_DONTWAIT);
      if (n > 0) return true;
      if (n === 0) return false;
      const errno = native.errno();
      if (errno === E.EINTR) continue;
      return errno === E.EAGAIN;
    }
  }

  /**
   * Whether data (or end of stream) can be read, waiting up to `timeoutMs`.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // if (s.isReadable(100)) s.recv(buf);
   * ```
   */
  isReadable(timeoutMs = 0): boolean {
    checkMs(timeoutMs);
    return pollOne(this.fd, WAIT_READ, timeoutMs) !== 0;
  }

  /**
   * Whether a send would not block, waiting up to `timeoutMs`.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // if (s.isWritable()) s.send(buf);
   * ```
   */
  isWritable(timeoutMs = 0): boolean {
    checkMs(timeoutMs);
    return pollOne(this.fd, WAIT_WRITE, timeoutMs) !== 0;
  }

  /**
   * TCP_INFO (Linux): RTT, congestion window, retransmissions, rates, ….
   *
   * @throws UnsupportedError off Linux
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // console.log(s.tcpInfo().rttUs);
   * ```
   */
  tcpInfo(): TcpInfo {
    const info = readTcpInfo(this.fd);
    this.#stats.rttUs = info.rttUs;
    return info;
  }

  /** Smoothed RTT in microseconds (TCP_INFO). */
  getRtt(): number {
    const rtt = readRttUs(this.fd);
    this.#stats.rttUs = rtt;
    return rtt;
  }

  /** Congestion window in segments (TCP_INFO). */
  getCwnd(): number {
    return readCwnd(this.fd);
  }

  /**
   * A copy of this socket's counters.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // console.log(s.stats().bytesSent);
   * ```
   */
  stats(): SocketStats {
    return this.#stats.snapshot();
  }

  /** Zeroes the counters. */
  resetStats(): void {
    this.#stats.reset();
  }

  // ---- ending

  /**
   * Shuts down one or both directions (the peer sees end of stream after
   * "write").
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.shutdown("write");
   * ```
   */
  shutdown(how: ShutdownHow = "both"): void {
    const value = how === "read" ? C.SHUT_RD : how === "write" ? C.SHUT_WR : how === "both" ? C.SHUT_RDWR : -1;
    if (value < 0) throw new TypeError(`shutdown takes "read", "write" or "both", got ${String(how)}`);
    check(libc().shutdown(this.fd, value), "shutdown", this.#peerText);
  }

  /**
   * Gives up ownership of the descriptor without closing it (for an event
   * loop that takes it over). The Socket is closed afterwards.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const fd = s.release();
   * ```
   */
  release(): number {
    const fd = this.fd;
    this.#fd = -1;
    this.#sg?.free();
    return fd;
  }

  /**
   * Closes the descriptor. A second call does nothing; the descriptor is
   * never closed twice. Errors from close(2) are ignored (the descriptor
   * is released either way).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const s = Socket.create("ipv4");
   * s.close();
   * s.close(); // no-op
   * ```
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    this.#sg?.free();
    this.#sg = undefined;
    libc().close(fd);
  }

  /** Same as {@link Socket.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

const EMPTY4 = new Uint8Array(4);
const EMPTY16 = new Uint8Array(16);

function typeConstant(type: SocketType): number {
  if (type === "stream") return C.SOCK_STREAM;
  if (type === "seqpacket") return C.SOCK_SEQPACKET;
  throw new TypeError(`socket type must be "stream" or "seqpacket", got ${String(type)}`);
}

function checkBytes(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError(`expected a Uint8Array, got ${data === null ? "null" : typeof data}`);
  return data;
}

function checkMs(ms: number): void {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > 0x7fffffff) {
    throw new RangeError(`timeout must be an integer 0–2147483647 ms, got ${String(ms)}`);
  }
}
