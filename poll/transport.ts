/**
 * The transport seam of a {@link Connection}: how its bytes reach the
 * kernel and come back. The connection keeps every policy (handler or
 * Promise mode, buffers, the write queue, timeouts, callbacks); a
 * {@link Transport} only moves bytes, and reports through the connection's
 * {@link TransportSink}. Two ship here: readiness (epoll/poll/kqueue with
 * non-blocking `recv`/`send`, poll/transport_readiness.ts) and io_uring
 * completions (poll/uring/transport.ts). A wrapping transport — TLS over a
 * plain one, say — is both: a `Transport` to the connection and the sink of
 * the transport it wraps, as uSockets layers its OpenSSL context over the
 * plain socket context with its own `on_data`/`on_writable`.
 *
 * Input comes one of two ways, whichever fits the transport's memory:
 * - pull: the transport asks {@link TransportSink.recvTarget} where to put
 *   the bytes (a waiting `readInto()` buffer, the read buffer's free span,
 *   or a shared scratch buffer), receives into it (`recv`, `SSL_read`), and
 *   reports {@link TransportSink.receivedInto};
 * - push: the bytes are already in the transport's memory (an io_uring
 *   provided buffer): {@link TransportSink.received} with a view, at most
 *   {@link TransportSink.recvLimit} bytes.
 *
 * Output: the connection first offers new bytes to
 * {@link Transport.trySend} while nothing is queued; the rest goes to
 * {@link Transport.queue}, and the transport sends from the connection's
 * `WriteQueue`, consuming what it sent and reporting
 * {@link TransportSink.sent}.
 *
 * @example
 * ```ts
 * import type { Transport, TransportFactory, TransportSink } from "./transport.ts";
 * import type { WriteQueue } from "./write_queue.ts";
 * // Counts the bytes going each way; everything else is the inner transport's.
 * class CountingTransport implements Transport, TransportSink {
 *   bytesIn = 0;
 *   bytesOut = 0;
 *   readonly #sink: TransportSink;
 *   readonly #inner: Transport;
 *   constructor(inner: TransportFactory, sink: TransportSink, queue: WriteQueue) {
 *     this.#sink = sink;
 *     this.#inner = inner(this, queue); // the inner transport reports to us
 *   }
 *   // As the inner transport's sink: count, then pass on.
 *   recvTarget(): Uint8Array { return this.#sink.recvTarget(); }
 *   receivedInto(target: Uint8Array, n: number): boolean {
 *     this.bytesIn += n;
 *     return this.#sink.receivedInto(target, n);
 *   }
 *   recvLimit(): number { return this.#sink.recvLimit(); }
 *   received(bytes: Uint8Array): void {
 *     this.bytesIn += bytes.length;
 *     this.#sink.received(bytes);
 *   }
 *   receivedEnd(): void { this.#sink.receivedEnd(); }
 *   sent(n: number): void {
 *     this.bytesOut += n;
 *     this.#sink.sent(n);
 *   }
 *   failed(error: Error): void { this.#sink.failed(error); }
 *   hungUp(): boolean { return this.#sink.hungUp(); }
 *   loopClosed(): void { this.#sink.loopClosed(); }
 *   refresh(): void { this.#sink.refresh(); }
 *   reportError(error: unknown): void { this.#sink.reportError(error); }
 *   // As the connection's transport: pass on (bytes sent at once count here).
 *   trySend(data: Uint8Array): number {
 *     const n = this.#inner.trySend(data);
 *     if (n > 0) this.bytesOut += n;
 *     return n;
 *   }
 *   queue(data: Uint8Array, offset: number, done: ((error?: Error) => void) | undefined): void {
 *     this.#inner.queue(data, offset, done);
 *   }
 *   flush(): void { this.#inner.flush(); }
 *   update(reading: boolean): void { this.#inner.update(reading); }
 *   shutdown(): void { this.#inner.shutdown(); }
 *   ref(): void { this.#inner.ref(); }
 *   unref(): void { this.#inner.unref(); }
 *   close(keepFd: boolean, reset?: boolean): void { this.#inner.close(keepFd, reset); }
 *   get detachable(): boolean { return this.#inner.detachable ?? true; }
 * }
 * // Wrap any transport: new Connection(loop, socket, handler, options, counting(readinessTransport(loop, socket))).
 * function counting(inner: TransportFactory): TransportFactory {
 *   return (sink, queue) => new CountingTransport(inner, sink, queue);
 * }
 * console.log(typeof counting);
 * ```
 *
 * @module
 */
