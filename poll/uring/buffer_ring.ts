/**
 * `ProvidedBuffers`: a provided-buffer ring (IORING_REGISTER_PBUF_RING,
 * Linux 5.19+). The kernel picks a buffer from it when data arrives for a
 * recv submitted with IOSQE_BUFFER_SELECT, and names it in the CQE (the
 * buffer id in the upper 16 bits of `cqe->flags`). So a connection waiting
 * for input holds no memory of its own: all of them share these buffers,
 * and each buffer goes back to the ring (`recycle`) as soon as its bytes
 * were handed over, visible to the kernel at once.
 *
 * Layout: one small anonymous mapping holds the ring entries (page-aligned,
 * as the kernel requires); the buffers live in chunks, one mapping per
 * {@link ProvidedBuffers.grow}, each with a small delivery area behind its
 * buffers. Small payloads are copied into their chunk's delivery area and
 * handed out as a cached view of their length (`deliver`), so a message
 * costs no allocation.
 *
 * The buffers follow demand: `register` hands the kernel `initial` of the
 * `count` buffers, and `grow(n)` maps and hands it n more when they ran
 * dry (a recv ended with ENOBUFS). Every buffer the kernel gets is written
 * to in turn, so it becomes resident; and each chunk is seen from
 * JavaScript as an ArrayBuffer, whose bytes JavaScriptCore (Bun) counts in
 * the heap size that paces its collections (see send_slots.ts). Mapping
 * only what was handed over keeps both to the most a loop had in flight,
 * not `count`: one mapping of all 256 × 16 KiB made a Bun server of 16 KiB
 * WebSocket messages collect over a larger young generation, at a cost
 * per message (README "Large reads").
 *
 * @example
 * ```ts
 * import { Ring } from "./ring.ts";
 * import { ProvidedBuffers } from "./buffer_ring.ts";
 * const ring = Ring.open({ entries: 8 });
 * const bufs = ProvidedBuffers.register(ring, 0, 16, 4096);
 * console.log(bufs.count, bufs.bufferBytes); // 16 4096
 * bufs.close();
 * ring.close();
 * ```
 *
 * @module
 */
import { SocketError } from "../../core/errors.ts";
import { sysError } from "../../core/sys_error.ts";
import { denseSlots } from "../../core/dense_slots.ts";
import { libc } from "../../ffi/libc.ts";
import { native } from "../../ffi/native.ts";
import { NativeBuffer } from "../../ffi/native_buffer.ts";
import { C } from "../../ffi/platform.ts";
import type { Pointer } from "../../ffi/types.ts";
import { addressOf, type Ring } from "./ring.ts";
import { URING } from "./uapi.ts";

const PAGE = 4096;
const MAP_FAILED = 0xffffffffffffffffn;
/**
 * Payloads up to this size are copied to the delivery area (cached views, no allocation).
 *
 * @example
 * ```ts
 * import { DELIVERY_BYTES } from "./buffer_ring.ts";
 * console.log(DELIVERY_BYTES); // 2048
 * ```
 */
export const DELIVERY_BYTES = 2048;

interface Mapping {
  pointer: Pointer;
  length: number;
  released: boolean;
  /** The ring the buffers are registered with. */
  ring: Ring;
}

/** Buffers `first`..`first + n - 1` in one mapping, its delivery area behind them. */
interface Chunk {
  readonly first: number;
  readonly mapping: Mapping;
  readonly buffer: ArrayBuffer;
  readonly all: Uint8Array;
  /** Address of the chunk's first buffer. */
  readonly address: number;
  /** Byte offset of the delivery area in the chunk. */
  readonly delivery: number;
  /** Views of the delivery area's first n bytes, made on first use. */
  readonly views: (Uint8Array | undefined)[];
}

function map(length: number, ring: Ring): Mapping {
  const p = libc().mmap(null, length, C.PROT_READ | C.PROT_WRITE, C.MAP_PRIVATE | C.MAP_ANONYMOUS, -1, 0);
  if (p === null || native.address(p) === MAP_FAILED) throw sysError(native.errno(), "mmap");
  return { pointer: p, length, released: false, ring };
}

function unmap(m: Mapping): void {
  if (m.released) return;
  m.released = true;
  libc().munmap(m.pointer, m.length);
}

// The safety net for buffers dropped without close(); never the plan. While
// their ring is open the kernel may still write into them (a receive armed
// with this group): then the memory stays mapped for good.
const registry = new FinalizationRegistry<Mapping>((m) => {
  if (m.ring.closed) unmap(m);
});

/**
 * A provided-buffer ring registered with one {@link Ring}.
 *
 * @example
 * ```ts
 * import { Ring } from "./ring.ts";
 * import { ProvidedBuffers } from "./buffer_ring.ts";
 * using ring = Ring.open({ entries: 8 });
 * using bufs = ProvidedBuffers.register(ring, 1, 8, 2048);
 * bufs.recycle(3); // buffer 3 goes back to the kernel
 * ```
 */
