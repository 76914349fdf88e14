/**
 * `SendSlots`: fixed-size slots in native slabs for small sends. A send
 * in the kernel reads its bytes until it completes, so they are copied out
 * of the JS heap first; small writes (the common case) take a slot here —
 * no allocation, one free-list pop — and larger ones a pooled buffer.
 *
 * The slots are allocated 64 KiB at a time (a slab per {@link SEND_SLAB_BYTES}),
 * when a slot of that slab is first taken, not all at once: a slab is seen
 * from JavaScript as an ArrayBuffer, and JavaScriptCore (Bun) counts every
 * live ArrayBuffer's bytes, native ones too, in the heap size that sets how
 * much it allocates between collections. The loop's 1024 slots of 2 KiB
 * held up front made Bun's server of 16 KiB WebSocket messages collect
 * less often over a larger young generation, its message strings landing
 * in pages the allocator had given back (page faults in TextDecoder's
 * copy): while sends go at once, as on loopback, no slot is ever taken.
 *
 * @example
 * ```ts
 * import { SendSlots } from "./send_slots.ts";
 * const slots = new SendSlots(4, 2048);
 * const s = slots.take();
 * slots.bytes(s).set([1, 2, 3]);
 * console.log(s >= 0, slots.address(s) > 0); // true true
 * slots.give(s);
 * slots.close();
 * ```
 *
 * @module
 */
import { NativeBuffer } from "../../ffi/native_buffer.ts";
import { addressOf } from "./ring.ts";

/**
 * Bytes of one slab of send slots (at least one slot per slab).
 *
 * @example
 * ```ts
 * import { SEND_SLAB_BYTES } from "./send_slots.ts";
 * console.log(SEND_SLAB_BYTES); // 65536
 * ```
 */
export const SEND_SLAB_BYTES = 64 * 1024;

/**
 * A slab of equal send slots with a free list.
 *
 * @example
 * ```ts
 * import { SendSlots } from "./send_slots.ts";
 * using slots = new SendSlots(2, 1024);
 * console.log(slots.take(), slots.take(), slots.take()); // 0 1 -1
 * ```
 */
export class SendSlots {
  /** Bytes per slot. */
  readonly slotBytes: number;
  /** Number of slots. */
  readonly count: number;
  /** Slots per slab. */
  readonly #slabSlots: number;
  /** The slabs, made when one of their slots is first taken. */
  readonly #slabs: (NativeBuffer | undefined)[] = [];
  /** The slabs' addresses (0 until made). */
  readonly #bases: number[] = [];
  #closed = false;
  /** Views of the slots, made on first use. */
  readonly #views: (Uint8Array | undefined)[] = [];
  readonly #free: Int32Array;
  #freeCount: number;

  /**
   * Sets up `count` native send buffers of `slotBytes` each (allocated a
   * slab at a time as they are taken); throws RangeError for a
   * non-positive count or size.
   */
  constructor(count: number, slotBytes: number) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    if (!Number.isInteger(slotBytes) || slotBytes < 1) throw new RangeError(`slotBytes must be a positive integer, got ${slotBytes}`);
    this.count = count;
    this.slotBytes = slotBytes;
    this.#slabSlots = Math.max(1, Math.floor(SEND_SLAB_BYTES / slotBytes));
    this.#free = new Int32Array(count);
    // Slot 0 on top: a quiet process only ever touches the first few (and the first slab).
    for (let i = 0; i < count; i++) this.#free[i] = count - 1 - i;
    this.#freeCount = count;
  }

  /** Slabs allocated so far. */
  get slabs(): number {
    let n = 0;
    for (const slab of this.#slabs) if (slab !== undefined) n++;
    return n;
  }

  /** Slots free now. */
  get free(): number {
    return this.#freeCount;
  }

  /** Takes a free slot; -1 when none is left, after close, or when its slab cannot be allocated. */
  take(): number {
    if (this.#freeCount === 0 || this.#closed) return -1;
    const slot = this.#free[--this.#freeCount]!;
    const index = Math.floor(slot / this.#slabSlots);
    if (this.#slabs[index] === undefined) {
      const slots = Math.min(this.#slabSlots, this.count - index * this.#slabSlots);
      let slab: NativeBuffer;
      try {
        slab = NativeBuffer.alloc(slots * this.slotBytes);
      } catch (err) {
        // No memory for the slab: the caller's fallback (a pooled buffer) sends instead.
        if (!(err instanceof RangeError)) throw err;
        this.#freeCount++;
        return -1;
      }
      this.#slabs[index] = slab;
      this.#bases[index] = addressOf(slab.pointer);
    }
    return slot;
  }

  /** Returns slot `slot` (its send completed). */
  give(slot: number): void {
    this.#free[this.#freeCount++] = slot;
  }

  /** The bytes of slot `slot` (a slot {@link SendSlots.take} returned). */
  bytes(slot: number): Uint8Array {
    const index = Math.floor(slot / this.#slabSlots);
    return this.#views[slot] ??= this.#slabs[index]!.bytes.subarray((slot - index * this.#slabSlots) * this.slotBytes, (slot - index * this.#slabSlots + 1) * this.slotBytes);
  }

  /** The native address of slot `slot` (a slot {@link SendSlots.take} returned), for the SQE. */
  address(slot: number): number {
    const index = Math.floor(slot / this.#slabSlots);
    return this.#bases[index]! + (slot - index * this.#slabSlots) * this.slotBytes;
  }

  /** Frees the slabs (only once no send uses them); no slot is taken after. */
  close(): void {
    this.#closed = true;
    for (const slab of this.#slabs) if (slab !== undefined && !slab.freed) slab.free();
  }

  /** Gives the slabs up without freeing them: a send may still be in the kernel (see `NativeBuffer.abandon`). */
  abandon(): void {
    this.#closed = true;
    for (const slab of this.#slabs) slab?.abandon();
  }

  /** Same as {@link SendSlots.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