import type { WriteQueue } from "./write_queue.ts";

/**
 * What a {@link Transport} reports to its connection (or to the transport
 * wrapping it). Methods are called from the loop, never re-entrantly from
 * inside a call the connection made, except where noted.
 *
 * @example
 * ```ts
 * import type { TransportSink } from "./transport.ts";
 * const scratch = new Uint8Array(1024);
 * const printer: TransportSink = {
 *   recvTarget: () => scratch,
 *   receivedInto: (target, n) => (console.log(target.subarray(0, n)), true),
 *   recvLimit: () => scratch.length,
 *   received: (bytes) => console.log(bytes),
 *   receivedEnd: () => console.log("end"),
 *   sent: (n) => console.log("sent", n),
 *   failed: (error) => console.error(error),
 *   hungUp: () => false,
 *   loopClosed: () => {},
 *   refresh: () => {},
 *   reportError: (error) => console.error(error),
 * };
 * ```
 */
export interface TransportSink {
  /**
   * Pull input: where the next bytes go. Receive into its start, at most
   * its length, then call {@link TransportSink.receivedInto} with the same
   * array before anything else. An empty array: take nothing now (reading
   * is off until the connection calls {@link Transport.update} again).
   */
  recvTarget(): Uint8Array;
  /**
   * Pull input: `n > 0` bytes landed at the start of `target` (the last
   * {@link TransportSink.recvTarget}). Returns whether to receive again now
   * (when the receive filled the target; false: wait for the next readiness).
   */
  receivedInto(target: Uint8Array, n: number): boolean;
  /**
   * Push input: the most bytes {@link TransportSink.received} may bring
   * now; `Infinity` for a sink that takes whatever comes (each delivery goes
   * straight on), which lets io_uring keep a multishot recv armed.
   */
  recvLimit(): number;
  /** Push input: bytes arrived in the transport's memory (the view is valid only during the call). */
  received(bytes: Uint8Array): void;
  /** The peer finished sending (its FIN, or the end of the protocol's stream). */
  receivedEnd(): void;
  /**
   * The transport consumed `n` bytes (0 after settle markers) from the
   * head of the write queue, and their `done` callbacks ran.
   */
  sent(n: number): void;
  /** A receive or send failed: the connection goes down with `error`. */
  failed(error: Error): void;
  /**
   * The peer hung up while reading was off. Returns true when that closed
   * the connection (nothing left to read); false: the transport stops
   * watching until {@link Transport.update} turns reading on.
   */
  hungUp(): boolean;
  /** The loop closed under the connection. */
  loopClosed(): void;
  /** Asks the connection to call {@link Transport.update} with what it wants now (a deferred start). */
  refresh(): void;
  /**
   * A call the transport made outside the loop's tick (from a microtask it
   * queued, see {@link queueTransportStep}) threw `error`, say a handler
   * that {@link TransportSink.received} reached: the connection routes it
   * as a tick routes a throw from its dispatch, to the loop's `onError`
   * (else it is rethrown). Inside a tick a throw just propagates.
   */
  reportError(error: unknown): void;
}

/**
 * A transport's `trySend` result from a send helper's: the count sent, or
 * -1 after the failure went to `sink.failed`.
 *
 * @example
 * ```ts
 * import { sentOrFailed, type TransportSink } from "./transport.ts";
 * const sink = { failed: (e: Error) => console.log(e.message) } as unknown as TransportSink;
 * console.log(sentOrFailed(sink, 5)); // 5
 * ```
 */
export function sentOrFailed(sink: TransportSink, sent: number | Error): number {
  if (typeof sent === "number") return sent;
  sink.failed(sent);
  return -1;
}

/**
 * Runs `step` on a microtask (after the current call, outside the loop's
 * tick); a throw from it goes to `sink.reportError` (the loop's `onError`)
 * instead of escaping as an uncaught exception past a custom `onError`.
 * What the transport must still do after a throw (switch reading on, say)
 * belongs in a `finally` inside `step`.
 *
 * @example
 * ```ts
 * import { queueTransportStep, type TransportSink } from "./transport.ts";
 * function deliverLater(sink: TransportSink, bytes: Uint8Array): void {
 *   queueTransportStep(sink, () => sink.received(bytes));
 * }
 * console.log(typeof deliverLater);
 * ```
 */
