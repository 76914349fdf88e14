/**
 * TLS in memory-BIO mode: a {@link Transport} over any inner transport
 * (the io_uring transport, a proxy tunnel, TLS inside TLS, any duplex
 * connection). OpenSSL never touches a descriptor: ciphertext the inner
 * transport received goes into the `SSL`'s read BIO in one `BIO_write`
 * per delivery, and what the `SSL` produced is drained from its write BIO
 * after every call (handshake step, read, write, close_notify) and handed
 * to the inner transport. The ciphertext waits in a queue of this
 * transport's own: an `end()` or `close()` of the connection ends or
 * closes the inner transport only once everything before it (close_notify
 * included) went out. The plaintext side follows the inner one: no more
 * is encrypted while {@link CIPHER_HIGH_WATER} bytes of ciphertext wait.
 * A `write()` resolves once its bytes were encrypted and handed to the
 * inner transport's queue (not when the kernel took the ciphertext).
 *
 * @example
 * ```ts ignore
 * import { Connection } from "../poll/connection.ts";
 * import { uringTransport } from "../poll/uring/transport.ts";
 * const engine = new TLSEngine(context, { host: "localhost" });
 * const factory = tlsBioTransport(uringTransport(io, socket), engine, (error) => {});
 * const conn = new Connection(loop, socket, undefined, {}, factory);
 * ```
 *
 * @module
 */
import { SocketClosedError } from "../core/errors.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import type { Pointer } from "../ffi/types.ts";
import { queueTransportStep, type Transport, type TransportFactory, type TransportSink } from "../poll/transport.ts";
import { flushQueue, WriteQueue } from "../poll/write_queue.ts";
import { STEP_DONE, STEP_READ, type TLSEngine, WANT_READ, WANT_WRITE } from "./engine.ts";
import { tlsError } from "./errors.ts";
import type { HandshakeDone } from "./connection.ts";

/** Ciphertext waiting for the inner transport above which no more plaintext is encrypted. */
export const CIPHER_HIGH_WATER = 256 * 1024;
/** Plaintext encrypted per `SSL_write` call. */
const WRITE_CHUNK = 64 * 1024;
/** Buffer size for inner reads and write-BIO drains. */
const SCRATCH_BYTES = 64 * 1024;
/** Most further `SSL_read` calls into one target before it is handed over (as tls/connection.ts). */
const COALESCE_READS = 64;

/** `BIO_ctrl` commands (bio.h). */
const BIO_CTRL = {
  /** BIO_set_mem_eof_return (larg: what a read of an empty memory BIO returns; 0 = EOF) */
  BIO_C_SET_BUF_MEM_EOF_RETURN: 130,
} as const;

const EMPTY = new Uint8Array(0);

/**
 * A factory of memory-BIO TLS transports over the transport `inner` makes.
 *
 * @example
 * ```ts ignore
 * const factory = tlsBioTransport(inner, engine, (error) => {});
 * ```
 */
export function tlsBioTransport(inner: TransportFactory, engine: TLSEngine, onHandshake: HandshakeDone): TransportFactory {
  return (sink, queue) => new TLSBioTransport(inner, engine, sink, queue, onHandshake);
}

/**
 * Memory-BIO TLS I/O for one connection (see the module text): a
 * transport to its connection and the sink of its inner transport.
 *
 * @example
 * ```ts ignore
 * const t = new TLSBioTransport(inner, engine, sink, queue, onHandshake);
 * t.close(false); // close_notify, then the inner transport closes once it sent it
 * ```
 */
export class TLSBioTransport implements Transport, TransportSink {
  readonly #engine: TLSEngine;
  readonly #sink: TransportSink;
  readonly #queue: WriteQueue;
  readonly #cipherOut = new WriteQueue();
  readonly #inner: Transport;
  readonly #rbio: Pointer;
  readonly #wbio: Pointer;
  readonly #in = new Uint8Array(SCRATCH_BYTES);
  readonly #out = new Uint8Array(SCRATCH_BYTES);
  #onHandshake: HandshakeDone | undefined;
  #open = false;
  #reading = true;
  /** Input waits in the read BIO (or the SSL) that the connection did not take yet. */
  #inputWaiting = false;
  #ended = false;
  #closed = false;
  /** The engine (the SSL, with both BIOs) was freed: BIO_read/BIO_write would touch freed memory. */
  #freed = false;
  #innerClosed = false;
  #drainScheduled = false;
  /** Inside trySend: plaintext is being encrypted and handed down. */
  #encrypting = false;
  /**
   * A failure of the transport underneath that came while the reader was
   * paused: handed over once it reads again, after the input before it
   * (as the end is: it waits in the read BIO).
   */
  #heldFailure: Error | undefined;
  /**
   * The end (true) or a failure read behind records the reader then
   * paused at: handed over once it reads again (#readLoop).
   */
  #heldEnd: Error | true | undefined;

