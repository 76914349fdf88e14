/**
 * `listen` and `connect`: async TCP and Unix stream endpoints on a Loop.
 *
 * @example
 * ```ts
 * import { listen, connect } from "./listener.ts";
 * const server = listen({ host: "127.0.0.1", port: 0 }, {
 *   data: (conn, bytes) => conn.send(bytes), // echo
 * });
 * const client = await connect({ host: "127.0.0.1", port: server.port });
 * await client.write(new Uint8Array([1, 2, 3]));
 * console.log(await client.read()); // Uint8Array [1, 2, 3]
 * await client.close();
 * server.close();
 * ```
 *
 * @module
 */
import { SocketTimeoutError } from "../core/errors.ts";
import { SOCKET_LIMITS } from "../core/limits.ts";
import { sysError } from "../core/sys_error.ts";
import type { Timer } from "../core/timer_heap.ts";
import { C, E } from "../ffi/platform.ts";
import type { SocketAddress } from "../socket/sockaddr.ts";
import { Socket } from "../socket/socket.ts";
import { ERROR, HANGUP, READABLE, WRITABLE } from "./backend.ts";
import { Connection, type ConnectionHandler, type ConnectionOptions } from "./connection.ts";
import { connectSocket, type Endpoint, listenSocket, setNoDelay, type StartedConnect } from "./endpoint.ts";
import type { IoWatcher } from "./io_watcher.ts";
import { defaultLoop, type Loop, loopClosedError } from "./loop.ts";
import { type LoopUring, loopUring } from "./uring/loop_io.ts";
import { chooseAsyncIo } from "./uring/probe.ts";
import { uringConnect } from "./uring/connect.ts";

export type { Endpoint } from "./endpoint.ts";

/** Accept operations kept in the kernel per io_uring listener (single-shot accepts). */
const URING_ACCEPTS = 4;
/** Pause before accepting again after an accept failed (EMFILE, ENFILE …). */
const ACCEPT_RETRY_MS = 50;
/** Most connections a listener without a handler holds for `accept()` by default. */
const MAX_PENDING = SOCKET_LIMITS.maxPendingAccepts;

/**
 * How connections do their I/O: "readiness" (epoll/poll/kqueue and
 * syscalls) or "uring" (accept, connect, recv, send and close complete
 * through the loop's io_uring; falls back to readiness where io_uring is
 * refused). Default: `FFINET_IO=uring` in the environment, else readiness.
 */
export type IoOption = "readiness" | "uring";

/** Options of {@link listen}. */
export interface ListenOptions extends ConnectionOptions {
  /** The I/O mechanism (see {@link IoOption}). */
  io?: IoOption;
  /** listen(2) backlog (default 511). */
  backlog?: number;
  /**
   * Without a handler: the most accepted connections held for `accept()`.
   * At this bound the listener stops accepting and the kernel's backlog
   * holds further connections until `accept()` takes one (default: the
   * backlog, at most 128, at least 1). Ignored with a handler.
   */
  maxPending?: number;
  /** SO_REUSEPORT: Workers or processes listening on one port share it. */
  reusePort?: boolean;
  /** The loop (default: {@link defaultLoop}). */
  loop?: Loop;
  /** TCP_NODELAY on accepted TCP connections (default true). */
  noDelay?: boolean;
}

/** Options of {@link connect}. */
export interface ConnectOptions extends ConnectionOptions {
  /** The I/O mechanism (see {@link IoOption}). */
  io?: IoOption;
  /** Aborts the connect (and closes the socket). */
  signal?: AbortSignal;
  /** Fails the connect after this long. */
  timeoutMs?: number;
  /** Callbacks for the connection (handler mode). */
  handler?: ConnectionHandler;
  /** The loop (default: {@link defaultLoop}). */
  loop?: Loop;
  /** TCP_NODELAY (default true). */
  noDelay?: boolean;
}

