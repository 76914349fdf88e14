/**
 * A small, bounded cache of decoded HPACK string literals, keyed on their
 * encoded octets (and whether they are Huffman-coded). A server that does
 * not use the dynamic table for its responses (nginx sets its size to 0)
 * sends the same literals in every header block (`server`, `content-type`,
 * `date` for a second, `accept-ranges` as a literal name...), and decoding
 * them again was a few percent of an HTTP/2 request's CPU. A hit hands back
 * the same string as before, compared octet by octet, so nothing is guessed;
 * the same string object also makes later comparisons (the client's
 * `HeadCache`) a pointer check.
 *
 * 2-way set associative: 32 sets of 2 entries, each entry at most
 * {@link STRING_CACHE_KEY_MAX} encoded octets; the least recently used way
 * of a set is replaced. Memory: 64 × 48 octets of keys and 64 strings of at
 * most 48 × 8 / 5 code units, allocated on the first store.
 *
 * @example
 * ```ts
 * import { HPACKStringCache } from "./string_cache.ts";
 * const cache = new HPACKStringCache();
 * const bytes = new Uint8Array([0x61, 0x62]);
 * if (cache.lookup(bytes, 0, 2, false) === undefined) cache.store(bytes, 0, 2, false, "ab");
 * console.log(cache.lookup(bytes, 0, 2, false)); // "ab"
 * ```
 *
 * @module
 */

/**
 * Longest encoded literal the cache keeps, in octets.
 *
 * @example
 * ```ts
 * import { STRING_CACHE_KEY_MAX } from "./string_cache.ts";
 * console.log(STRING_CACHE_KEY_MAX); // 48
 * ```
 */
export const STRING_CACHE_KEY_MAX = 48;
const SETS = 32;
const WAYS = 2;
const SLOTS = SETS * WAYS;

/**
 * Decoded strings by their encoded octets; see the module documentation.
 *
 * @example
 * ```ts
 * import { HPACKStringCache } from "./string_cache.ts";
 * const cache = new HPACKStringCache();
 * console.log(cache.lookup(new Uint8Array([0x61]), 0, 1, false)); // undefined
 * ```
 */
export class HPACKStringCache {
  /** Encoded octets, {@link STRING_CACHE_KEY_MAX} per slot (allocated on the first store). */
  #keys: Uint8Array | null = null;
  /** Per slot: 0 when empty, else `2 * length + huffman + 1`. */
  #tags = new Int32Array(SLOTS);
  #strings: string[] = new Array<string>(SLOTS).fill("");
  /** Per set: the way to replace next (the one not used last). */
  #victim = new Uint8Array(SETS);
  /** The set of the last lookup (what `store` fills). */
  #set = 0;

  /**
   * The string stored for `src[start..start+length)` with this `huffman`
   * flag, or undefined. Remembers the set for a `store` of the same key
   * right after.
   */
  lookup(src: Uint8Array, start: number, length: number, huffman: boolean): string | undefined {
    let h = 0x811c9dc5 ^ length;
    for (let i = start, end = start + length; i < end; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
    const set = (h ^ (h >>> 15)) & (SETS - 1);
    this.#set = set;
    const keys = this.#keys;
    if (keys === null) return undefined;
    const tag = 2 * length + (huffman ? 1 : 0) + 1;
    const tags = this.#tags;
    for (let way = 0; way < WAYS; way++) {
      const slot = set * WAYS + way;
      if (tags[slot] !== tag) continue;
      let at = slot * STRING_CACHE_KEY_MAX;
      let i = start;
      const end = start + length;
      for (; i < end; i++, at++) if (keys[at] !== src[i]) break;
      if (i !== end) continue;
      this.#victim[set] = way ^ 1;
      return this.#strings[slot];
    }
    return undefined;
  }

  /**
   * Keeps `value` for the key the last {@link lookup} missed (the same
   * arguments), replacing the least recently used entry of its set. Keys
   * longer than {@link STRING_CACHE_KEY_MAX} are not kept.
   */
  store(src: Uint8Array, start: number, length: number, huffman: boolean, value: string): void {
    if (length > STRING_CACHE_KEY_MAX) return;
    const keys = this.#keys ??= new Uint8Array(SLOTS * STRING_CACHE_KEY_MAX);
    const set = this.#set;
    const way = this.#victim[set]!;
    const slot = set * WAYS + way;
    this.#victim[set] = way ^ 1;
    this.#tags[slot] = 2 * length + (huffman ? 1 : 0) + 1;
    this.#strings[slot] = value;
    let at = slot * STRING_CACHE_KEY_MAX;
    for (let i = start, end = start + length; i < end; i++) keys[at++] = src[i]!;
  }

  /** How many entries are kept (at most 64). */
  get size(): number {
    let n = 0;
    for (let i = 0; i < SLOTS; i++) if (this.#tags[i] !== 0) n++;
    return n;
  }

  /** Forgets every entry. */
  clear(): void {
    this.#tags.fill(0);
    this.#strings.fill("");
  }
}
