/**
 * The HPACK decoder (RFC 7541 §3, §6): turns a header block into a field
 * list, keeping the dynamic table in step with the peer's encoder.
 *
 * @module
 */
import { HPACKError } from "../../core/errors.ts";
import { HPACK_LIMITS } from "../../core/limits.ts";
import { DynamicTable, ENTRY_OVERHEAD as ENTRY_OVERHEAD_IMPORT } from "./dynamic_table.ts";
import { huffmanDecode as huffmanDecodeImport, type HuffmanScratch } from "./huffman.ts";
import { latin1Decode as latin1DecodeImport } from "./latin1.ts";
import { HPACKStringCache, STRING_CACHE_KEY_MAX as KEY_MAX_IMPORT } from "./string_cache.ts";
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from "./static_table.ts";

// Module-local copies (some loaders make imported bindings getters).
const NAMES = STATIC_NAMES;
const VALUES = STATIC_VALUES;
const STATIC_COUNT = STATIC_TABLE_LENGTH;
const ENTRY_OVERHEAD = ENTRY_OVERHEAD_IMPORT;
const huffmanDecode = huffmanDecodeImport;
const latin1Decode = latin1DecodeImport;
const CACHE_KEY_MAX = KEY_MAX_IMPORT;

/** Options of an {@link HPACKDecoder}; each defaults to `HPACK_LIMITS`. */
export interface HPACKDecoderOptions {
  /** Largest table the peer may use, and the size both sides start with; default 4096 (HTTP/2's initial SETTINGS_HEADER_TABLE_SIZE). */
  maxTableSize?: number;
  /** Largest decoded header list (sum of 32 + name + value per field). */
  maxHeaderListSize?: number;
  /** Largest decoded name or value, in octets. */
  maxStringBytes?: number;
  /** Dynamic table size updates accepted at the start of one block. */
  maxSizeUpdates?: number;
  /**
   * Keep the strings of short literals (up to 48 encoded octets) and hand
   * the same string back when the same octets come again (an
   * {@link HPACKStringCache}: 64 entries, about 3 KiB once used); default
   * true. Literals sent as never indexed are not kept.
   */
  stringCache?: boolean;
}

/**
 * `code` of the HPACKError thrown when a block decodes to a header list
 * larger than `maxHeaderListSize`. The block was decoded completely and the
 * dynamic table is in step, so the connection may survive it (HTTP/2 turns
 * it into a stream error or a 431 response).
 *
 * @example
 * ```ts
 * import { HPACK_LIST_TOO_LARGE } from "./decoder.ts";
 * console.log(HPACK_LIST_TOO_LARGE); // "ERR_HPACK_HEADER_LIST_TOO_LARGE"
 * ```
 */
export const HPACK_LIST_TOO_LARGE = "ERR_HPACK_HEADER_LIST_TOO_LARGE";

/**
 * Decodes HPACK header blocks. Decoded fields come out as one flat array
 * `[name0, value0, name1, value1, …]` with one string code unit per octet.
 *
 * @example
 * ```ts
 * import { HPACKDecoder } from "./decoder.ts";
 * const dec = new HPACKDecoder();
 * // RFC 7541 C.3.1: :method GET, :scheme http, :path /, :authority www.example.com
 * const block = new Uint8Array([0x82, 0x86, 0x84, 0x41, 0x0f, ...new TextEncoder().encode("www.example.com")]);
 * console.log(dec.decode(block)); // [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com"]
 * ```
 */
export class HPACKDecoder {
  /** The dynamic table (read-only use: inspecting size and entries). */
  readonly table: DynamicTable;
  /** Size of the header list of the last decoded block (RFC 9113 §6.5.2). */
  lastListSize = 0;
  #maxTableSize: number;
  #maxListSize: number;
  #maxString: number;
  #maxUpdates: number;
  #mustUpdate = false;
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #end = 0;
  #scratch: HuffmanScratch = { bytes: new Uint8Array(256) };
  /** The strings of short literals seen lately (read-only use), or null with `stringCache: false`. */
  readonly stringCache: HPACKStringCache | null;

