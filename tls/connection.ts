/**
 * TLS in fd mode on the readiness loop: a {@link Transport} with the plain
 * readiness transport's shape (poll/transport_readiness.ts) whose bytes go
 * through `SSL_read`/`SSL_write` on the connection's own descriptor
 * (`SSL_set_fd`). OpenSSL's WANT_READ/WANT_WRITE become the watch
 * interest — a write that needs the peer's bytes waits for readability,
 * a read that must send waits for writability. The handshake runs first,
 * on the same watch; the connection sees no bytes until it completed and
 * `onHandshake` ran. Closing sends close_notify; the peer's close_notify
 * is the end of stream; an EOF without it is a TLSError
 * `ERR_TLS_TRUNCATED` (unless `allowTruncation`).
 *
 * With an engine that buffers writes (`bufferWrites`, the default of
 * `connectTLS`/`listenTLS` without kTLS) records leave through
 * tls/fd_output.ts: a write is encrypted in batches of
 * {@link WRITE_BATCH} bytes, each batch sent with one `send()`. Plaintext
 * whose records the socket did not take yet is not reported as sent: it
 * stays at the head of the connection's queue (counted in
 * `bufferedAmount`, keeping a graceful close waiting, so close_notify still
 * goes last), and is not encrypted again when it is offered once more.
 *
 * @example
 * ```ts ignore
 * import { Connection } from "../poll/connection.ts";
 * const engine = new TLSEngine(context, { fd: socket.fd, host: "localhost" });
 * const conn = new Connection(loop, socket, undefined, {}, tlsFdTransport(loop, socket, engine, (err) => console.log("handshake", err)));
 * ```
 *
 * @module
 */
import { SocketClosedError } from "../core/errors.ts";
import { ERROR, errorWaitsForInput, HANGUP, READABLE, WRITABLE } from "../poll/backend.ts";
import type { IoWatcher } from "../poll/io_watcher.ts";
import type { Loop } from "../poll/loop.ts";
import { queueTransportStep, type Transport, type TransportFactory, type TransportSink } from "../poll/transport.ts";
import { flushQueue, type WriteQueue } from "../poll/write_queue.ts";
import type { Socket } from "../socket/socket.ts";
import { STEP_DONE, STEP_READ, type TLSEngine, WANT_READ, WANT_WRITE } from "./engine.ts";
import { CipherOutput, WRITE_BATCH } from "./fd_output.ts";

/** Called once: with no error when the handshake completed, else with its typed error. */
export type HandshakeDone = (error?: Error) => void;

/**
 * A factory of fd-mode TLS transports over `socket` (non-blocking), whose
 * `SSL` is `engine`'s (made with `fd: socket.fd`).
 *
 * @example
 * ```ts ignore
 * const factory = tlsFdTransport(loop, socket, engine, (error) => {});
 * ```
 */
export function tlsFdTransport(loop: Loop, socket: Socket, engine: TLSEngine, onHandshake: HandshakeDone): TransportFactory {
  return (sink, queue) => new TLSFdTransport(loop, socket, engine, sink, queue, onHandshake);
}

/** Most deliveries of read bytes per readiness event before giving the loop back. */
const READ_ROUNDS = 16;
/** Most further `SSL_read` calls into one target before it is handed over (see #readRounds). */
const COALESCE_READS = 64;

/**
 * fd-mode TLS I/O for one connection (see the module text).
 *
 * @example
 * ```ts ignore
 * const t = new TLSFdTransport(loop, socket, engine, sink, queue, onHandshake);
 * t.close(false); // close_notify, SSL_free, close(2)
 * ```
 */
export class TLSFdTransport implements Transport {
  readonly #socket: Socket;
  readonly #engine: TLSEngine;
  readonly #sink: TransportSink;
  readonly #queue: WriteQueue;
  readonly #watcher: IoWatcher;
  #onHandshake: HandshakeDone | undefined;
  #open = false;
  #interest: number;
  /** While handshaking: what the last step waits for. */
  #handshakeWants: number;
  #reading = true;
  /** The last SSL_write wants the peer's bytes first. */
  #writeWantsRead = false;
  /** The last SSL_read must send first. */
  #readWantsWrite = false;
  #stopped = false;
  #closed = false;
  #drainScheduled = false;
  /** Buffered writes: the records on their way to the socket (null: OpenSSL's socket BIO sends them). */
  readonly #out: CipherOutput | null;
  /** Plaintext at the head of the queue already encrypted, whose records wait in {@link #out}. */
  #heldPlain = 0;
  /** `shutdown()` ran while records waited: FIN once they went. */
  #finAfterOutput = false;
  /**
   * What ended a run of records (the end: true; a failure: its error)
   * read together with bytes at which the reader paused: handed over once
   * it reads again ({@link TLSFdTransport.update}), not before.
   */
  #heldEnd: Error | true | undefined;

