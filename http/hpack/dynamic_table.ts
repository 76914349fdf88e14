/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of fields whose size
 * (32 + name length + value length per entry) stays within a maximum, with
 * the oldest entries evicted first.
 *
 * @module
 */

/**
 * Per-entry overhead counted in the table size (RFC 7541 §4.1).
 *
 * @example
 * ```ts
 * import { ENTRY_OVERHEAD } from "./dynamic_table.ts";
 * // An entry of "accept" (6 octets) and "text/html" (9) counts 47 octets.
 * console.log(6 + 9 + ENTRY_OVERHEAD); // 47
 * ```
 */
export const ENTRY_OVERHEAD = 32;

/**
 * A ring buffer of name/value entries. Index 0 is the newest entry (HPACK
 * index 62). Every inserted entry gets an absolute id (0, 1, 2, …) that stays
 * valid until it is evicted, so an encoder can map fields to entries.
 *
 * @example
 * ```ts
 * import { DynamicTable } from "./dynamic_table.ts";
 * const t = new DynamicTable(4096);
 * t.add("custom-key", "custom-header");
 * console.log(t.length, t.size, t.name(0)); // 1 55 "custom-key"
 * ```
 */
export class DynamicTable {
  /** Current size in octets (RFC 7541 §4.1). */
  size = 0;
  /** Number of entries. */
  length = 0;
  /** Absolute id the next inserted entry gets. */
  insertCount = 0;
  /** Called with the absolute id of each evicted entry (encoders use it). */
  onEvict: ((id: number, name: string, value: string) => void) | undefined;
  #maxSize: number;
  #names: string[];
  #values: string[];
  #sizes: Int32Array;
  #mask: number;

  /** Creates an empty table of at most `maxSize` octets. */
  constructor(maxSize: number) {
    this.#maxSize = maxSize;
    this.#names = new Array<string>(64).fill("");
    this.#values = new Array<string>(64).fill("");
    this.#sizes = new Int32Array(64);
    this.#mask = 63;
  }

  /** The maximum size; setting it evicts entries until the size fits. */
  get maxSize(): number {
    return this.#maxSize;
  }

  set maxSize(value: number) {
    this.#maxSize = value;
    this.#evictTo(value);
  }

  /** Name of entry `i` (0 = newest). `i` must be below `length`. */
  name(i: number): string {
    return this.#names[(this.insertCount - 1 - i) & this.#mask]!;
  }

  /** Value of entry `i` (0 = newest). `i` must be below `length`. */
  value(i: number): string {
    return this.#values[(this.insertCount - 1 - i) & this.#mask]!;
  }

  /** Relative index (0 = newest) of the entry with absolute id `id`, or -1 if evicted. */
  indexOfId(id: number): number {
    const i = this.insertCount - 1 - id;
    return i >= 0 && i < this.length ? i : -1;
  }

  /**
   * Inserts a field with its size given in octets (`nameBytes + valueBytes`;
   * equal to the string lengths for octet strings). An entry larger than the
   * maximum empties the table and is not inserted (RFC 7541 §4.4).
   */
  add(name: string, value: string, octets: number = name.length + value.length): void {
    const entrySize = octets + ENTRY_OVERHEAD;
    if (entrySize > this.#maxSize) {
      this.#evictTo(0);
      return;
    }
    this.#evictTo(this.#maxSize - entrySize);
    if (this.length === this.#mask + 1) this.#grow();
    const slot = this.insertCount & this.#mask;
    this.#names[slot] = name;
    this.#values[slot] = value;
    this.#sizes[slot] = entrySize;
    this.insertCount++;
    this.length++;
    this.size += entrySize;
  }

  #evictTo(limit: number): void {
    while (this.size > limit && this.length > 0) {
      const id = this.insertCount - this.length;
      const slot = id & this.#mask;
      this.size -= this.#sizes[slot]!;
      this.length--;
      const name = this.#names[slot]!;
      const value = this.#values[slot]!;
      this.#names[slot] = "";
      this.#values[slot] = "";
      if (this.onEvict) this.onEvict(id, name, value);
    }
  }

  #grow(): void {
    const cap = (this.#mask + 1) * 2;
    const names = new Array<string>(cap).fill("");
    const values = new Array<string>(cap).fill("");
    const sizes = new Int32Array(cap);
    for (let k = 0; k < this.length; k++) {
      const id = this.insertCount - this.length + k;
      const from = id & this.#mask;
      const to = id & (cap - 1);
      names[to] = this.#names[from]!;
      values[to] = this.#values[from]!;
      sizes[to] = this.#sizes[from]!;
    }
    this.#names = names;
    this.#values = values;
    this.#sizes = sizes;
    this.#mask = cap - 1;
  }
}
