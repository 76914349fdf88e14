/**
 * `UringStream`: the io_uring side of one stream connection.
 *
 * - Reading: one multishot recv (Linux 6.0+) stays armed and the kernel
 *   picks a buffer of the loop's provided-buffer ring for each arrival, so an
 *   idle connection holds no memory; each completion's bytes go to the
 *   connection as a view valid during the call, and the buffer returns to
 *   the ring right after. Completions that come back to back (a read
 *   larger than one buffer) go as one view of the loop's join area
 *   (recv_join.ts), as readiness I/O's one recv(2) brings them. When the
 *   ring ran dry (-ENOBUFS) the recv is
 *   re-armed once buffers are back — the bytes wait in the socket. Where
 *   multishot is refused, a single-shot recv with a selected buffer is
 *   armed after each completion; without buffer rings (before 5.19), a poll
 *   operation waits and a recv borrows a pooled buffer.
 * - Sending: queued bytes are copied to a small send slot (or a pooled
 *   buffer when large), one send in flight at a time (so bytes stay in
 *   order), what a short send left is resubmitted. Sends queued during a
 *   loop turn go to the kernel together in one io_uring_enter.
 * - Bytes that arrive while reading is off (paused, or more than the
 *   connection can take) are held and delivered, in order, once it is on.
 * - Operations carry a 32-bit tag (slot << 3 | kind) and complete through
 *   the loop's dispatch table: no closure or object per connection or per
 *   operation. Closing cancels what is armed and closes the descriptor
 *   through the ring; the slot is reused once the last completion is in.
 *
 * The connection (poll/connection.ts) keeps every policy: what to read, the
 * write queue, timeouts, callbacks.
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
 *   hungUp: () => false,
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
import { addressOf } from "./ring.ts";
import { CQE, IORING_OP, IOSQE, URING } from "./uapi.ts";

/** What a {@link UringStream} reports to its connection. */
export interface UringStreamHost {
  /**
   * Most bytes the connection takes now; `Infinity` when every delivery
   * goes straight on (a data handler), which lets a multishot recv run: a
   * bounded host gets one recv of at most this many bytes at a time, so
   * nothing piles up past its bound (a multishot recv takes every provided
   * buffer it can before a cancel lands).
   */
  recvLimit(): number;
  /** Bytes arrived; the view is valid only during the call. */
  received(bytes: Uint8Array): void;
  /** The peer finished sending. */
  receivedEnd(): void;
  /** The kernel took `n` more bytes of the write queue. */
  sent(n: number): void;
  /** recv or send failed. */
  failed(error: Error): void;
  /**
   * The peer hung up (POLLHUP: a reset, or both directions shut) while
   * reading was off, as readiness I/O reports it whatever the interest.
   * Returns true when that closed the connection; false: it is told again
   * only after reading was on and went off again.
   */
  hungUp(): boolean;
}

/**
 * Operation kinds, the low 3 bits of a stream operation's tag.
 *
 * @example
 * ```ts
 * import { STREAM_OP } from "./stream.ts";
 * const tag = (12 << 3) | STREAM_OP.SEND; // slot 12's send
 * console.log(tag >>> 3, tag & 7); // 12 2
 * ```
 */
export const STREAM_OP = {
  RECV: 0,
  POLL_IN: 1,
  SEND: 2,
  POLL_OUT: 3,
  /** A NOP whose completion delivers held bytes (outside the caller's stack). */
  HELD: 4,
  /** The multishot poll that watches for a hang-up while reading is off. */
  HANGUP: 5,
  /** A NOP whose completion tells the host of a hang-up seen before reading went off. */
  HANGUP_SEEN: 6,
  /** Cancels and closes: nothing to do on completion. */
  IGNORE: 7,
} as const;

const NONE = -1;
/** No handler threw (a throw may be any value, undefined too). */
const NO_ERROR: unique symbol = Symbol("no error");
/** Bits of `#state`. */
const READING = 1;
const MULTISHOT = 2;
const CANCELLING = 4;
const HELD_QUEUED = 8;
const END_HELD = 16;
const RETAINED = 32;
const CLOSED = 64;
/** The hang-up poll is armed (its last completion is not in). */
const HUP_ARMED = 128;
/** The peer hung up (seen by the hang-up poll; it stays so). */
const HUNG_UP = 256;
/** A HANGUP_SEEN NOP is queued. */
const HUP_QUEUED = 512;

