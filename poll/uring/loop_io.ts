/**
 * The io_uring of a {@link Loop}: one {@link LoopUring} per loop, made on
 * first use by an io_uring listener or connection and closed by
 * `loop.close()`. It owns what the loop's connections share:
 *
 * - the ring, set up with cooperative task running (5.19+: no interrupt
 *   per completion), else plain; "defer" (single issuer, completion work
 *   deferred to our own io_uring_enter, 6.1+) only when asked for, see
 *   {@link UringSetup};
 * - a provided-buffer ring that every multishot recv draws from (5.19+), so
 *   idle connections hold no buffer;
 * - small send slots and a pool of large buffers for sends;
 * - the join area (recv_join.ts): a connection's receive completions that
 *   come back to back (a read larger than one provided buffer) reach it
 *   as one delivery, as one recv(2) of readiness I/O brings them;
 * - the dispatch table: each stream has a slot, its operations carry
 *   `slot << 3 | kind` as user_data, and completions are routed without a
 *   closure or a map entry per operation.
 *
 * @example
 * ```ts
 * import { Loop } from "../loop.ts";
 * import { loopUring } from "./loop_io.ts";
 * const loop = new Loop();
 * const io = loopUring(loop);
 * const buf = io.takeBuffer();
 * io.giveBuffer(buf);
 * loop.close(); // closes the ring too
 * ```
 *
 * @module
 */
import { SocketError } from "../../core/errors.ts";
import { native } from "../../ffi/native.ts";
import { NativeBuffer } from "../../ffi/native_buffer.ts";
import { E } from "../../ffi/platform.ts";
import type { Loop } from "../loop.ts";
import { ProvidedBuffers } from "./buffer_ring.ts";
import { UringLoop } from "./loop_glue.ts";
import { chooseAsyncIo, markUringUnavailable } from "./probe.ts";
import { ReceiveJoin } from "./recv_join.ts";
import { SendSlots } from "./send_slots.ts";
import { type SendState, STREAM_OP, type UringStream } from "./stream.ts";
import { CQE, URING } from "./uapi.ts";

/** Bytes of each pooled buffer: the most one send (or a recv without buffer rings) moves. */
export const URING_BUFFER_BYTES = 64 * 1024;
/** Free buffers kept for reuse (up to 2 MiB, only after a burst of large sends); more are freed when given back. */
const POOL_KEEP = 32;
/**
 * SQ entries of a loop's ring (submissions batch per tick; a fuller batch
 * is submitted early). 256 × 64 B of SQEs.
 */
const SQ_ENTRIES = 256;
/**
 * CQ entries: the completions one reap takes from the shared ring (4096 ×
 * 16 B = 64 KiB, mapped and resident from the start). More in one burst
 * (thousands of connections receiving at once) wait in the kernel's
 * overflow list (IORING_FEAT_NODROP, 5.5+) and are flushed by the next
 * io_uring_enter; promise operations in flight are bounded by it too (the
 * rest wait in a backlog). 65536 entries held 1 MiB per loop.
 */
const CQ_ENTRIES = 4096;
/** Group id of the provided-buffer ring. */
const BUFFER_GROUP = 0;
/**
 * Provided buffers the kernel gets at first, and the fewest added when
 * they run dry (then one for each receive that ran dry in that reap): the
 * buffers follow the most receives in flight, not `recvBuffers` (50
 * connections of 16 KiB WebSocket messages settle at 104–114 of 256).
 */
const RECV_BUFFERS_AT_FIRST = 8;
/** Small send slots, and their bytes (larger sends borrow a pooled buffer). */
const SEND_SLOTS = 1024;
const SEND_SLOT_BYTES = 2048;

/**
 * How the ring runs completion work: "coop" (COOP_TASKRUN, 5.19+; the
 * default), "defer" (SINGLE_ISSUER + DEFER_TASKRUN, 6.1+), "basic".
 *
 * A loop waits for the ring through its eventfd (a parked wait is another
 * thread's epoll_wait, which may not enter a single-issuer ring). With
 * DEFER_TASKRUN the kernel sets SQ_TASKRUN at once but signals the eventfd
 * late: 26–160 ms after a peer's write here (Linux 6.18), so a wait for a
 * peer stalls (a 50-connection WebSocket echo at ~4.5k msg/s instead of
 * 29–53k). With COOP_TASKRUN and "basic" the eventfd is readable before
 * the peer's write returns.
 *
 * In exchange, under "coop" and "basic" the kernel runs completion work at
 * any system call of the loop's thread, not only inside the loop's own
 * io_uring_enter ({@link LoopUring.eager}): a pause's cancel goes to the
 * kernel at once (else the multishot recv goes on taking the socket's
 * bytes), and listeners accept with accept(2) on the loop's turns (an armed
 * accept would take connections, and descriptors, while the application
 * runs), so both behave as with readiness I/O and "defer".
 *
 * @example
 * ```ts
 * import type { UringSetup } from "./loop_io.ts";
 * const setup: UringSetup = "defer";
 * ```
 */
