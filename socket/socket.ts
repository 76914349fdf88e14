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
 * client.connect("127.0.0.1", (server.localAddress() as { port: number }).port);
 * using peer = server.acceptTimeout(1000)!;
 * client.sendAll(new TextEncoder().encode("hi"));
 * const buf = new Uint8Array(2);
 * peer.recvAll(buf);
 * ```
 *
 * This file lists the whole surface of `Socket` with its documentation.
 * The state lives in a private `SocketCore` (socket_core.ts); the
 * send/receive hot path, the factories and closing are written here, and
 * every longer method is one call to a function of the core, grouped by
 * concern in socket_endpoints.ts, socket_deadlines.ts, socket_vectored.ts,
 * socket_fd_passing.ts, socket_zero_copy.ts, socket_bandwidth.ts and
 * socket_health.ts (none of which imports this file).
 *
 * @module
 */
import { check } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import { openSocket, openSocketPair, prepareDescriptor } from "./descriptor.ts";
import { SocketOptions } from "./options.ts";
import { type AddressFamily, familyConstant, type SocketAddress } from "./sockaddr.ts";
import * as pacing from "./socket_bandwidth.ts";
import { checkBytes, provideCoreAccess, shutThroughGuards, SocketCore, type SocketType } from "./socket_core.ts";
import * as deadlines from "./socket_deadlines.ts";
import * as endpoints from "./socket_endpoints.ts";
import type { AcceptOptions, ConnectStatus } from "./socket_endpoints.ts";
import * as fdPassing from "./socket_fd_passing.ts";
import * as health from "./socket_health.ts";
import * as vectored from "./socket_vectored.ts";
import * as zeroCopy from "./socket_zero_copy.ts";
import type { SocketStats } from "./stats.ts";
import { readCwnd, type TcpInfo } from "./tcp_info.ts";
import type { SocketTimeouts } from "./timeouts.ts";
import type { PeerCredentials, ReceivedFds, RecvFdsOptions } from "./unix_fds.ts";
import { deadlineAfter, WAIT_READ, WAIT_WRITE } from "./wait.ts";
import type { SendfileOptions } from "./zero_copy.ts";

export type { SocketType } from "./socket_core.ts";
export type { AcceptOptions, ConnectStatus } from "./socket_endpoints.ts";

/** Options of {@link Socket.create}. */
export interface CreateOptions {
  /** O_NONBLOCK from the start (default false). */
  readonly nonBlocking?: boolean;
}

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

  private constructor(core: SocketCore) {
    this.#core = core;
    this.family = core.family;
    this.type = core.type;
  }

  static {
    provideCoreAccess((socket) => (socket as Socket).#core);
  }

  /** A Socket around `core`, or `null`. */
  static #wrap(core: SocketCore | null): Socket | null {
    return core === null ? null : new Socket(core);
  }

  // ---- making sockets

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
    return new Socket(new SocketCore(openSocket(af, st, nonBlocking), family, type, nonBlocking));
  }

  /**
   * Wraps an existing socket descriptor, which the Socket then owns (it
   * closes it). Close-on-exec and SIGPIPE suppression are applied; the
   * blocking mode is read from the descriptor.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * using adopted = Socket.fromFd(a.release(), "unix");
   * console.log(adopted.isConnected()); // true
   * b.close();
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
    return new Socket(new SocketCore(fd, family, type, (flags & C.O_NONBLOCK) !== 0));
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
    return [new Socket(new SocketCore(a, "unix", type, nonBlocking)), new Socket(new SocketCore(b, "unix", type, nonBlocking))];
  }

  // ---- state

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

  // ---- addresses, listening and connecting (socket_endpoints.ts)

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
    endpoints.bind(this.#core, host, port);
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
  listen(backlog: number = C.SOMAXCONN): void {
    endpoints.listen(this.#core, backlog);
  }

  /**
   * Accepts one connection; `null` when none is waiting on a non-blocking
   * listener (a blocking listener waits). The new socket is close-on-exec
   * and, by default, non-blocking.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using listener = Socket.create("ipv4", "stream", { nonBlocking: true });
   * listener.bind("127.0.0.1", 0);
   * listener.listen();
   * console.log(listener.accept()); // null: nobody is connecting yet
   * ```
   */
  accept(options: AcceptOptions = {}): Socket | null {
    return Socket.#wrap(endpoints.accept(this.#core, options));
  }

  /**
   * Waits up to `timeoutMs` for a connection and accepts it; `null` on
   * timeout.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using listener = Socket.create("ipv4");
   * listener.bind("127.0.0.1", 0);
   * listener.listen();
   * using client = Socket.create("ipv4");
   * client.connect("127.0.0.1", (listener.localAddress() as { port: number }).port);
   * using peer = listener.acceptTimeout(1000, { nonBlocking: false });
   * console.log(peer !== null); // true
   * ```
   */
  acceptTimeout(timeoutMs: number, options: AcceptOptions = {}): Socket | null {
    return Socket.#wrap(endpoints.acceptTimeout(this.#core, timeoutMs, options));
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
   * using listener = Socket.create("ipv4");
   * listener.bind("127.0.0.1", 0);
   * listener.listen();
   * using s = Socket.create("ipv4");
   * s.connect("127.0.0.1", (listener.localAddress() as { port: number }).port);
   * ```
   */
  connect(host: string, port = 0): void {
    endpoints.connectTimeout(this.#core, host, port, this.#core.timeouts.get("connectMs"));
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
   * using listener = Socket.create("ipv6");
   * listener.bind("::1", 0);
   * listener.listen();
   * using s = Socket.create("ipv6");
   * s.connectTimeout("::1", (listener.localAddress() as { port: number }).port, 500);
   * ```
   */
  connectTimeout(host: string, port: number, timeoutMs: number): void {
    endpoints.connectTimeout(this.#core, host, port, timeoutMs);
  }

  /**
   * Starts a connection without waiting: "connected" when it completed at
   * once (Unix sockets, often), "in-progress" otherwise; then wait for
   * writability and call {@link Socket.finishConnect}.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using listener = Socket.create("ipv4");
   * listener.bind("127.0.0.1", 0);
   * listener.listen();
   * using s = Socket.create("ipv4", "stream", { nonBlocking: true });
   * if (s.connectNonBlocking("127.0.0.1", (listener.localAddress() as { port: number }).port) === "in-progress") {
   *   s.isWritable(1000);
   *   s.finishConnect();
   * }
   * ```
   */
  connectNonBlocking(host: string, port = 0): ConnectStatus {
    return endpoints.connectNonBlocking(this.#core, host, port);
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
   * using listener = Socket.create("ipv4");
   * listener.bind("127.0.0.1", 0);
   * listener.listen();
   * using s = Socket.create("ipv4", "stream", { nonBlocking: true });
   * s.connectNonBlocking("127.0.0.1", (listener.localAddress() as { port: number }).port);
   * while (!s.finishConnect()) s.isWritable(100);
   * ```
   */
  finishConnect(): boolean {
    return endpoints.finishConnect(this.#core);
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
    return endpoints.hasPeer(this.#core.liveFd());
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
    return endpoints.localAddress(this.#core);
  }

  /**
   * The peer's address (getpeername).
   *
   * @throws SocketClosedError (ENOTCONN) when not connected
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * console.log(a.remoteAddress().family); // "unix"
   * a.close(); b.close();
   * ```
   */
  remoteAddress(): SocketAddress {
    return endpoints.remoteAddress(this.#core);
  }

  // ---- sending and receiving (the hot path, written here)

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
   * const [a, b] = Socket.pair();
   * console.log(a.send(new Uint8Array([1, 2, 3]))); // 3
   * a.close(); b.close();
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
   * const [a, b] = Socket.pair();
   * a.sendAll(new TextEncoder().encode("hello"));
   * a.close(); b.close();
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
   * const [a, b] = Socket.pair("stream", { nonBlocking: true });
   * console.log(b.recv(new Uint8Array(8))); // null: nothing yet
   * a.sendAll(new Uint8Array([1, 2]));
   * console.log(b.recv(new Uint8Array(8))); // 2
   * a.close(); b.close();
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
   * const [a, b] = Socket.pair();
   * a.sendAll(new Uint8Array([7]));
   * const buf = new Uint8Array(1);
   * console.log(b.peek(buf), b.recv(buf)); // 1 1: the byte is still there after peek
   * a.close(); b.close();
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
   * const [a, b] = Socket.pair();
   * a.sendAll(new Uint8Array([0, 0, 0, 5]));
   * const header = new Uint8Array(4);
   * b.recvAll(header);
   * a.close(); b.close();
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

  // ---- timeouts and time-bounded transfers (socket_deadlines.ts)

  /**
   * Sends as much of `data` as fits in `timeoutMs` (0: no limit).
   *
   * @returns the bytes sent; less than `data.byteLength` when time ran out
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * console.log(a.sendAllTimeout(new Uint8Array(16), 1000)); // 16
   * a.close(); b.close();
   * ```
   */
  sendAllTimeout(data: Uint8Array, timeoutMs: number, flags = 0): number {
    return deadlines.sendAllTimeout(this.#core, data, timeoutMs, flags);
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
   * const [a, b] = Socket.pair();
   * a.sendAll(new Uint8Array(2));
   * console.log(b.recvAllTimeout(new Uint8Array(4), 10)); // 2: two bytes came in 10 ms
   * a.close(); b.close();
   * ```
   */
  recvAllTimeout(buffer: Uint8Array, timeoutMs: number, flags = 0): number {
    return deadlines.recvAllTimeout(this.#core, buffer, timeoutMs, flags);
  }

  /**
   * The timeouts in force (this socket's overrides over the defaults).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * console.log(s.getTimeouts().recvMs); // 0 unless a default was set
   * ```
   */
  getTimeouts(): SocketTimeouts {
    return this.#core.timeouts.effective();
  }

  /**
   * Overrides some timeouts for this socket (ms; 0 = no timeout).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * s.setTimeouts({ recvMs: 500, sendMs: 500 });
   * ```
   */
  setTimeouts(patch: Partial<SocketTimeouts>): void {
    this.#core.timeouts.set(patch);
  }

  /**
   * Drops this socket's overrides: the process-wide defaults apply again.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * s.setTimeouts({ connectMs: 500 });
   * s.clearTimeouts();
   * ```
   */
  clearTimeouts(): void {
    this.#core.timeouts.clear();
  }

  // ---- scatter/gather (socket_vectored.ts)

  /**
   * Sends several buffers in one sendmsg (gather); returns the bytes sent
   * (0 when a non-blocking socket would block).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * console.log(a.sendv([new Uint8Array(2), new Uint8Array(3)])); // 5
   * a.close(); b.close();
   * ```
   */
  sendv(buffers: readonly Uint8Array[]): number {
    return vectored.sendv(this.#core, buffers);
  }

  /**
   * Sends every byte of every buffer, in order.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendvAll([new TextEncoder().encode("head"), new TextEncoder().encode("body")]);
   * a.close(); b.close();
   * ```
   */
  sendvAll(buffers: readonly Uint8Array[]): number {
    return vectored.sendvUntil(this.#core, buffers, Infinity);
  }

  /**
   * Sends the buffers until done or until `timeoutMs` passes (0: no limit).
   *
   * @returns the bytes sent; fewer than the total when time ran out
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * console.log(a.sendvTimeout([new Uint8Array(1), new Uint8Array(2)], 1000)); // 3
   * a.close(); b.close();
   * ```
   */
  sendvTimeout(buffers: readonly Uint8Array[], timeoutMs: number): number {
    return vectored.sendvTimeout(this.#core, buffers, timeoutMs);
  }

  /**
   * Receives into several buffers in one recvmsg (scatter): the byte count,
   * 0 at end of stream, `null` when a non-blocking socket would block.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendAll(new Uint8Array([1, 2, 3]));
   * const head = new Uint8Array(1), rest = new Uint8Array(2);
   * console.log(b.recvv([head, rest])); // 3
   * a.close(); b.close();
   * ```
   */
  recvv(buffers: readonly Uint8Array[]): number | null {
    return vectored.recvv(this.#core, buffers);
  }

  // ---- descriptor passing and credentials, Unix only (socket_fd_passing.ts)

  /**
   * Passes descriptors to the peer in one SCM_RIGHTS message (with `data`,
   * one zero byte by default); returns the data bytes sent, or 0 when a
   * non-blocking socket would block (nothing was sent, descriptors
   * included). The caller keeps its own copies of the descriptors. A
   * blocking socket honours its send timeout.
   *
   * @throws TypeError on a non-Unix socket; RangeError for 0 or more than
   *   `MAX_FDS_PER_MESSAGE` descriptors; SocketClosedError when the peer
   *   is gone; SocketTimeoutError
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
    return fdPassing.sendFds(this.#core, fds, data);
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
    return fdPassing.sendFds(this.#core, [fd], data);
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
    return fdPassing.recvFds(this.#core, options);
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
    return fdPassing.recvFd(this.#core, buffer);
  }

  /**
   * Closes a descriptor received with {@link Socket.recvFd} or
   * {@link Socket.recvFds} on this socket, once: any other number (the
   * socket's own, stdout, one closed here before and since reused by the
   * kernel) is a RangeError, and a closed socket throws
   * {@link UseAfterCloseError}.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendFd(1);
   * const fd = b.recvFd();
   * if (fd !== null && fd >= 0) b.closeReceivedFd(fd);
   * a.close(); b.close();
   * ```
   */
  closeReceivedFd(fd: number): void {
    fdPassing.closeReceivedFd(this.#core, fd);
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
    return fdPassing.peerCredentials(this.#core);
  }

  // ---- zero copy (socket_zero_copy.ts)

  /**
   * One sendfile(2): up to `count` bytes of the open file `fileFd` from
   * `offset` (the file's own position is not moved); the bytes sent, 0 at
   * end of file, `null` when a non-blocking socket has no room.
   *
   * On a blocking socket with a send timeout (`getTimeouts().sendMs` > 0),
   * the call is like `send`: it waits up to that long for room, then sends
   * what fits at once (possibly fewer than `count` bytes) without waiting
   * for more. The socket is non-blocking meanwhile, since sendfile takes no
   * MSG_DONTWAIT. Without a send timeout the kernel blocks as it would.
   *
   * @throws SocketTimeoutError when no room came within the send timeout
   *
   * @example
   * ```ts
   * import { closeSync, openSync } from "node:fs";
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * const file = openSync("/etc/hosts", "r");
   * console.log(a.sendfile(file, 0, 1)); // 1: the file's first byte
   * closeSync(file);
   * a.close(); b.close();
   * ```
   */
  sendfile(fileFd: number, offset: number, count: number): number | null {
    return zeroCopy.sendfile(this.#core, fileFd, offset, count);
  }

  /**
   * Sends a whole file (an open descriptor or a path) or a slice of it,
   * waiting for room as needed; returns the bytes sent (fewer only when the
   * file ended early). Each wait is bounded by `options.timeoutMs`, by
   * default this socket's send timeout (none when 0); a blocking socket is
   * non-blocking while a bounded transfer runs.
   *
   * @throws SocketTimeoutError, SocketClosedError, SocketError (ENOENT, …);
   *   a failure after bytes went out carries their count in `transferred`
   *   (and the statistics count them)
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * console.log(a.sendfileAll("/etc/hosts", { count: 1 })); // 1
   * a.close(); b.close();
   * ```
   */
  sendfileAll(source: number | string, options: SendfileOptions = {}): number {
    return zeroCopy.sendfileAll(this.#core, source, options);
  }

  /**
   * Moves bytes from this socket to `destination` inside the kernel
   * (splice through a pipe; Linux), until `count` bytes have moved or this
   * socket reaches end of stream. Returns the bytes moved.
   *
   * Each wait is bounded: by `timeoutMs` when given (-1: no limit), else
   * like `recvAll` and `sendAll`, a wait for data by this socket's receive
   * timeout and a wait for room by the destination's send timeout (either
   * unlimited when 0). Blocking sockets are non-blocking while a bounded
   * transfer runs.
   *
   * @throws UnsupportedError off Linux; SocketTimeoutError (with the bytes
   *   moved before it in `transferred`, counted in both sockets' statistics)
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [client, proxyIn] = Socket.pair();
   * const [proxyOut, upstream] = Socket.pair();
   * client.sendAll(new TextEncoder().encode("ping"));
   * client.shutdown("write");
   * console.log(proxyIn.spliceTo(proxyOut)); // 4: moved until the client's end of stream
   * for (const s of [client, proxyIn, proxyOut, upstream]) s.close();
   * ```
   */
  spliceTo(destination: Socket, count = Infinity, timeoutMs?: number): number {
    if (!(destination instanceof Socket)) throw new TypeError("destination must be a Socket");
    return zeroCopy.spliceTo(this.#core, destination.#core, count, timeoutMs);
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
    return new Socket(zeroCopy.dup(this.#core));
  }

  // ---- bandwidth limit (socket_bandwidth.ts)

  /**
   * Limits {@link Socket.sendLimited} to `bytesPerSec` (burst: one second's
   * worth unless given). 0 removes the limit.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * s.setBandwidth(1_000_000); // 1 MB/s
   * ```
   */
  setBandwidth(bytesPerSec: number, burstBytes?: number): void {
    pacing.setBandwidth(this.#core, bytesPerSec, burstBytes);
  }

  /** The bandwidth limit in bytes per second, 0 when none. */
  get bandwidth(): number {
    return this.#core.bucket?.rate ?? 0;
  }

  /**
   * Sends as much of `data` as the bandwidth limit allows now; 0 when the
   * limit (or a full non-blocking socket) allows nothing.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.setBandwidth(1024);
   * const n = a.sendLimited(new Uint8Array(4096)); // 1024: one second's worth
   * console.log(n, a.bandwidthWaitMs(1024)); // 1024, about 1000: the next 1024 bytes in a second
   * a.close(); b.close();
   * ```
   */
  sendLimited(data: Uint8Array, flags = 0): number {
    return pacing.sendLimited(this.#core, data, flags);
  }

  /**
   * Milliseconds until `length` bytes may be sent under the limit (0: now;
   * Infinity when `length` exceeds the burst).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * s.setBandwidth(1024);
   * console.log(s.bandwidthWaitMs(65536)); // Infinity: more than the burst
   * ```
   */
  bandwidthWaitMs(length: number): number {
    return pacing.bandwidthWaitMs(this.#core, length);
  }

  // ---- health, TCP_INFO and counters (socket_health.ts)

  /**
   * The pending socket error (SO_ERROR, which reading clears), or null.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * const err = s.getError();
   * if (err !== null) console.log(err.message);
   * ```
   */
  getError(): Error | null {
    return health.getError(this.#core);
  }

  /**
   * Whether the connection still looks alive: no pending error, no hang-up,
   * and (if data or EOF is waiting) not at end of stream. Waits up to
   * `timeoutMs` for an event.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * b.close();
   * if (!a.probe()) a.close(); // the peer is gone
   * ```
   */
  probe(timeoutMs = 0): boolean {
    return health.probe(this.#core, timeoutMs);
  }

  /**
   * Whether data (or end of stream) can be read, waiting up to `timeoutMs`.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendAll(new Uint8Array(1));
   * if (b.isReadable(100)) b.recv(new Uint8Array(1));
   * a.close(); b.close();
   * ```
   */
  isReadable(timeoutMs = 0): boolean {
    return health.isReady(this.#core, WAIT_READ, timeoutMs);
  }

  /**
   * Whether a send would not block, waiting up to `timeoutMs`.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * if (a.isWritable()) a.send(new Uint8Array(1));
   * a.close(); b.close();
   * ```
   */
  isWritable(timeoutMs = 0): boolean {
    return health.isReady(this.#core, WAIT_WRITE, timeoutMs);
  }

  /**
   * TCP_INFO (Linux): RTT, congestion window, retransmissions, rates, ….
   *
   * @throws UnsupportedError off Linux
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * console.log(s.tcpInfo().rttUs); // 0: never connected
   * ```
   */
  tcpInfo(): TcpInfo {
    return health.tcpInfo(this.#core);
  }

  /**
   * Smoothed RTT in microseconds (TCP_INFO).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * console.log(s.getRtt()); // 0: never connected
   * ```
   */
  getRtt(): number {
    return health.getRtt(this.#core);
  }

  /**
   * Congestion window in segments (TCP_INFO).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * console.log(s.getCwnd() > 0); // true: the initial window
   * ```
   */
  getCwnd(): number {
    return readCwnd(this.#core.liveFd());
  }

  /**
   * A copy of this socket's counters.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendAll(new Uint8Array(3));
   * console.log(a.stats().bytesSent); // 3
   * a.close(); b.close();
   * ```
   */
  stats(): SocketStats {
    return this.#core.stats.snapshot();
  }

  /**
   * Zeroes the counters.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * s.resetStats();
   * ```
   */
  resetStats(): void {
    this.#core.stats.reset();
  }

  // ---- ending

  /**
   * Shuts down one or both directions (the peer sees end of stream after
   * "write"). While an async connection sends on this socket, the write
   * side goes down only after the bytes it still has queued (its FIN never
   * overtakes them, on either I/O backend); a failure then is not thrown
   * (the connection reports its own).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.shutdown("write");
   * console.log(b.recv(new Uint8Array(1))); // 0: end of stream
   * a.close(); b.close();
   * ```
   */
  shutdown(how: ShutdownHow = "both"): void {
    const value = how === "read" ? C.SHUT_RD : how === "write" ? C.SHUT_WR : how === "both" ? C.SHUT_RDWR : -1;
    if (value < 0) throw new TypeError(`shutdown takes "read", "write" or "both", got ${String(how)}`);
    const core = this.#core;
    const guards = core.shutdownGuards;
    if (guards === undefined || value === C.SHUT_RD) {
      check(libc().shutdown(this.fd, value), "shutdown", core.peerText);
      return;
    }
    if (value === C.SHUT_RDWR) check(libc().shutdown(this.fd, C.SHUT_RD), "shutdown", core.peerText);
    shutThroughGuards(guards, () => check(libc().shutdown(core.liveFd(), C.SHUT_WR), "shutdown", core.peerText));
  }

  /**
   * Gives up ownership of the descriptor without closing it (for an event
   * loop that takes it over). The Socket is closed afterwards.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const s = Socket.create("ipv4");
   * const fd = s.release(); // now the caller's to close
   * using again = Socket.fromFd(fd, "ipv4");
   * ```
   */
  release(): number {
    const c = this.#core;
    const fd = c.liveFd();
    c.fd = -1;
    c.sg?.free();
    c.shutdownGuards = undefined;
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
    c.shutdownGuards = undefined;
    libc().close(fd);
  }

  /**
   * Same as {@link Socket.close}, for `using`.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4"); // closed at the end of the scope
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}

function typeConstant(type: SocketType): number {
  if (type === "stream") return C.SOCK_STREAM;
  if (type === "seqpacket") return C.SOCK_SEQPACKET;
  throw new TypeError(`socket type must be "stream" or "seqpacket", got ${String(type)}`);
}
