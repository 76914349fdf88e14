/**
 * `Connection`: a non-blocking stream socket on a {@link Loop}.
 *
 * Two ways to use it:
 * - a handler object `{open, data, end, drain, close, error, timeout}`, the
 *   fastest path: `data` receives a view that is valid only during the
 *   callback; `send()` writes without a Promise and returns false above the
 *   high-water mark (wait for `drain`);
 * - Promises: `read()` (null at end of stream), `readExactly(n)`,
 *   `readInto(buffer)` (into the caller's memory), `write()` that resolves
 *   once the kernel took the bytes, `end()` for half-close, async iteration,
 *   and the WHATWG streams `readable` (a byte stream: BYOB readers work) and
 *   `writable`.
 *
 * The connection keeps the policy (modes, buffers, the write queue,
 * timeouts, callbacks); its bytes move through one `Transport` fixed at
 * construction (poll/transport.ts): readiness (poll/transport_readiness.ts),
 * io_uring (poll/uring/transport.ts), or a wrapper over either.
 *
 * @example
 * ```ts
 * import { connect } from "./connect.ts";
 * import { listen } from "./listener.ts";
 * const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) } });
 * const conn = await connect({ host: "127.0.0.1", port: server.port });
 * await conn.write(new TextEncoder().encode("ping"));
 * console.log(await conn.read()); // the echo: "ping"'s bytes
 * await conn.close();
 * server.close();
 * ```
 *
 * @module
 */
import { SocketClosedError, SocketTimeoutError, UnsupportedError, UseAfterCloseError } from "../core/errors.ts";
import { SOCKET_LIMITS } from "../core/limits.ts";
import type { SocketAddress } from "../socket/sockaddr.ts";
import type { Socket } from "../socket/socket.ts";
import { guardShutdown } from "../socket/socket_core.ts";
import { checkHandler, type ConnectionHandler, type ConnectionOptions, type TimeoutKind, type WaitOptions } from "./connection_types.ts";
import { type Loop, loopClosedError } from "./loop.ts";
import type { Transport, TransportFactory, TransportSink } from "./transport.ts";
import { ReadinessTransport } from "./transport_readiness.ts";
import { WriteQueue } from "./write_queue.ts";
import type { Timer } from "../core/timer_heap.ts";
import { URING_BUFFER_BYTES, type LoopUring } from "./uring/loop_io.ts";
import { UringTransport } from "./uring/transport.ts";
import { readableOf, type StreamPort, writableOf } from "./connection_streams.ts";
import { type Reader, ReadQueue, shortRead } from "./connection_reads.ts";
import { wasmReadBuffer } from "../core/mask_wasm.ts";
import { denseSlots } from "../core/dense_slots.ts";

/** Passed to an empty write queue at close (no callback receives it): saves making an Error per closed connection. */
const NOBODY_WAITS: Error = new SocketClosedError("EPIPE", "the connection is closed");

export { CONNECTION_OPTION_KEYS, type ConnectionHandler, type ConnectionOptions, type TimeoutKind, type WaitOptions } from "./connection_types.ts";

/** The `writable` stream's wait for the write queue to go below the high-water mark. */
interface DrainWait {
  promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

/** How handler-mode `data` gets the bytes: a reused view, a copy of its own, or not at all (after `close()`). */
const DATA_VIEW = 0;
const DATA_COPY = 1;
const DATA_DROP = 2;

/** Where the last `recvTarget()` pointed: `data`'s scratch, dropped input, a waiting reader, the read buffer. */
const RECV_DATA = 0;
const RECV_DROP = 1;
const RECV_READER = 2;
const RECV_BUFFER = 3;
const NOTHING = new Uint8Array(0);

/**
 * Shared by every connection: reads land here before `data` sees them.
 * 256 KiB, as one buffer per process costs nothing per connection: bulk
 * receives take a quarter of the recv calls of 64 KiB reads and ran 5–15%
 * faster on Deno and Bun (1 MiB was slower again). It is the read buffer
 * in the WebSocket masking module's memory (core/mask_wasm.ts) where
 * WebAssembly runs, so a frame read here is unmasked in place, with no copy
 * in or out of the module.
 */
const scratch: Uint8Array = wasmReadBuffer() ?? new Uint8Array(256 * 1024);
/**
 * Views of the first n bytes of `scratch`, n ≤ VIEW_CACHE_MAX, made once:
 * a view per read costs 40–90 ns and garbage (2% of an echo server's
 * samples on Bun). `data` gets the same view object for the same length.
 */
const VIEW_CACHE_MAX = 2048;
/** Dense from the start (see core/dense_slots.ts: `[]` went sparse on JavaScriptCore at its first read of 1000 bytes or more). */
const views = denseSlots<Uint8Array>(VIEW_CACHE_MAX + 1);
const NO_HANDLER: ConnectionHandler = {};

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("The operation was aborted", "AbortError");
}

/**
 * One async stream connection. Create it with `listen` or `connect`.
 *
 * @example
 * ```ts
 * import type { Connection } from "./connection.ts";
 * async function echoOnce(conn: Connection) {
 *   const chunk = await conn.read();
 *   if (chunk) await conn.write(chunk);
 *   await conn.close();
 * }
 * ```
 */