export type UringSetup = "defer" | "coop" | "basic";

const SETUP_FLAGS: Record<UringSetup, number> = {
  defer: URING.SETUP_SUBMIT_ALL | URING.SETUP_SINGLE_ISSUER | URING.SETUP_DEFER_TASKRUN | URING.SETUP_TASKRUN_FLAG,
  coop: URING.SETUP_SUBMIT_ALL | URING.SETUP_COOP_TASKRUN | URING.SETUP_TASKRUN_FLAG,
  basic: 0,
};
/** What `loopUring` tries, in order, from the requested setup on. */
const FALLBACK: Record<UringSetup, UringSetup[]> = { defer: ["defer", "basic"], coop: ["coop", "basic"], basic: ["basic"] };

/**
 * Options of a loop's ring; they apply when the ring is made (the first
 * {@link loopUring} call for a loop).
 *
 * @example
 * ```ts
 * import type { LoopUringOptions } from "./loop_io.ts";
 * const small: LoopUringOptions = { recvBuffers: 4, recvBufferBytes: 4096 };
 * ```
 */
export interface LoopUringOptions {
  /** SQ entries of the ring (default 256). */
  entries?: number;
  /**
   * CQ entries of the ring (default 4096; at least `entries`). A burst of
   * more completions waits in the kernel's overflow list for the next reap.
   */
  cqEntries?: number;
  /** The setup to try (default `FFINET_URING_SETUP` from the environment, else "coop"; "basic" is tried when refused). */
  setup?: UringSetup;
  /** Use a provided-buffer ring for recv (default true; false: poll, then recv into a pooled buffer). */
  providedBuffers?: boolean;
  /** Multishot recv (default true; false: one recv armed after each completion). */
  multishot?: boolean;
  /** Buffers in the provided-buffer ring (a power of two, default 256). */
  recvBuffers?: number;
  /**
   * Of those, how many the kernel gets at first (default 8 = 128 KiB, at most
   * `recvBuffers`); each time they run dry the ring gets one more for each
   * receive that ran dry (at least 8), up to `recvBuffers`. Buffers are
   * mapped only when the kernel gets them, and every one it gets is written
   * to in turn and stays resident, so a loop that never has many receives
   * in flight keeps its buffer memory small (on Bun also its collector's
   * pacing: see buffer_ring.ts).
   */
  recvBuffersAtFirst?: number;
  /** Bytes per provided buffer (default 16 KiB). */
  recvBufferBytes?: number;
}

/**
 * A loop's ring with its shared buffers and stream dispatch.
 *
 * @example
 * ```ts
 * import { Loop } from "../loop.ts";
 * import { loopUring } from "./loop_io.ts";
 * const loop = new Loop();
 * console.log(loopUring(loop) === loopUring(loop)); // true
 * loop.close();
 * ```
 */
export class LoopUring extends UringLoop {
  /** The setup the kernel accepted. */
  readonly setup: UringSetup;
  /**
   * Whether the kernel runs this ring's completion work at any system call
   * of the loop's thread ("coop", "basic"), not only inside the loop's own
   * io_uring_enter ("defer"): an armed recv takes bytes, an armed accept
   * takes a connection (and a descriptor) while the application runs, so
   * a cancel that must stop them goes to the kernel at once.
   */
  readonly eager: boolean;
  /** The provided-buffer ring (undefined where refused or turned off). */
  readonly buffers: ProvidedBuffers | undefined;
  /** Whether recvs are multishot (turned off when the kernel refuses one). */
  multishot: boolean;
  /** Slots for small sends. */
  readonly sendSlots: SendSlots;
  /** @internal Where a stream's back-to-back receive completions are joined (flushed before any other completion and at the end of each reap). */
  readonly join: ReceiveJoin = new ReceiveJoin();
  readonly #free: NativeBuffer[] = [];
  #lent = 0;
  readonly #streams: (UringStream | undefined)[] = [];
  readonly #freeSlots: number[] = [];
  #rearm: UringStream[] = [];
  #exhausted = 0;
  readonly #sendStates: SendState[] = [];

