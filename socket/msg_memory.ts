/**
 * Native memory for the structures a `msghdr` points to (iovecs, control
 * data, payload, addresses), and the helpers that lay them out.
 *
 * A `msghdr` itself may live in a plain `Uint8Array` (it is a direct call
 * argument), but the pointers inside it must address memory that does not
 * move: that memory is a {@link MessageMemory}, grown on demand and reused
 * across calls, so steady-state sends and receives allocate nothing.
 *
 * @module
 */
import { writePointer } from "../ffi/marshal.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { LAYOUT } from "../ffi/platform.ts";
import type { Pointer } from "../ffi/types.ts";

/**
 * A growable, reusable block of native memory. `reserve(n)` returns a buffer
 * of at least `n` bytes; the previous buffer is freed when it grows, so a
 * caller must not keep pointers across `reserve` calls.
 *
 * @example
 * ```ts
 * import { MessageMemory } from "./msg_memory.ts";
 * const memory = new MessageMemory();
 * const block = memory.reserve(256);
 * console.log(block.byteLength >= 256); // true
 * memory.free();
 * ```
 */
export class MessageMemory {
  #buffer: NativeBuffer | undefined;

  /** A buffer of at least `byteLength` bytes (contents unspecified). */
  reserve(byteLength: number): NativeBuffer {
    const current = this.#buffer;
    if (current !== undefined && current.byteLength >= byteLength) return current;
    // Forget the old block before allocating: if the allocation fails, the
    // next call must not be handed freed memory.
    this.#buffer = undefined;
    current?.free();
    // Grow geometrically so a slowly growing workload reallocates rarely.
    // Growth stops at STAGING_KEEP_BYTES, so a call that needs less never
    // gets a block `trim()` would free.
    const size = Math.max(byteLength, 256, Math.min(current === undefined ? 0 : current.byteLength * 2, STAGING_KEEP_BYTES));
    const next = NativeBuffer.alloc(size);
    this.#buffer = next;
    return next;
  }

  /** Bytes held now (0 when nothing is). */
  get reservedBytes(): number {
    return this.#buffer?.byteLength ?? 0;
  }

  /**
   * Frees the memory when it holds more than `keepBytes`: a call that needed
   * a large block does not leave it held for the life of the process.
   */
  trim(keepBytes: number = STAGING_KEEP_BYTES): void {
    if (this.reservedBytes > keepBytes) this.free();
  }

  /** Frees the memory; the next `reserve` allocates again. */
  free(): void {
    this.#buffer?.free();
    this.#buffer = undefined;
  }
}

/**
 * The most native staging memory (scatter/gather, batches, descriptor
 * passing) kept between calls; a larger block is freed after its call.
 */
export const STAGING_KEEP_BYTES = 1024 * 1024;

/**
 * Rounds `n` up to the platform's control-message alignment (CMSG_ALIGN).
 *
 * @example
 * ```ts
 * import { cmsgAlign } from "./msg_memory.ts";
 * console.log(cmsgAlign(13)); // 16 on Linux x86-64
 * ```
 */
export function cmsgAlign(n: number): number {
  const a = LAYOUT.cmsghdr.align;
  return (n + a - 1) & ~(a - 1);
}

/**
 * Bytes of one control message carrying `dataBytes` of data (CMSG_SPACE).
 *
 * @example
 * ```ts
 * import { cmsgSpace } from "./msg_memory.ts";
 * console.log(cmsgSpace(4)); // 24 on Linux x86-64
 * ```
 */
export function cmsgSpace(dataBytes: number): number {
  return cmsgAlign(LAYOUT.cmsghdr.size) + cmsgAlign(dataBytes);
}

/**
 * The `cmsg_len` value for `dataBytes` of data (CMSG_LEN).
 *
 * @example
 * ```ts
 * import { cmsgLen } from "./msg_memory.ts";
 * console.log(cmsgLen(4)); // 20 on Linux x86-64
 * ```
 */
export function cmsgLen(dataBytes: number): number {
  return cmsgAlign(LAYOUT.cmsghdr.size) + dataBytes;
}

/**
 * Writes a `size_t`/`socklen_t`-style field of `size` bytes.
 *
 * @example
 * ```ts
 * import { readSize, writeSize } from "./msg_memory.ts";
 * const view = new DataView(new ArrayBuffer(8));
 * writeSize(view, 0, 8, 42);
 * console.log(readSize(view, 0, 8)); // 42
 * ```
 */
export function writeSize(view: DataView, offset: number, size: 4 | 8, value: number): void {
  if (size === 8) view.setBigUint64(offset, BigInt(value), true);
  else view.setUint32(offset, value, true);
}

/**
 * Reads a `size_t`/`socklen_t`-style field of `size` bytes.
 *
 * @example
 * ```ts
 * import { readSize } from "./msg_memory.ts";
 * console.log(readSize(new DataView(new ArrayBuffer(4)), 0, 4)); // 0
 * ```
 */
export function readSize(view: DataView, offset: number, size: 4 | 8): number {
  return size === 8 ? Number(view.getBigUint64(offset, true)) : view.getUint32(offset, true);
}

/** Where the parts of one message live, for {@link writeMsghdr}. */
export interface MsghdrParts {
  readonly name: Pointer | null;
  readonly nameLength: number;
  readonly iov: Pointer | null;
  readonly iovCount: number;
  readonly control: Pointer | null;
  readonly controlLength: number;
}

/**
 * Fills a `struct msghdr` at `offset` of `view` (flags cleared).
 *
 * @example
 * ```ts
 * import { writeMsghdr } from "./msg_memory.ts";
 * import { LAYOUT } from "../ffi/platform.ts";
 * const msg = new Uint8Array(LAYOUT.msghdr.size);
 * writeMsghdr(new DataView(msg.buffer), 0, {
 *   name: null, nameLength: 0, iov: null, iovCount: 0, control: null, controlLength: 0,
 * });
 * ```
 */
export function writeMsghdr(view: DataView, offset: number, parts: MsghdrParts): void {
  const m = LAYOUT.msghdr;
  writePointer(view, offset + m.name, parts.name);
  view.setUint32(offset + m.namelen, parts.nameLength, true);
  writePointer(view, offset + m.iov, parts.iov);
  writeSize(view, offset + m.iovlen, m.iovlenSize, parts.iovCount);
  writePointer(view, offset + m.control, parts.control);
  writeSize(view, offset + m.controllen, m.controllenSize, parts.controlLength);
  view.setInt32(offset + m.flags, 0, true);
}

/**
 * Fills one `struct iovec` at `offset` of `view`.
 *
 * @example
 * ```ts
 * import { writeIovec } from "./msg_memory.ts";
 * import { NativeBuffer } from "../ffi/native_buffer.ts";
 * using data = NativeBuffer.alloc(64);
 * using iov = NativeBuffer.alloc(16);
 * writeIovec(iov.view, 0, data.pointer, 64);
 * ```
 */
export function writeIovec(view: DataView, offset: number, base: Pointer, length: number): void {
  writePointer(view, offset + LAYOUT.iovec.base, base);
  writeSize(view, offset + LAYOUT.iovec.len, 8, length);
}