  /** Creates a decoder with a dynamic table of at most `maxTableSize` octets and header lists of at most `maxHeaderListSize` (defaults from HPACK_LIMITS). */
  constructor(options: HPACKDecoderOptions = {}) {
    this.#maxTableSize = options.maxTableSize ?? HPACK_LIMITS.headerTableSize;
    this.#maxListSize = options.maxHeaderListSize ?? HPACK_LIMITS.maxHeaderListSize;
    this.#maxString = options.maxStringBytes ?? HPACK_LIMITS.maxStringBytes;
    this.#maxUpdates = options.maxSizeUpdates ?? HPACK_LIMITS.maxSizeUpdates;
    this.table = new DynamicTable(this.#maxTableSize);
    this.stringCache = options.stringCache === false ? null : new HPACKStringCache();
  }

  /** The largest table size the peer's encoder may choose. */
  get maxTableSize(): number {
    return this.#maxTableSize;
  }

  /**
   * Changes the largest table size the peer may use (our
   * SETTINGS_HEADER_TABLE_SIZE, once the peer acknowledged it). When the
   * table is larger than the new limit, the next block must start with a
   * size update (RFC 7541 §4.2).
   */
  setMaxTableSize(size: number): void {
    if (!Number.isInteger(size) || size < 0) throw new RangeError("table size must be a non-negative integer");
    this.#maxTableSize = size;
    if (this.table.maxSize > size) this.#mustUpdate = true;
  }

  /** The header list size limit. */
  set maxHeaderListSize(size: number) {
    this.#maxListSize = size;
  }

  get maxHeaderListSize(): number {
    return this.#maxListSize;
  }

  /**
   * Decodes one complete header block. When `neverIndexed` is given,
   * `neverIndexed[i]` tells whether field `i` was sent as never indexed.
   * Throws HPACKError (COMPRESSION_ERROR) on malformed input.
   */
  decode(block: Uint8Array, neverIndexed?: boolean[]): string[] {
    const out: string[] = [];
    this.decodeInto(block, out, neverIndexed);
    return out;
  }

  /** Like {@link decode}, appending the fields to `out`. */
  decodeInto(block: Uint8Array, out: string[], neverIndexed?: boolean[]): void {
    this.#buf = block;
    this.#pos = 0;
    this.#end = block.length;
    const table = this.table;
    const maxList = this.#maxListSize;
    let listSize = 0;
    let atStart = true;
    let updates = 0;
    while (this.#pos < this.#end) {
      const b = block[this.#pos]!;
      if (this.#mustUpdate && (b & 0xe0) !== 0x20) {
        throw new HPACKError("ERR_HPACK_SIZE_UPDATE_MISSING", "block does not start with the required table size update");
      }
      if (b >= 0x80) {
        // Indexed field (§6.1).
        const index = this.#integer(0x7f);
        let name: string, value: string;
        if (index === 0) throw new HPACKError("ERR_HPACK_INDEX", "index 0 in an indexed field");
        if (index <= STATIC_COUNT) {
          name = NAMES[index - 1]!;
          value = VALUES[index - 1]!;
        } else {
          const i = index - STATIC_COUNT - 1;
          if (i >= table.length) throw badIndex(index);
          name = table.name(i);
          value = table.value(i);
        }
        listSize += name.length + value.length + ENTRY_OVERHEAD;
        if (listSize <= maxList) {
          out.push(name, value);
          if (neverIndexed) neverIndexed.push(false);
        }
        atStart = false;
      } else if (b >= 0x40) {
        // Literal with incremental indexing (§6.2.1).
        const nameIndex = this.#integer(0x3f);
        const name = nameIndex === 0 ? this.#string(true) : this.#nameAt(nameIndex);
        const value = this.#string(true);
        table.add(name, value);
        listSize += name.length + value.length + ENTRY_OVERHEAD;
        if (listSize <= maxList) {
          out.push(name, value);
          if (neverIndexed) neverIndexed.push(false);
        }
        atStart = false;
      } else if (b >= 0x20) {
        // Dynamic table size update (§6.3).
        if (!atStart) {
          throw new HPACKError("ERR_HPACK_SIZE_UPDATE_POSITION", "table size update after a field");
        }
        if (++updates > this.#maxUpdates) {
          throw new HPACKError("ERR_HPACK_SIZE_UPDATES", "too many table size updates in one block");
        }
        const size = this.#integer(0x1f);
        if (size > this.#maxTableSize) {
          throw new HPACKError("ERR_HPACK_TABLE_SIZE", `table size update ${size} above ${this.#maxTableSize}`);
        }
        table.maxSize = size;
        this.#mustUpdate = false;
      } else {
        // Literal without indexing (§6.2.2) or never indexed (§6.2.3).
        const never = b >= 0x10;
        const nameIndex = this.#integer(0x0f);
        const name = nameIndex === 0 ? this.#string(!never) : this.#nameAt(nameIndex);
        const value = this.#string(!never);
        listSize += name.length + value.length + ENTRY_OVERHEAD;
        if (listSize <= maxList) {
          out.push(name, value);
          if (neverIndexed) neverIndexed.push(never);
        }
        atStart = false;
      }
    }
    this.#buf = EMPTY;
    if (this.#mustUpdate) {
      throw new HPACKError("ERR_HPACK_SIZE_UPDATE_MISSING", "block does not start with the required table size update");
    }
    this.lastListSize = listSize;
    if (listSize > maxList) {
      throw new HPACKError(HPACK_LIST_TOO_LARGE, `header list of ${listSize} octets exceeds ${maxList}`);
    }
  }

  #nameAt(index: number): string {
    if (index <= STATIC_COUNT) return NAMES[index - 1]!;
    const i = index - STATIC_COUNT - 1;
    if (i >= this.table.length) throw badIndex(index);
    return this.table.name(i);
  }

  #integer(mask: number): number {
    const buf = this.#buf;
    let value = buf[this.#pos++]! & mask;
    if (value < mask) return value;
    let shift = 1;
    for (;;) {
      if (this.#pos >= this.#end) throw truncated();
      const b = buf[this.#pos++]!;
      value += (b & 0x7f) * shift;
      if (b < 0x80) break;
      shift *= 128;
      if (shift > 2 ** 28) throw new HPACKError("ERR_HPACK_INTEGER", "integer does not fit in 32 bits");
    }
    if (value > 0xffffffff) throw new HPACKError("ERR_HPACK_INTEGER", "integer does not fit in 32 bits");
    return value;
  }

  /** The string literal at the read position; `mayCache`: it may come from or go into the string cache. */
  #string(mayCache: boolean): string {
    if (this.#pos >= this.#end) throw truncated();
    const buf = this.#buf;
    const huffman = buf[this.#pos]! >= 0x80;
    const len = this.#integer(0x7f);
    const start = this.#pos;
    const stop = start + len;
    if (stop > this.#end) throw truncated();
    this.#pos = stop;
    if (len > this.#maxString) throw tooLong(len, this.#maxString);
    const cache = mayCache && len <= CACHE_KEY_MAX ? this.stringCache : null;
    if (cache !== null) {
      const hit = cache.lookup(buf, start, len, huffman);
      if (hit !== undefined) {
        if (hit.length > this.#maxString) throw tooLong(hit.length, this.#maxString);
        return hit;
      }
    }
    let s: string;
    if (!huffman) s = latin1Decode(buf, start, stop);
    else {
      const n = huffmanDecode(buf, start, stop, this.#scratch);
      if (n > this.#maxString) throw tooLong(n, this.#maxString);
      s = latin1Decode(this.#scratch.bytes, 0, n);
    }
    if (cache !== null) cache.store(buf, start, len, huffman, s);
    return s;
  }
}

const EMPTY = new Uint8Array(0);

function truncated(): HPACKError {
  return new HPACKError("ERR_HPACK_TRUNCATED", "header block ends inside a field");
}

function badIndex(index: number): HPACKError {
  return new HPACKError("ERR_HPACK_INDEX", `index ${index} is beyond the tables`);
}

function tooLong(len: number, max: number): HPACKError {
  return new HPACKError("ERR_HPACK_STRING_LENGTH", `string of ${len} octets exceeds ${max}`);
}