export function queueTransportStep(sink: TransportSink, step: () => void): void {
  queueMicrotask(() => {
    try {
      step();
    } catch (err) {
      sink.reportError(err);
    }
  });
}

/**
 * How a connection's bytes move; made once per connection by a
 * {@link TransportFactory} and fixed for its life (one call site per
 * operation, no mode branches on the hot path).
 *
 * @example
 * ```ts
 * import type { Transport } from "./transport.ts";
 * function halfClose(transport: Transport): void {
 *   transport.flush();
 *   transport.shutdown();
 * }
 * console.log(typeof halfClose);
 * ```
 */
export interface Transport {
  /**
   * Sends what can go now without queueing (the write queue is empty);
   * returns how many bytes went, or -1 after a failure (reported to
   * {@link TransportSink.failed} first). A transport that sends only from
   * its queue returns 0. `more` says more bytes follow at once (the head
   * of a response before its body): a transport may hold a partial segment
   * for them (MSG_MORE), or ignore the hint.
   */
  trySend(data: Uint8Array, more?: boolean): number;
  /**
   * Like {@link Transport.trySend} for `head` then `body` in one system
   * call (sendmsg with two iovecs, the body sent from its own memory):
   * returns how many bytes of the two went, or -1 after a failure. Only
   * transports that write the socket as it is have it; `head` is at most
   * 8 KiB (socket/send_pair.ts).
   */
  trySendPair?(head: Uint8Array, body: Uint8Array, more?: boolean): number;
  /**
   * Like {@link Transport.trySendPair} for up to 16 buffers in order
   * (socket/send_pair.ts `sendParts`): returns how many bytes of them went
   * (fewer than all when the kernel took less), or -1 after a failure.
   */
  trySendParts?(parts: readonly Uint8Array[], more?: boolean): number;
  /**
   * Queues `data` from `offset` on behind what the write queue holds
   * (copied unless the transport takes it at once) with its `done`
   * callback, and starts sending.
   */
  queue(data: Uint8Array, offset: number, done: ((error?: Error) => void) | undefined): void;
  /**
   * Queues `length` bytes of the open file `fd` from `position` on, sent
   * straight from the file (sendfile) behind what the queue holds; `done`
   * runs once they went or the queue failed. Only transports that write
   * the socket as it is have it (not TLS).
   */
  queueFile?(fd: number, position: number, length: number, done: ((error?: Error) => void) | undefined): void;
  /** Sends what the queue holds (settle markers of `end()` and `close()` included), as far as it can now. */
  flush(): void;
  /** Reading on or off (paused, input buffer full, end of stream); sends queued output. */
  update(reading: boolean): void;
  /** Ends our sending side (after the queue drained): FIN, or the protocol's end. May throw if the peer is gone. */
  shutdown(): void;
  /** Keeps the loop alive while open. */
  ref(): void;
  /** Lets the loop end while open. */
  unref(): void;
  /**
   * Stops all I/O and releases what the transport holds; closes the
   * descriptor unless `keepFd` (detach: the socket is handed on, in
   * non-blocking mode). `reset`: the connection was aborted or failed, so
   * nothing queued is to go out: a transport over another connection
   * aborts that one instead of closing it gracefully (on a descriptor the
   * connection has set SO_LINGER 0 already).
   */
  close(keepFd: boolean, reset?: boolean): void;
  /**
   * Whether the connection's descriptor carries this transport's bytes, so
   * `detach()` may hand it out. False for a transport over another
   * connection (TLS inside a tunnel through an `https://` proxy, TLS in
   * TLS): the descriptor carries the outer connection's records, and
   * `Connection.detach` throws instead of closing that connection. A
   * wrapper passes on its inner transport's answer. Absent: true.
   */
  readonly detachable?: boolean;
}

/**
 * Makes a connection's transport, given the connection's sink and write
 * queue. A wrapper calls the factory it wraps with itself as the sink (and
 * a queue of its own when it transforms bytes).
 *
 * @example
 * ```ts
 * import type { TransportFactory } from "./transport.ts";
 * function logged(inner: TransportFactory): TransportFactory {
 *   return (sink, queue) => {
 *     console.log("transport made");
 *     return inner(sink, queue);
 *   };
 * }
 * console.log(typeof logged);
 * ```
 */
export type TransportFactory = (sink: TransportSink, queue: WriteQueue) => Transport;