/**
 * A listening socket that accepts connections on its loop.
 *
 * @example
 * ```ts
 * import { listen } from "./listener.ts";
 * const server = listen({ port: 0 }, { open: (conn) => void conn.close() });
 * console.log(server.port > 0); // true
 * server.close();
 * ```
 */
export class Listener {
  /** The listening fd. */
  readonly fd: number;
  /** The bound address. */
  readonly address: SocketAddress;
  /** The listening socket (for options; accepting goes through the listener). */
  readonly socket: Socket;
  /** "io_uring" when accepts complete through the loop's ring, else "readiness". */
  readonly io: "readiness" | "io_uring";
  /** The most accepted connections held for `accept()` (see {@link ListenOptions.maxPending}). */
  readonly maxPending: number;
  readonly #watcher: IoWatcher | undefined;
  readonly #uring: LoopUring | undefined;
  /** io_uring mode: the accept operations in the kernel. */
  readonly #accepts = new Set<number>();
  #retained = false;
  readonly #handler: ConnectionHandler | undefined;
  readonly #options: ListenOptions;
  readonly #loop: Loop;
  readonly #pending: Connection[] = [];
  readonly #acceptors: ((conn: Connection | null) => void)[] = [];
  /** The pause after a failed accept, while it runs. */
  #retry: Timer | undefined = undefined;
  #closed = false;

  /** @internal Use {@link listen}. */
  constructor(endpoint: Endpoint, handler: ConnectionHandler | undefined, options: ListenOptions) {
    const backlog = options.backlog ?? 511;
    // (A bad backlog is listenSocket's to report.)
    const maxPending = options.maxPending ?? (Number.isInteger(backlog) ? Math.max(1, Math.min(backlog, MAX_PENDING)) : MAX_PENDING);
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new RangeError(`maxPending must be a positive integer, got ${maxPending}`);
    this.maxPending = maxPending;
    this.#loop = options.loop ?? defaultLoop();
    this.#handler = handler;
    this.#options = options;
    // Without a handler, single-shot accepts: no more are armed than
    // `#pending` has room for, so it never outgrows its bound (a multishot
    // accept may post any number of connections before a cancel lands).
    this.#multishot = handler !== undefined;
    const listenOptions: { backlog?: number; reusePort?: boolean } = {};
    if (options.backlog !== undefined) listenOptions.backlog = options.backlog;
    if (options.reusePort !== undefined) listenOptions.reusePort = options.reusePort;
    this.socket = listenSocket(endpoint, listenOptions);
    this.fd = this.socket.fd;
    this.io = chooseAsyncIo(options.io);
    try {
      this.address = this.socket.localAddress();
      if (this.io === "io_uring") {
        // Accept operations on a blocking socket wait in the kernel.
        this.socket.options.nonBlocking = false;
        this.#uring = loopUring(this.#loop);
        this.#uring.addOwner(this.#owner);
        this.ref();
        this.#arm();
      } else {
        this.#watcher = this.#loop.watch(this.fd, READABLE, this.#onReadable);
        this.#watcher.onLoopClose = () => this.close();
      }
    } catch (err) {
      this.socket.close();
      throw err;
    }
  }

  /** The bound TCP port (0 for Unix sockets). */
  get port(): number {
    return this.address.family === "unix" ? 0 : this.address.port;
  }

  /** Whether the listener is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Accepted connections waiting for `accept()` (at most
   * {@link Listener.maxPending}; always 0 with a handler).
   */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * The next accepted connection (when `listen` got no handler); null once
   * the listener is closed. Taking a connection from a full
   * {@link Listener.pending} queue lets the listener accept again.
   */
  accept(): Promise<Connection | null> {
    const ready = this.#pending.shift();
    if (ready) {
      this.#arm();
      return Promise.resolve(ready);
    }
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#acceptors.push(resolve));
  }

