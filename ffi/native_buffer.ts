/**
 * NativeBuffer: malloc'd memory with a stable address, for anything that the
 * kernel, OpenSSL, zlib or a helper thread holds after a call returns.
 *
 * @module
 */
import { UseAfterCloseError } from "../core/errors.ts";
import { libc } from "./libc.ts";
import { native } from "./native.ts";
import type { Pointer } from "./types.ts";

interface Allocation {
  pointer: Pointer;
  freed: boolean;
}

// The safety net: memory whose owner was collected without free() is
// released here. The registry watches the ArrayBuffer over the memory, so a
// view that outlives the NativeBuffer keeps the memory alive.
const registry = new FinalizationRegistry<Allocation>((allocation) => {
  if (allocation.freed) return;
  allocation.freed = true;
  libc().free(allocation.pointer);
});

/**
 * Pointer-stable native memory, zero-filled, freed exactly once.
 *
 * `bytes` and `view` read and write the memory; `pointer` goes to C. After
 * `free()` every accessor throws {@link UseAfterCloseError}, and the views
 * handed out before are detached where the runtime allows it (Deno, Bun,
 * Node ≥ 22), so they read as empty instead of touching freed memory.
 *
 * @example
 * ```ts
 * import { NativeBuffer } from "./native_buffer.ts";
 * using buf = NativeBuffer.alloc(16);
 * buf.view.setUint32(0, 0xdeadbeef, true);
 * console.log(buf.bytes[0]); // 239
 * ```
 */
export class NativeBuffer {
  #allocation: Allocation;
  #buffer: ArrayBuffer;
  #bytes: Uint8Array;
  #view: DataView | undefined;
  /** Size in bytes. */
  readonly byteLength: number;

  private constructor(pointer: Pointer, byteLength: number) {
    this.byteLength = byteLength;
    this.#allocation = { pointer, freed: false };
    this.#buffer = native.view(pointer, byteLength);
    this.#bytes = new Uint8Array(this.#buffer);
    registry.register(this.#buffer, this.#allocation, this.#allocation);
  }

  /**
   * Allocates `byteLength` zeroed bytes (at least one byte is reserved).
   *
   * @example
   * ```ts
   * import { NativeBuffer } from "./native_buffer.ts";
   * const buf = NativeBuffer.alloc(64);
   * buf.free();
   * ```
   */
  static alloc(byteLength: number): NativeBuffer {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) {
      throw new RangeError(`NativeBuffer size must be a non-negative integer, got ${byteLength}`);
    }
    const pointer = libc().calloc(Math.max(1, byteLength), 1);
    if (pointer === null) throw new RangeError(`cannot allocate ${byteLength} bytes`);
    return new NativeBuffer(pointer, byteLength);
  }

  /**
   * Copies `data` into a new NativeBuffer.
   *
   * @example
   * ```ts
   * import { NativeBuffer } from "./native_buffer.ts";
   * const buf = NativeBuffer.from(new Uint8Array([1, 2, 3]));
   * console.log(buf.byteLength); // 3
   * buf.free();
   * ```
   */
  static from(data: Uint8Array): NativeBuffer {
    const buf = NativeBuffer.alloc(data.byteLength);
    buf.bytes.set(data);
    return buf;
  }

  /** Whether `free()` has run. */
  get freed(): boolean {
    return this.#allocation.freed;
  }

  /** The address, for C. */
  get pointer(): Pointer {
    this.#check();
    return this.#allocation.pointer;
  }

  /** The memory as bytes. */
  get bytes(): Uint8Array {
    this.#check();
    return this.#bytes;
  }

  /** The memory as a DataView (created on first use). */
  get view(): DataView {
    this.#check();
    return (this.#view ??= new DataView(this.#buffer));
  }

  /** A pointer `offset` bytes into the buffer (bounds-checked). */
  pointerAt(offset: number): Pointer {
    this.#check();
    if (!Number.isInteger(offset) || offset < 0 || offset > this.byteLength) {
      throw new RangeError(`offset ${offset} is outside 0..${this.byteLength}`);
    }
    return offset === 0 ? this.#allocation.pointer : native.offset(this.#allocation.pointer, offset);
  }

  /** Frees the memory; a second call does nothing. */
  free(): void {
    const a = this.#allocation;
    if (a.freed) return;
    a.freed = true;
    registry.unregister(a);
    native.detach(this.#buffer);
    libc().free(a.pointer);
  }

  /**
   * Gives the memory up for good without freeing it: for memory that the
   * kernel (an io_uring operation that outlived its ring's close) or another
   * thread may still write after its owner is done with it. For JavaScript
   * it is freed (`freed` is true, later use throws `UseAfterCloseError`,
   * `free()` does nothing) and the safety net never frees it: dropping the
   * last reference instead would let the collector free it under the
   * writer.
   *
   * @example
   * ```ts
   * import { NativeBuffer } from "./native_buffer.ts";
   * const buf = NativeBuffer.alloc(64);
   * buf.abandon(); // never returned to malloc
   * buf.free(); // no effect
   * console.log(buf.freed); // true
   * ```
   */
  abandon(): void {
    const a = this.#allocation;
    if (a.freed) return;
    a.freed = true;
    registry.unregister(a);
    native.detach(this.#buffer);
  }

  /** Same as {@link NativeBuffer.free}. */
  [Symbol.dispose](): void {
    this.free();
  }

  #check(): void {
    if (this.#allocation.freed) throw new UseAfterCloseError("NativeBuffer");
  }
}