  /** @internal Use {@link loopUring}. */
  constructor(loop: Loop, options: LoopUringOptions = {}, setup: UringSetup = "basic") {
    super(loop, { entries: options.entries ?? SQ_ENTRIES, cqEntries: options.cqEntries ?? CQ_ENTRIES, submit: "microtask", closeWithLoop: true, setupFlags: SETUP_FLAGS[setup] });
    this.setup = setup;
    this.eager = setup !== "defer";
    let buffers: ProvidedBuffers | undefined;
    if (options.providedBuffers ?? true) {
      try {
        const count = options.recvBuffers ?? 256;
        const atFirst = options.recvBuffersAtFirst ?? Math.min(RECV_BUFFERS_AT_FIRST, count);
        buffers = ProvidedBuffers.register(this.uring.ring, BUFFER_GROUP, count, options.recvBufferBytes ?? 16 * 1024, atFirst);
      } catch (err) {
        if (err instanceof RangeError) {
          super.close();
          throw err;
        }
        buffers = undefined; // before 5.19: poll, then recv into a pooled buffer
      }
    }
    this.buffers = buffers;
    this.multishot = buffers !== undefined && (options.multishot ?? true);
    this.sendSlots = new SendSlots(SEND_SLOTS, SEND_SLOT_BYTES);
    this.uring.setDirectSink(this.#dispatch, this.#afterReap);
  }

  /** Buffers lent out now (each in a recv or send the kernel has). */
  get buffersLent(): number {
    return this.#lent;
  }

  /** Buffers kept for reuse. */
  get buffersFree(): number {
    return this.#free.length;
  }

  /** Streams with a dispatch slot (open, or closed with operations still in the kernel). */
  get streams(): number {
    return this.#streams.length - this.#freeSlots.length;
  }

  /** Borrows a {@link URING_BUFFER_BYTES}-byte native buffer. */
  takeBuffer(): NativeBuffer {
    this.#lent++;
    return this.#free.pop() ?? NativeBuffer.alloc(URING_BUFFER_BYTES);
  }

  /** Returns a buffer once no operation uses it any more. */
  giveBuffer(buf: NativeBuffer): void {
    this.#lent--;
    if (this.closed || this.#free.length >= POOL_KEEP) buf.free();
    else this.#free.push(buf);
  }

  /** @internal A send state from the pool (a stream holds one only while sending). */
  takeSendState(): SendState {
    return this.#sendStates.pop() ?? { slot: -1, buf: undefined, base: 0, at: 0, end: 0 };
  }

  /** @internal Returns a send state to the pool. */
  giveSendState(send: SendState): void {
    if (this.#sendStates.length < 4096) this.#sendStates.push(send);
  }

  /** @internal Gives `stream` a dispatch slot. */
  attach(stream: UringStream): number {
    const slot = this.#freeSlots.pop();
    if (slot !== undefined) {
      this.#streams[slot] = stream;
      return slot;
    }
    this.#streams.push(stream);
    return this.#streams.length - 1;
  }

  /** @internal Frees `stream`'s slot (its last completion is in). */
  detach(slot: number, stream: UringStream): void {
    if (this.#streams[slot] !== stream) return;
    this.#streams[slot] = undefined;
    this.#freeSlots.push(slot);
  }

  /** Receives re-armed after the provided buffers ran dry (-ENOBUFS). */
  get buffersExhausted(): number {
    return this.#exhausted;
  }

  /** @internal Re-arms `stream`'s recv once the provided buffers are back. */
  rearmLater(stream: UringStream): void {
    this.#exhausted++;
    this.#rearm.push(stream);
  }

  /** Closes the ring, then frees the provided buffers and send slots (leaked instead while the kernel may still write to them); later calls do nothing. */
  override close(): void {
    if (this.closed) return;
    super.close();
    if (!this.closed) return; // inside a reap: closed again once it is over
    // Still in the kernel after the ring's close budget: leak rather than
    // unmap what the kernel may write.
    // Buffers and slots in those operations are given up (abandoned), not
    // dropped: the collector would free them under the kernel.
    const leak = this.uring.directPending > 0;
    this.buffers?.close(leak);
    if (leak) {
      this.sendSlots.abandon();
      for (const stream of this.#streams) stream?.abandonInFlight();
    } else this.sendSlots.close();
    for (const buf of this.#free.splice(0)) buf.free();
    this.#streams.length = 0;
    this.#freeSlots.length = 0;
    this.#rearm = [];
  }

  #dispatch = (tag: number, res: number, flags: number): void => {
    // Joined bytes go before any other completion: callbacks keep the order of the completions.
    if (this.join.owner !== undefined && tag !== this.join.tag) this.#flushJoin();
    const kind = tag & 7;
    if (kind === STREAM_OP.IGNORE) return;
    const stream = this.#streams[tag >>> 3];
    if (stream !== undefined) stream.complete(kind, res, flags);
    else if ((flags & CQE.F_BUFFER) !== 0) this.buffers?.recycle(flags >>> CQE.BUFFER_SHIFT);
  };

  /** Delivers the joined bytes; a handler's throw goes to the loop's onError, as a completion callback's does. */
  #flushJoin(): void {
    try {
      this.join.flush();
    } catch (err) {
      this.loop._reportError(err);
    }
  }

  #afterReap = (): void => {
    this.#flushJoin();
    if (this.#rearm.length === 0) return;
    // Receives ran dry this reap: the kernel gets a buffer more for each
    // (at least RECV_BUFFERS_AT_FIRST), once per reap.
    this.buffers?.grow(Math.max(RECV_BUFFERS_AT_FIRST, this.#rearm.length));
    const streams = this.#rearm;
    this.#rearm = [];
    for (const stream of streams) stream.rearm();
  };
}

const rings = new WeakMap<Loop, LoopUring>();
const EINVAL = E.EINVAL ?? 22;

/**
 * The ring of `loop`, created on first use with `options` (throws where
 * io_uring is refused; callers choose with `chooseAsyncIo()` first). The
 * setup ({@link UringSetup}: `options.setup`, else `FFINET_URING_SETUP`,
 * else "coop") falls back to "basic" when the kernel refuses the flags
 * (EINVAL).
 *
 * @example
 * ```ts
 * import { Loop } from "../loop.ts";
 * import { loopUring } from "./loop_io.ts";
 * const loop = new Loop();
 * await loopUring(loop).uring.nop();
 * loop.close();
 * ```
 */
export function loopUring(loop: Loop, options: LoopUringOptions = {}): LoopUring {
  let io = rings.get(loop);
  if (io !== undefined && !io.closed) return io;
  const requested = options.setup ?? ((native.env("FFINET_URING_SETUP") || undefined) as UringSetup | undefined) ?? "coop";
  const setups = Object.hasOwn(FALLBACK, requested) ? FALLBACK[requested] : undefined;
  if (setups === undefined) throw new TypeError(`setup must be "defer", "coop" or "basic", got ${String(requested)}`);
  for (let i = 0; ; i++) {
    try {
      io = new LoopUring(loop, options, setups[i]!);
      break;
    } catch (err) {
      if (i === setups.length - 1 || (err as { errno?: number }).errno !== EINVAL) throw err;
    }
  }
  rings.set(loop, io);
  return io;
}

/**
 * What the kernel answers when it will not make a loop's ring (or map it,
 * or register its eventfd) although the probe's small ring worked: ENOMEM
 * where rings count against RLIMIT_MEMLOCK (before Linux 5.12), EPERM or
 * EACCES from a filter that looks at the arguments, and the rest of a
 * refusal. Anything else (a closed loop, EMFILE) is not a reason to give
 * io_uring up.
 */
const REFUSALS = new Set(["ENOMEM", "EPERM", "EACCES", "ENOSYS", "EINVAL", "EOPNOTSUPP"]);

/**
 * The ring a listener or connection on `loop` uses, or undefined for
 * readiness I/O: io_uring when `option`, else `FFINET_IO`, else the
 * default (Linux 6.1+) wants it and the kernel allows it
 * ({@link chooseAsyncIo}). Where the kernel refuses
 * the loop's ring although the probe passed, the answer is readiness too,
 * and io_uring counts as unavailable in this process from then on (the
 * probe's `uringUnavailableReason()` says why), as where the probe itself
 * failed: asking for io_uring never fails a connection.
 *
 * @example
 * ```ts
 * import { Loop } from "../loop.ts";
 * import { loopIoFor } from "./loop_io.ts";
 * const loop = new Loop();
 * console.log(loopIoFor(loop, "readiness")); // undefined
 * console.log(loopIoFor(loop) !== undefined); // true on Linux 6.1+ where io_uring is allowed
 * loop.close();
 * ```
 */
export function loopIoFor(loop: Loop, option?: "uring" | "readiness"): LoopUring | undefined {
  if (chooseAsyncIo(option) !== "io_uring") return undefined;
  try {
    return loopUring(loop);
  } catch (err) {
    if (!(err instanceof SocketError) || !REFUSALS.has(err.code)) throw err;
    markUringUnavailable(err.message);
    return undefined;
  }
}
