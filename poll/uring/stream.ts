/**
 * `UringStream`: the io_uring side of one stream connection. Reading waits
 * with a poll operation (no memory held while idle), then receives into a
 * buffer borrowed from the loop's pool for as long as the recv is in the
 * kernel; a recv that fills the buffer is followed by another at once.
 * Sending copies queued bytes into a borrowed buffer, one send in flight at
 * a time (so bytes stay in order), resubmitting what a short send left.
 * Closing cancels what is pending and closes the descriptor through the
 * ring. The connection (poll/connection.ts) keeps every policy: what to
 * read, the write queue, timeouts, callbacks.
 *
 * @example
 * ```ts
 * import type { UringStreamHost } from "./stream.ts";
 * const host: UringStreamHost = {
 *   recvLimit: () => 65536,
 *   received: (bytes) => console.log(bytes.length),
 *   receivedEnd: () => {},
 *   sent: (n) => console.log("sent", n),
 *   failed: (error) => console.error(error),
 * };
 * ```
 *
 * @module
 */
import { sysError } from "../../core/sys_error.ts";
import { libc } from "../../ffi/libc.ts";
import type { NativeBuffer } from "../../ffi/native_buffer.ts";
import { C, E } from "../../ffi/platform.ts";
import type { WriteQueue } from "../write_queue.ts";
import type { LoopUring } from "./loop_io.ts";

/** What a {@link UringStream} reports to its connection. */
export interface UringStreamHost {
  /** Most bytes the next recv may bring. */
  recvLimit(): number;
  /** Bytes arrived; the view is valid only during the call. */
  received(bytes: Uint8Array): void;
  /** The peer finished sending. */
  receivedEnd(): void;
  /** The kernel took `n` more bytes of the write queue. */
  sent(n: number): void;
  /** recv or send failed. */
  failed(error: Error): void;
}

const POLLIN = C.POLLIN ?? 1;
const POLLOUT = C.POLLOUT ?? 4;
const EAGAIN = E.EAGAIN ?? 11;
const EINTR = E.EINTR ?? 4;
const ECANCELED = E.ECANCELED ?? 125;

/**
 * One connection's operations on its loop's ring.
 *
 * @example
 * ```ts
 * import { UringStream } from "./stream.ts";
 * // const stream = new UringStream(loopUring(loop), fd, host);
 * // stream.setReading(true); stream.flush(queue); stream.close();
 * ```
 */
export class UringStream {
  readonly #io: LoopUring;
  readonly #fd: number;
  readonly #host: UringStreamHost;
  #reading = false;
  /** The pending poll-for-input or recv operation (0: none). */
  #readOp = 0;
  #recvBuf: NativeBuffer | undefined;
  #recvLen = 0;
  /** The pending send or poll-for-output operation (0: none). */
  #sendOp = 0;
  #sendBuf: NativeBuffer | undefined;
  #sendAt = 0;
  #sendEnd = 0;
  #retained = false;
  #closed = false;
  // Completion callbacks, made on first use (an idle connection only ever polls).
  #recvDone: ((res: number) => void) | undefined;
  #sendDone: ((res: number) => void) | undefined;
  #pollOutDone: ((res: number) => void) | undefined;

  constructor(io: LoopUring, fd: number, host: UringStreamHost) {
    this.#io = io;
    this.#fd = fd;
    this.#host = host;
  }

  /** Whether a send is in the kernel (queued bytes then wait their turn). */
  get sending(): boolean {
    return this.#sendBuf !== undefined;
  }