/**
 * The send in flight: its memory (a send slot or a pooled buffer) and the
 * span left to send. Pooled by the loop's ring: none while idle.
 *
 * @example
 * ```ts
 * import type { SendState } from "./stream.ts";
 * const idle: SendState = { slot: -1, buf: undefined, base: 0, at: 0, end: 0 };
 * ```
 */
export interface SendState {
  slot: number;
  buf: NativeBuffer | undefined;
  base: number;
  at: number;
  end: number;
}
const POLLIN = C.POLLIN ?? 1;
const POLLOUT = C.POLLOUT ?? 4;
const POLLERR = C.POLLERR ?? 8;
const POLLHUP = C.POLLHUP ?? 0x10;
const EAGAIN = E.EAGAIN ?? 11;
const EINTR = E.EINTR ?? 4;
const ECANCELED = E.ECANCELED ?? 125;
const ENOBUFS = E.ENOBUFS ?? 105;
const EINVAL = E.EINVAL ?? 22;

/**
 * One connection's operations on its loop's ring.
 *
 * @example
 * ```ts
 * import { UringStream } from "./stream.ts";
 * import { loopUring } from "./loop_io.ts";
 * import { chooseAsyncIo } from "./probe.ts";
 * import { Loop } from "../loop.ts";
 * import { Socket } from "../../socket/socket.ts";
 * if (chooseAsyncIo() === "io_uring") {
 *   const loop = new Loop();
 *   const [a, b] = Socket.pair("stream", { nonBlocking: true });
 *   const stream = new UringStream(loopUring(loop), a.fd, {
 *     recvLimit: () => 65536,
 *     received: (bytes) => console.log(bytes.length),
 *     receivedEnd: () => {},
 *     sent: () => {},
 *     failed: (err) => console.error(err),
 *     hungUp: () => false,
 *   });
 *   stream.setReading(true); // a recv on the ring; the loop reports what arrives
 *   stream.close(true); // cancels it; true: the descriptor stays open, `a` closes it
 *   a.close(); b.close();
 *   loop.close();
 * }
 * ```
 */
export class UringStream {
  readonly #io: LoopUring;
  readonly #fd: number;
  readonly #host: UringStreamHost;
  /** slot << 3: the operation kind goes in the low bits. */
  readonly #tag: number;
  /** READING, MULTISHOT, CANCELLING … bits (few fields: an idle connection stays small). */
  #state = 0;
  /** The armed input operation (RECV or POLL_IN), or NONE. */
  #readKind = NONE;
  /** The armed output operation (SEND or POLL_OUT), or NONE. */
  #sendKind = NONE;
  /** The send in flight (undefined while none is). */
  #send: SendState | undefined;
  /** Without buffer rings: the pooled buffer of the recv in flight. */
  #recvBuf: NativeBuffer | undefined;
  /** Bytes that arrived while reading was off, oldest first. */
  #held: Uint8Array[] | undefined;
  /** A receive failure that came while reading was off or bytes were held: reported after them, once reading is on. */
  #heldError: Error | undefined;

  constructor(io: LoopUring, fd: number, host: UringStreamHost) {
    this.#io = io;
    this.#fd = fd;
    this.#host = host;
    this.#tag = io.attach(this) << 3;
  }

  /** Whether a send is in the kernel (queued bytes then wait their turn). */
  get sending(): boolean {
    return this.#send !== undefined;
  }