  constructor(inner: TransportFactory, engine: TLSEngine, sink: TransportSink, queue: WriteQueue, onHandshake: HandshakeDone) {
    this.#engine = engine;
    this.#sink = sink;
    this.#queue = queue;
    this.#onHandshake = onHandshake;
    const crypto = libcrypto();
    const rbio = crypto.BIO_new(crypto.BIO_s_mem());
    const wbio = rbio === null ? null : crypto.BIO_new(crypto.BIO_s_mem());
    if (rbio === null || wbio === null) {
      if (rbio !== null) crypto.BIO_free(rbio);
      throw tlsError("ERR_TLS", "BIO_new");
    }
    // The SSL owns both BIOs from here on (SSL_free frees them).
    libssl().SSL_set_bio(engine.ssl, rbio, wbio);
    this.#rbio = rbio;
    this.#wbio = wbio;
    this.#inner = inner(this, this.#cipherOut);
    this.#inner.update(true); // the handshake reads whatever the connection wants
    // A client speaks first (after the connection finished constructing).
    // Microtasks here run outside the loop's tick: a handler's throw goes
    // to the loop's onError (queueTransportStep), as one in a tick does.
    if (engine.role === "client") queueTransportStep(sink, () => this.#handshake());
  }

  // ---- The connection's transport ----

  /** Whether `close()` ran (what {@link flushQueue} checks after a settle callback). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether `detach()` may hand out the descriptor: the inner transport's answer (false over another connection). */
  get detachable(): boolean {
    return this.#inner.detachable ?? true;
  }

  trySend(data: Uint8Array): number {
    if (!this.#open || this.#closed) return 0;
    const outer = this.#encrypting;
    this.#encrypting = true;
    try {
      return this.#encrypt(data);
    } finally {
      this.#encrypting = outer;
    }
  }

  #encrypt(data: Uint8Array): number {
    const engine = this.#engine;
    let offset = 0;
    while (offset < data.length && this.#cipherOut.bytes < CIPHER_HIGH_WATER) {
      const end = Math.min(data.length, offset + WRITE_CHUNK);
      const n = engine.write(offset === 0 && end === data.length ? data : data.subarray(offset, end));
      if (n > 0) {
        offset += n;
        if (!this.#drainOut()) return -1;
        continue;
      }
      if (n === WANT_READ || n === WANT_WRITE) break;
      this.#drainOut(); // an alert, if any
      this.#sink.failed(engine.takeError());
      return -1;
    }
    return offset;
  }

  queue(data: Uint8Array, offset: number, done: ((error?: Error) => void) | undefined): void {
    this.#queue.push(data.slice(offset), done);
    this.flush();
  }

  flush(): void {
    if (!this.#open || this.#closed) return;
    const sent = flushQueue(this.#queue, this);
    if (sent < 0 || this.#closed) return;
    this.#sink.sent(sent);
  }

  update(reading: boolean): void {
    if (this.#closed) return;
    this.#reading = reading;
    this.#inner.update(this.#innerReading());
    if (reading && this.#open && this.#inputWaiting) this.#scheduleDrain();
    // After the drain just scheduled (microtasks run in order), unless the reader paused again in it.
    if (reading && this.#heldFailure !== undefined) queueTransportStep(this.#sink, () => this.#deliverHeldFailure());
  }

  #deliverHeldFailure(): void {
    const error = this.#heldFailure;
    if (error === undefined || this.#closed || !this.#reading || this.#inputWaiting) return;
    this.#heldFailure = undefined;
    this.#sink.failed(error);
  }

  shutdown(): void {
    // After close() the engine is freed (its guards make this a no-op) and
    // the inner transport is gone: nothing to send.
    if (this.#closed) return;
    this.#engine.shutdown();
    this.#drainOut();
    // The inner end goes after the close_notify (and all before it).
    const inner = this.#inner;
    inner.queue(EMPTY, 0, (error) => {
      if (error === undefined && !this.#innerClosed) {
        try {
          inner.shutdown();
        } catch {
          // the peer is gone; the inner transport reports it
        }
      }
    });
  }

  ref(): void {
    this.#inner.ref();
  }

  unref(): void {
    this.#inner.unref();
  }

  close(keepFd: boolean, reset = false): void {
    if (this.#closed) return;
    this.#closed = true;
    // A reset sends no close_notify and waits for nothing queued (a peer that does not read kept the connection underneath open for good).
    if (!keepFd && !reset) {
      this.#engine.shutdown();
      this.#drainOut();
    }
    this.#engine.free();
    this.#freed = true;
    const onHandshake = this.#onHandshake;
    this.#onHandshake = undefined;
    // Whatever ciphertext waits (close_notify, an alert) goes first.
    if (keepFd || reset || this.#cipherOut.empty) this.#closeInner(keepFd, reset);
    else this.#inner.queue(EMPTY, 0, () => this.#closeInner(false));
    onHandshake?.(new SocketClosedError("EPIPE", "the connection closed during the TLS handshake"));
  }

  // ---- The inner transport's sink ----

  recvTarget(): Uint8Array {
    return this.#closed || !this.#innerReading() ? EMPTY : this.#in;
  }

  receivedInto(target: Uint8Array, n: number): boolean {
    this.#input(target.subarray(0, n));
    return !this.#closed && n === target.length && this.#innerReading();
  }

  recvLimit(): number {
    return this.#closed || !this.#innerReading() ? 0 : SCRATCH_BYTES;
  }

  received(bytes: Uint8Array): void {
    this.#input(bytes);
  }

  receivedEnd(): void {
    if (this.#closed || this.#ended) return;
    // Reads of the empty read BIO now say EOF instead of "retry".
    libcrypto().BIO_ctrl(this.#rbio, BIO_CTRL.BIO_C_SET_BUF_MEM_EOF_RETURN, 0, null);
    if (!this.#open) this.#handshake();
    else this.#readLoop();
  }

  sent(_n: number): void {
    // Room for more ciphertext: encrypt what the connection queued. Not
    // from inside trySend (the inner transport reports as it takes the
    // ciphertext handed to it): that flush encrypted the queue's head again
    // while trySend, not done with it, had not consumed it yet (bytes sent
    // twice, over io_uring and over readiness alike).
    if (this.#closed || this.#encrypting) return;
    if (!this.#queue.empty) this.flush();
  }

  failed(error: Error): void {
    this.#engine.markBroken();
    if (this.#closed) {
      this.#closeInner(false);
      return;
    }
    if (this.#handshakeFailed(error)) return;
    // A paused reader sees it once it reads again (after what came before it).
    if (!this.#reading) {
      this.#heldFailure ??= error;
      return;
    }
    this.#sink.failed(error);
  }

  hungUp(): boolean {
    if (this.#closed) return true;
    return this.#sink.hungUp();
  }

  loopClosed(): void {
    if (this.#closed) this.#closeInner(false);
    else this.#sink.loopClosed();
  }

  refresh(): void {
    if (!this.#closed) this.#sink.refresh();
  }

  reportError(error: unknown): void {
    this.#sink.reportError(error);
  }

  // ---- Internals ----

  /** What the inner transport reads for: the handshake, the connection, or a write waiting on input. */
  #innerReading(): boolean {
    return !this.#open || (this.#reading && !this.#inputWaiting);
  }

  #closeInner(keepFd: boolean, reset = false): void {
    if (this.#innerClosed) return;
    this.#innerClosed = true;
    this.#inner.close(keepFd, reset);
  }

  /** Reports a failure to the handshake's waiter; false when the handshake was over. */
  #handshakeFailed(error: Error): boolean {
    const onHandshake = this.#onHandshake;
    if (onHandshake === undefined || this.#open) return false;
    this.#onHandshake = undefined;
    onHandshake(error);
    return true;
  }

  /** Ciphertext in: one BIO write, then as much SSL work as it allows. */
  #input(bytes: Uint8Array): void {
    if (this.#closed || bytes.length === 0) return;
    const n = libcrypto().BIO_write(this.#rbio, bytes, bytes.length);
    if (n !== bytes.length) {
      this.#engine.markBroken();
      const error = tlsError("ERR_TLS", "BIO_write");
      this.#handshakeFailed(error) || this.#sink.failed(error);
      return;
    }
    if (!this.#open) this.#handshake();
    else this.#readLoop();
  }

  #handshake(): void {
    if (this.#closed || this.#open) return;
    const step = this.#engine.handshakeStep();
    if (!this.#drainOut()) return;
    if (step === STEP_DONE) {
      this.#open = true;
      const onHandshake = this.#onHandshake;
      this.#onHandshake = undefined;
      onHandshake?.();
      if (this.#closed) return;
      this.#inner.update(this.#innerReading());
      if (!this.#queue.empty) this.flush();
      // Application data may have come with the last handshake flight.
      if (!this.#closed && this.#reading) this.#readLoop();
      return;
    }
    if (step instanceof Error) {
      this.#handshakeFailed(step) || this.#sink.failed(step);
      return;
    }
    // STEP_READ: wait for input. STEP_WRITE cannot stay with memory BIOs.
    if (step !== STEP_READ) queueTransportStep(this.#sink, () => this.#handshake());
  }

  #readLoop(): void {
    const sink = this.#sink;
    const engine = this.#engine;
    this.#inputWaiting = false;
    for (;;) {
      if (this.#closed) return;
      const target = this.#reading ? sink.recvTarget() : EMPTY;
      if (target.length === 0) {
        this.#waitForReader();
        return;
      }
      // The end or a failure that came behind bytes the reader then paused at.
      const held = this.#heldEnd;
      if (held !== undefined) {
        this.#heldEnd = undefined;
        this.#finish(held);
        return;
      }
      let n = engine.read(target);
      // What ended a run of records (the end, a failure), taken at once:
      // the error queue is this thread's, and the delivery runs user code.
      let end: Error | true | undefined;
      if (n > 0) {
        // Further records into the rest of the target before it is handed
        // over: one delivery per read of the input rather than one per TLS
        // record (as fd mode, tls/connection.ts).
        let filled = n;
        for (let more = 0; filled < target.length && more < COALESCE_READS; more++) {
          n = engine.read(target.subarray(filled));
          if (n <= 0) break;
          filled += n;
        }
        if (n === 0) end = true;
        else if (n < 0 && n !== WANT_READ && n !== WANT_WRITE) end = engine.takeError();
        engine.pollSession();
        const again = sink.receivedInto(target, filled);
        if (this.#closed) return;
        if (n > 0) {
          if (!again && !this.#reading) {
            this.#waitForReader();
            return;
          }
          continue;
        }
      } else {
        if (n === 0) end = true;
        else if (n !== WANT_READ && n !== WANT_WRITE) end = engine.takeError();
        engine.pollSession();
      }
      if (!this.#drainOut()) return; // (a key update, an alert)
      if (end === undefined) return; // WANT_READ (WANT_WRITE cannot stay with memory BIOs)
      // After bytes the reader paused at: it learns the end or the failure
      // once it reads again, as a plain connection's reader does.
      if (!this.#reading) {
        this.#heldEnd = end;
        this.#waitForReader();
        return;
      }
      this.#finish(end);
      return;
    }
  }

  /** Reports what ended the input: the end (once), or a failure. */
  #finish(end: Error | true): void {
    if (end !== true) {
      this.#sink.failed(end);
      return;
    }
    if (this.#ended) return;
    this.#ended = true;
    this.#sink.receivedEnd();
  }

  /** The connection takes no more now: input stays in the BIO until it reads again. */
  #waitForReader(): void {
    this.#inputWaiting = true;
    this.#inner.update(this.#innerReading());
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(this.#drainSoon);
  }

  /**
   * The microtask of {@link #scheduleDrain}: it runs outside the loop's
   * tick, so a handler's throw goes to the loop's `onError`; input still
   * waiting in the read BIO (which raises no event) comes on a microtask
   * after it, as the next tick would bring more.
   */
  readonly #drainSoon = (): void => {
    this.#drainScheduled = false;
    if (this.#closed || !this.#reading) return;
    try {
      this.#readLoop();
    } catch (err) {
      this.#sink.reportError(err);
      if (!this.#closed && this.#reading) this.#scheduleDrain();
      return;
    }
    if (!this.#closed && !this.#inputWaiting) this.#inner.update(this.#innerReading());
  };

  /** Hands what the SSL wrote to the inner transport; false after a failure (reported). */
  #drainOut(): boolean {
    const crypto = libcrypto();
    const buf = this.#out;
    const inner = this.#inner;
    for (;;) {
      // Handing bytes to the inner transport can run callbacks that close
      // this one (its queue's settle markers, a failure): the BIOs are then
      // freed with the SSL. (A segfault with io_uring underneath, whose
      // transport takes nothing at once and settles markers as it queues.)
      if (this.#freed) return false;
      const n = crypto.BIO_read(this.#wbio, buf, buf.length);
      if (n <= 0) return true;
      if (this.#innerClosed) continue;
      let offset = 0;
      if (this.#cipherOut.empty) {
        offset = inner.trySend(n === buf.length ? buf : buf.subarray(0, n));
        if (offset < 0) return false;
      }
      if (offset < n) inner.queue(buf.subarray(0, n), offset, undefined);
    }
  }
}