export class ProvidedBuffers {
  /** The buffer group id (`sqe->buf_group`). */
  readonly group: number;
  /** Number of buffers (a power of two): the most the kernel is given. */
  readonly count: number;
  /** Bytes per buffer. */
  readonly bufferBytes: number;
  readonly #ring: Ring;
  /** The ring entries' mapping. */
  readonly #mapping: Mapping;
  readonly #buffer: ArrayBuffer;
  readonly #entries: DataView;
  readonly #tailCell: Uint16Array;
  readonly #mask: number;
  /** Our tail: entries written (each published at once). */
  #tail = 0;
  /** The chunks of buffers mapped so far, and each buffer's chunk index. */
  readonly #chunks: Chunk[] = [];
  readonly #chunkOf: Uint16Array;
  /** Buffers handed to the kernel so far (ids 0..given-1, all mapped). */
  #given = 0;
  #closed = false;

  private constructor(ring: Ring, group: number, count: number, bufferBytes: number) {
    this.#ring = ring;
    this.group = group;
    this.count = count;
    this.bufferBytes = bufferBytes;
    const length = Math.ceil((count * URING.BUF_SIZE) / PAGE) * PAGE;
    this.#mapping = map(length, ring);
    this.#buffer = native.view(this.#mapping.pointer, length);
    this.#entries = new DataView(this.#buffer, 0, length);
    this.#tailCell = new Uint16Array(this.#buffer, URING.BUF_RING_TAIL, 1);
    this.#mask = count - 1;
    this.#chunkOf = new Uint16Array(count);
    registry.register(this, this.#mapping, this.#mapping);
  }

  /**
   * Maps the ring of `count` entries and registers it as group `group` of
   * `ring`; the first `initial` buffers of `bufferBytes` (default: all) are
   * mapped and handed to the kernel, the others by {@link ProvidedBuffers.grow}.
   *
   * @throws {SocketError} EINVAL/ENOSYS where the kernel lacks buffer rings (before 5.19); ENOMEM when the buffers cannot be mapped.
   * @throws {RangeError} for a count that is not a power of two, or `initial` outside 1..count.
   *
   * @example
   * ```ts
   * import { Ring } from "./ring.ts";
   * import { ProvidedBuffers } from "./buffer_ring.ts";
   * using ring = Ring.open({ entries: 8 });
   * using bufs = ProvidedBuffers.register(ring, 0, 64, 16384, 16);
   * console.log(bufs.given); // 16
   * ```
   */
  static register(ring: Ring, group: number, count: number, bufferBytes: number, initial: number = count): ProvidedBuffers {
    if (!Number.isInteger(count) || count < 1 || count > URING.MAX_BUF_RING_ENTRIES || (count & (count - 1)) !== 0) {
      throw new RangeError(`count must be a power of two in 1..${URING.MAX_BUF_RING_ENTRIES}, got ${count}`);
    }
    if (!Number.isInteger(initial) || initial < 1 || initial > count) throw new RangeError(`initial must be in 1..${count}, got ${initial}`);
    if (!Number.isInteger(bufferBytes) || bufferBytes < 1 || bufferBytes > 0x7fffffff) {
      throw new RangeError(`bufferBytes must be a positive integer, got ${bufferBytes}`);
    }
    if (!Number.isInteger(group) || group < 0 || group > 0xffff) throw new RangeError(`group must be in 0..65535, got ${group}`);
    const bufs = new ProvidedBuffers(ring, group, count, bufferBytes);
    const reg = NativeBuffer.alloc(URING.BUF_REG_SIZE);
    try {
      reg.view.setBigUint64(0, BigInt(addressOf(bufs.#mapping.pointer)), true);
      reg.view.setUint32(8, count, true);
      reg.view.setUint16(12, group, true);
      ring.register(URING.REGISTER_PBUF_RING, reg.pointer, 1);
      bufs.#addChunk(initial);
    } catch (err) {
      bufs.close();
      throw err;
    } finally {
      reg.free();
    }
    return bufs;
  }

  /** Buffers handed to the kernel so far (at most {@link ProvidedBuffers.count}). */
  get given(): number {
    return this.#given;
  }

  /** Bytes of the buffers mapped so far (those handed to the kernel). */
  get mappedBytes(): number {
    return this.#given * this.bufferBytes;
  }

  /**
   * Maps `n` more buffers (default: as many as given so far; at most up
   * to `count`) as one chunk and hands them to the kernel at once; for
   * when they ran dry (a recv ended with ENOBUFS). Returns how many were
   * added: 0 once all are given, after close, or when the memory cannot
   * be mapped (the buffers given so far go on serving).
   *
   * @example
   * ```ts
   * import { Ring } from "./ring.ts";
   * import { ProvidedBuffers } from "./buffer_ring.ts";
   * using ring = Ring.open({ entries: 8 });
   * using bufs = ProvidedBuffers.register(ring, 0, 16, 4096, 2);
   * console.log(bufs.grow(), bufs.grow(5), bufs.grow(100), bufs.given); // 2 5 7 16
   * ```
   */
  grow(n: number = this.#given): number {
    if (this.#closed) return 0;
    const add = Math.min(this.count - this.#given, Math.max(1, Math.floor(n)));
    if (!(add > 0)) return 0;
    try {
      this.#addChunk(add);
    } catch (err) {
      if (err instanceof SocketError) return 0; // no memory for them now
      throw err;
    }
    return add;
  }

  /** Whether `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A view of the `n` bytes that landed in buffer `bid`, valid until the
   * next call (small payloads are copied to the delivery area and seen
   * through a cached view of their length: no allocation).
   */
  deliver(bid: number, n: number): Uint8Array {
    const chunk = this.#chunks[this.#chunkOf[bid]!]!;
    const all = chunk.all;
    const at = (bid - chunk.first) * this.bufferBytes;
    if (n > DELIVERY_BYTES) return all.subarray(at, at + n);
    const d = chunk.delivery;
    all.copyWithin(d, at, at + n);
    return chunk.views[n] ??= all.subarray(d, d + n);
  }

  /** Gives buffer `bid` (a given one) back to the ring, visible to the kernel at once. */
  recycle(bid: number): void {
    if (this.#closed) return;
    const chunk = this.#chunks[this.#chunkOf[bid]!]!;
    this.#put(bid, chunk.address + (bid - chunk.first) * this.bufferBytes);
    Atomics.store(this.#tailCell, 0, this.#tail);
  }

  /** Writes the ring entry for buffer `bid` at `addr` at our tail (not yet published). */
  #put(bid: number, addr: number): void {
    const e = this.#entries;
    const at = (this.#tail & this.#mask) * URING.BUF_SIZE;
    // addr (u64), len (u32), bid (u16); entry 0's last u16 is the ring tail.
    e.setUint32(at, addr % 0x100000000, true);
    e.setUint32(at + 4, Math.floor(addr / 0x100000000), true);
    e.setUint32(at + 8, this.bufferBytes, true);
    e.setUint16(at + 12, bid, true);
    this.#tail = (this.#tail + 1) & 0xffff;
  }

  /** Maps buffers given..given+n-1 as one chunk and hands them to the kernel (one store of the tail). */
  #addChunk(n: number): void {
    const first = this.#given;
    const bytes = n * this.bufferBytes;
    const length = Math.ceil((bytes + DELIVERY_BYTES) / PAGE) * PAGE;
    const mapping = map(length, this.#ring);
    let buffer: ArrayBuffer;
    try {
      buffer = native.view(mapping.pointer, length);
    } catch (err) {
      unmap(mapping);
      throw err;
    }
    const chunk: Chunk = { first, mapping, buffer, all: new Uint8Array(buffer), address: addressOf(mapping.pointer), delivery: bytes, views: denseSlots<Uint8Array>(DELIVERY_BYTES + 1) }; // dense: see core/dense_slots.ts
    registry.register(this, mapping, mapping);
    const index = this.#chunks.push(chunk) - 1;
    for (let i = 0; i < n; i++) {
      this.#chunkOf[first + i] = index;
      this.#put(first + i, chunk.address + i * this.bufferBytes);
    }
    this.#given = first + n;
    Atomics.store(this.#tailCell, 0, this.#tail);
  }

  /**
   * Unregisters the ring and unmaps the memory. Only call once no operation
   * that may pick a buffer is left in the kernel (or with `leak` to keep the
   * memory mapped when that cannot be known). Idempotent.
   */
  close(leak = false): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#ring.closed) {
      const reg = NativeBuffer.alloc(URING.BUF_REG_SIZE);
      try {
        reg.view.setUint16(12, this.group, true);
        this.#ring.register(URING.UNREGISTER_PBUF_RING, reg.pointer, 1);
      } catch {
        // the ring is going away (or the group was never registered)
      } finally {
        reg.free();
      }
    }
    if (leak) {
      registry.unregister(this.#mapping);
      for (const chunk of this.#chunks) registry.unregister(chunk.mapping);
      return;
    }
    registry.unregister(this.#mapping);
    native.detach(this.#buffer);
    unmap(this.#mapping);
    for (const chunk of this.#chunks) {
      registry.unregister(chunk.mapping);
      native.detach(chunk.buffer);
      unmap(chunk.mapping);
    }
  }

  /** Same as {@link ProvidedBuffers.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
