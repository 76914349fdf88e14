/**
 * `listen` and `listenUnix`: async TCP and Unix stream listeners on a Loop.
 * Each takes one options object (an unknown key is a `TypeError`). The
 * `connect` family lives in connect.ts and is re-exported here.
 *
 * A listener handles its own accept failures: resource exhaustion
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM) pauses accepting for 50 ms and
 * retries; errors of a single connection (ECONNABORTED, EPROTO, EPERM, a
 * network error accept(2) passes on) are skipped. Each failure is counted
 * in `acceptErrors` and passed to the `onError` option when there is one;
 * none becomes an uncaught exception.
 *
 * @example
 * ```ts
 * import { connect, listen } from "./listener.ts";
 * const server = listen({
 *   host: "127.0.0.1",
 *   port: 0,
 *   handler: { data: (conn, bytes) => conn.send(bytes) }, // echo
 *   onError: (err) => console.error(err.message),
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
import { SocketError } from "../core/errors.ts";
import { Logger } from "../core/log.ts";
import { optionKeys } from "../core/options.ts";
import { SOCKET_LIMITS } from "../core/limits.ts";
import { sysError } from "../core/sys_error.ts";
import type { Timer } from "../core/timer_heap.ts";
import { libc } from "../ffi/libc.ts";
import { pathIdentity } from "../ffi/file.ts";
import { cString } from "../ffi/marshal.ts";
import { C, E } from "../ffi/platform.ts";
import { tlsIo } from "../tls/ktls_io.ts";
import type { SocketAddress } from "../socket/sockaddr.ts";
import { Socket } from "../socket/socket.ts";
import { READABLE } from "./backend.ts";
import { type Connection, CONNECTION_OPTION_KEYS, type ConnectionHandler, type ConnectionOptions } from "./connection.ts";
import { checkHandler } from "./connection_types.ts";
import { type IoOption, openConnection, requireOptions } from "./connect.ts";
import { type Endpoint, listenSocket, setNoDelay } from "./endpoint.ts";
import type { IoWatcher } from "./io_watcher.ts";
import { defaultLoop, type Loop } from "./loop.ts";
import { type LoopUring, loopIoFor } from "./uring/loop_io.ts";

export {
  adopt,
  type AdoptOptions,
  connect,
  type ConnectOptions,
  connectUnix,
  type ConnectUnixOptions,
  type IoOption,
} from "./connect.ts";
export type { Endpoint } from "./endpoint.ts";

/**
 * @internal An option key (a symbol: no user option can name it) for a
 * readiness listener whose layer above makes the connections itself:
 * `(socket) => void` gets each accepted socket (non-blocking, TCP_NODELAY
 * as asked) instead of a {@link Connection} going to the handler, so the
 * socket is registered with the loop once, by that layer's own transport
 * (tls/'s server connections). The `protect` gate is then that layer's to
 * run. Ignored by io_uring listeners (their connections run on the ring).
 *
 * @example
 * ```ts ignore
 * new Listener(endpoint, { port: 0, handler: {}, [ACCEPT_SOCKET]: (socket) => startTLS(socket) });
 * ```
 */
export const ACCEPT_SOCKET: unique symbol = Symbol("ffinet.acceptSocket");

/** Accept operations kept in the kernel per io_uring listener (single-shot accepts). */
const URING_ACCEPTS = 4;
/** Pause before accepting again after an accept failed for want of resources (EMFILE, ENFILE …). */
const ACCEPT_RETRY_MS = 50;
/** Most connections a listener without a handler holds for `accept()` by default. */
const MAX_PENDING = SOCKET_LIMITS.maxPendingAccepts;

/**
 * Errors accept(2) reports for one connection only (it was reset or
 * refused before it was taken; Linux passes pending network errors on):
 * the listener skips it and accepts on at once. Every other failure
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM, or one not expected) pauses accepting
 * for {@link ACCEPT_RETRY_MS}, as retrying at once would spin.
 */
const CONNECTION_ERRORS: ReadonlySet<string> = new Set([
  "ECONNABORTED", "EPROTO", "EPERM", "EINTR", "ENETDOWN", "ENOPROTOOPT", "EHOSTDOWN", "ENONET", "EHOSTUNREACH",
  "EOPNOTSUPP", "ENETUNREACH", "ENETRESET", "ECONNRESET", "ETIMEDOUT",
]);

