/**
 * The io_uring {@link Transport}: a {@link UringStream} on the loop's ring.
 * Input is pushed (the kernel fills provided buffers; the connection gets
 * views of them); small output is copied from the write queue into send
 * slots, one send in flight; a send larger than a slot with nothing queued
 * goes at once from the caller's memory (what the kernel did not take is
 * queued for the ring). Reading starts in a microtask after construction,
 * once the connection's `open` has run (a receive armed before a
 * `detach()` there could cancel it would take the socket's bytes).
 *
 * @example
 * ```ts
 * import { Connection } from "../connection.ts";
 * import { Loop } from "../loop.ts";
 * import { loopUring } from "./loop_io.ts";
 * import { chooseAsyncIo } from "./probe.ts";
 * import { uringTransport } from "./transport.ts";
 * import { Socket } from "../../socket/socket.ts";
 * if (chooseAsyncIo("uring") === "io_uring") {
 *   const loop = new Loop();
 *   const [a, b] = Socket.pair("stream");
 *   const conn = new Connection(loop, a, undefined, {}, uringTransport(loopUring(loop), a));
 *   conn.abort();
 *   b.close();
 *   loop.close();
 * }
 * ```
 *
 * @module
 */
import { C } from "../../ffi/platform.ts";
import { sendPairUntilBlocked, sendPartsUntilBlocked, sendUntilBlocked } from "../../socket/send_until_blocked.ts";
import type { Socket } from "../../socket/socket.ts";
import { guardShutdown, shutdownBehindQueue } from "../../socket/socket_core.ts";
import { loopClosedError } from "../loop.ts";
import { sentOrFailed, type Transport, type TransportFactory, type TransportSink } from "../transport.ts";
import type { WriteQueue } from "../write_queue.ts";
import { type LoopUring, URING_BUFFER_BYTES } from "./loop_io.ts";
import { UringStream, type UringStreamHost } from "./stream.ts";

/** Flags of a send from the caller's memory: the descriptor blocks (the ring waits for it), this call must not. */
const DIRECT_FLAGS = C.MSG_NOSIGNAL | (C.MSG_DONTWAIT ?? 0x40);
const EMPTY = new Uint8Array(0);

/**
 * A factory of io_uring transports over `socket` (a blocking descriptor:
 * the ring waits, not the socket) on `io`.
 *
 * @example
 * ```ts
 * import { uringTransport } from "./transport.ts";
 * import type { LoopUring } from "./loop_io.ts";
 * import type { Socket } from "../../socket/socket.ts";
 * function factoryFor(io: LoopUring, socket: Socket) {
 *   return uringTransport(io, socket); // for new Connection(…, factory)
 * }
 * console.log(typeof factoryFor);
 * ```
 */
export function uringTransport(io: LoopUring, socket: Socket): TransportFactory {
  return (sink, queue) => new UringTransport(io, socket, sink, queue);
}

/**
 * io_uring I/O for one connection (see the module text). It is the
 * stream's host (completions come here) and the loop-close owner.
 *
 * @example
 * ```ts
 * import type { UringTransport } from "./transport.ts";
 * function stop(t: UringTransport): void {
 *   t.close(false); // cancels what is armed, closes the descriptor through the ring
 * }
 * console.log(typeof stop);
 * ```
 */
export class UringTransport implements Transport, UringStreamHost {
  readonly #io: LoopUring;
  readonly #socket: Socket;
  readonly #sink: TransportSink;
  readonly #queue: WriteQueue;
  readonly #stream: UringStream;
  #closed = false;
  /** Takes this transport's shutdown guard off the socket (which may outlive it: detach). */
  readonly #unguard: () => void;

