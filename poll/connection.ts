/**
 * `Connection`: a non-blocking stream socket on a {@link Loop}.
 *
 * Two ways to use it:
 * - a handler object `{open, data, end, drain, close, error, timeout}`, the
 *   fastest path: `data` receives a view that is valid only during the
 *   callback; `send()` writes without a Promise and returns false above the
 *   high-water mark (wait for `drain`);
 * - Promises: `read()` (null at end of stream), `write()` that resolves once
 *   the kernel took the bytes, `end()` for half-close, async iteration,
 *   WHATWG streams (`readable`, `writable` in connection_streams.ts).
 *
 * @example
 * ```ts
 * import { connect } from "./listener.ts";
 * // const conn = await connect({ host: "127.0.0.1", port: 8080 });
 * // await conn.write(new TextEncoder().encode("ping"));
 * // console.log(await conn.read());
 * // await conn.close();
 * ```
 *
 * @module
 */
import { SocketBuf } from "../core/socket_buf.ts";
import { SocketClosedError, SocketTimeoutError } from "../core/errors.ts";
import { SOCKET_LIMITS } from "../core/limits.ts";
import { sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import type { SocketAddress } from "../socket/sockaddr.ts";
import type { Socket } from "../socket/socket.ts";
import { ERROR, HANGUP, READABLE, WRITABLE } from "./backend.ts";
import type { IoWatcher } from "./io_watcher.ts";
import { type Loop, loopClosedError } from "./loop.ts";
import { WriteQueue } from "./write_queue.ts";
import type { Timer } from "../core/timer_heap.ts";
import { URING_BUFFER_BYTES, type LoopUring } from "./uring/loop_io.ts";
import { UringStream } from "./uring/stream.ts";

/** Which timeout expired. */
export type TimeoutKind = "idle" | "read" | "write";

/**
 * Callbacks of a connection; every one is optional.
 *
 * @example
 * ```ts
 * import type { ConnectionHandler } from "./connection.ts";
 * const echo: ConnectionHandler = { data: (conn, bytes) => conn.send(bytes) };
 * ```
 */
export interface ConnectionHandler {
  /** The connection is established. */
  open?(conn: Connection): void;
  /** Bytes arrived; the view (of a buffer shared by every connection, and reused) is valid only during the call: copy what you keep. */
  data?(conn: Connection, data: Uint8Array): void;
  /** The peer finished sending (FIN). Without it, the connection closes gracefully. */
  end?(conn: Connection): void;
  /** The write queue emptied after `send` returned false. */
  drain?(conn: Connection): void;
  /** The connection closed (`error` when it failed). Called once. */
  close?(conn: Connection, error: Error | undefined): void;
  /** A system call failed; `close` follows. */
  error?(conn: Connection, error: Error): void;
  /** A timeout expired; without this callback the connection is aborted. */
  timeout?(conn: Connection, kind: TimeoutKind): void;
}

/** Options of a connection. */
export interface ConnectionOptions {
  /** Buffered output above which `send` returns false (default `SOCKET_LIMITS.writeHighWaterMark`). */
  highWaterMark?: number;
  /** Most bytes buffered for `read()` before reading from the kernel pauses (default `SOCKET_LIMITS.readBufferBytes`). */
  readBufferBytes?: number;
  /** Close after this long with neither input nor output. */
  idleTimeoutMs?: number;
  /** Fail a pending `read()` after this long. */
  readTimeoutMs?: number;
  /** Fail when queued output makes no progress for this long. */
  writeTimeoutMs?: number;
}

/**
 * Every key of {@link ConnectionOptions}, made from an object that must
 * list exactly the interface's keys (`satisfies` refuses one missing or
 * extra), so the run-time check of `connect`/`listen` cannot drift from
 * the type. Add a key here when you add one to `ConnectionOptions`.
 *
 * @example
 * ```ts
 * import { CONNECTION_OPTION_KEYS } from "./connection.ts";
 * console.log(CONNECTION_OPTION_KEYS.includes("highWaterMark")); // true
 * ```
 */
export const CONNECTION_OPTION_KEYS: readonly (keyof ConnectionOptions)[] = Object.keys({
  highWaterMark: true,
  readBufferBytes: true,
  idleTimeoutMs: true,
  readTimeoutMs: true,
  writeTimeoutMs: true,
} satisfies Record<keyof ConnectionOptions, true>) as (keyof ConnectionOptions)[];

/** Options of {@link Connection.read} and {@link Connection.write}. */
export interface WaitOptions {
  /** Aborts the wait (the connection stays usable after an aborted read). */
  signal?: AbortSignal;
}

interface Reader {
  resolve(value: Uint8Array | null): void;
  reject(error: Error): void;
  cleanup: (() => void) | undefined;
}

/**
 * Shared by every connection: reads land here before `data` sees them.
 * 256 KiB, as one buffer per process costs nothing per connection: bulk
 * receives take a quarter of the recv calls of 64 KiB reads and ran 5–15%
 * faster on Deno and Bun (1 MiB was slower again).
 */
const scratch = new Uint8Array(256 * 1024);
/**
 * Views of the first n bytes of `scratch`, n ≤ VIEW_CACHE_MAX, made once:
 * a view per read costs 40–90 ns and garbage (2% of an echo server's
 * samples on Bun). `data` gets the same view object for the same length.
 */
const VIEW_CACHE_MAX = 2048;
const views: (Uint8Array | undefined)[] = [];
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
  /** Readiness mode: the fd's registration (undefined in io_uring mode). */
  #watcher: IoWatcher | undefined;
  /** io_uring mode: the operations on the loop's ring. */
  #stream: UringStream | undefined;
  #io: LoopUring | undefined;
  #owner: { onLoopClose(): void } | undefined;
  #handler: ConnectionHandler;
  #interest = READABLE;
  #readBuf: SocketBuf | undefined;
  readonly #readers: Reader[] = [];
  readonly #out = new WriteQueue();
  readonly #hwm: number;
  readonly #readMax: number;
  #paused = false;
  /** Hung up while not reading: unregistered until reading resumes (bytes may still wait in the kernel). */
  #stopped = false;
  #eof = false;
  #ended = false;
  #endPromise: Promise<void> | undefined;
  #closing = false;
  #closed = false;
  #wantDrain = false;
  #error: Error | undefined;
  readonly #closedPromise: Promise<Error | undefined>;
  #resolveClosed!: (error: Error | undefined) => void;
  readonly #idleMs: number;
  readonly #readMs: number;
  readonly #writeMs: number;
  #lastRead = 0;
  #lastWrite = 0;
  #timer: Timer | undefined;

  /** The stream host and loop-close owner of an io_uring connection: one object, no closures. */
  static readonly #StreamHost = class {
    readonly conn: Connection;
    constructor(conn: Connection) {
      this.conn = conn;
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
    onLoopClose(): void {
      this.conn.#destroy(loopClosedError(), false);
    }
  };

  /** @internal Use `listen` or `connect` (`io` given: I/O completes through the loop's io_uring). */
  constructor(loop: Loop, socket: Socket, handler: ConnectionHandler | undefined, options: ConnectionOptions = {}, io?: LoopUring) {
    this.loop = loop;
    this.#socket = socket;
    const fd = socket.fd;
    this.#fd = fd;
    this.#handler = handler ?? NO_HANDLER;
    this.#hwm = positive(options.highWaterMark ?? SOCKET_LIMITS.writeHighWaterMark, "highWaterMark");
    this.#readMax = positive(options.readBufferBytes ?? SOCKET_LIMITS.readBufferBytes, "readBufferBytes");
    this.#idleMs = timeout(options.idleTimeoutMs, "idleTimeoutMs");
    this.#readMs = timeout(options.readTimeoutMs, "readTimeoutMs");
    this.#writeMs = timeout(options.writeTimeoutMs, "writeTimeoutMs");
    this.#closedPromise = new Promise((resolve) => (this.#resolveClosed = resolve));
    if (io === undefined) {
      this.#watcher = loop.watch(fd, READABLE, this.#onEvents);
      this.#watcher.onLoopClose = () => this.#destroy(loopClosedError(), false);
    } else {
      if (io.closing) throw loopClosedError();
      this.#io = io;
      const host = new Connection.#StreamHost(this);
      this.#owner = host;
      this.#stream = new UringStream(io, fd, host);
      io.addOwner(this.#owner);
      this.#stream.ref();
      // Reading starts once `open` has run (it follows construction at
      // once): a receive armed now would reach the kernel before a
      // `detach()` there could cancel it, and take the socket's bytes.
      queueMicrotask(() => this.#setInterest());
    }
    if (this.#idleMs + this.#readMs + this.#writeMs > 0) {
      const now = performance.now();
      this.#lastRead = now;
      this.#lastWrite = now;
      this.#armTimer();
    }
  }

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

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the connection closes, with the error that closed it, if any. */
  get whenClosed(): Promise<Error | undefined> {
    return this.#closedPromise;
  }

  /** The local address. */
  get localAddress(): SocketAddress {
    return this.#socket.localAddress();
  }

  /** The peer address. */
  get remoteAddress(): SocketAddress {
    return this.#socket.remoteAddress();
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
   * go to it, also when called from inside `data`.
   */
  setHandler(handler: ConnectionHandler): void {
    this.#handler = handler;
    this.#setInterest();
  }

  /** Keeps the process alive while open (the default). */
  ref(): this {
    if (this.#stream !== undefined) this.#stream.ref();
    else this.#watcher?.ref();
    return this;
  }

  /** Lets the process exit while this connection is open. */
  unref(): this {
    if (this.#stream !== undefined) this.#stream.unref();
    else this.#watcher?.unref();
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
  }

  /**
   * Sends what the kernel takes now and queues the rest (copied). Returns
   * false when the queue is at or above the high-water mark: wait for the
   * `drain` callback before sending more.
   */
  send(data: Uint8Array): boolean {
    if (this.#closed || this.#closing || this.#ended) return false;
    const stream = this.#stream;
    if (stream !== undefined) {
      this.#queue(stream, data, undefined);
      const below = this.#out.bytes < this.#hwm;
      if (!below) this.#wantDrain = true;
      return below;
    }
    let offset = 0;
    if (this.#out.empty) {
      offset = this.#sendNow(data);
      if (offset < 0) return false;
      if (offset === data.length) return true;
    }
    this.#startWriteClock();
    this.#out.push(data.slice(offset), undefined);
    this.#setInterest();
    const below = this.#out.bytes < this.#hwm;
    if (!below) this.#wantDrain = true;
    return below;
  }

  /** Writes all of `data`; resolves once the kernel took the last byte. */
  write(data: Uint8Array, options: WaitOptions = {}): Promise<void> {
    if (this.#closed || this.#closing || this.#ended) {
      return Promise.reject(this.#error ?? new SocketClosedError("EPIPE", "the connection is closed for writing"));
    }
    if (options.signal?.aborted) return Promise.reject(abortReason(options.signal));
    const stream = this.#stream;
    let offset = 0;
    if (this.#out.empty && stream === undefined) {
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
      if (stream !== undefined) this.#queue(stream, data, settle);
      else {
        this.#startWriteClock();
        this.#out.push(data.slice(offset), settle);
        this.#setInterest();
      }
    });
  }

  /** Reads the next chunk; null at end of stream. */
  read(options: WaitOptions = {}): Promise<Uint8Array | null> {
    const buf = this.#readBuf;
    if (buf !== undefined && buf.length > 0) {
      const out = new Uint8Array(buf.length);
      buf.read(out);
      if (this.#paused === false) this.#setInterest();
      // Both sides ended while these bytes waited: the connection is done now.
      if (this.#eof && this.#ended) void this.close();
      return Promise.resolve(out);
    }
    if (this.#eof) return Promise.resolve(null);
    if (this.#closed) return this.#error ? Promise.reject(this.#error) : Promise.resolve(null);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const reader: Reader = { resolve, reject, cleanup: undefined };
      if (signal) {
        const onAbort = () => {
          const i = this.#readers.indexOf(reader);
          if (i >= 0) this.#readers.splice(i, 1);
          reject(abortReason(signal));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        reader.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      if (this.#readers.length === 0) this.#lastRead = performance.now();
      this.#readers.push(reader);
      this.#setInterest();
    });
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
          this.#socket.shutdown("write");
        } catch {
          // the peer is gone already; reading reports it
        }
      }
      resolve();
    });
    try {
      if (this.#stream !== undefined) this.#stream.flush(this.#out);
      else this.#flush();
    } catch (err) {
      // A drain or error callback run by the flush threw: a rejection, as
      // for every other failure of end().
      return Promise.reject(err);
    }
    return ended;
  }

  /** Graceful close: flushes queued output, sends FIN, closes. */
  close(): Promise<void> {
    if (this.#closed || this.#closing) return this.#closedPromise.then(() => {});
    this.#closing = true;
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
    this.#destroy(error, false);
  }

  /**
   * Takes the socket out of the connection without closing it (to hand it
   * to another loop or Worker: `conn.detach().release()` gives the fd).
   * The connection is closed afterwards: queued output fails, pending reads
   * end, and input it had buffered but not delivered is dropped — detach a
   * quiet connection (typically in `open`). The `close` callback is not
   * called.
   */
  detach(): Socket {
    if (this.#closed) throw new SocketClosedError("EBADF", "the connection is closed");
    this.#closed = true;
    this.#timer?.cancel();
    if (this.#stream !== undefined) {
      this.#io!.deleteOwner(this.#owner!);
      this.#stream.close(true);
      this.#socket.options.nonBlocking = true;
    } else this.#watcher!.close();
    this.#readBuf?.close();
    this.#out.fail(new SocketClosedError("EPIPE", "the connection was detached"));
    for (const r of this.#readers.splice(0)) {
      r.cleanup?.();
      r.resolve(null);
    }
    this.#resolveClosed(undefined);
    return this.#socket;
  }

  /** Same as {@link Connection.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #onEvents = (events: number): void => {
    if (events & ERROR) {
      let error: Error | null;
      try {
        error = this.#socket.getError();
      } catch (err) {
        error = err as Error;
      }
      if (error !== null) {
        this.#fail(error);
        return;
      }
    }
    if (events & (READABLE | HANGUP)) {
      if (this.#interest & READABLE) this.#onReadable();
      // Hung up while not reading: after our end of stream it is a clean
      // close. Otherwise (paused, or the read buffer full) bytes may still
      // wait in the kernel: stop watching (a hang-up is reported whatever
      // the interest) and read them once reading resumes.
      else if (events & HANGUP) {
        // (Bytes read before the FIN may still wait in the read buffer: then
        // read() closes once it has handed them out.)
        if (this.#eof && !this.#hasBufferedInput) this.#destroy(undefined, false);
        else {
          // Queued output would wait for WRITABLE while unregistered:
          // send it now (after a hang-up that fails, and settles it).
          if (!this.#out.empty) {
            this.#flush();
            if (this.#closed) return;
          }
          this.#stopped = true;
          this.#watcher!.stop();
        }
        return;
      }
    }
    if (!this.#closed && events & WRITABLE) this.#flush();
  };

  #onReadable(): void {
    const fd = this.#fd;
    const c = libc();
    for (let round = 0; round < 4; round++) {
      // Each round reads the handler anew: `data` may have replaced it.
      const handler = this.#handler;
      let n: number;
      if (handler.data !== undefined) {
        n = c.recv(fd, scratch, scratch.length, 0);
        if (n > 0) {
          if (this.#readMs + this.#idleMs > 0) this.#lastRead = performance.now();
          handler.data(this, n <= VIEW_CACHE_MAX ? (views[n] ??= scratch.subarray(0, n)) : scratch.subarray(0, n));
          if (this.#closed || this.#paused) return;
          if (n < scratch.length) return;
          continue;
        }
      } else if (this.#readers.length > 0 && !this.#hasBufferedInput) {
        n = c.recv(fd, scratch, scratch.length, 0);
        if (n > 0) {
          this.#lastRead = performance.now();
          const reader = this.#readers.shift()!;
          reader.cleanup?.();
          reader.resolve(scratch.slice(0, n));
          if (this.#readers.length === 0) this.#setInterest();
          return;
        }
      } else {
        const buf = (this.#readBuf ??= new SocketBuf({ capacity: 0, maxCapacity: this.#readMax }));
        if (buf.remainingCapacity === 0) {
          this.#setInterest();
          return;
        }
        const span = buf.writableSpans(Math.min(buf.remainingCapacity, 16384))[0]!;
        n = c.recv(fd, span, span.length, 0);
        if (n > 0) {
          buf.commitWrite(n);
          this.#setInterest();
          return;
        }
      }
      if (n === 0) {
        this.#onEof();
        return;
      }
      const errno = native.errno();
      if (errno === E.EAGAIN) return;
      if (errno === E.EINTR) continue;
      this.#fail(sysError(errno, "recv"));
      return;
    }
  }

  /** io_uring mode: queues `data` (copied unless it goes to the kernel now) and starts sending. */
  #queue(stream: UringStream, data: Uint8Array, done: ((error?: Error) => void) | undefined): void {
    // Bytes copied into a send buffer at once are never read back from the
    // queue (which counts them until sent), so they need no copy of their own.
    const now = !stream.sending && this.#out.empty && data.length <= URING_BUFFER_BYTES;
    this.#startWriteClock();
    this.#out.push(now ? data : data.slice(), done);
    stream.flush(this.#out);
  }

  /** Bytes are about to be queued: with none queued before, the write timeout counts from now. */
  #startWriteClock(): void {
    if (this.#writeMs > 0 && this.#out.bytes === 0) this.#lastWrite = performance.now();
  }

  /** io_uring mode: most bytes the next recv may bring. */
  #recvLimit(): number {
    if (this.#handler.data !== undefined) return URING_BUFFER_BYTES;
    const buf = this.#readBuf;
    return Math.min(URING_BUFFER_BYTES, buf === undefined ? this.#readMax : buf.remainingCapacity);
  }

  /** io_uring mode: bytes arrived (the view is valid during this call). */
  #received(bytes: Uint8Array): void {
    const handler = this.#handler;
    if (handler.data !== undefined) {
      if (this.#readMs + this.#idleMs > 0) this.#lastRead = performance.now();
      handler.data(this, bytes);
      return;
    }
    this.#lastRead = performance.now();
    const buf = this.#readBuf;
    if (this.#readers.length > 0 && (buf === undefined || buf.length === 0)) {
      const reader = this.#readers.shift()!;
      reader.cleanup?.();
      reader.resolve(bytes.slice());
      return;
    }
    (this.#readBuf ??= new SocketBuf({ capacity: 0, maxCapacity: this.#readMax })).write(bytes);
    this.#setInterest();
  }

  /** io_uring mode: the kernel took `n` bytes of the queue. */
  #sent(n: number): void {
    if (n > 0 && this.#writeMs + this.#idleMs > 0) this.#lastWrite = performance.now();
    const out = this.#out;
    out.consume(n);
    if (this.#closed) return;
    this.#stream!.flush(out);
    if (this.#closed) return;
    if (this.#wantDrain && out.bytes < this.#hwm) {
      this.#wantDrain = false;
      this.#handler.drain?.(this);
    }
  }

  #onEof(): void {
    this.#eof = true;
    this.#setInterest();
    for (const r of this.#readers.splice(0)) {
      r.cleanup?.();
      r.resolve(null);
    }
    const handler = this.#handler;
    if (handler.end !== undefined) handler.end(this);
    else if (handler.data !== undefined) void this.close();
    else if (this.#ended && !this.#hasBufferedInput) void this.close();
    // else: read() closes once the bytes still buffered were taken.
  }

  /** Whether received bytes wait in the read buffer for `read()`. */
  get #hasBufferedInput(): boolean {
    return this.#readBuf !== undefined && this.#readBuf.length > 0;
  }

  /** Sends now; returns bytes taken, or -1 after a failure (connection destroyed). */
  #sendNow(data: Uint8Array): number {
    let offset = 0;
    const c = libc();
    while (offset < data.length) {
      const chunk = offset === 0 ? data : data.subarray(offset);
      const n = c.send(this.#fd, chunk, chunk.length, C.MSG_NOSIGNAL);
      if (n >= 0) {
        offset += n;
        continue;
      }
      const errno = native.errno();
      if (errno === E.EAGAIN) break;
      if (errno === E.EINTR) continue;
      this.#fail(sysError(errno, "send"));
      return -1;
    }
    if (offset > 0 && this.#writeMs + this.#idleMs > 0) this.#lastWrite = performance.now();
    return offset;
  }

  #flush(): void {
    const out = this.#out;
    for (let head = out.head(); head !== undefined; head = out.head()) {
      if (head.length === 0) {
        out.consume(0);
        if (this.#closed) return;
        continue;
      }
      const n = this.#sendNow(head);
      if (n < 0) return;
      out.consume(n);
      if (n < head.length) break;
    }
    if (this.#closed) return;
    this.#setInterest();
    if (this.#wantDrain && out.bytes < this.#hwm) {
      this.#wantDrain = false;
      this.#handler.drain?.(this);
    }
  }

  #setInterest(): void {
    if (this.#closed) return;
    let events = 0;
    const full = this.#readBuf !== undefined && this.#readBuf.remainingCapacity === 0;
    const promiseMode = this.#handler.data === undefined;
    const stream = this.#stream;
    if (stream !== undefined) {
      stream.setReading(!this.#paused && !this.#eof && !(promiseMode && full));
      if (!this.#out.empty) stream.flush(this.#out);
      return;
    }
    const watcher = this.#watcher!;
    if (!this.#paused && !this.#eof && !(promiseMode && full)) events |= READABLE;
    if (!this.#out.empty) events |= WRITABLE;
    if (this.#stopped) {
      this.#interest = events;
      if (events & READABLE) {
        this.#stopped = false;
        watcher.start(events);
      }
      return;
    }
    if (events !== this.#interest) {
      this.#interest = events;
      watcher.update(events);
    }
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
      this.#destroy(error, true);
    }
  }

  /** Closes the fd at once; pending reads and writes fail with `error` (or end). */
  #destroy(error: Error | undefined, reset: boolean): void {
    if (this.#closed) return;
    error ??= this.#error; // abort() from inside the `error` callback
    if (reset && error !== undefined) this.#setLingerZero();
    this.#closed = true;
    this.#error = error;
    this.#timer?.cancel();
    if (this.#stream !== undefined) {
      this.#io!.deleteOwner(this.#owner!);
      this.#socket.release();
      this.#stream.close();
    } else {
      this.#watcher!.close();
      this.#socket.close();
    }
    this.#readBuf?.close();
    const closedError = error ?? new SocketClosedError("EPIPE", "the connection is closed");
    this.#out.fail(closedError);
    for (const r of this.#readers.splice(0)) {
      r.cleanup?.();
      if (error) r.reject(error);
      else r.resolve(null);
    }
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
    if (this.#readMs > 0 && this.#readers.length > 0 && now - this.#lastRead >= this.#readMs) kind = "read";
    else if (this.#writeMs > 0 && this.#out.bytes > 0 && now - this.#lastWrite >= this.#writeMs) kind = "write";
    else if (this.#idleMs > 0 && now - Math.max(this.#lastRead, this.#lastWrite) >= this.#idleMs) kind = "idle";
    if (kind !== undefined) {
      if (this.#handler.timeout !== undefined) {
        this.#lastRead = this.#lastWrite = now;
        this.#handler.timeout(this, kind);
      } else {
        const error = new SocketTimeoutError(`${kind} timeout`);
        if (kind === "read") {
          const reader = this.#readers.shift();
          reader?.cleanup?.();
          reader?.reject(error);
          this.#lastRead = now;
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