  /** Async iteration over accepted connections until the listener closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Connection, void, undefined> {
    for (;;) {
      const conn = await this.accept();
      if (conn === null) return;
      yield conn;
    }
  }

  /** Keeps the process alive while listening (the default). */
  ref(): this {
    if (this.#uring !== undefined) {
      if (!this.#retained && !this.#closed) this.#uring.retain();
      this.#retained = !this.#closed;
    } else this.#watcher?.ref();
    return this;
  }

  /** Lets the process exit while listening. */
  unref(): this {
    if (this.#uring !== undefined) {
      if (this.#retained) this.#uring.unretain();
      this.#retained = false;
    } else this.#watcher?.unref();
    return this;
  }

  /**
   * Stops accepting and closes the listening socket (accepted connections
   * stay open, and those not taken yet still come out of `accept()`). In
   * io_uring mode the descriptor itself is closed once the kernel is done
   * with the accept operations that name it, right after their
   * cancellation.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#retry?.cancel();
    this.#retry = undefined;
    const uring = this.#uring;
    if (uring !== undefined) {
      this.unref();
      uring.deleteOwner(this.#owner);
      // Leave the LISTEN state now (pending accepts fail with EINVAL): the
      // accept operations hold the socket until their cancellation is
      // processed, and a connect meanwhile must be refused, as with epoll.
      try {
        this.socket.shutdown("read");
      } catch {
        // not listening any more
      }
      // The operations name the descriptor by number, and one queued in
      // this turn is not even submitted yet: close it only once their last
      // completion is in (#onAccepted), or a socket opened meanwhile under
      // the same number would be accepted from in its place. A closing ring
      // has reaped or abandoned them by the time it returns.
      if (!uring.closing) {
        for (const id of [...this.#accepts]) {
          let queued = false;
          try {
            queued = uring.uring.queueCancel(id); // a queued one ends at once
          } catch {
            // no room for the cancel: the shutdown ends the accept anyway
            queued = true;
          }
          if (!queued) this.#accepts.delete(id);
        }
      } else this.#accepts.clear();
      if (this.#accepts.size === 0) this.socket.close();
    } else {
      this.#watcher!.close();
      this.socket.close();
    }
    for (const resolve of this.#acceptors.splice(0)) resolve(null);
  }

  readonly #owner = { onLoopClose: (): void => this.close() };

  /** Multishot accept (5.19+, handler mode) until the kernel refuses one; then URING_ACCEPTS single accepts. */
  #multishot = true;

  /** Whether `#pending` is at its bound (never with a handler). */
  #full(): boolean {
    return this.#handler === undefined && this.#pending.length >= this.maxPending;
  }

  /**
   * Accepts when there is room and no retry pause runs; stops otherwise.
   * Readiness: watches the listening fd or not. io_uring: arms accept
   * operations up to their number (without a handler, no more than
   * `#pending` has room for).
   */
  #arm(): void {
    if (this.#closed) return;
    const watcher = this.#watcher;
    if (watcher !== undefined) {
      if (this.#retry !== undefined || this.#full()) {
        if (watcher.active) watcher.stop();
      } else if (!watcher.active) watcher.start();
      return;
    }
    if (this.#retry !== undefined) return;
    const most = this.#multishot ? 1 : URING_ACCEPTS;
    const room = this.#handler === undefined ? this.maxPending - this.#pending.length : most;
    while (this.#accepts.size < most && this.#accepts.size < room) this.#queueAccept();
  }

  /** Reports an error of accepting through the loop (to its `onError`) without stopping. */
  #report(error: unknown): void {
    this.#loop.timers.once(0, () => {
      throw error;
    });
  }

