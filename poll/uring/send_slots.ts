/**
 * `SendSlots`: fixed-size slots in one native slab for small sends. A send
 * in the kernel reads its bytes until it completes, so they are copied out
 * of the JS heap first; small writes (the common case) take a slot here —
 * no allocation, one free-list pop — and larger ones a pooled buffer.
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
  readonly #slab: NativeBuffer;
  readonly #base: number;
  /** Views of the slots, made on first use. */
  readonly #views: (Uint8Array | undefined)[] = [];
  readonly #free: Int32Array;
  #freeCount: number;

  /** Allocates `count` native send buffers of `slotBytes` each; throws RangeError for a non-positive count or size. */
  constructor(count: number, slotBytes: number) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    if (!Number.isInteger(slotBytes) || slotBytes < 1) throw new RangeError(`slotBytes must be a positive integer, got ${slotBytes}`);
    this.count = count;
    this.slotBytes = slotBytes;
    this.#slab = NativeBuffer.alloc(count * slotBytes);
    this.#base = addressOf(this.#slab.pointer);
    this.#free = new Int32Array(count);
    // Slot 0 on top: a quiet process only ever touches the first few.
    for (let i = 0; i < count; i++) this.#free[i] = count - 1 - i;
    this.#freeCount = count;
  }

  /** Slots free now. */
  get free(): number {
    return this.#freeCount;
  }

  /** Takes a free slot; -1 when none is left. */
  take(): number {
    return this.#freeCount === 0 ? -1 : this.#free[--this.#freeCount]!;
  }

  /** Returns slot `slot` (its send completed). */
  give(slot: number): void {
    this.#free[this.#freeCount++] = slot;
  }

  /** The bytes of slot `slot`. */
  bytes(slot: number): Uint8Array {
    return this.#views[slot] ??= this.#slab.bytes.subarray(slot * this.slotBytes, (slot + 1) * this.slotBytes);
  }

  /** The native address of slot `slot`, for the SQE. */
  address(slot: number): number {
    return this.#base + slot * this.slotBytes;
  }

  /** Frees the slab (only once no send uses it). */
  close(): void {
    if (!this.#slab.freed) this.#slab.free();
  }

  /** Gives the slab up without freeing it: a send may still be in the kernel (see `NativeBuffer.abandon`). */
  abandon(): void {
    this.#slab.abandon();
  }

  /** Same as {@link SendSlots.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
