/**
 * The io_uring of a {@link Loop}: one {@link UringLoop} per loop, made on
 * first use by an io_uring listener or connection and closed by
 * `loop.close()`, plus the pool of native buffers that recv and send
 * operations borrow while they are in the kernel. Idle connections hold no
 * buffer: they wait with a poll operation and borrow one only to receive.
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
import { NativeBuffer } from "../../ffi/native_buffer.ts";
import type { Loop } from "../loop.ts";
import { UringLoop } from "./loop_glue.ts";

/** Bytes of each pooled buffer: the most one recv or send moves. */
export const URING_BUFFER_BYTES = 64 * 1024;
/** Free buffers kept for reuse; more are freed when given back. */
const POOL_KEEP = 32;
/** SQ entries of a loop's ring (submissions batch per tick). */
const SQ_ENTRIES = 1024;
/** CQ entries: the operations in flight at once (one poll per idle connection). */
const CQ_ENTRIES = 65536;

/**
 * A loop's ring with its buffer pool.
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
  readonly #free: NativeBuffer[] = [];
  #lent = 0;

  /** @internal Use {@link loopUring}. */
  constructor(loop: Loop) {
    super(loop, { entries: SQ_ENTRIES, cqEntries: CQ_ENTRIES, submit: "microtask", closeWithLoop: true });
  }

  /** Buffers lent out now (each in a recv or send the kernel has). */
  get buffersLent(): number {
    return this.#lent;
  }

  /** Buffers kept for reuse. */
  get buffersFree(): number {
    return this.#free.length;
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

  override close(): void {
    if (this.closed) return;
    super.close();
    for (const buf of this.#free.splice(0)) buf.free();
  }
}

const rings = new WeakMap<Loop, LoopUring>();

/**
 * The ring of `loop`, created on first use (throws where io_uring is
 * refused; callers choose with `chooseAsyncIo()` first).
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
export function loopUring(loop: Loop): LoopUring {
  let io = rings.get(loop);
  if (io === undefined || io.closed) {
    io = new LoopUring(loop);
    rings.set(loop, io);
  }
  return io;
}