  /** Keeps the loop alive while the connection is open. */
  ref(): void {
    if (this.#retained || this.#closed) return;
    this.#retained = true;
    this.#io.retain();
  }

  /** Lets the loop end while the connection is open. */
  unref(): void {
    if (!this.#retained) return;
    this.#retained = false;
    this.#io.unretain();
  }

  /** Starts or stops reading; a poll already in the kernel is left to complete. */
  setReading(on: boolean): void {
    this.#reading = on;
    if (on && this.#readOp === 0 && !this.#closed) this.#armPoll();
  }

  /** Starts sending the head of `queue` unless a send is in flight. */
  flush(queue: WriteQueue): void {
    if (this.#sendBuf !== undefined || this.#closed) return;
    for (;;) {
      const head = queue.head();
      if (head === undefined) return;
      if (head.length > 0) break;
      queue.consume(0); // a settle marker (end, close): its bytes are all sent
      if (this.#closed) return;
    }
    const buf = this.#io.takeBuffer();
    this.#sendBuf = buf;
    this.#sendAt = 0;
    this.#sendEnd = queue.copyTo(buf.bytes);
    this.#submitSend();
  }

  /**
   * Cancels pending operations and closes the descriptor through the ring
   * (at once when the ring itself is closing). With `keepFd` the descriptor
   * stays open (detach).
   */
  close(keepFd = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.unref();
    const io = this.#io;
    if (io.closing) {
      if (!keepFd) libc().close(this.#fd);
      return;
    }
    const uring = io.uring;
    if (this.#readOp !== 0) uring.queueCancel(this.#readOp);
    if (this.#sendOp !== 0) uring.queueCancel(this.#sendOp);
    if (!keepFd) uring.queueClose(this.#fd, ignore);
  }

  #armPoll(): void {
    this.#readOp = this.#io.uring.queuePoll(this.#fd, POLLIN, this.#onPollIn);
  }

  #onPollIn = (res: number): void => {
    this.#readOp = 0;
    if (this.#closed || res === -ECANCELED) return;
    if (res < 0) {
      this.#host.failed(sysError(-res, "poll"));
      return;
    }
    if (this.#reading) this.#submitRecv();
  };

  #submitRecv(): void {
    const buf = this.#io.takeBuffer();
    const len = Math.max(1, Math.min(buf.byteLength, this.#host.recvLimit()));
    this.#recvBuf = buf;
    this.#recvLen = len;
    this.#readOp = this.#io.uring.queueRecv(this.#fd, buf, len, 0, this.#recvDone ??= (res) => this.#onRecv(res));
  }

  #onRecv(res: number): void {
    const buf = this.#recvBuf!;
    this.#recvBuf = undefined;
    this.#readOp = 0;
    try {
      if (this.#closed) return;
      if (res > 0) this.#host.received(buf.bytes.subarray(0, res));
      else if (res === 0) this.#host.receivedEnd();
      else if (res !== -EAGAIN && res !== -EINTR && res !== -ECANCELED) this.#host.failed(sysError(-res, "recv"));
    } finally {
      this.#io.giveBuffer(buf);
    }
    if (this.#closed || !this.#reading || this.#readOp !== 0 || res === 0 || res === -ECANCELED) return;
    // A full buffer likely left more behind: receive again without polling.
    if (res === this.#recvLen) this.#submitRecv();
    else this.#armPoll();
  }

  #submitSend(): void {
    this.#sendOp = this.#io.uring.queueSend(this.#fd, this.#sendBuf!, this.#sendEnd - this.#sendAt, this.#sendAt, this.#sendDone ??= (res) => this.#onSent(res));
  }

  #onSent(res: number): void {
    this.#sendOp = 0;
    const buf = this.#sendBuf!;
    if (this.#closed || res === -ECANCELED) {
      this.#sendBuf = undefined;
      this.#io.giveBuffer(buf);
      return;
    }
    if (res === -EAGAIN || res === -EINTR) {
      // A non-blocking descriptor: wait for room, then send the same bytes.
      this.#sendOp = this.#io.uring.queuePoll(this.#fd, POLLOUT, this.#pollOutDone ??= (res) => this.#onPollOut(res));
      return;
    }
    if (res < 0) {
      this.#sendBuf = undefined;
      this.#io.giveBuffer(buf);
      this.#host.failed(sysError(-res, "send"));
      return;
    }
    this.#sendAt += res;
    if (this.#sendAt < this.#sendEnd) this.#submitSend();
    else {
      this.#sendBuf = undefined;
      this.#io.giveBuffer(buf);
    }
    this.#host.sent(res);
  }

  #onPollOut(res: number): void {
    this.#sendOp = 0;
    if (this.#closed || res < 0) {
      const buf = this.#sendBuf!;
      this.#sendBuf = undefined;
      this.#io.giveBuffer(buf);
      if (!this.#closed && res !== -ECANCELED) this.#host.failed(sysError(-res, "poll"));
      return;
    }
    this.#submitSend();
  }
}

function ignore(): void {}