/** Options of {@link listenUnix}: the socket's `path`, and how connections are taken. */
export interface ListenUnixOptions extends ConnectionOptions {
  /**
   * The Unix socket path. A filesystem path must not exist yet (a stale
   * socket file left by a process that died is EADDRINUSE: remove it
   * first); the listener removes the file it made when it closes.
   * `"@name"` is a name in Linux's abstract namespace (no file: nothing is
   * created or removed; a file whose name starts with "@" is `"./@name"`);
   * `""` lets Linux pick a unique abstract name (autobind), read from
   * `listener.address.path` ("@" and five hex digits). A NUL anywhere,
   * a leading one included, is a TypeError: write `"@name"`, not
   * `"\0name"`. Off Linux, `"@name"` is an UnsupportedError.
   */
  path: string;
  /**
   * Callbacks for each accepted connection (its `open` runs once it is
   * accepted); without a handler, connections come out of `accept()` and
   * async iteration.
   */
  handler?: ConnectionHandler;
  /**
   * Called with each failed accept (the listener has already paused or
   * skipped; see the module doc). Without it, failures are only counted
   * in {@link Listener.acceptErrors}.
   */
  onError?: (error: Error, listener: Listener) => void;
  /**
   * Where the listener says what happened (core/log.ts's `Logger`): a
   * failed accept that pauses accepting at ERROR, one that concerns a
   * single connection at DEBUG, with `tls` each handshake at DEBUG (tls/
   * logs it: the client's address, the error's code, or the version,
   * cipher, ALPN and resumption of one that finished), listening
   * and closing at DEBUG. A `protect` gate that logs (pool/'s
   * `ListenProtection`: its refusals, at DEBUG) writes here unless it has a
   * logger of its own. Nothing is logged per connection above DEBUG.
   */
  logger?: Logger;
  /** listen(2) backlog (default 511). */
  backlog?: number;
  /**
   * Without a handler: the most accepted connections held for `accept()`.
   * At this bound the listener stops accepting and the kernel's backlog
   * holds further connections until `accept()` takes one (default: the
   * backlog, at most 128, at least 1). Ignored with a handler.
   */
  maxPending?: number;
  /** The loop (default: {@link defaultLoop}). */
  loop?: Loop;
  /**
   * The I/O mechanism of the listener and its connections (see
   * {@link IoOption}): by default io_uring on Linux 6.1+ where the kernel
   * allows it, else readiness; "readiness" forces epoll.
   */
  io?: IoOption;
}

/** Options of {@link listen}: where (`host`, `port`), and how connections are taken. */
export interface ListenOptions extends Omit<ListenUnixOptions, "path"> {
  /** An IP literal or "localhost" (default "127.0.0.1"; "0.0.0.0" or "::" for every interface). */
  host?: string;
  /** The TCP port (0: one the kernel picks; read it from {@link Listener.port}). */
  port: number;
  /** SO_REUSEPORT: Workers or processes listening on one port share it. */
  reusePort?: boolean;
  /** TCP_NODELAY on accepted connections (default true). */
  noDelay?: boolean;
  /**
   * TLS on every connection (server role): the settings of tls/'s
   * `listenTLS` (`cert`/`key` or a server `context`, `alpn`,
   * `handshakeTimeoutMs`, …). Each connection handshakes before the
   * handler's `open`; a failed handshake (or settings OpenSSL refuses) goes
   * to `onError`. Needs a handler (for `accept()`, use `listenTLS`).
   * libssl is loaded only when this is used.
   */
  tls?: object;
  /**
   * Admission control run on each accepted connection before the handler
   * or `accept()` sees it: per-IP limits, rates, SYN-flood protection
   * (pool/'s `ListenProtection`, or any {@link ConnectionGate}).
   */
  protect?: ConnectionGate;
}

/**
 * What the `protect` option of {@link listen} takes (pool/'s
 * `ListenProtection` is one): `listening` runs once the socket listens,
 * `admit` with each accepted connection; a connection it refuses it closes
 * itself, and the listener drops it.
 *
 * @example
 * ```ts
 * import { listen, type ConnectionGate } from "./listener.ts";
 * const loopbackOnly: ConnectionGate = {
 *   admit: (conn) => conn.remoteAddress.family !== "ipv4" || conn.remoteAddress.host.startsWith("127.") || (conn.abort(), false),
 * };
 * const server = listen({ port: 0, protect: loopbackOnly });
 * server.close();
 * ```
 */
