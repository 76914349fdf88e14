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
 * The class is split by concern: this file holds the state, the factories,
 * the send/receive hot path and closing; the other methods live in method
 * groups mixed into `Socket.prototype` below (socket_endpoints.ts,
 * socket_deadlines.ts, socket_vectored.ts, socket_fd_passing.ts,
 * socket_zero_copy.ts, socket_bandwidth.ts, socket_health.ts), which reach
 * the private state through socket_core.ts.
 *
 * @module
 */
import { check } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import { openSocket, openSocketPair, prepareDescriptor } from "./descriptor.ts";
import { SocketOptions } from "./options.ts";
import { type AddressFamily, familyConstant } from "./sockaddr.ts";
import { SocketBandwidth } from "./socket_bandwidth.ts";
import { checkBytes, mixInto, provideSocketInternals, SocketCore } from "./socket_core.ts";
import { SocketDeadlines } from "./socket_deadlines.ts";
import { SocketEndpoints } from "./socket_endpoints.ts";
import { SocketFdPassing } from "./socket_fd_passing.ts";
import { SocketHealth } from "./socket_health.ts";
import { SocketVectoredIO } from "./socket_vectored.ts";
import { SocketZeroCopy } from "./socket_zero_copy.ts";
import { deadlineAfter } from "./wait.ts";

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
  readonly #core: SocketCore;
  /** The address family. */
  readonly family: AddressFamily;
  /** The socket type. */
  readonly type: SocketType;

  private constructor(fd: number, family: AddressFamily, type: SocketType, nonBlocking: boolean) {
    this.#core = new SocketCore(fd, family, type, nonBlocking);
    this.family = family;
    this.type = type;
  }

  static {
    provideSocketInternals({
      core: (socket) => (socket as Socket).#core,
      adopt: (fd, family, type, nonBlocking, peerText) => {
        const s = new Socket(fd, family, type, nonBlocking);
        s.#core.peerText = peerText;
        return s;
      },
      isSocket: (value): value is Socket => value instanceof Socket,
    });
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
    return this.#core.liveFd();
  }

  /** Whether `close()` (or `release()`) has run. */
  get closed(): boolean {
    return this.#core.fd < 0;
  }

  /** Whether the descriptor is in non-blocking mode. */
  get nonBlocking(): boolean {
    const c = this.#core;
    c.liveFd();
    return c.nonBlocking;
  }

  /** The socket's options (`socket.options.noDelay = true`, …). */
  get options(): SocketOptions {
    const c = this.#core;
    c.liveFd();
    if (c.options === undefined) {
      c.options = new SocketOptions({
        get fd() {
          return c.liveFd();
        },
        family: this.family,
        get nonBlockingCache() {
          return c.nonBlocking;
        },
        set nonBlockingCache(on: boolean) {
          c.nonBlocking = on;
        },
      });
    }
    return c.options;
  }

  // ---- sending and receiving (the rest lives in the method groups mixed in below)

  /**
   * Sends some of `data`; returns the bytes the kernel took (0 when a
   * non-blocking socket would block, or any socket with MSG_DONTWAIT in
   * `flags`). `flags` are extra MSG_* flags; MSG_NOSIGNAL is always added.
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
    return this.#core.send(data, flags);
  }

  /**
   * Sends all of `data`, waiting for room as needed (on non-blocking
   * sockets too, and with MSG_DONTWAIT in `flags`, which is dropped). Each
   * wait is bounded by the send timeout.
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
    const c = this.#core;
    const sendMs = c.timeouts.get("sendMs");
    let sent = 0;
    while (sent < data.byteLength) {
      const chunk = sent === 0 ? data : data.subarray(sent);
      const n = c.sendOnce(chunk, SocketCore.waiting(flags), c.nonBlocking || sendMs > 0 ? deadlineAfter(sendMs || 0x7fffffff) : Infinity);
      sent += n;
    }
    return sent;
  }

  /**
   * Receives into `buffer`: the byte count, 0 at end of stream, `null` when
   * a non-blocking socket (or any socket with MSG_DONTWAIT in `flags`) has
   * nothing yet.
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
    const c = this.#core;
    const recvMs = c.nonBlocking ? 0 : c.timeouts.get("recvMs");
    const n = c.recvOnce(buffer, flags, deadlineAfter(recvMs));
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
    const c = this.#core;
    const recvMs = c.timeouts.get("recvMs");
    let got = 0;
    while (got < buffer.byteLength) {
      const deadline = c.nonBlocking || recvMs > 0 ? deadlineAfter(recvMs || 0x7fffffff) : Infinity;
      const n = c.recvOnce(got === 0 ? buffer : buffer.subarray(got), SocketCore.waiting(flags), deadline);
      if (n === 0) throw c.eof(got, buffer.byteLength);
      got += n;
    }
    return got;
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
    check(libc().shutdown(this.fd, value), "shutdown", this.#core.peerText);
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
    const c = this.#core;
    const fd = c.liveFd();
    c.fd = -1;
    c.sg?.free();
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
    const c = this.#core;
    const fd = c.fd;
    if (fd < 0) return;
    c.fd = -1;
    c.sg?.free();
    c.sg = undefined;
    libc().close(fd);
  }

  /** Same as {@link Socket.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

// The method groups: their members are Socket's own (typed by this
// interface, installed on the prototype by mixInto).
export interface Socket
  extends SocketEndpoints, SocketDeadlines, SocketVectoredIO, SocketFdPassing, SocketZeroCopy, SocketBandwidth, SocketHealth {}
mixInto(Socket, [SocketEndpoints, SocketDeadlines, SocketVectoredIO, SocketFdPassing, SocketZeroCopy, SocketBandwidth, SocketHealth]);

function typeConstant(type: SocketType): number {
  if (type === "stream") return C.SOCK_STREAM;
  if (type === "seqpacket") return C.SOCK_SEQPACKET;
  throw new TypeError(`socket type must be "stream" or "seqpacket", got ${String(type)}`);
}
