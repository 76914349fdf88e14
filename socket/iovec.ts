/**
 * Scatter/gather I/O (sendmsg/recvmsg with an iovec array) for JavaScript
 * buffers. The iovecs must point at memory that does not move, so the data
 * is staged in one reusable native block: gathered bytes are copied in
 * before sendmsg, scattered bytes copied out after recvmsg. The block grows
 * on demand and is reused, so steady-state calls allocate nothing.
 *
 * @example
 * ```ts
 * import { ScatterGather } from "./iovec.ts";
 * import { Socket } from "./socket.ts";
 * const sg = new ScatterGather();
 * const [a, b] = Socket.pair();
 * const header = new Uint8Array([0, 3]), body = new TextEncoder().encode("abc");
 * console.log(sg.send(a.fd, [header, body], 0)); // 5: one sendmsg
 * sg.free();
 * a.close(); b.close();
 * ```
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { writePointer } from "../ffi/marshal.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { LAYOUT } from "../ffi/platform.ts";
import { STAGING_KEEP_BYTES, writeSize } from "./msg_memory.ts";

/**
 * The most buffers in one call (IOV_MAX on Linux and macOS).
 *
 * @example
 * ```ts
 * import { MAX_IOVECS } from "./iovec.ts";
 * console.log(MAX_IOVECS); // 1024
 * ```
 */
export const MAX_IOVECS = 1024;

const IOV = LAYOUT.iovec;
const MSG = LAYOUT.msghdr;

/**
 * A reusable staging area for sendmsg/recvmsg with several buffers.
 *
 * @example
 * ```ts
 * import { ScatterGather } from "./iovec.ts";
 * using sg = new ScatterGather();
 * ```
 */
export class ScatterGather {
  #block: NativeBuffer | undefined;
  /** Where the last `send` staged its bytes in the block, and how many (for `sendRest`). */
  #stagedAt = 0;
  #staged = -1;
  readonly #msghdr = new Uint8Array(MSG.size);
  readonly #msgView = new DataView(this.#msghdr.buffer);

  #prepare(buffers: readonly Uint8Array[]): { block: NativeBuffer; total: number } {
    if (!Array.isArray(buffers)) throw new TypeError("buffers must be an array of Uint8Array");
    const count = buffers.length;
    if (count > MAX_IOVECS) throw new RangeError(`${count} buffers exceed the limit of ${MAX_IOVECS} per call`);
    let total = 0;
    for (const b of buffers) {
      if (!(b instanceof Uint8Array)) throw new TypeError("buffers must be an array of Uint8Array");
      total += b.byteLength;
    }
    const need = count * IOV.size + total;
    let block = this.#block;
    if (block === undefined || block.byteLength < need) {
      // Forget the old block first: after a failed allocation the next call
      // must allocate again, not use freed memory.
      this.#block = undefined;
      block?.free();
      // Growth stops at STAGING_KEEP_BYTES: a call that needs less never gets a block `trim()` frees.
      block = NativeBuffer.alloc(Math.max(need, 4096, Math.min((block?.byteLength ?? 0) * 2, STAGING_KEEP_BYTES)));
      this.#block = block;
    }
    const view = block.view;
    let data = count * IOV.size;
    for (let i = 0; i < count; i++) {
      const len = buffers[i]!.byteLength;
      writePointer(view, i * IOV.size + IOV.base, block.pointerAt(data));
      writeSize(view, i * IOV.size + IOV.len, 8, len);
      data += len;
    }
    const mv = this.#msgView;
    this.#msghdr.fill(0);
    writePointer(mv, MSG.iov, block.pointer);
    writeSize(mv, MSG.iovlen, MSG.iovlenSize, count);
    return { block, total };
  }

  /**
   * Gathers `buffers` into one sendmsg on `fd`. Returns sendmsg's result
   * (bytes sent, or -1 with errno set).
   */
  send(fd: number, buffers: readonly Uint8Array[], flags: number): number {
    this.#staged = -1;
    const { block, total } = this.#prepare(buffers);
    const bytes = block.bytes;
    const start = buffers.length * IOV.size;
    let data = start;
    for (const b of buffers) {
      bytes.set(b, data);
      data += b.byteLength;
    }
    this.#stagedAt = start;
    this.#staged = total;
    return libc().sendmsg(fd, this.#msghdr, flags);
  }

  /**
   * Sends what the last {@link ScatterGather.send} staged, from byte
   * `offset` on, without copying it again (after a partial send). Returns
   * sendmsg's result.
   *
   * @throws RangeError when nothing is staged or `offset` is outside it
   */
  sendRest(fd: number, offset: number, flags: number): number {
    const block = this.#block;
    if (block === undefined || this.#staged < 0) throw new RangeError("nothing is staged: call send() first");
    if (!Number.isInteger(offset) || offset < 0 || offset > this.#staged) {
      throw new RangeError(`offset must be an integer in 0..${this.#staged}, got ${offset}`);
    }
    // One iovec over the staged bytes that are left (they are contiguous).
    const view = block.view;
    writePointer(view, IOV.base, block.pointerAt(this.#stagedAt + offset));
    writeSize(view, IOV.len, 8, this.#staged - offset);
    writeSize(this.#msgView, MSG.iovlen, MSG.iovlenSize, 1);
    return libc().sendmsg(fd, this.#msghdr, flags);
  }

  /**
   * One recvmsg on `fd`, scattered into `buffers` in order. Returns
   * recvmsg's result (bytes received, 0 at end of stream, or -1 with errno
   * set).
   */
  recv(fd: number, buffers: readonly Uint8Array[], flags: number): number {
    this.#staged = -1;
    const { block } = this.#prepare(buffers);
    const n = libc().recvmsg(fd, this.#msghdr, flags);
    if (n <= 0) return n;
    const bytes = block.bytes;
    let data = buffers.length * IOV.size;
    let left = n;
    for (const b of buffers) {
      if (left === 0) break;
      const take = Math.min(left, b.byteLength);
      b.set(bytes.subarray(data, data + take));
      data += b.byteLength;
      left -= take;
    }
    return n;
  }

  /** Bytes of the native block held now (0 when none is). */
  get reservedBytes(): number {
    return this.#block?.byteLength ?? 0;
  }

  /** Frees the block when it is larger than `keepBytes` (after a call that needed a large one). */
  trim(keepBytes: number = STAGING_KEEP_BYTES): void {
    if (this.reservedBytes > keepBytes) this.free();
  }

  /** Frees the native block (the next call allocates again). */
  free(): void {
    this.#staged = -1;
    this.#block?.free();
    this.#block = undefined;
  }

  /** Same as {@link ScatterGather.free}. */
  [Symbol.dispose](): void {
    this.free();
  }
}