export interface ConnectionGate {
  /** Whether `conn` may be delivered (`handler`: the listener's, which the gate may wrap with `conn.setHandler`). */
  admit(conn: Connection, handler: ConnectionHandler | undefined): boolean;
  /** Called once the listener listens (for socket options on it). */
  listening?(listener: Listener): void;
}

/**
 * Every key {@link listenUnix} takes.
 *
 * @example
 * ```ts
 * import { LISTEN_UNIX_OPTION_KEYS } from "./listener.ts";
 * console.log(LISTEN_UNIX_OPTION_KEYS.has("path")); // true
 * ```
 */
export const LISTEN_UNIX_OPTION_KEYS: ReadonlySet<string> = optionKeys(
  CONNECTION_OPTION_KEYS,
  Object.keys(
    { path: true, handler: true, onError: true, logger: true, backlog: true, maxPending: true, loop: true, io: true } satisfies Record<
      Exclude<keyof ListenUnixOptions, keyof ConnectionOptions>,
      true
    >,
  ),
);

/**
 * Every key {@link listen} takes.
 *
 * @example
 * ```ts
 * import { LISTEN_OPTION_KEYS } from "./listener.ts";
 * console.log(LISTEN_OPTION_KEYS.has("reusePort")); // true
 * ```
 */
export const LISTEN_OPTION_KEYS: ReadonlySet<string> = optionKeys(
  [...LISTEN_UNIX_OPTION_KEYS].filter((key) => key !== "path"),
  Object.keys(
    { host: true, port: true, reusePort: true, noDelay: true, tls: true, protect: true } satisfies Record<
      Exclude<keyof ListenOptions, keyof ListenUnixOptions>,
      true
    >,
  ),
);

/**
 * A listening socket that accepts connections on its loop.
 *
 * @example
 * ```ts
 * import { connect, listen } from "./listener.ts";
 * await using server = listen({ port: 0 }); // no handler: accept() / for await
 * const client = await connect({ port: server.port });
 * const conn = (await server.accept())!;
 * await conn.write(new TextEncoder().encode("hello\n"));
 * console.log(await client.read()); // the bytes of "hello\n"
 * await conn.close();
 * await client.close();
 * ```
 */
export class Listener {
  /** The listening fd. */
  readonly fd: number;
  /** The bound address. */
  readonly address: SocketAddress;
  /** The listening socket (for options; accepting goes through the listener). */
  readonly socket: Socket;
  /**
   * "io_uring" when the accepted connections run on the loop's ring, else
   * "readiness". The accepts themselves are ring operations only where the
   * kernel runs the ring's completion work inside the loop's own
   * io_uring_enter (setup "defer"); with "coop" or "basic" they are
   * accept(2) calls on the loop's turns (see `LoopUring.eager`).
   */
  readonly io: "readiness" | "io_uring";
  /** The most accepted connections held for `accept()` (see {@link ListenOptions.maxPending}). */
  readonly maxPending: number;
  /** Connections accepted from the kernel so far, admitted or not (read by `listenerCollector`). */
  accepted = 0;
  /** The `logger` option (undefined without one). */
  readonly logger: Logger | undefined;
  readonly #watcher: IoWatcher | undefined;
  /** io_uring mode with accepts on the ring (see {@link Listener.io}). */
  readonly #uring: LoopUring | undefined;
  /** io_uring mode: the ring the accepted connections run on. */
  readonly #connRing: LoopUring | undefined;
  /** io_uring mode: the accept operations in the kernel. */
  readonly #accepts = new Set<number>();
  #retained = false;
  readonly #handler: ConnectionHandler | undefined;
  readonly #options: ListenUnixOptions | ListenOptions;
  readonly #onError: ((error: Error, listener: Listener) => void) | undefined;
  #acceptErrors = 0;
  /** Resolves once the listening descriptor is closed (io_uring: after the kernel let go of it). */
  readonly #released: Promise<void>;
  #resolveReleased!: () => void;
  readonly #loop: Loop;
  readonly #pending: Connection[] = [];
  readonly #acceptors: ((conn: Connection | null) => void)[] = [];
  /** The pause after a failed accept, while it runs. */
  #retry: Timer | undefined = undefined;
  #closed = false;
  readonly #gate: ConnectionGate | undefined;
  /** See {@link ACCEPT_SOCKET}. */
  readonly #acceptSocket: ((socket: Socket) => void) | undefined;