  constructor(io: LoopUring, socket: Socket, sink: TransportSink, queue: WriteQueue) {
    if (io.closing) throw loopClosedError();
    this.#io = io;
    this.#socket = socket;
    this.#sink = sink;
    this.#queue = queue;
    this.#stream = new UringStream(io, socket.fd, this);
    // Under a layer (memory-BIO TLS), this queue holds its records: a raw
    // `socket.shutdown("write")` waits for them too (after that layer's).
    this.#unguard = guardShutdown(socket, shutdownBehindQueue(
      () => this.#closed || queue.empty,
      () => this.#closed,
      (done) => this.queue(EMPTY, 0, done),
    ));
    io.addOwner(this);
    this.#stream.ref();
    queueMicrotask(() => {
      if (!this.#closed) sink.refresh();
    });
  }

  /** @internal The stream's host: forwarded to the sink. */
  recvLimit(): number {
    return this.#sink.recvLimit();
  }

  /** @internal The stream's host: forwarded to the sink. */
  received(bytes: Uint8Array): void {
    this.#sink.received(bytes);
  }

  /** @internal The stream's host: forwarded to the sink. */
  receivedEnd(): void {
    this.#sink.receivedEnd();
  }

  /** @internal The kernel took `n` bytes of the queue: consume them, send on. */
  sent(n: number): void {
    const out = this.#queue;
    out.consume(n);
    if (this.#closed) return;
    this.#stream.flush(out);
    if (this.#closed) return;
    this.#sink.sent(n);
  }

  /** @internal The stream's host: forwarded to the sink. */
  failed(error: Error): void {
    this.#sink.failed(error);
  }

  /** @internal The stream's host: forwarded to the sink. */
  hungUp(): boolean {
    return this.#closed || this.#sink.hungUp();
  }

  /** @internal The loop's io_uring is closing. */
  onLoopClose(): void {
    this.#sink.loopClosed();
  }

  /**
   * A send larger than a send slot, with nothing queued or in flight, goes
   * at once from the caller's memory (send with MSG_DONTWAIT, as readiness
   * I/O sends): copying it into a pooled 64 KiB buffer for the ring cost
   * more than the system call (page faults, 2.7–10× the CPU per 64 KiB
   * response). The kernel copies during the call and keeps no pointer into
   * the caller's memory (which may be the JS heap) after it. Smaller sends
   * return 0: they go through the ring, batched with the turn's others.
   */
  trySend(data: Uint8Array, more = false): number {
    if (!this.#direct(data.length)) return 0;
    return sentOrFailed(this.#sink, sendUntilBlocked(this.#socket.fd, data, data.length, more ? DIRECT_FLAGS | C.MSG_MORE : DIRECT_FLAGS));
  }

  /**
   * `head` then `body` in one sendmsg from their own memory (MSG_DONTWAIT),
   * under the same terms as {@link UringTransport.trySend}: together larger
   * than a send slot, nothing queued or in flight; else 0 (the ring sends them).
   */
  trySendPair(head: Uint8Array, body: Uint8Array, more = false): number {
    if (!this.#direct(head.length + body.length)) return 0;
    return sentOrFailed(this.#sink, sendPairUntilBlocked(this.#socket.fd, head, body, more ? DIRECT_FLAGS | C.MSG_MORE : DIRECT_FLAGS));
  }

  /**
   * `parts` in one sendmsg from their own memory (MSG_DONTWAIT), under the
   * same terms as {@link UringTransport.trySend}: together larger than a
   * send slot, nothing queued or in flight; else 0 (the ring sends them).
   */
  trySendParts(parts: readonly Uint8Array[], more = false): number {
    let length = 0;
    for (const part of parts) length += part.byteLength;
    if (!this.#direct(length)) return 0;
    return sentOrFailed(this.#sink, sendPartsUntilBlocked(this.#socket.fd, parts, more ? DIRECT_FLAGS | C.MSG_MORE : DIRECT_FLAGS));
  }

  /** Whether `length` bytes go at once from the caller's memory: larger than a send slot, and nothing of ours is queued or in the kernel (order). */
  #direct(length: number): boolean {
    return length > this.#io.sendSlots.slotBytes && !this.#closed && !this.#stream.sending && this.#queue.empty;
  }

  queue(data: Uint8Array, offset: number, done: ((error?: Error) => void) | undefined): void {
    const out = this.#queue;
    const stream = this.#stream;
    // Bytes copied into a send buffer at once are never read back from the
    // queue (which counts them until sent), so they need no copy of their own.
    const now = !stream.sending && out.empty && data.length - offset <= URING_BUFFER_BYTES;
    out.push(now ? (offset === 0 ? data : data.subarray(offset)) : data.slice(offset), done);
    stream.flush(out);
  }

  flush(): void {
    this.#stream.flush(this.#queue);
  }

  update(reading: boolean): void {
    this.#stream.setReading(reading);
    if (!this.#queue.empty) this.#stream.flush(this.#queue);
  }

  shutdown(): void {
    this.#socket.shutdown("write");
  }

  ref(): void {
    this.#stream.ref();
  }

  unref(): void {
    this.#stream.unref();
  }

  close(keepFd: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unguard();
    this.#io.deleteOwner(this);
    if (keepFd) {
      this.#stream.close(true);
      this.#socket.options.nonBlocking = true;
    } else {
      this.#socket.release();
      this.#stream.close();
    }
  }
}
