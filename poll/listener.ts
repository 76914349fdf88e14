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
import type { SocketAddress } from "../socket/sockaddr.ts";
import type { Socket } from "../socket/socket.ts";
import { ERROR, HANGUP, READABLE, WRITABLE } from "./backend.ts";
import { Connection, type ConnectionHandler, type ConnectionOptions } from "./connection.ts";
import { connectSocket, type Endpoint, listenSocket, setNoDelay, type StartedConnect } from "./endpoint.ts";
import type { IoWatcher } from "./io_watcher.ts";
import { defaultLoop, type Loop } from "./loop.ts";

export type { Endpoint } from "./endpoint.ts";

/** Options of {@link listen}. */
export interface ListenOptions extends ConnectionOptions {
  /** listen(2) backlog (default 511). */
  backlog?: number;
  /** SO_REUSEPORT: Workers or processes listening on one port share it. */
  reusePort?: boolean;
  /** The loop (default: {@link defaultLoop}). */
  loop?: Loop;
  /** TCP_NODELAY on accepted TCP connections (default true). */
  noDelay?: boolean;
}

/** Options of {@link connect}. */
export interface ConnectOptions extends ConnectionOptions {
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
  readonly #watcher: IoWatcher;
  readonly #handler: ConnectionHandler | undefined;
  readonly #options: ListenOptions;
  readonly #loop: Loop;
  readonly #pending: Connection[] = [];
  readonly #acceptors: ((conn: Connection | null) => void)[] = [];
  #closed = false;

  /** @internal Use {@link listen}. */
  constructor(endpoint: Endpoint, handler: ConnectionHandler | undefined, options: ListenOptions) {
    this.#loop = options.loop ?? defaultLoop();
    this.#handler = handler;
    this.#options = options;
    const listenOptions: { backlog?: number; reusePort?: boolean } = {};
    if (options.backlog !== undefined) listenOptions.backlog = options.backlog;
    if (options.reusePort !== undefined) listenOptions.reusePort = options.reusePort;
    this.socket = listenSocket(endpoint, listenOptions);
    this.fd = this.socket.fd;
    try {
      this.address = this.socket.localAddress();
      this.#watcher = this.#loop.watch(this.fd, READABLE, this.#onReadable);
    } catch (err) {
      this.socket.close();
      throw err;
    }
    this.#watcher.onLoopClose = () => this.close();
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
   * The next accepted connection (when `listen` got no handler); null once
   * the listener is closed.
   */
  accept(): Promise<Connection | null> {
    const ready = this.#pending.shift();
    if (ready) return Promise.resolve(ready);
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
    this.#watcher.ref();
    return this;
  }

  /** Lets the process exit while listening. */
  unref(): this {
    this.#watcher.unref();
    return this;
  }

  /** Stops accepting and closes the listening socket (accepted connections stay open). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.close();
    this.socket.close();
    for (const resolve of this.#acceptors.splice(0)) resolve(null);
  }

  #onReadable = (): void => {
    const noDelay = this.#options.noDelay ?? true;
    const tcp = this.address.family !== "unix";
    for (let i = 0; i < 64 && !this.#closed; i++) {
      let socket: Socket | null;
      try {
        socket = this.socket.accept();
      } catch (err) {
        // EMFILE and friends: report and stop accepting this round.
        this.#loop.timers.once(0, () => {
          throw err;
        });
        return;
      }
      if (socket === null) return;
      if (tcp && noDelay) setNoDelay(socket.fd);
      const conn = new Connection(this.#loop, socket, this.#handler, this.#options);
      if (this.#handler !== undefined) this.#handler.open?.(conn);
      else {
        const resolve = this.#acceptors.shift();
        if (resolve) resolve(conn);
        else this.#pending.push(conn);
      }
    }
  };
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
    const conn = new Connection(loop, socket, options.handler, options);
    options.handler?.open?.(conn);
    return conn;
  };
  if (!started.pending) return Promise.resolve(open());
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
    const watcher = loop.watch(fd, WRITABLE, (events) => {
      if (!(events & (WRITABLE | ERROR | HANGUP))) return;
      let error: Error | null;
      try {
        error = socket.getError();
      } catch (err) {
        error = err as Error;
      }
      finish(error ?? undefined);
    });
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
export function adopt(socket: Socket, handler?: ConnectionHandler, options: ConnectionOptions & { loop?: Loop } = {}): Connection {
  if (!socket.nonBlocking) socket.options.nonBlocking = true;
  const conn = new Connection(options.loop ?? defaultLoop(), socket, handler, options);
  handler?.open?.(conn);
  return conn;
}