  /** Reports a failed accept (EMFILE and friends) and stops accepting for {@link ACCEPT_RETRY_MS}. */
  #failed(error: unknown): void {
    this.#report(error);
    if (this.#retry !== undefined || this.#closed) return;
    this.#retry = this.#loop.timers.once(ACCEPT_RETRY_MS, () => {
      this.#retry = undefined;
      this.#arm();
    }).unref(); // the listener itself keeps the loop alive, or not
    this.#arm();
  }

  #queueAccept(): void {
    let id = 0;
    const uring = this.#uring!.uring;
    if (this.#multishot) {
      id = uring.queueAcceptMultishot(this.fd, C.SOCK_CLOEXEC, (res, more) => {
        if (!more) this.#accepts.delete(id);
        if (res === -(E.EINVAL ?? 22) && !more && !this.#closed) {
          this.#multishot = false;
          this.#arm();
          return;
        }
        this.#onAccepted(res, !more);
      });
    } else {
      id = uring.queueAccept(this.fd, C.SOCK_CLOEXEC, (res) => {
        this.#accepts.delete(id);
        this.#onAccepted(res, true);
      });
    }
    this.#accepts.add(id);
  }

  /** `last`: the accept operation ended with this completion (it is out of `#accepts`). */
  #onAccepted(res: number, last: boolean): void {
    if (this.#closed) {
      if (res >= 0) Socket.fromFd(res, this.address.family).close();
      // The last operation naming the listening fd is over: close it (see close()).
      if (last && this.#accepts.size === 0) this.socket.close();
      return;
    }
    if (res < 0) {
      if (res === -(E.ECANCELED ?? 125)) return;
      // EMFILE and friends: report, and try again a little later.
      if (last) this.#failed(sysError(-res, "accept"));
      else this.#report(sysError(-res, "accept"));
      return;
    }
    let conn: Connection;
    try {
      const socket = Socket.fromFd(res, this.address.family);
      if (this.address.family !== "unix" && (this.#options.noDelay ?? true)) setNoDelay(res);
      conn = connection(this.#loop, socket, this.#handler, this.#options, this.#uring);
    } catch (err) {
      this.#report(err);
      if (last) this.#arm();
      return;
    }
    try {
      this.#deliver(conn);
    } finally {
      // After delivering (without a handler, `#pending` decides how many).
      if (last) this.#arm();
    }
  }

  #deliver(conn: Connection): void {
    if (this.#handler !== undefined) this.#handler.open?.(conn);
    else {
      const resolve = this.#acceptors.shift();
      if (resolve) resolve(conn);
      else this.#pending.push(conn);
    }
  }

  #onReadable = (): void => {
    const noDelay = this.#options.noDelay ?? true;
    const tcp = this.address.family !== "unix";
    for (let i = 0; i < 64 && !this.#closed; i++) {
      if (this.#full()) {
        // The kernel's backlog holds the rest until accept() makes room.
        this.#arm();
        return;
      }
      let socket: Socket | null;
      try {
        socket = this.socket.accept();
      } catch (err) {
        // EMFILE and friends: report, stop watching and try again a little
        // later (the fd stays readable: retrying each tick would spin).
        this.#failed(err);
        return;
      }
      if (socket === null) return;
      if (tcp && noDelay) setNoDelay(socket.fd);
      this.#deliver(connection(this.#loop, socket, this.#handler, this.#options));
    }
    if (this.#full()) this.#arm();
  };
}

/** A connection over `socket`, or, when none can be made (options it refuses, a closed loop), the socket closed and the error thrown. */
function connection(loop: Loop, socket: Socket, handler: ConnectionHandler | undefined, options: ConnectionOptions, io?: LoopUring): Connection {
  try {
    return new Connection(loop, socket, handler, options, io);
  } catch (err) {
    socket.close();
    throw err;
  }
}

/**
 * Listens on `{host, port}` or `{path}`; each connection gets `handler`
 * (or, without one, comes out of `accept()` / async iteration).
 *
 * @example
 * ```ts
 * import { listen } from "./listener.ts";
 * const server = listen({ host: "127.0.0.1", port: 0 }, { data: (c, d) => c.send(d) }, { backlog: 1024 });
 * server.close();
 * ```
 */
export function listen(endpoint: Endpoint, handler?: ConnectionHandler, options: ListenOptions = {}): Listener {
  return new Listener(endpoint, handler, options);
}

/**
 * Connects to `{host, port}` or `{path}`; resolves with an open connection.
 *
 * @example
 * ```ts
 * import { connect } from "./listener.ts";
 * // const conn = await connect({ host: "127.0.0.1", port: 80 }, { timeoutMs: 2000 });
 * ```
 */
export function connect(endpoint: Endpoint, options: ConnectOptions = {}): Promise<Connection> {
  const loop = options.loop ?? defaultLoop();
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError"));
  if (chooseAsyncIo(options.io) === "io_uring") {
    let io: LoopUring;
    try {
      io = loopUring(loop);
    } catch (err) {
      return Promise.reject(err);
    }
    return uringConnect(io, endpoint, options).then((socket) => {
      if (!("path" in endpoint) && (options.noDelay ?? true)) setNoDelay(socket.fd);
      const conn = connection(loop, socket, options.handler, options, io);
      options.handler?.open?.(conn);
      return conn;
    });
  }
  let started: StartedConnect;
  try {
    started = connectSocket(endpoint);
  } catch (err) {
    return Promise.reject(err);
  }
  const { socket, address } = started;
  const fd = socket.fd;
  const tcp = !("path" in endpoint);
  const open = (): Connection => {
    if (tcp && (options.noDelay ?? true)) setNoDelay(fd);
    const conn = connection(loop, socket, options.handler, options);
    options.handler?.open?.(conn);
    return conn;
  };
  if (!started.pending) {
    try {
      return Promise.resolve(open());
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (error: Error | undefined) => {
      if (done) return;
      done = true;
      watcher.close();
      timer?.cancel();
      signal?.removeEventListener("abort", onAbort);
      if (error) {
        socket.close();
        reject(error);
        return;
      }
      try {
        resolve(open());
      } catch (err) {
        reject(err);
      }
    };
    const onEvents = (events: number): void => {
      if (!(events & (WRITABLE | ERROR | HANGUP))) return;
      let error: Error | null;
      try {
        error = socket.getError();
      } catch (err) {
        error = err as Error;
      }
      finish(error ?? undefined);
    };
    let watcher: IoWatcher;
    try {
      watcher = loop.watch(fd, WRITABLE, onEvents);
    } catch (err) {
      socket.close(); // a closed loop
      reject(err);
      return;
    }
    watcher.onLoopClose = () => finish(loopClosedError());
    const timer = options.timeoutMs === undefined
      ? undefined
      : loop.timers.once(options.timeoutMs, () => finish(new SocketTimeoutError(`connect to ${address} timed out`)));
    const onAbort = () => finish(signal!.reason instanceof Error ? signal!.reason : new DOMException("aborted", "AbortError"));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs an already-connected stream socket (say, one handed over from
 * another Worker by fd) as a {@link Connection} on a loop. The socket is
 * made non-blocking; the connection owns it from now on.
 *
 * @example
 * ```ts
 * import { adopt } from "./listener.ts";
 * import { Socket } from "../socket/socket.ts";
 * // In a Worker that received `fd` by postMessage:
 * // const conn = adopt(Socket.fromFd(fd, "ipv4"), { data: (c, d) => c.send(d) });
 * ```
 */
export function adopt(socket: Socket, handler?: ConnectionHandler, options: ConnectionOptions & { loop?: Loop; io?: IoOption } = {}): Connection {
  const loop = options.loop ?? defaultLoop();
  const io = chooseAsyncIo(options.io) === "io_uring" ? loopUring(loop) : undefined;
  if (io !== undefined) {
    if (socket.nonBlocking) socket.options.nonBlocking = false;
  } else if (!socket.nonBlocking) socket.options.nonBlocking = true;
  const conn = new Connection(loop, socket, handler, options, io);
  handler?.open?.(conn);
  return conn;
}