export class Connection {
  /** The loop the connection runs on. */
  readonly loop: Loop;
  /** User data slot (handler-mode servers keep per-connection state here). */
  data: unknown = undefined;
  readonly #socket: Socket;
  readonly #fd: number;
  /** How bytes move (readiness, io_uring, or a wrapper): fixed at construction. */
  readonly #transport: Transport;
  #handler: ConnectionHandler;
  /** What {@link Connection.interpose} put around every handler (undefined: nothing, the usual case). */
  #wrap: ((handler: ConnectionHandler) => ConnectionHandler) | undefined = undefined;
  /** The handler last given, unwrapped (kept once something interposed). */
  #given: ConnectionHandler | undefined = undefined;
  /** RECV_DATA … RECV_BUFFER: what the last `recvTarget()` chose. */
  #recvKind = RECV_DATA;
  /** Promise mode: the read buffer and the pending reads. */
  readonly #reads: ReadQueue;
  readonly #out = new WriteQueue();
  readonly #hwm: number;
  #paused = false;
  /** Bytes buffered in read mode wait for the data handler that took over (see {@link Connection.setHandler}). */
  #handOver = false;
  /** The end of stream came in read mode: a data handler that takes over is told it (see {@link Connection.setHandler}). */
  #eofInReadMode = false;
  /** A connection layered over this one (its ConnectionTransport): told of a hang-up first (see {@link Connection._layerHangUp}). */
  #layerHungUp: (() => boolean) | undefined = undefined;
  #eof = false;
  #ended = false;
  /** end()'s FIN went out (shutdown SHUT_WR ran). */
  #finSent = false;
  #endPromise: Promise<void> | undefined;
  #closing = false;
  #closed = false;
  /** Ended by abort() or a failure: the transport closes with a reset. */
  #reset = false;
  #wantDrain = false;
  /** Waiters of the `writable` stream for the queue to go below the high-water mark. */
  #drainWait: DrainWait | undefined;
  /** DATA_VIEW, DATA_COPY or DATA_DROP. */
  #dataMode: number;
  /** The `readable` stream was cancelled: reads see the end of stream, arriving bytes are dropped. */
  #readCancelled = false;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #error: Error | undefined;
  readonly #closedPromise: Promise<Error | undefined>;
  #resolveClosed!: (error: Error | undefined) => void;
  readonly #idleMs: number;
  readonly #readMs: number;
  readonly #writeMs: number;
  /**
   * Last activity for the timeouts (kept only with a timeout set): a fresh
   * clock reading per read and write, not the turn's (`turnMs`), which is
   * as old as the synchronous run so far: a handler that blocked the
   * thread would make every later connection of that turn look idle for
   * that much longer, and its idle or read timeout fire that much early.
   */
  #lastRead = 0;
  #lastWrite = 0;
  #timer: Timer | undefined;
  #local: SocketAddress | undefined = undefined;
  #remote: SocketAddress | undefined = undefined;