  /** Keeps the loop alive while the connection is open. */
  ref(): void {
    if ((this.#state & (RETAINED | CLOSED)) !== 0) return;
    this.#state |= RETAINED;
    this.#io.retain();
  }

  /** Lets the loop end while the connection is open. */
  unref(): void {
    if ((this.#state & RETAINED) === 0) return;
    this.#state &= ~RETAINED;
    this.#io.unretain();
  }

  /**
   * Starts or stops reading. Stopping cancels an armed recv, multishot or
   * single-shot (bytes already on their way are held): a paused connection
   * leaves the socket's bytes in the kernel, as readiness I/O does, and a
   * bounded reader's single-shot recv (ce4feb2) would otherwise take up to
   * its limit after the pause. A poll is left to complete (it takes nothing).
   */
  setReading(on: boolean): void {
    const was = this.#state & READING;
    if (on) this.#state |= READING;
    else this.#state &= ~READING;
    if ((this.#state & CLOSED) !== 0) return;
    if (on) {
      if (this.#held !== undefined || (this.#state & END_HELD) !== 0 || this.#heldError !== undefined) this.#queueHeld();
      else if (this.#readKind === NONE) this.#armRead();
      return;
    }
    if (this.#readKind === STREAM_OP.RECV) this.#cancelRead();
    // Readiness I/O reports a hang-up whatever the interest (the peer's
    // reset after its FIN, say, or its FIN after our shutdown): a connection
    // that stopped reading at the end of stream learns it and closes. No
    // receive is armed here to see it: a poll watches for it instead.
    if ((this.#state & HUNG_UP) !== 0) {
      if (was !== 0) this.#queueHangUp();
    } else if ((this.#state & HUP_ARMED) === 0) this.#watchHangUp();
  }

  /** Starts sending the head of `queue` unless a send is in flight. */
  flush(queue: WriteQueue): void {
    if (this.#send !== undefined || (this.#state & CLOSED) !== 0) return;
    for (;;) {
      const head = queue.head();
      if (head === undefined) return;
      if (head.length > 0) break;
      queue.consume(0); // a settle marker (end, close): its bytes are all sent
      if ((this.#state & CLOSED) !== 0) return;
    }
    const io = this.#io;
    const slots = io.sendSlots;
    const send = io.takeSendState();
    const slot = queue.bytes <= slots.slotBytes ? slots.take() : NONE;
    if (slot !== NONE) {
      send.slot = slot;
      send.base = slots.address(slot);
      send.end = queue.copyTo(slots.bytes(slot));
    } else {
      const buf = io.takeBuffer();
      send.buf = buf;
      send.base = addressOf(buf.pointer);
      send.end = queue.copyTo(buf.bytes);
    }
    send.at = 0;
    this.#send = send;
    this.#submitSend(send);
  }

  /**
   * Cancels armed operations and closes the descriptor through the ring
   * (at once when the ring itself is closing). With `keepFd` the descriptor
   * stays open (detach).
   */
  close(keepFd = false): void {
    if ((this.#state & CLOSED) !== 0) return;
    this.unref();
    this.#state |= CLOSED;
    this.#held = undefined;
    const io = this.#io;
    io.join.drop(this);
    if (io.closing) {
      if (!keepFd) libc().close(this.#fd);
      return;
    }
    const uring = io.uring;
    const ignore = this.#tag | STREAM_OP.IGNORE;
    if (this.#readKind !== NONE && (this.#state & CANCELLING) === 0) uring.cancelDirect(this.#tag | this.#readKind, ignore);
    if (this.#sendKind !== NONE) uring.cancelDirect(this.#tag | this.#sendKind, ignore);
    if ((this.#state & HUP_ARMED) !== 0) uring.cancelDirect(this.#tag | STREAM_OP.HANGUP, ignore);
    if (!keepFd) uring.prepareDirect(IORING_OP.CLOSE, 0, 0, this.#fd, 0, 0, 0, 0, ignore);
    this.#releaseIfDone();
  }

  /**
   * @internal Called by the loop's dispatch with a completion of this
   * stream's operation `kind`.
   */
  complete(kind: number, res: number, flags: number): void {
    switch (kind) {
      case STREAM_OP.RECV:
        if (this.#recvBuf !== undefined) this.#onPooledRecv(res);
        else this.#onRecv(res, flags);
        break;
      case STREAM_OP.SEND:
        this.#onSent(res);
        break;
      case STREAM_OP.POLL_IN:
        this.#readKind = NONE;
        if ((this.#state & CLOSED) !== 0) break;
        if (res < 0 && res !== -ECANCELED) this.#host.failed(sysError(-res, "poll"));
        else if ((this.#state & READING) !== 0) this.#armRead(true);
        break;
      case STREAM_OP.POLL_OUT:
        this.#onPollOut(res);
        break;
      case STREAM_OP.HELD:
        this.#state &= ~HELD_QUEUED;
        if ((this.#state & CLOSED) === 0) this.#deliverHeld();
        break;
      case STREAM_OP.HANGUP:
        this.#onHangUpPoll(res, flags);
        break;
      case STREAM_OP.HANGUP_SEEN:
        this.#state &= ~HUP_QUEUED;
        this.#reportHangUp();
        break;
    }
    if ((this.#state & CLOSED) !== 0) this.#releaseIfDone();
  }

  /**
   * @internal The provided buffers ran dry while this stream's recv was
   * armed (-ENOBUFS); the loop calls this once buffers are back.
   */
  rearm(): void {
    if (this.#idleReader()) this.#armRead();
  }

  /** Reading is on, nothing is held and no input operation is armed: time to arm one. */
  #idleReader(): boolean {
    return (this.#state & (CLOSED | READING)) === READING && this.#readKind === NONE && this.#held === undefined;
  }

  /** Arms the input operation; `polled`: input is ready (old kernels: recv at once). */
  #armRead(polled = false): void {
    const io = this.#io;
    const bufs = io.buffers;
    this.#state &= ~(CANCELLING | MULTISHOT);
    if (bufs !== undefined) {
      const limit = this.#host.recvLimit();
      const tag = this.#tag | STREAM_OP.RECV;
      // Multishot only for a host that takes whatever comes: one armed for
      // a bounded host (a read() buffer, a TLS layer's input) took the
      // socket's bytes into held memory, up to every provided buffer per
      // cancel (4 MiB), where readiness I/O leaves them in the kernel.
      if (io.multishot && limit === Infinity) {
        io.uring.prepareDirect(IORING_OP.RECV, IOSQE.BUFFER_SELECT, URING.RECV_MULTISHOT, this.#fd, 0, 0, 0, 0, tag, bufs.group);
        this.#state |= MULTISHOT;
      } else {
        const len = Math.max(1, Math.min(limit, bufs.bufferBytes));
        io.uring.prepareDirect(IORING_OP.RECV, IOSQE.BUFFER_SELECT, 0, this.#fd, 0, len, 0, 0, tag, bufs.group);
      }
      this.#readKind = STREAM_OP.RECV;
    } else if (polled) {
      const buf = io.takeBuffer();
      const len = Math.max(1, Math.min(buf.byteLength, this.#host.recvLimit()));
      this.#recvBuf = buf;
      io.uring.prepareDirect(IORING_OP.RECV, 0, 0, this.#fd, addressOf(buf.pointer), len, 0, 0, this.#tag | STREAM_OP.RECV);
      this.#readKind = STREAM_OP.RECV;
    } else {
      io.uring.prepareDirect(IORING_OP.POLL_ADD, 0, 0, this.#fd, 0, 0, 0, POLLIN, this.#tag | STREAM_OP.POLL_IN);
      this.#readKind = STREAM_OP.POLL_IN;
    }
  }

  #cancelRead(): void {
    if ((this.#state & CANCELLING) !== 0) return;
    this.#state |= CANCELLING;
    const io = this.#io;
    io.uring.cancelDirect(this.#tag | this.#readKind, this.#tag | STREAM_OP.IGNORE);
    // Reading stops when pause() returns, as with readiness I/O: where the
    // kernel runs completion work at any system call of this thread
    // (COOP_TASKRUN, plain), the multishot recv would otherwise go on
    // taking the socket's bytes (to be held) until the cancel went out with
    // the next batch. The cancel wins over completion work already queued.
    if (io.eager) io.uring.ring.enter(0);
  }

  /**
   * Arms the hang-up watch: a multishot poll for POLLHUP (the kernel adds
   * POLLRDHUP, so the peer's FIN alone completes it too, with more to
   * follow; only a hang-up counts). Data arriving does not wake it, so it
   * stays armed, idle, until the connection closes. Without multishot
   * (kernels before 6.0 here) nothing watches: as before.
   */
  #watchHangUp(): void {
    const io = this.#io;
    if (!io.multishot) return;
    io.uring.prepareDirect(IORING_OP.POLL_ADD, 0, 0, this.#fd, 0, URING.POLL_ADD_MULTI, 0, POLLHUP | POLLERR, this.#tag | STREAM_OP.HANGUP);
    this.#state |= HUP_ARMED;
  }

  #onHangUpPoll(res: number, flags: number): void {
    if ((flags & CQE.F_MORE) === 0) this.#state &= ~HUP_ARMED;
    if ((this.#state & CLOSED) !== 0 || res <= 0) return; // cancelled, refused (EINVAL: reading goes on unwatched)
    if ((res & POLLHUP) === 0) {
      // The peer's FIN (POLLRDHUP) or an error without a hang-up: the receive reports those.
      if ((this.#state & HUP_ARMED) === 0 && (this.#state & READING) === 0) this.#watchHangUp();
      return;
    }
    this.#state |= HUNG_UP;
    if ((this.#state & HUP_ARMED) !== 0) {
      // Nothing more to watch for: the hang-up stays.
      this.#io.uring.cancelDirect(this.#tag | STREAM_OP.HANGUP, this.#tag | STREAM_OP.IGNORE);
    }
    this.#reportHangUp();
  }

  #queueHangUp(): void {
    if ((this.#state & HUP_QUEUED) !== 0) return;
    this.#state |= HUP_QUEUED;
    this.#io.uring.prepareDirect(IORING_OP.NOP, 0, 0, -1, 0, 0, 0, 0, this.#tag | STREAM_OP.HANGUP_SEEN);
  }

  /**
   * The peer hung up: the host is told while reading is off, as readiness
   * I/O tells it of a hang-up while it does not read, whatever still waits
   * (bytes, the end or a failure held here wait in the kernel there): the
   * connection decides from what it has seen (its end of stream, its
   * buffered bytes). A reading connection learns it from its receive (the
   * end, or ECONNRESET).
   */
  #reportHangUp(): void {
    if ((this.#state & (CLOSED | READING)) !== 0) return;
    this.#host.hungUp();
  }

  #onRecv(res: number, flags: number): void {
    const more = (flags & CQE.F_MORE) !== 0;
    if (!more) {
      this.#readKind = NONE;
      this.#state &= ~CANCELLING;
    }
    const join = this.#io.join;
    if ((flags & CQE.F_BUFFER) !== 0) {
      const bufs = this.#io.buffers!;
      const bid = flags >>> CQE.BUFFER_SHIFT;
      const full = more && res === bufs.bufferBytes;
      if (res > 0 && (this.#state & CLOSED) === 0 && (join.owner === this || (full && join.capacity >= 2 * res))) {
        // A piece that filled its buffer with the recv still armed: more
        // follows at once (the next completion), joined into one delivery.
        const error = this.#joinPiece(bufs.deliver(bid, res), full);
        bufs.recycle(bid);
        this.#recvDone(res);
        if (error !== NO_ERROR) throw error;
        return;
      }
      try {
        if (res > 0 && (this.#state & CLOSED) === 0) this.#deliver(bufs.deliver(bid, res));
      } catch (err) {
        // A handler threw (the loop's dispatch reports it): the receive is
        // still finished and reading goes on, as readiness I/O's next poll
        // would find the rest (a second throw from that wins).
        bufs.recycle(bid);
        this.#recvDone(res);
        throw err;
      }
      bufs.recycle(bid);
      this.#recvDone(res);
      return;
    }
    // The end, a failure, a cancel or ENOBUFS: behind the bytes joined.
    const error = join.owner === this ? this.#flushJoin(NO_ERROR) : NO_ERROR;
    this.#recvDone(res);
    if (error !== NO_ERROR) throw error;
  }

  /**
   * Copies `piece` (a provided buffer's bytes) to the loop's join area
   * behind this stream's bytes there (those go first when it would not
   * fit), and delivers the whole unless `more` follows at once. Returns a
   * handler's throw (or NO_ERROR), for the caller to rethrow once the
   * receive is finished.
   */
  #joinPiece(piece: Uint8Array, more: boolean): unknown {
    const join = this.#io.join;
    let error: unknown = NO_ERROR;
    if (join.owner === this && !join.fits(piece.length)) error = this.#flushJoin(error);
    if ((this.#state & CLOSED) !== 0) return error;
    join.append(this, this.#tag | STREAM_OP.RECV, piece);
    return more ? error : this.#flushJoin(error);
  }

  /** Delivers the joined bytes; returns `error`, else a handler's throw (a second one goes to the loop's onError). */
  #flushJoin(error: unknown): unknown {
    try {
      this.#io.join.flush();
    } catch (err) {
      if (error === NO_ERROR) return err;
      this.#io.loop._reportError(err);
    }
    return error;
  }

  /**
   * @internal The loop's join area delivers this stream's joined bytes
   * (see recv_join.ts), as one receive's.
   */
  deliverJoined(bytes: Uint8Array): void {
    if ((this.#state & CLOSED) === 0) this.#deliver(bytes);
  }

  /** After a receive's bytes went (buffer ring): its end, failure or next receive. */
  #recvDone(res: number): void {
    if ((this.#state & CLOSED) !== 0) return;
    if (res === 0) {
      this.#ended();
      return;
    }
    if (res < 0) {
      if (res === -ENOBUFS) {
        if (this.#readKind === NONE) this.#io.rearmLater(this);
        return;
      }
      if (res === -EINVAL && (this.#state & MULTISHOT) !== 0) this.#io.multishot = false; // refused: single-shot from now on
      else if (res !== -ECANCELED && res !== -EAGAIN && res !== -EINTR) {
        this.#recvFailed(sysError(-res, "recv"));
        return;
      }
    }
    if (this.#idleReader()) this.#armRead();
  }

  /** Without buffer rings: a recv into a pooled buffer completed. */
  #onPooledRecv(res: number): void {
    const buf = this.#recvBuf!;
    this.#recvBuf = undefined;
    this.#readKind = NONE;
    try {
      if (res > 0 && (this.#state & CLOSED) === 0) this.#deliver(buf.bytes.subarray(0, res));
    } catch (err) {
      // A handler threw: reading goes on after it (as in #onRecv).
      this.#io.giveBuffer(buf);
      this.#pooledRecvDone(res, buf.byteLength);
      throw err;
    }
    this.#io.giveBuffer(buf);
    this.#pooledRecvDone(res, buf.byteLength);
  }

  /** After a pooled receive's bytes went: its end, failure or next receive. */
  #pooledRecvDone(res: number, size: number): void {
    if ((this.#state & CLOSED) !== 0) return;
    if (res === 0) {
      this.#ended();
      return;
    }
    if (res < 0 && res !== -EAGAIN && res !== -EINTR && res !== -ECANCELED) {
      this.#recvFailed(sysError(-res, "recv"));
      return;
    }
    // A full buffer likely left more behind: receive again without polling.
    if (this.#idleReader()) this.#armRead(res === size);
  }

  /** Hands bytes to the connection, or holds them while it takes none. */
  #deliver(bytes: Uint8Array): void {
    if ((this.#state & READING) === 0 || this.#held !== undefined) {
      this.#hold(bytes);
      return;
    }
    const limit = this.#host.recvLimit();
    if (bytes.length <= limit) {
      this.#host.received(bytes);
      return;
    }
    if (limit > 0) this.#host.received(bytes.subarray(0, limit));
    if ((this.#state & CLOSED) === 0) this.#hold(bytes.subarray(limit));
  }

  #hold(bytes: Uint8Array): void {
    (this.#held ??= []).push(bytes.slice());
    if ((this.#state & MULTISHOT) !== 0 && this.#readKind === STREAM_OP.RECV) this.#cancelRead();
  }

  /**
   * The peer's FIN: reported now, or once reading is on again after the
   * bytes held (a connection that paused at the bytes before it sees it
   * only when it resumes, as with readiness I/O).
   */
  #ended(): void {
    if ((this.#state & CLOSED) !== 0) return;
    if (this.#held !== undefined || (this.#state & READING) === 0) this.#state |= END_HELD;
    else this.#host.receivedEnd();
  }

  /** A receive failed: reported now, or (as the end) after the bytes held, once reading is on. */
  #recvFailed(error: Error): void {
    if (this.#held !== undefined || (this.#state & READING) === 0) this.#heldError ??= error;
    else this.#host.failed(error);
  }

  #queueHeld(): void {
    if ((this.#state & HELD_QUEUED) !== 0) return;
    this.#state |= HELD_QUEUED;
    this.#io.uring.prepareDirect(IORING_OP.NOP, 0, 0, -1, 0, 0, 0, 0, this.#tag | STREAM_OP.HELD);
  }

  #deliverHeld(): void {
    try {
      this.#deliverHeldNow();
    } catch (err) {
      // A handler threw (the loop reports it): what is still held comes on
      // the next turn, as readiness I/O's next poll would bring it.
      if (this.#held !== undefined && (this.#state & (CLOSED | READING)) === READING) this.#queueHeld();
      throw err;
    }
  }

  #deliverHeldNow(): void {
    const held = this.#held;
    if (held !== undefined) {
      while (held.length > 0 && (this.#state & (CLOSED | READING)) === READING) {
        const chunk = held[0]!;
        const limit = this.#host.recvLimit();
        if (chunk.length <= limit) {
          held.shift();
          this.#host.received(chunk);
          continue;
        }
        if (limit <= 0) break;
        held[0] = chunk.subarray(limit);
        this.#host.received(chunk.subarray(0, limit));
      }
      if ((this.#state & CLOSED) !== 0 || held.length > 0) return;
      this.#held = undefined;
    }
    // The end or a failure behind the bytes: not while the connection paused at them.
    if ((this.#state & (CLOSED | READING)) !== READING) return;
    if ((this.#state & END_HELD) !== 0) {
      this.#state &= ~END_HELD;
      this.#host.receivedEnd();
      return;
    }
    const error = this.#heldError;
    if (error !== undefined) {
      this.#heldError = undefined;
      this.#host.failed(error);
      return;
    }
    if (this.#idleReader()) this.#armRead();
  }

  #submitSend(send: SendState): void {
    this.#io.uring.prepareDirect(
      IORING_OP.SEND, 0, 0, this.#fd, send.base + send.at, send.end - send.at, 0, C.MSG_NOSIGNAL, this.#tag | STREAM_OP.SEND,
    );
    this.#sendKind = STREAM_OP.SEND;
  }

  #onSent(res: number): void {
    this.#sendKind = NONE;
    const send = this.#send!;
    if ((this.#state & CLOSED) !== 0 || res === -ECANCELED) {
      this.#releaseSend();
      return;
    }
    if (res === -EAGAIN || res === -EINTR) {
      // A non-blocking descriptor: wait for room, then send the same bytes.
      this.#io.uring.prepareDirect(IORING_OP.POLL_ADD, 0, 0, this.#fd, 0, 0, 0, POLLOUT, this.#tag | STREAM_OP.POLL_OUT);
      this.#sendKind = STREAM_OP.POLL_OUT;
      return;
    }
    if (res < 0) {
      this.#releaseSend();
      this.#host.failed(sysError(-res, "send"));
      return;
    }
    send.at += res;
    if (send.at < send.end) this.#submitSend(send);
    else this.#releaseSend();
    this.#host.sent(res);
  }

  #onPollOut(res: number): void {
    this.#sendKind = NONE;
    if ((this.#state & CLOSED) !== 0 || res < 0) {
      this.#releaseSend();
      if ((this.#state & CLOSED) === 0 && res !== -ECANCELED) this.#host.failed(sysError(-res, "poll"));
      return;
    }
    this.#submitSend(this.#send!);
  }

  #releaseSend(): void {
    const send = this.#send;
    if (send === undefined) return;
    this.#send = undefined;
    const io = this.#io;
    if (send.slot !== NONE) io.sendSlots.give(send.slot);
    else if (send.buf !== undefined) io.giveBuffer(send.buf);
    send.slot = NONE;
    send.buf = undefined;
    io.giveSendState(send);
  }

  /** @internal The ring closed with operations still in the kernel: gives up (never frees) this stream's buffers in them. */
  abandonInFlight(): void {
    if (this.#readKind !== NONE) this.#recvBuf?.abandon();
    if (this.#sendKind !== NONE) this.#send?.buf?.abandon();
  }

  /** Once closed and nothing of ours is in the kernel: free the slot. */
  #releaseIfDone(): void {
    if (this.#readKind !== NONE || this.#sendKind !== NONE || (this.#state & (HELD_QUEUED | HUP_ARMED | HUP_QUEUED)) !== 0) return;
    if (this.#recvBuf !== undefined) {
      this.#io.giveBuffer(this.#recvBuf);
      this.#recvBuf = undefined;
    }
    this.#releaseSend();
    this.#io.detach(this.#tag >>> 3, this);
  }
}