  /** @internal Use {@link listen} or {@link listenUnix}. */
  constructor(endpoint: Endpoint, options: (ListenUnixOptions | ListenOptions) & { readonly [ACCEPT_SOCKET]?: (socket: Socket) => void }) {
    this.#acceptSocket = options[ACCEPT_SOCKET];
    const handler = options.handler;
    checkHandler(handler, "listen");
    const onError = options.onError;
    if (onError !== undefined && typeof onError !== "function") throw new TypeError("onError must be a function");
    this.#onError = onError;
    if (options.logger !== undefined && !(options.logger instanceof Logger)) throw new TypeError("listen: logger must be a Logger (core/log.ts)");
    this.logger = options.logger;
    const gate = "protect" in options ? options.protect : undefined;
    if (gate !== undefined && (gate === null || typeof gate !== "object" || typeof gate.admit !== "function")) throw new TypeError("protect must be an object with an admit method (e.g. a ListenProtection)");
    this.#gate = gate;
    this.#released = new Promise((resolve) => (this.#resolveReleased = resolve));
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
    if ("reusePort" in options && options.reusePort !== undefined) listenOptions.reusePort = options.reusePort;
    this.socket = listenSocket(endpoint, listenOptions);
    this.fd = this.socket.fd;
    // The socket file this listener made, removed again when it closes (an abstract name has none).
    if ("path" in endpoint && endpoint.path !== "" && !endpoint.path.startsWith("@")) {
      this.#socketFile = endpoint.path;
      this.#socketFileId = pathIdentity(endpoint.path);
    }
    try {
      this.address = this.socket.localAddress();
      const ring = loopIoFor(this.#loop, options.io);
      this.io = ring === undefined ? "readiness" : "io_uring";
      this.#connRing = ring;
      if (ring !== undefined && !ring.eager) {
        // Accept operations on a blocking socket wait in the kernel.
        this.socket.options.nonBlocking = false;
        this.#uring = ring;
        ring.addOwner(this.#owner);
        this.ref();
        this.#arm();
      } else {
        // Readiness, or a ring whose completion work the kernel runs at any
        // system call of this thread (see LoopUring.eager): an armed accept
        // would take connections from the backlog, and descriptors, while
        // the application runs; accept(2) on the loop's turns takes them
        // only when the loop does, as with readiness I/O.
        this.#watcher = this.#loop.watch(this.fd, READABLE, this.#onReadable);
        this.#watcher.onLoopClose = () => this.close();
      }
      this.#gate?.listening?.(this);
    } catch (err) {
      this.#closeSocket();
      throw err;
    }
    if (this.logger !== undefined) this.logger.debug("listen: listening", { address: this.#where(), io: this.io });
  }

  /**
   * Failed accepts so far (each also went to the `onError` option, if
   * any): resource exhaustion (EMFILE …) and connections lost before they
   * were taken.
   */
  get acceptErrors(): number {
    return this.#acceptErrors;
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
   * the listener is closed: a call waiting when `close()` runs resolves
   * null then. Taking a connection from a full {@link Listener.pending}
   * queue lets the listener accept again.
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
   * Stops accepting and closes the listening socket. Connections taken
   * already (by `accept()` or a handler) stay open; those still queued for
   * `accept()` are reset (RST), as the kernel does with the connections in
   * its backlog, and `accept()` calls waiting resolve null. To serve the
   * queued ones instead, take them before closing:
   * `while (server.pending > 0) serve((await server.accept())!)`.
   * Nothing the listener owns keeps the process alive afterwards. In
   * io_uring mode the descriptor itself is closed once the kernel is done
   * with the accept operations that name it, right after their
   * cancellation.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.logger !== undefined) this.logger.debug("listen: closed", { address: this.#where(), accepted: this.accepted, acceptErrors: this.#acceptErrors });
    for (const conn of this.#pending.splice(0)) conn.abort();
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
      if (this.#accepts.size === 0) this.#closeSocket();
    } else {
      this.#watcher!.close();
      this.#closeSocket();
    }
    for (const resolve of this.#acceptors.splice(0)) resolve(null);
  }

  /** Same as {@link Listener.close}; resolves once the listening descriptor is closed. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return this.#released;
  }

  #closeSocket(): void {
    this.socket.close();
    if (this.#socketFile !== undefined) {
      // As Node's net.Server and Go's UnixListener do: a file left behind
      // would make the next listen on the path fail with EADDRINUSE. Only
      // while the path still names the file this listener made: a server
      // that took the path over meanwhile (a restart that removed it and
      // listened again while this one drained) keeps its socket file.
      const id = this.#socketFileId;
      if (id === null || pathIdentity(this.#socketFile) === id) libc().unlink(cString(this.#socketFile));
      this.#socketFile = undefined;
    }
    this.#resolveReleased();
  }

  /** The filesystem path bound by this listener, unlinked on close. */
  #socketFile: string | undefined;
  /** What named that file once bound ({@link pathIdentity}), or null where it cannot be read. */
  #socketFileId: string | null = null;

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

  /**
   * Counts a failed accept and passes it to the `onError` option. An
   * exception thrown there is the application's: it goes to the loop's
   * `onError`.
   */
  #report(error: unknown, paused = false): void {
    this.#acceptErrors++;
    const log = this.logger;
    if (log !== undefined) {
      if (paused) log.error("listen: accept failed, accepting paused", { address: this.#where(), retryMs: ACCEPT_RETRY_MS, error });
      else log.debug("listen: accept failed for one connection", { address: this.#where(), error });
    }
    const onError = this.#onError;
    if (onError === undefined) return;
    onError(error instanceof Error ? error : new Error(String(error)), this);
  }

  /**
   * A failed accept: reported; unless it concerned one connection only
   * ({@link CONNECTION_ERRORS}), accepting stops for {@link ACCEPT_RETRY_MS}.
   * Returns whether accepting goes on at once.
   */
  #failed(error: unknown): boolean {
    const skip = error instanceof SocketError && CONNECTION_ERRORS.has(error.code);
    if (!skip) this.#pause();
    this.#report(error, !skip);
    return skip;
  }

  /** Stops accepting for {@link ACCEPT_RETRY_MS}. */
  #pause(): void {
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
      if (last && this.#accepts.size === 0) this.#closeSocket();
      return;
    }
    if (res < 0) {
      if (res === -(E.ECANCELED ?? 125)) return;
      // EMFILE and friends pause (#failed); arm again when this operation
      // is over and no pause runs (a connection's own error).
      const error = sysError(-res, "accept", this.#where());
      this.#failed(error);
      if (last) this.#arm();
      return;
    }
    let conn: Connection;
    try {
      const socket = Socket.fromFd(res, this.address.family);
      if (this.#noDelay) setNoDelay(res);
      conn = openConnection(this.#loop, socket, this.#handler, this.#options, this.#uring);
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
    this.accepted++;
    if (this.#gate !== undefined && !this.#gate.admit(conn, this.#handler)) return;
    if (this.#handler !== undefined) {
      try {
        this.#handler.open?.(conn);
      } catch (err) {
        // As connect() and adopt() do: the connection does not outlive a
        // failed open (its close callback gets the error), and the error
        // goes on to the loop's onError.
        conn.abort(err instanceof Error ? err : undefined);
        throw err;
      }
    } else {
      const resolve = this.#acceptors.shift();
      if (resolve) resolve(conn);
      else this.#pending.push(conn);
    }
  }

  get #noDelay(): boolean {
    return this.address.family !== "unix" && ((this.#options as ListenOptions).noDelay ?? true);
  }

  /** The listening address, for messages. */
  #where(): string {
    const address = this.address;
    if (address.family === "unix") return address.path;
    return address.family === "ipv6" ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
  }

  #onReadable = (): void => {
    const noDelay = this.#noDelay;
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
        // EMFILE and friends: stop watching and try again a little later
        // (the fd stays readable: retrying each tick would spin). A
        // connection's own error: on to the next one.
        if (this.#failed(withAddress(err, this.#where()))) continue;
        this.#arm();
        return;
      }
      if (socket === null) return;
      if (noDelay) setNoDelay(socket.fd);
      if (this.#acceptSocket !== undefined && this.#connRing === undefined) {
        this.accepted++;
        try {
          this.#acceptSocket(socket);
        } catch (err) {
          this.#report(err);
        }
        continue;
      }
      let conn: Connection;
      try {
        conn = openConnection(this.#loop, socket, this.#handler, this.#options, this.#connRing);
      } catch (err) {
        this.#report(err);
        continue;
      }
      this.#deliver(conn);
    }
    if (this.#full()) this.#arm();
  };
}

/** An accept error of the readiness path, with the listening address in its message. */
function withAddress(error: unknown, address: string): unknown {
  if (!(error instanceof SocketError) || error.address !== undefined || error.errno === undefined) return error;
  return sysError(error.errno, "accept", address);
}

/**
 * Listens on `host:port`; each connection gets `handler` (or, without one,
 * comes out of `accept()` / async iteration).
 *
 * @throws SocketError (EADDRINUSE, …), TypeError for an unknown option or
 *   a host that is not an IP literal, RangeError for a bad backlog
 *
 * @example
 * ```ts
 * import { listen } from "./listener.ts";
 * const server = listen({ host: "127.0.0.1", port: 0, backlog: 1024, handler: { data: (c, d) => c.send(d) } });
 * server.close();
 * ```
 */
export function listen(options: ListenOptions): Listener {
  requireOptions(options, LISTEN_OPTION_KEYS, "listen", arguments.length);
  const endpoint: Endpoint = options.host === undefined ? { port: options.port } : { host: options.host, port: options.port };
  if (options.tls !== undefined) return listenWithTLS(endpoint, options);
  return new Listener(endpoint, options);
}

/**
 * `listen({ …, tls })`: TLS is the layer above, loaded on demand (no static
 * import from poll/ into tls/). Each accepted connection is paused (nothing
 * is read before TLS takes it over) until the module is there.
 */
function listenWithTLS(endpoint: Endpoint, options: ListenOptions): Listener {
  const { tls, handler, protect, ...rest } = options;
  if (tls === null || typeof tls !== "object" || Array.isArray(tls)) throw new TypeError("listen: tls must be an object of TLS settings");
  if (handler === undefined) throw new TypeError("listen: tls needs a handler (for accept(), use listenTLS of tls/)");
  if (protect !== undefined && (protect === null || typeof protect !== "object" || typeof protect.admit !== "function")) throw new TypeError("protect must be an object with an admit method (e.g. a ListenProtection)");
  const report = (error: unknown): void => {
    try {
      options.onError?.(error instanceof Error ? error : new Error(String(error)), listener);
    } catch {
      // an onError that throws must not stop the listener
    }
  };
  // kTLS needs fd mode, which io_uring's memory-BIO TLS cannot give: without an io option, readiness then (as listenTLS).
  const settings = tls as { ktls?: unknown; context?: { ktls?: unknown } };
  const io = tlsIo(options.io, settings.ktls, settings.context);
  const withIo = io === undefined ? options : { ...options, io };
  // The gate runs in tls/, on the TLS connection before its handshake.
  const acceptor = import("../tls/connect_async.ts").then((m) => m.tlsAcceptor(tls, withIo, report, protect));
  const loop = options.loop ?? defaultLoop();
  const fail = (error: unknown): void => {
    if (options.logger !== undefined) options.logger.debug("listen: TLS connection failed", { port: listener.port, error });
    report(error);
  };
  const listener: Listener = new Listener(endpoint, {
    ...rest,
    ...(io === undefined ? {} : { io }),
    handler: {
      open: (plain) => {
        plain.pause();
        acceptor.then((accept) => accept.plain(plain, handler, listener), (error: unknown) => {
          plain.abort();
          fail(error);
        });
      },
    },
    // Readiness: the accepted socket goes straight to the TLS transport (one epoll registration).
    [ACCEPT_SOCKET]: (socket: Socket) => {
      acceptor.then((accept) => accept.socket(socket, loop, handler, listener), (error: unknown) => {
        socket.close();
        fail(error);
      });
    },
  });
  try {
    protect?.listening?.(listener);
  } catch (err) {
    listener.close();
    throw err;
  }
  return listener;
}

/**
 * Listens on the Unix socket `path`; each connection gets `handler` (or
 * comes out of `accept()` / async iteration).
 *
 * @example
 * ```ts
 * import { listenUnix } from "./listener.ts";
 * const server = listenUnix({ path: "@ffinet-listen-example", handler: { data: (c, d) => c.send(d) } });
 * server.close();
 * ```
 */
export function listenUnix(options: ListenUnixOptions): Listener {
  requireOptions(options, LISTEN_UNIX_OPTION_KEYS, "listenUnix", arguments.length);
  return new Listener({ path: options.path }, options);
}