  /** The connection's side of its transport: one object, no closures. */
  static readonly #Sink = class implements TransportSink {
    readonly conn: Connection;
    constructor(conn: Connection) {
      this.conn = conn;
    }
    // Handler mode, the hot path, is served here without a further call.
    recvTarget(): Uint8Array {
      const conn = this.conn;
      if (conn.#handler.data === undefined) return conn.#recvTarget();
      if (conn.#handOver) {
        conn.#handOverBuffered();
        if (conn.#closed || conn.#paused) return NOTHING;
        if (conn.#handler.data === undefined) return conn.#recvTarget();
      }
      conn.#recvKind = RECV_DATA;
      return scratch;
    }
    receivedInto(target: Uint8Array, n: number): boolean {
      const conn = this.conn;
      if (conn.#recvKind !== RECV_DATA) return conn.#receivedInto(target, n);
      if (conn.#readMs + conn.#idleMs > 0) conn.#lastRead = performance.now();
      const mode = conn.#dataMode;
      if (mode === DATA_VIEW) {
        conn.#handler.data!(conn, target !== scratch ? target.subarray(0, n) : n <= VIEW_CACHE_MAX ? (views[n] ??= scratch.subarray(0, n)) : scratch.subarray(0, n));
      } else if (mode === DATA_COPY) conn.#handler.data!(conn, target.slice(0, n));
      return !conn.#closed && !conn.#paused;
    }
    recvLimit(): number {
      return this.conn.#recvLimit();
    }
    received(bytes: Uint8Array): void {
      this.conn.#received(bytes);
    }
    receivedEnd(): void {
      this.conn.#onEof();
    }
    sent(n: number): void {
      this.conn.#sent(n);
    }
    failed(error: Error): void {
      this.conn.#fail(error);
    }
    hungUp(): boolean {
      return this.conn.#hungUp();
    }
    loopClosed(): void {
      this.conn.#destroy(loopClosedError(), false);
    }
    refresh(): void {
      this.conn.#setInterest();
    }
    reportError(error: unknown): void {
      this.conn.loop._reportError(error);
    }
  };

  /**
   * @internal Use `listen` or `connect`. `io`: the loop's io_uring (I/O
   * completes through it), a {@link TransportFactory} (a wrapping transport,
   * say), or undefined for readiness I/O.
   */
  constructor(loop: Loop, socket: Socket, handler: ConnectionHandler | undefined, options: ConnectionOptions = {}, io?: LoopUring | TransportFactory) {
    this.loop = loop;
    this.#socket = socket;
    this.#fd = socket.fd;
    this.#handler = handler ?? NO_HANDLER;
    this.#hwm = positive(options.highWaterMark ?? SOCKET_LIMITS.writeHighWaterMark, "highWaterMark");
    this.#reads = new ReadQueue(positive(options.readBufferBytes ?? SOCKET_LIMITS.readBufferBytes, "readBufferBytes"));
    this.#idleMs = timeout(options.idleTimeoutMs, "idleTimeoutMs");
    this.#readMs = timeout(options.readTimeoutMs, "readTimeoutMs");
    this.#writeMs = timeout(options.writeTimeoutMs, "writeTimeoutMs");
    if (options.copy !== undefined && typeof options.copy !== "boolean") throw new TypeError(`copy must be a boolean, got ${typeof options.copy}`);
    this.#dataMode = options.copy === true ? DATA_COPY : DATA_VIEW;
    this.#closedPromise = new Promise((resolve) => (this.#resolveClosed = resolve));
    const sink = new Connection.#Sink(this);
    if (io === undefined) this.#transport = new ReadinessTransport(loop, socket, sink, this.#out);
    else if (typeof io === "function") this.#transport = io(sink, this.#out);
    else this.#transport = new UringTransport(io, socket, sink, this.#out);
    // A raw `socket.shutdown("write")` waits for what this connection queued.
    this.#unguard = guardShutdown(socket, this.#guardShutdown);
    if (this.#idleMs + this.#readMs + this.#writeMs > 0) {
      const now = performance.now();
      this.#lastRead = now;
      this.#lastWrite = now;
      this.#armTimer();
    }
  }

  /** Takes the shutdown guard below off the socket (a detach keeps the socket, which would hold this connection). */
  readonly #unguard: () => void;

  /**
   * The socket's shutdown guard (socket/socket_core.ts): a FIN asked for
   * with `socket.shutdown("write")` goes after the bytes queued before it
   * (a queued send, a record of TLS over io_uring), never ahead of them.
   */
  readonly #guardShutdown = (shut: () => void): void => {
    if (this.#closed || this.#out.empty) {
      shut();
      return;
    }
    this.#transport.queue(NOTHING, 0, (error) => {
      if (error !== undefined || this.#closed) return;
      try {
        shut();
      } catch {
        // the peer is gone already: the connection reports it
      }
    });
  };

  /** The file descriptor (-1 once closed). */
  get fd(): number {
    return this.#closed ? -1 : this.#fd;
  }

  /** Bytes queued for the kernel. */
  get bufferedAmount(): number {
    return this.#out.bytes;
  }

  /** The high-water mark of the output queue. */
  get highWaterMark(): number {
    return this.#hwm;
  }

  /**
   * The most bytes buffered for reading (the `readBufferBytes` option):
   * also the most {@link Connection.readExactly} takes at once.
   *
   * @example
   * ```ts
   * import type { Connection } from "./connection.ts";
   * function fits(conn: Connection, n: number): boolean {
   *   return n <= conn.readBufferBytes;
   * }
   * ```
   */
  get readBufferBytes(): number {
    return this.#reads.max;
  }

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the connection closes, with the error that closed it, if any. */
  get whenClosed(): Promise<Error | undefined> {
    return this.#closedPromise;
  }

  /** The local address (asked of the kernel once; a closed connection throws). */
  get localAddress(): SocketAddress {
    // Closed: throws whether or not the socket is this connection's own (a
    // layered connection, TLS over an io_uring one, shares its plain one's).
    if (this.#closed) throw new UseAfterCloseError("Connection");
    if (this.#local === undefined) this.#local = Object.freeze(this.#socket.localAddress());
    return this.#local;
  }

  /**
   * The peer address. A connected socket's peer does not change, so the
   * kernel is asked once (`getpeername`), not on every read: per-client
   * limits and logs read it per request. A closed connection throws.
   */
  get remoteAddress(): SocketAddress {
    if (this.#closed) throw new UseAfterCloseError("Connection");
    if (this.#remote === undefined) this.#remote = Object.freeze(this.#socket.remoteAddress());
    return this.#remote;
  }

  /**
   * The underlying synchronous socket, for options (`socket.options.keepAlive`),
   * `tcpInfo()` and the like. Reads and writes must go through the
   * connection; the connection does not count them in `socket.stats()`.
   */
  get socket(): Socket {
    return this.#socket;
  }

  /**
   * Replaces the handler (e.g. after a protocol upgrade); the next bytes
   * go to it, also when called from inside `data`. Bytes that arrived in
   * read mode and were not read yet go to the new `data` first, in a
   * microtask (after the caller's own setup, before any later bytes),
   * and an end of stream that came in read mode to its `end` (or, without
   * one, closes) after them.
   */
  setHandler(handler: ConnectionHandler): void {
    checkHandler(handler, "setHandler");
    const wrap = this.#wrap;
    if (wrap === undefined) this.#handler = handler;
    else {
      this.#given = handler;
      this.#handler = wrap(handler);
    }
    this.#setInterest();
    this.#scheduleHandOver();
  }

  /**
   * Puts `wrap` around the handler now and around every handler given to
   * {@link Connection.setHandler} later, so that an observer stays between
   * the connection and whoever owns it (a listener's `protect` gate keeps
   * counting bytes and scoring when an HTTP session hands the connection
   * to a WebSocket). `wrap` gets the plain handler each time (`{}` for
   * read mode: keep `data` undefined then, or reads see nothing) and
   * returns the one the connection calls; its state is its own to share
   * between calls. A later `interpose` goes around an earlier one.
   *
   * @example
   * ```ts
   * import { listen } from "./listener.ts";
   * let bytes = 0;
   * const server = listen({
   *   port: 0,
   *   handler: {
   *     open: (conn) => conn.interpose((inner) => inner.data === undefined ? inner : { ...inner, data: (c, b) => { bytes += b.length; inner.data!(c, b); } }),
   *     data: (c, b) => c.setHandler({ data: (c2, more) => void c2.send(more) }),
   *   },
   * });
   * server.close();
   * ```
   */
  interpose(wrap: (handler: ConnectionHandler) => ConnectionHandler): void {
    if (typeof wrap !== "function") throw new TypeError("interpose: wrap must be a function");
    const outer = this.#wrap;
    const given = outer === undefined ? this.#handler : this.#given!;
    const composed = outer === undefined ? wrap : (handler: ConnectionHandler) => wrap(outer(handler));
    this.#wrap = composed;
    this.#given = given;
    this.#handler = composed(given);
    this.#setInterest();
  }

  /** Keeps the process alive while open (the default). */
  ref(): this {
    if (!this.#closed) this.#transport.ref();
    return this;
  }

  /** Lets the process exit while this connection is open. */
  unref(): this {
    if (!this.#closed) this.#transport.unref();
    return this;
  }

  /** Stops reading from the kernel (the peer sees backpressure). */
  pause(): void {
    this.#paused = true;
    this.#setInterest();
  }

  /** Resumes reading. */
  resume(): void {
    this.#paused = false;
    this.#setInterest();
    this.#scheduleHandOver();
  }

  /**
   * A data handler took over while bytes read in read mode wait in the
   * buffer (a receive completed after the last `read()` resolved: io_uring
   * takes bytes as they come, and readiness I/O reads ahead into the
   * buffer too): they go to it in a microtask, or at once before the next
   * bytes if those come first.
   */
  #scheduleHandOver(): void {
    if (this.#handOver || this.#closed || this.#handler.data === undefined || !(this.#hasBufferedInput || this.#eofInReadMode)) return;
    this.#handOver = true;
    queueMicrotask(this.#handOverSoon);
  }

  /**
   * The microtask of {@link Connection.#scheduleHandOver}: it runs outside
   * the loop's tick, so a handler's throw goes to the loop's `onError` as a
   * throw in a tick's dispatch does (not out as an uncaught exception). An
   * end still waiting comes after it, as the next tick would bring it after
   * a throw from `data` in a dispatch.
   */
  readonly #handOverSoon = (): void => {
    try {
      this.#handOverBuffered();
    } catch (err) {
      this.loop._reportError(err);
      this.#scheduleHandOver();
    }
  };

  #handOverBuffered(): void {
    if (!this.#handOver) return;
    this.#handOver = false;
    const data = this.#handler.data;
    // Paused: resume() schedules it again; read mode again: read() takes them.
    if (this.#closed || this.#paused || data === undefined) return;
    const bytes = this.#reads.readAll();
    if (bytes !== undefined) {
      this.#setInterest();
      data(this, bytes);
    }
    // The end came in read mode: the new handler learns it (after the bytes).
    if (this.#eofInReadMode && this.#handler.data !== undefined && !this.#closed && !this.#closing) {
      this.#eofInReadMode = false;
      this.#onEof();
    }
  }

  /**
   * Sends what the kernel takes now and queues the rest (copied). Returns
   * false when the queue is at or above the high-water mark: wait for the
   * `drain` callback before sending more.
   *
   * `more`: more bytes follow at once (a response head before its body),
   * so the kernel may hold a partial segment for them (MSG_MORE on Linux)
   * rather than send it alone; the next `send()` without it pushes all.
   * Two sends gather the head and a large body into the same segments
   * without copying the body next to the head.
   *
   * Throws, as `write()` rejects, once the connection is closed for
   * writing: {@link UseAfterCloseError} after `close()`, `abort()`,
   * `detach()` or `end()`; the error that closed it after a failure.
   */
  send(data: Uint8Array, more = false): boolean {
    if (this.#closed || this.#closing || this.#ended) throw this.#writeClosedError();
    let offset = 0;
    if (this.#out.empty) {
      offset = this.#sendNow(data, more);
      if (offset < 0) return false;
      if (offset === data.length) return true;
    }
    this.#startWriteClock();
    this.#transport.queue(data, offset, undefined);
    const below = this.#out.bytes < this.#hwm;
    if (!below) this.#wantDrain = true;
    return below;
  }

  /**
   * `send(head, true)` then `send(body)` in one system call where the
   * transport can (a plain socket: sendmsg with two iovecs, `body` sent
   * from its own memory, `head` at most 8 KiB), else as those two sends.
   * What the kernel does not take now is queued (copied), as by `send()`;
   * returns and throws as `send()`. `more`: more bytes follow at once.
   */
  sendPair(head: Uint8Array, body: Uint8Array, more = false): boolean {
    if (this.#closed || this.#closing || this.#ended) throw this.#writeClosedError();
    const t = this.#transport;
    if (!this.#out.empty || t.trySendPair === undefined || head.length > 8192 || head.length === 0 || body.length === 0) {
      this.send(head, true);
      return this.send(body, more);
    }
    const n = t.trySendPair(head, body, more);
    if (n < 0) return false;
    if (n > 0 && this.#writeMs + this.#idleMs > 0) this.#lastWrite = performance.now();
    const total = head.length + body.length;
    if (n === total) return true;
    this.#startWriteClock();
    if (n < head.length) {
      t.queue(head, n, undefined);
      t.queue(body, 0, undefined);
    } else t.queue(body, n - head.length, undefined);
    const below = this.#out.bytes < this.#hwm;
    if (!below) this.#wantDrain = true;
    return below;
  }

  /**
   * `parts` in order, as one `send()` of their concatenation would send
   * them, in one system call where the transport can (a plain socket:
   * sendmsg with an iovec per part, up to 16, each sent from its own
   * memory), else as a `send()` of each. What the kernel does not take now
   * is queued (copied); returns and throws as `send()`. `more`: more bytes
   * follow at once. A response head, a body read in pieces, a chunk's size
   * line, bytes and CRLF: one system call, and no copy of the pieces into
   * one buffer first.
   */
  sendParts(parts: readonly Uint8Array[], more = false): boolean {
    if (this.#closed || this.#closing || this.#ended) throw this.#writeClosedError();
    const t = this.#transport;
    const last = parts.length - 1;
    if (!this.#out.empty || t.trySendParts === undefined || parts.length < 2) {
      let below = true;
      for (let i = 0; i <= last; i++) {
        // A send that failed closed the connection: the rest has nowhere to go.
        if (i > 0 && (this.#closed || this.#closing || this.#ended)) return false;
        below = this.send(parts[i]!, more || i < last);
      }
      return below;
    }
    const n = t.trySendParts(parts, more);
    if (n < 0) return false;
    if (n > 0 && this.#writeMs + this.#idleMs > 0) this.#lastWrite = performance.now();
    let skip = n;
    let i = 0;
    for (; i <= last && skip >= parts[i]!.byteLength; i++) skip -= parts[i]!.byteLength;
    if (i > last) return true;
    this.#startWriteClock();
    for (; i <= last; i++) {
      const part = parts[i]!;
      if (part.byteLength > skip) t.queue(part, skip, undefined);
      skip = 0;
    }
    const below = this.#out.bytes < this.#hwm;
    if (!below) this.#wantDrain = true;
    return below;
  }

  /**
   * Whether {@link Connection.sendParts} sends its parts in one system call
   * from their own memory (a plain socket), not as a `send()` of each (TLS
   * and other transports that change the bytes): a writer with many pieces
   * gathers them only where this is true, and joins them otherwise.
   */
  get gathersParts(): boolean {
    return this.#transport.trySendParts !== undefined;
  }

  /**
   * Whether {@link Connection.sendFile} can be used: the bytes go to the
   * socket as they are (not through TLS or another transforming transport).
   */
  get canSendFile(): boolean {
    return this.#transport.queueFile !== undefined;
  }

  /**
   * Queues `length` bytes of the open file `fd` from byte `position` on,
   * sent by the kernel straight from the file (sendfile(2), no copy through
   * memory), after what is queued. `done` runs once the last byte went, or
   * with the error when the connection fails first: the place to close
   * `fd`, which must stay open until then. A file that turns out shorter
   * fails the connection. Returns false at the high-water mark, as
   * `send()`. Throws `UnsupportedError` where {@link canSendFile} is false,
   * and as `send()` once the connection is closed for writing.
   */
  sendFile(fd: number, position: number, length: number, done?: (error?: Error) => void): boolean {
    if (this.#closed || this.#closing || this.#ended) throw this.#writeClosedError();
    if (this.#transport.queueFile === undefined) throw new UnsupportedError("sendFile", "this connection's transport changes its bytes (TLS)");
    if (!Number.isSafeInteger(position) || position < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`sendFile: position and length must be non-negative integers (got ${position}, ${length})`);
    }
    this.#startWriteClock();
    this.#transport.queueFile(fd, position, length, done);
    const below = this.#out.bytes < this.#hwm;
    if (!below) this.#wantDrain = true;
    return below;
  }

  /**
   * Writes all of `data`; resolves once the kernel took the last byte.
   * Rejects at once when the connection is closed for writing, with the
   * same error as `send()` throws.
   */
  write(data: Uint8Array, options: WaitOptions = {}): Promise<void> {
    if (this.#closed || this.#closing || this.#ended) return Promise.reject(this.#writeClosedError());
    if (options.signal?.aborted) return Promise.reject(abortReason(options.signal));
    let offset = 0;
    if (this.#out.empty) {
      offset = this.#sendNow(data);
      if (offset < 0) return Promise.reject(this.#error!);
      if (offset === data.length) return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      let onAbort: (() => void) | undefined;
      if (signal) {
        onAbort = () => this.#destroy(abortReason(signal), true);
        signal.addEventListener("abort", onAbort, { once: true });
      }
      const settle = (error?: Error) => {
        if (signal && onAbort) signal.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve();
      };
      this.#startWriteClock();
      this.#transport.queue(data, offset, settle);
    });
  }

  /**
   * Reads the next chunk (a Uint8Array of its own); null at end of stream.
   * In handler mode the bytes go to `data`, and reads see only the end.
   */
  read(options: WaitOptions = {}): Promise<Uint8Array | null> {
    if (this.#reads.readers.length === 0) {
      const out = this.#reads.readAll();
      if (out !== undefined) {
        this.#tookBuffered();
        return Promise.resolve(out);
      }
      if (this.#eof || this.#readCancelled) return Promise.resolve(null);
    }
    return this.#wait(0, undefined, options.signal) as Promise<Uint8Array | null>;
  }

  /**
   * Reads exactly `n` bytes: resolves once `n` bytes arrived, all at once
   * (an aborted or failed call took none). When the stream ends first it
   * rejects with {@link SocketClosedError} (code `"EOF"`) whose
   * `transferred` is how many bytes were there; they stay buffered for
   * `read()`. `n` is at most {@link Connection.readBufferBytes} (the
   * `readBufferBytes` option, default `SOCKET_LIMITS.readBufferBytes`,
   * 64 KiB): a larger or non-integer `n` is a RangeError.
   *
   * @example
   * ```ts
   * import type { Connection } from "./connection.ts";
   * // A frame with a 4-byte big-endian length before its body.
   * async function readFrame(conn: Connection): Promise<Uint8Array> {
   *   const head = await conn.readExactly(4);
   *   const length = new DataView(head.buffer).getUint32(0);
   *   return conn.readExactly(length);
   * }
   * ```
   */
  readExactly(n: number, options: WaitOptions = {}): Promise<Uint8Array> {
    const reads = this.#reads;
    if (!Number.isSafeInteger(n) || n < 0 || n > reads.max) {
      return Promise.reject(new RangeError(`readExactly: n must be an integer from 0 to readBufferBytes (${reads.max}), got ${n}`));
    }
    if (n === 0) return Promise.resolve(new Uint8Array(0));
    if (reads.readers.length === 0) {
      const out = reads.readExactly(n);
      if (out !== undefined) {
        this.#tookBuffered();
        return Promise.resolve(out);
      }
      if (this.#eof || this.#readCancelled) return Promise.reject(shortRead(reads.length, n));
    }
    return this.#wait(n, undefined, options.signal) as Promise<Uint8Array>;
  }

  /**
   * Reads into `buffer` (a BYOB read): resolves with how many bytes were
   * written to its start (at least 1, at most `buffer.length`), or null at
   * end of stream. Bytes already buffered are copied straight in; when none
   * are, readiness I/O receives into `buffer` itself. A zero-length buffer
   * is a RangeError.
   *
   * @example
   * ```ts
   * import type { Connection } from "./connection.ts";
   * async function countBytes(conn: Connection): Promise<number> {
   *   const buffer = new Uint8Array(16 * 1024); // reused by every read
   *   let total = 0;
   *   for (let n = await conn.readInto(buffer); n !== null; n = await conn.readInto(buffer)) total += n;
   *   return total;
   * }
   * ```
   */
  readInto(buffer: Uint8Array, options: WaitOptions = {}): Promise<number | null> {
    if (!(buffer instanceof Uint8Array)) return Promise.reject(new TypeError("readInto: buffer must be a Uint8Array"));
    if (buffer.length === 0) return Promise.reject(new RangeError("readInto: buffer is empty"));
    if (this.#reads.readers.length === 0) {
      const n = this.#reads.readInto(buffer);
      if (n > 0) {
        this.#tookBuffered();
        return Promise.resolve(n);
      }
      if (this.#eof || this.#readCancelled) return Promise.resolve(null);
    }
    return this.#wait(0, buffer, options.signal) as Promise<number | null>;
  }

  /**
   * The incoming bytes as a WHATWG byte stream (made on first use; the
   * same object each time). It reads through the same queue as `read()`,
   * `readExactly()` and `readInto()`: use one or the other. BYOB readers
   * (`getReader({ mode: "byob" })`) read into their own buffers through
   * `readInto()`; default readers get a Uint8Array of their own per chunk.
   * In handler mode `data` gets the bytes and the stream sees only the
   * end. Cancelling it closes the read side: buffered input is dropped,
   * pending and later reads see the end of stream, and bytes that still
   * arrive are read and dropped (so the peer is not held up, and closing
   * leaves nothing unread that would reset the connection). Writing goes
   * on; as without streams, the connection closes once both sides ended
   * (our `end()` and the peer's FIN), or by `close()`.
   *
   * @example
   * ```ts
   * import type { Connection } from "./connection.ts";
   * async function firstBytes(conn: Connection): Promise<Uint8Array> {
   *   const reader = conn.readable.getReader({ mode: "byob" });
   *   const { value } = await reader.read(new Uint8Array(512));
   *   reader.releaseLock();
   *   return value ?? new Uint8Array(0);
   * }
   * ```
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= readableOf(this, this.#port());
  }

  /**
   * The outgoing side as a WHATWG stream (made on first use; the same
   * object each time). A write goes through `send()` and resolves at once
   * while the queue stays below the high-water mark, else once it drained
   * below it; `close()` sends FIN (as `end()`, and rejects if the
   * connection failed); `abort()` resets the connection. It shares the
   * queue with `send()` and `write()`, in call order, in either mode.
   *
   * @example
   * ```ts
   * import type { Connection } from "./connection.ts";
   * async function echo(conn: Connection): Promise<void> {
   *   await conn.readable.pipeTo(conn.writable); // FIN after the peer's FIN
   * }
   * ```
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= writableOf(this, this.#port());
  }

  /** Async iteration over incoming chunks until end of stream. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      const chunk = await this.read();
      if (chunk === null) return;
      yield chunk;
    }
  }

  /** Half-close: flushes queued output, then sends FIN (shutdown SHUT_WR). */
  end(): Promise<void> {
    if (this.#endPromise) return this.#endPromise;
    if (this.#closed) return Promise.resolve();
    this.#ended = true;
    let resolve!: () => void;
    // Stored before flushing: a `drain` callback run by the flush that calls
    // end() again gets this promise, not a second FIN marker.
    const ended = this.#endPromise = new Promise<void>((r) => resolve = r);
    this.#out.push(new Uint8Array(0), (error) => {
      if (!error && !this.#closed) {
        try {
          this.#transport.shutdown();
        } catch {
          // the peer is gone already; reading reports it
        }
        this.#finSent = true;
        this.#bothEnded();
      }
      resolve();
    });
    try {
      this.#transport.flush();
    } catch (err) {
      // A drain or error callback run by the flush threw: a rejection, as
      // for every other failure of end().
      return Promise.reject(err);
    }
    return ended;
  }

  /**
   * Graceful close: flushes queued output, sends FIN, closes. In handler
   * mode, bytes that arrive while the output is flushed are read and
   * dropped (`data` is not called again).
   */
  close(): Promise<void> {
    if (this.#closed || this.#closing) return this.#closedPromise.then(() => {});
    this.#closing = true;
    this.#dataMode = DATA_DROP;
    if (this.#out.empty) this.#destroy(undefined, false);
    else {
      this.#out.push(new Uint8Array(0), () => this.#destroy(undefined, false));
      this.#setInterest();
    }
    return this.#closedPromise.then(() => {});
  }

  /** Abort: drops queued output and resets the connection (RST via SO_LINGER 0). */
  abort(error?: Error): void {
    if (this.#closed) return;
    this.#setLingerZero();
    this.#reset = true;
    this.#destroy(error, false);
  }

  /**
   * Takes the socket out of the connection without closing it (to hand it
   * to another loop or Worker: `conn.detach().release()` gives the fd).
   * The connection is closed afterwards: queued output fails, pending reads
   * end, and input it had buffered but not delivered is dropped — detach a
   * quiet connection (typically in `open`). The `close` callback is not
   * called.
   *
   * @throws UnsupportedError (`ERR_UNSUPPORTED`) when the connection runs
   * over another connection (TLS inside a tunnel through an `https://`
   * proxy, TLS in TLS): its descriptor carries the outer connection's
   * records, not this connection's bytes. The connection stays open.
   * @throws UseAfterCloseError once `close()` was called (also while it
   * still flushes: the socket is promised to that close), after `abort()`
   * or a first `detach()`.
   */
  detach(): Socket {
    if (this.#closed || this.#closing) throw new UseAfterCloseError("Connection");
    if (this.#transport.detachable === false) {
      throw new UnsupportedError(
        "detach() of a connection over another connection",
        "its descriptor carries the outer connection's records (TLS to an https:// proxy, or TLS around this TLS), not this connection's bytes; keep the connection",
      );
    }
    this.#closed = true;
    this.#timer?.cancel();
    this.#transport.close(true);
    // The socket goes on without this connection: its raw-shutdown guard must not keep it.
    this.#unguard();
    this.#reads.endAll(undefined);
    this.#reads.close();
    // An Error (its stack) is made only when a write or a drain wait gets it.
    const detached = this.#out.empty && this.#drainWait === undefined ? NOBODY_WAITS : new SocketClosedError("EPIPE", "the connection was detached");
    this.#out.fail(detached);
    this.#failDrainWait(detached);
    this.#resolveClosed(undefined);
    return this.#socket;
  }

  /** Same as {@link Connection.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Queues a reader (see {@link Reader}) and starts reading for it. */
  #wait(exact: number, into: Uint8Array | undefined, signal: AbortSignal | undefined): Promise<Uint8Array | number | null> {
    if (this.#closed) {
      if (this.#error !== undefined) return Promise.reject(this.#error);
      return exact > 0 ? Promise.reject(shortRead(0, exact)) : Promise.resolve(null);
    }
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const reader: Reader = { exact, into, resolve, reject, cleanup: undefined };
      if (signal) {
        const onAbort = () => {
          const readers = this.#reads.readers;
          const i = readers.indexOf(reader);
          if (i >= 0) readers.splice(i, 1);
          reject(abortReason(signal));
          // A reader behind this one may be served by what is buffered now.
          if (i === 0) this.#serveReaders();
        };
        signal.addEventListener("abort", onAbort, { once: true });
        reader.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      if (this.#reads.readers.length === 0 && this.#readMs + this.#idleMs > 0) this.#lastRead = performance.now();
      this.#reads.readers.push(reader);
      this.#setInterest();
    });
  }

  /** Hands buffered bytes, or the end of stream, to the waiting readers in order. */
  #serveReaders(): void {
    if (this.#reads.serve(this.#eof || this.#readCancelled)) this.#tookBuffered();
  }

  /** Bytes were taken out of the read buffer: there may be room to read again, or nothing left to wait for. */
  #tookBuffered(): void {
    // Input kept past a failure (see #destroy) is freed once handed out.
    if (this.#closed) {
      if (!this.#hasBufferedInput) this.#reads.close();
      return;
    }
    if (this.#paused === false) this.#setInterest();
    // Both sides ended while these bytes waited: the connection is done now.
    if (this.#eof && this.#ended && !this.#hasBufferedInput) void this.close();
  }

  /** What `send()` throws and `write()` rejects with once writing is over. */
  #writeClosedError(): Error {
    if (this.#error !== undefined) return this.#error;
    return new UseAfterCloseError(this.#closed || this.#closing ? "Connection" : "Connection's write side (after end())");
  }

  /** The queue went below the high-water mark after `send()` returned false. */
  #drained(): void {
    this.#wantDrain = false;
    const wait = this.#drainWait;
    if (wait !== undefined) {
      this.#drainWait = undefined;
      wait.resolve();
    }
    this.#handler.drain?.(this);
  }

  #failDrainWait(error: Error): void {
    const wait = this.#drainWait;
    if (wait === undefined) return;
    this.#drainWait = undefined;
    wait.reject(error);
  }

  /** What the stream adapters need beyond the public methods (made once per stream). */
  #port(): StreamPort {
    return {
      belowHighWater: () => {
        if (this.#closed) return Promise.reject(this.#writeClosedError());
        if (this.#out.bytes < this.#hwm) return Promise.resolve();
        this.#wantDrain = true;
        if (this.#drainWait === undefined) {
          let resolve!: () => void;
          let reject!: (error: Error) => void;
          const promise = new Promise<void>((res, rej) => {
            resolve = res;
            reject = rej;
          });
          this.#drainWait = { promise, resolve, reject };
        }
        return this.#drainWait.promise;
      },
      cancelRead: () => this.#cancelRead(),
      failure: () => this.#error,
    };
  }

  /** The readable stream was cancelled: reads end, input is dropped from now on. */
  #cancelRead(): void {
    if (this.#closed || this.#readCancelled) return;
    this.#readCancelled = true;
    this.#reads.clear();
    this.#serveReaders();
    // Reading resumes if the buffer was full; after the peer's FIN and
    // ours, the connection is done.
    this.#tookBuffered();
  }

  /**
   * @internal A connection that runs over this one (tls/connection_transport.ts)
   * hears of the peer's hang-up first, through `hungUp` (its own sink's
   * answer: true when that closed it), and undefined takes it off. This
   * connection reads for that one, which paused it: the end of stream the
   * hang-up settles is the one above (a TLS close_notify, then a reset
   * instead of a FIN), which readiness I/O under it learns directly.
   */
  _layerHangUp(hungUp: (() => boolean) | undefined): void {
    this.#layerHungUp = hungUp;
  }

  /** The peer hung up while reading was off: after the end of stream with nothing buffered, a clean close. */
  #hungUp(): boolean {
    if (this.#hasBufferedInput) return false;
    // A connection over this one decides (closing it closes this one).
    const layer = this.#layerHungUp;
    if (layer !== undefined) return layer();
    // (Bytes read before the FIN may still wait in the read buffer: then
    // read() closes once it has handed them out.)
    if (!this.#eof) return false;
    this.#destroy(undefined, false);
    return true;
  }

  /** Pull input: where the next bytes go (see {@link TransportSink.recvTarget}). */
  #recvTarget(): Uint8Array {
    // (Handler mode is served by the sink itself.)
    if (this.#readCancelled) {
      // The readable stream was cancelled: drop what arrives.
      this.#recvKind = RECV_DROP;
      return scratch;
    }
    const reads = this.#reads;
    if (reads.direct) {
      // read() or readInto() waits and nothing is buffered: straight into
      // the caller's buffer, or into a chunk of its own.
      this.#recvKind = RECV_READER;
      return reads.readers[0]!.into ?? scratch;
    }
    const span = reads.span();
    if (span === undefined) {
      this.#setInterest();
      return NOTHING;
    }
    this.#recvKind = RECV_BUFFER;
    return span;
  }

  /** Pull input: `n` bytes landed in the last target; whether to receive again now. */
  #receivedInto(target: Uint8Array, n: number): boolean {
    // (RECV_DATA is served by the sink itself.)
    switch (this.#recvKind) {
      case RECV_DROP:
        return true;
      case RECV_READER: {
        if (this.#readMs + this.#idleMs > 0) this.#lastRead = performance.now();
        const reads = this.#reads;
        reads.resolveFirst(reads.readers[0]!.into !== undefined ? n : target.slice(0, n));
        if (reads.readers.length === 0) this.#setInterest();
        return false;
      }
      default:
        this.#reads.commit(n);
        if (this.#reads.readers.length > 0) {
          if (this.#readMs + this.#idleMs > 0) this.#lastRead = performance.now();
          this.#serveReaders();
        }
        this.#setInterest();
        return false;
    }
  }

  /** Bytes are about to be queued: with none queued before, the write timeout counts from now. */
  #startWriteClock(): void {
    if (this.#writeMs > 0 && this.#out.bytes === 0) this.#lastWrite = performance.now();
  }

  /** Push input: most bytes the next delivery may bring (a data handler takes any number). */
  #recvLimit(): number {
    if (this.#handler.data !== undefined) return Infinity;
    return Math.min(URING_BUFFER_BYTES, this.#reads.room);
  }

  /** Push input: bytes arrived (the view is valid during this call). */
  #received(bytes: Uint8Array): void {
    if (this.#handOver) {
      this.#handOverBuffered();
      if (this.#closed) return;
    }
    const handler = this.#handler;
    if (handler.data !== undefined) {
      if (this.#readMs + this.#idleMs > 0) this.#lastRead = performance.now();
      const mode = this.#dataMode;
      if (mode === DATA_VIEW) handler.data(this, bytes);
      else if (mode === DATA_COPY) handler.data(this, bytes.slice());
      return;
    }
    // The readable stream was cancelled: drop what arrives.
    if (this.#readCancelled) return;
    if (this.#readMs + this.#idleMs > 0) this.#lastRead = performance.now();
    const reads = this.#reads;
    const direct = reads.direct;
    reads.push(bytes);
    // Taken whole by a waiting reader: nothing buffered, interest unchanged.
    if (direct && reads.length === 0) return;
    if (reads.readers.length > 0) this.#serveReaders();
    this.#setInterest();
  }

  /** The transport consumed `n` bytes of the queue. */
  #sent(n: number): void {
    if (n > 0 && this.#writeMs + this.#idleMs > 0) this.#lastWrite = performance.now();
    if (this.#closed) return;
    if (this.#wantDrain && this.#out.bytes < this.#hwm) this.#drained();
  }

  #onEof(): void {
    this.#eof = true;
    this.#setInterest();
    this.#serveReaders();
    const handler = this.#handler;
    if (handler.end !== undefined) {
      handler.end(this);
      this.#bothEnded();
    } else if (handler.data !== undefined) void this.close();
    else {
      this.#eofInReadMode = true;
      if (this.#ended && !this.#hasBufferedInput) void this.close();
      // else: read() closes once the bytes still buffered were taken.
    }
  }

  /**
   * Our FIN went out and the peer's came in, nothing left to read: the
   * connection is done. Readiness I/O would also learn it from the hang-up
   * that follows; io_uring reports none (no receive is armed after the end
   * of stream), so a handler whose `end` called `end()` stayed open.
   */
  #bothEnded(): void {
    if (this.#finSent && this.#eof && !this.#closed && !this.#closing && !this.#hasBufferedInput) void this.close();
  }

  /** Whether received bytes wait in the read buffer for `read()`. */
  get #hasBufferedInput(): boolean {
    return this.#reads.length > 0;
  }

  /** Sends now; returns bytes taken, or -1 after a failure (connection destroyed). */
  #sendNow(data: Uint8Array, more = false): number {
    const n = this.#transport.trySend(data, more);
    if (n > 0 && this.#writeMs + this.#idleMs > 0) this.#lastWrite = performance.now();
    return n;
  }

  #setInterest(): void {
    if (this.#closed) return;
    this.#transport.update(!this.#paused && !this.#eof && !(this.#handler.data === undefined && this.#reads.full));
  }

  #setLingerZero(): void {
    try {
      this.#socket.options.linger = 0;
    } catch {
      // already reset: close sends nothing either way
    }
  }

  #fail(error: Error): void {
    if (this.#closed || this.#error !== undefined) return;
    // Going down with `error`: `close()`, `abort()` or a failing `send()`
    // from inside the `error` callback must not end it another way.
    this.#closing = true;
    this.#error = error;
    try {
      this.#handler.error?.(this, error);
    } finally {
      this.#destroy(error, true, true);
    }
  }

  /**
   * Closes the fd at once; pending reads and writes fail with `error` (or
   * end). With `keepInput` (a failure, not a close or an abort), bytes that
   * arrived before the failure stay readable: `read()` hands them out first
   * and rejects with `error` after, as recv(2) does after a reset.
   */
  #destroy(error: Error | undefined, reset: boolean, keepInput = false): void {
    if (this.#closed) return;
    error ??= this.#error; // abort() from inside the `error` callback
    if (reset && error !== undefined) {
      this.#setLingerZero();
      this.#reset = true;
    }
    this.#closed = true;
    this.#error = error;
    this.#timer?.cancel();
    // Reset: a transport over another connection aborts that one (it would flush what it holds first).
    this.#transport.close(false, this.#reset);
    this.#reads.endAll(error);
    if (!(keepInput && this.#hasBufferedInput)) this.#reads.close();
    const closedError = error ?? (this.#out.empty && this.#drainWait === undefined ? NOBODY_WAITS : new SocketClosedError("EPIPE", "the connection is closed"));
    this.#out.fail(closedError);
    this.#failDrainWait(closedError);
    this.#resolveClosed(error);
    this.#handler.close?.(this, error);
  }

  #armTimer(): void {
    const next = Math.min(
      this.#idleMs > 0 ? this.#idleMs : Infinity,
      this.#readMs > 0 ? this.#readMs : Infinity,
      this.#writeMs > 0 ? this.#writeMs : Infinity,
    );
    this.#timer = this.loop.timers.once(next, () => this.#checkTimeouts()).unref();
  }

  #checkTimeouts(): void {
    if (this.#closed) return;
    const now = performance.now();
    let kind: TimeoutKind | undefined;
    if (this.#readMs > 0 && this.#reads.readers.length > 0 && now - this.#lastRead >= this.#readMs) kind = "read";
    else if (this.#writeMs > 0 && this.#out.bytes > 0 && now - this.#lastWrite >= this.#writeMs) kind = "write";
    else if (this.#idleMs > 0 && now - Math.max(this.#lastRead, this.#lastWrite) >= this.#idleMs) kind = "idle";
    if (kind !== undefined) {
      if (this.#handler.timeout !== undefined) {
        this.#lastRead = this.#lastWrite = now;
        this.#handler.timeout(this, kind);
      } else {
        const error = new SocketTimeoutError(`${kind} timeout`);
        if (kind === "read") {
          const reader = this.#reads.readers.shift();
          reader?.cleanup?.();
          reader?.reject(error);
          this.#lastRead = now;
          // The next reader may take what the timed-out readExactly() left.
          this.#serveReaders();
        } else {
          this.#fail(error);
          return;
        }
      }
    }
    if (!this.#closed) this.#armTimer();
  }
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function timeout(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !(value >= 0)) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  return value;
}