  constructor(loop: Loop, socket: Socket, engine: TLSEngine, sink: TransportSink, queue: WriteQueue, onHandshake: HandshakeDone) {
    this.#socket = socket;
    this.#engine = engine;
    this.#sink = sink;
    this.#queue = queue;
    this.#onHandshake = onHandshake;
    this.#out = engine.buffersWrites ? new CipherOutput(engine, socket.fd) : null;
    // A client speaks first: its first step runs once the socket is writable.
    this.#handshakeWants = engine.role === "client" ? WRITABLE : READABLE;
    this.#interest = this.#handshakeWants;
    this.#watcher = loop.watch(socket.fd, this.#interest, this.#onEvents);
    this.#watcher.onLoopClose = () => sink.loopClosed();
    // The first step need not wait a loop turn: a connected client can
    // write its ClientHello now, and an accepted connection's may be there.
    // (Outside the loop's tick: a handler's throw goes to the loop's onError.)
    queueTransportStep(sink, () => {
      if (!this.#closed && !this.#open) this.#handshake();
    });
  }

  /** Whether `close()` ran (what {@link flushQueue} checks after a settle callback). */
  get closed(): boolean {
    return this.#closed;
  }

  trySend(data: Uint8Array): number {
    if (!this.#open || this.#writeWantsRead) return 0;
    if (this.#out !== null) return this.#trySendBuffered(data, this.#out);
    const engine = this.#engine;
    let offset = 0;
    while (offset < data.length) {
      const n = engine.write(offset === 0 ? data : data.subarray(offset));
      if (n > 0) {
        offset += n;
        continue;
      }
      if (n === WANT_WRITE) break;
      if (n === WANT_READ) {
        // The same bytes go again (from the queue) once input came.
        this.#writeWantsRead = true;
        break;
      }
      this.#sink.failed(engine.takeError());
      return -1;
    }
    return offset;
  }

  /**
   * Buffered writes: encrypts `data` a batch at a time, one `send()` per
   * batch; returns the plaintext whose records all went (see the module
   * text for the rest).
   */
  #trySendBuffered(data: Uint8Array, out: CipherOutput): number {
    let taken = 0;
    if (out.waiting) {
      // Records of an earlier call wait: they go first, and the plaintext
      // they carry is this call's first #heldPlain bytes (the same bytes,
      // offered again from the queue's head).
      const r = out.flush();
      if (r !== true) return r === false ? 0 : this.#outputFailed(r);
      taken = Math.min(this.#heldPlain, data.length);
      this.#heldPlain = 0;
    }
    const engine = this.#engine;
    while (taken < data.length && !this.#writeWantsRead) {
      const end = Math.min(data.length, taken + WRITE_BATCH);
      let at = taken;
      while (at < end) {
        const n = engine.write(at === 0 && end === data.length ? data : data.subarray(at, end));
        if (n > 0) {
          at += n;
          continue;
        }
        if (n === WANT_READ) this.#writeWantsRead = true;
        else if (n !== WANT_WRITE) {
          out.flush(); // the alert, if any
          this.#sink.failed(engine.takeError());
          return -1;
        }
        break;
      }
      const r = out.flush();
      if (r instanceof Error) return this.#outputFailed(r);
      if (!r) {
        this.#heldPlain = at - taken;
        return taken;
      }
      if (at === taken) break; // WANT_WRITE with nothing taken
      taken = at;
    }
    return taken;
  }

  #outputFailed(error: Error): -1 {
    this.#engine.markBroken();
    this.#out?.drop();
    this.#sink.failed(error);
    return -1;
  }

  /** Buffered writes: sends what waits outside the queue (handshake records, tickets, alerts); false when it failed (reported). */
  #flushOutput(): boolean {
    const out = this.#out;
    if (out === null || this.#heldPlain > 0) return true; // (queued plaintext's records go with the queue)
    const r = out.flush();
    if (r instanceof Error) {
      this.#outputFailed(r);
      return false;
    }
    if (r && this.#finAfterOutput) {
      this.#finAfterOutput = false;
      try {
        this.#socket.shutdown("write");
      } catch {
        // the peer is gone already; reading reports it
      }
    }
    return true;
  }

  queue(data: Uint8Array, offset: number, done: ((error?: Error) => void) | undefined): void {
    this.#queue.push(data.slice(offset), done);
    this.#refresh();
  }

  flush(): void {
    if (!this.#open) return; // the handshake first; the queue waits
    if (!this.#flushOutput()) return;
    const sent = flushQueue(this.#queue, this);
    if (sent < 0 || this.#closed) return;
    this.#refresh();
    this.#sink.sent(sent);
  }

  update(reading: boolean): void {
    if (this.#closed) return;
    this.#reading = reading;
    this.#refresh();
    if (reading && this.#heldEnd !== undefined) {
      // Not from inside the resume that called this (as a drain is not).
      queueTransportStep(this.#sink, () => {
        const held = this.#heldEnd;
        if (this.#closed || !this.#reading || held === undefined) return;
        this.#heldEnd = undefined;
        if (held === true) this.#sink.receivedEnd();
        else this.#sink.failed(held);
      });
      return;
    }
    // Decrypted bytes left in the SSL raise no readiness event.
    if (reading && this.#open && this.#engine.mayHavePending) this.#scheduleDrain();
  }

  shutdown(): void {
    this.#engine.shutdown();
    const out = this.#out;
    if (out !== null && out.flush() === false) {
      // FIN after the records (close_notify last of them) went.
      this.#finAfterOutput = true;
      this.#refresh();
      return;
    }
    this.#socket.shutdown("write");
  }

  ref(): void {
    this.#watcher.ref();
  }

  unref(): void {
    this.#watcher.unref();
  }

  close(keepFd: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.close();
    if (!keepFd) {
      const out = this.#out;
      if (out === null) this.#engine.shutdown();
      // What waits goes first (an alert, say); close_notify only after all of it.
      else if (out.flush() === true) {
        this.#engine.shutdown();
        out.flush();
      }
    }
    this.#out?.drop();
    this.#engine.free();
    if (!keepFd) this.#socket.close();
    const onHandshake = this.#onHandshake;
    this.#onHandshake = undefined;
    onHandshake?.(new SocketClosedError("EPIPE", "the connection closed during the TLS handshake"));
  }

  #refresh(): void {
    let events: number;
    if (!this.#open) events = this.#handshakeWants;
    else {
      events = this.#reading || this.#writeWantsRead ? READABLE : 0;
      if ((!this.#queue.empty && !this.#writeWantsRead) || this.#readWantsWrite) events |= WRITABLE;
    }
    if (this.#out?.waiting) events |= WRITABLE;
    if (this.#stopped) {
      this.#interest = events;
      if (events & READABLE) {
        this.#stopped = false;
        this.#watcher.start(events);
      }
      return;
    }
    if (events !== this.#interest) {
      this.#interest = events;
      this.#watcher.update(events);
    }
  }

  #handshake(): void {
    const step = this.#engine.handshakeStep();
    // Buffered writes: this step's records (or its alert) go now.
    const out = this.#out;
    const sent = out === null ? true : out.flush();
    if (sent instanceof Error && !(step instanceof Error)) {
      this.#engine.markBroken();
      out!.drop();
      const onHandshake = this.#onHandshake;
      this.#onHandshake = undefined;
      if (onHandshake !== undefined) onHandshake(sent);
      else this.#sink.failed(sent);
      return;
    }
    if (step === STEP_DONE) {
      this.#open = true;
      const onHandshake = this.#onHandshake;
      this.#onHandshake = undefined;
      onHandshake?.();
      if (this.#closed) return;
      this.#refresh();
      if (!this.#queue.empty) this.flush();
      if (!this.#closed && this.#reading) this.#scheduleDrain();
      return;
    }
    if (step instanceof Error) {
      const onHandshake = this.#onHandshake;
      this.#onHandshake = undefined;
      if (onHandshake !== undefined) onHandshake(step);
      else this.#sink.failed(step);
      return;
    }
    this.#handshakeWants = step === STEP_READ ? READABLE : WRITABLE;
    this.#refresh();
  }

  #onEvents = (events: number): void => {
    if (events & ERROR && (!this.#open || !errorWaitsForInput(events, this.#reading))) {
      let error: Error | null;
      try {
        error = this.#socket.getError();
      } catch (err) {
        error = err as Error;
      }
      if (error !== null) {
        this.#engine.markBroken();
        if (!this.#open && this.#onHandshake !== undefined) {
          const onHandshake = this.#onHandshake;
          this.#onHandshake = undefined;
          onHandshake(error);
        } else this.#sink.failed(error);
        return;
      }
    }
    if (!this.#open) {
      this.#handshake();
      return;
    }
    if (events & (READABLE | HANGUP)) {
      if (this.#writeWantsRead) {
        this.#writeWantsRead = false;
        this.flush();
        if (this.#closed) return;
      }
      if (this.#reading) this.#readLoop();
      else if (events & HANGUP) {
        if (this.#sink.hungUp()) return;
        if (!this.#queue.empty) {
          this.flush();
          if (this.#closed) return;
        }
        this.#stopped = true;
        this.#watcher.stop();
        return;
      }
      if (this.#closed) return;
    }
    if (events & WRITABLE) {
      if (this.#readWantsWrite) {
        this.#readWantsWrite = false;
        this.#refresh();
        if (this.#reading) this.#readLoop();
        if (this.#closed) return;
      }
      this.flush();
    }
  };

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(this.#drainSoon);
  }

  /**
   * The microtask of {@link #scheduleDrain}: it runs outside the loop's
   * tick, so a handler's throw goes to the loop's `onError`, and what is
   * still decrypted in the SSL (which raises no readiness event) comes on
   * a microtask after it, as the next tick would bring socket input.
   */
  readonly #drainSoon = (): void => {
    this.#drainScheduled = false;
    try {
      if (!this.#closed && this.#reading && this.#engine.pending()) this.#readLoop();
    } catch (err) {
      this.#sink.reportError(err);
      if (!this.#closed && this.#reading && this.#open) this.#scheduleDrain();
    }
  };

  #readLoop(): void {
    this.#readRounds();
    // Buffered writes: what reading made the SSL send (a key update, an alert).
    if (this.#out !== null && !this.#closed && this.#flushOutput() && this.#out.waiting) this.#refresh();
  }

  #readRounds(): void {
    const sink = this.#sink;
    const engine = this.#engine;
    for (let round = 0; round < READ_ROUNDS; round++) {
      const target = sink.recvTarget();
      if (target.length === 0) return;
      let n = engine.read(target);
      if (n > 0) {
        // Further records into the rest of the target before it is handed
        // over: one delivery per socket read rather than one per TLS record
        // (a server writes a record per HTTP/2 response; the handler's own
        // work per delivery was ~2 µs per response on Bun).
        let filled = n;
        for (let more = 0; filled < target.length && more < COALESCE_READS; more++) {
          n = engine.read(target.subarray(filled));
          if (n <= 0) break;
          filled += n;
        }
        engine.pollSession();
        const again = sink.receivedInto(target, filled);
        if (this.#closed) return;
        if (n > 0) {
          // Decrypted bytes still in the SSL raise no event: take them now
          // while the connection reads.
          if (!again && !(this.#reading && engine.pending())) return;
          continue;
        }
        // What ended the run of records (no more input, the end, a failure)
        // is handled below, after the bytes before it; when the reader
        // paused at them, the end or the failure (already read) waits
        // until it reads again, as a plain connection's would.
      } else engine.pollSession();
      if (n === WANT_READ) return;
      if (n === WANT_WRITE) {
        this.#readWantsWrite = true;
        this.#refresh();
        return;
      }
      const end: Error | true = n === 0 ? true : engine.takeError();
      if (!this.#reading) {
        this.#heldEnd = end;
        return;
      }
      if (end === true) sink.receivedEnd();
      else sink.failed(end);
      return;
    }
    if (this.#engine.mayHavePending) this.#scheduleDrain();
  }
}
