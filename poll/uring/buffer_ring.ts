/**
 * `ProvidedBuffers`: a provided-buffer ring (IORING_REGISTER_PBUF_RING,
 * Linux 5.19+). The kernel picks a buffer from it when data arrives for a
 * recv submitted with IOSQE_BUFFER_SELECT, and names it in the CQE (the
 * buffer id in the upper 16 bits of `cqe->flags`). So a connection waiting
 * for input holds no memory of its own: all of them share these buffers,
 * and each buffer goes back to the ring (`recycle`) as soon as its bytes
 * were handed over.
 *
 * Layout: one anonymous mapping holding the ring entries (page-aligned, as
 * the kernel requires), a small delivery area, then the buffers. Small
 * payloads are copied into the delivery area and handed out as a cached
 * view of their length (`deliver`), so a message costs no allocation.
 *
 * The kernel takes buffers in ring order, so every buffer in the ring is
 * written to in turn and becomes resident. `register` can hand it only
 * some of them at first (`initial`); `grow()` hands it more (doubling)
 * when they ran dry, so the memory that becomes resident follows the
 * most a loop had in flight, not `count`.
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
 * bufs.recycle(3); // buffer 3 goes back to the kernel at the next publish()
 * ```
 */
export class ProvidedBuffers {
  /** The buffer group id (`sqe->buf_group`). */
  readonly group: number;
  /** Number of buffers (a power of two). */
  readonly count: number;
  /** Bytes per buffer. */
  readonly bufferBytes: number;
  readonly #ring: Ring;
  readonly #mapping: Mapping;
  readonly #buffer: ArrayBuffer;
  /** The whole mapping as bytes (entries, delivery area, buffers). */
  readonly #all: Uint8Array;
  readonly #entries: DataView;
  readonly #tailCell: Uint16Array;
  /** Byte offset of buffer 0 in the mapping, and its address. */
  readonly #base: number;
  readonly #baseAddress: number;
  readonly #mask: number;
  /** Our tail: entries written, published by {@link ProvidedBuffers.publish}. */
  #tail = 0;
  #published = 0;
  /** Views of the first n bytes of the delivery area, made on first use. */
  readonly #views = denseSlots<Uint8Array>(DELIVERY_BYTES + 1); // dense: see core/dense_slots.ts
  /** Buffers handed to the kernel so far (ids 0..given-1); the rest of the mapping is untouched. */
  #given = 0;
  #closed = false;

  private constructor(ring: Ring, group: number, count: number, bufferBytes: number) {
    this.#ring = ring;
    this.group = group;
    this.count = count;
    this.bufferBytes = bufferBytes;
    const entriesBytes = Math.ceil((count * URING.BUF_SIZE) / PAGE) * PAGE;
    this.#base = entriesBytes + PAGE;
    const length = this.#base + count * bufferBytes;
    const p = libc().mmap(null, length, C.PROT_READ | C.PROT_WRITE, C.MAP_PRIVATE | C.MAP_ANONYMOUS, -1, 0);
    if (p === null || native.address(p) === MAP_FAILED) throw sysError(native.errno(), "mmap");
    this.#mapping = { pointer: p, length, released: false, ring };
    this.#buffer = native.view(p, length);
    this.#all = new Uint8Array(this.#buffer);
    this.#entries = new DataView(this.#buffer, 0, entriesBytes);
    this.#tailCell = new Uint16Array(this.#buffer, URING.BUF_RING_TAIL, 1);
    this.#baseAddress = addressOf(p) + this.#base;
    this.#mask = count - 1;
    registry.register(this, this.#mapping, this.#mapping);
  }

  /**
   * Maps `count` buffers of `bufferBytes` and registers them as group
   * `group` of `ring`; the first `initial` (default: all) are handed to the
   * kernel, the others by {@link ProvidedBuffers.grow}.
   *
   * @throws {SocketError} EINVAL/ENOSYS where the kernel lacks buffer rings (before 5.19).
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
    } catch (err) {
      bufs.#release();
      throw err;
    } finally {
      reg.free();
    }
    for (let bid = 0; bid < initial; bid++) bufs.recycle(bid);
    bufs.#given = initial;
    bufs.publish();
    return bufs;
  }

  /** Buffers handed to the kernel so far (at most {@link ProvidedBuffers.count}). */
  get given(): number {
    return this.#given;
  }

  /**
   * Hands the kernel as many more buffers as it has (at most up to
   * `count`), visible after the next {@link ProvidedBuffers.publish}; for
   * when they ran dry (a recv ended with ENOBUFS). Returns how many were
   * added (0 once all are given, or after close).
   */
  grow(): number {
    if (this.#closed) return 0;
    const from = this.#given;
    const to = Math.min(this.count, from * 2);
    for (let bid = from; bid < to; bid++) this.recycle(bid);
    this.#given = to;
    return to - from;
  }

  /** Whether `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Buffers written back but not yet published to the kernel. */
  get unpublished(): number {
    return (this.#tail - this.#published) & 0xffff;
  }

  /**
   * A view of the `n` bytes that landed in buffer `bid`, valid until the
   * next call (small payloads are copied to the delivery area and seen
   * through a cached view of their length: no allocation).
   */
  deliver(bid: number, n: number): Uint8Array {
    const all = this.#all;
    const at = this.#base + bid * this.bufferBytes;
    if (n > DELIVERY_BYTES) return all.subarray(at, at + n);
    all.copyWithin(this.#base - PAGE, at, at + n);
    return this.#views[n] ??= all.subarray(this.#base - PAGE, this.#base - PAGE + n);
  }

  /** Gives buffer `bid` back to the ring (visible to the kernel after {@link ProvidedBuffers.publish}). */
  recycle(bid: number): void {
    if (this.#closed) return;
    const e = this.#entries;
    const at = (this.#tail & this.#mask) * URING.BUF_SIZE;
    const addr = this.#baseAddress + bid * this.bufferBytes;
    // addr (u64), len (u32), bid (u16); entry 0's last u16 is the ring tail.
    e.setUint32(at, addr % 0x100000000, true);
    e.setUint32(at + 4, Math.floor(addr / 0x100000000), true);
    e.setUint32(at + 8, this.bufferBytes, true);
    e.setUint16(at + 12, bid, true);
    this.#tail = (this.#tail + 1) & 0xffff;
  }

  /** Publishes the recycled buffers to the kernel (one store-release of the tail). */
  publish(): void {
    if (this.#tail === this.#published || this.#closed) return;
    this.#published = this.#tail;
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
        // the ring is going away: its buffer groups go with it
      } finally {
        reg.free();
      }
    }
    if (leak) {
      registry.unregister(this.#mapping);
      return;
    }
    this.#release();
  }

  /** Same as {@link ProvidedBuffers.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #release(): void {
    registry.unregister(this.#mapping);
    native.detach(this.#buffer);
    unmap(this.#mapping);
  }
}
