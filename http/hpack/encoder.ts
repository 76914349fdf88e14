/**
 * The HPACK encoder (RFC 7541 §6): a field list in, a header block out, with
 * a strategy for what to index, what never to index, and when to use Huffman.
 *
 * @module
 */
import { HPACK_LIMITS } from "../../core/limits.ts";
import { DynamicTable } from "./dynamic_table.ts";
import { huffmanEncode, huffmanEncodedLength } from "./huffman.ts";
import { latin1Encode } from "./latin1.ts";
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from "./static_table.ts";

/** Options of an {@link HPACKEncoder}. */
export interface HPACKEncoderOptions {
  /** Table size both sides start with (no update is sent for it); default 4096, HTTP/2's initial value. */
  maxTableSize?: number;
  /** Our own cap on the table, whatever the peer allows; default `HPACK_LIMITS.maxHeaderTableSize`. */
  tableSizeCap?: number;
  /** "auto" (the default) uses Huffman only where it is shorter. */
  huffman?: "auto" | "always" | "never";
  /** Field names always sent never-indexed; default authorization and proxy-authorization. */
  neverIndexNames?: Iterable<string>;
  /** Cookies shorter than this many octets are sent never-indexed (RFC 7541 §7.1.3); 0 disables. Default 20. */
  shortCookieBytes?: number;
  /** Field names sent without indexing because their values rarely repeat. */
  volatileNames?: Iterable<string>;
}

interface StaticName {
  index: number;
  values: Map<string, number> | undefined;
}

interface DynamicName {
  latest: number;
  values: Map<string, number>;
}

const STATIC_LOOKUP = new Map<string, StaticName>();
for (let i = 0; i < STATIC_TABLE_LENGTH; i++) {
  const name = STATIC_NAMES[i]!;
  const value = STATIC_VALUES[i]!;
  let entry = STATIC_LOOKUP.get(name);
  if (!entry) STATIC_LOOKUP.set(name, entry = { index: i + 1, values: undefined });
  if (value !== "") (entry.values ??= new Map()).set(value, i + 1);
}

const DEFAULT_NEVER_INDEX = ["authorization", "proxy-authorization"];
const DEFAULT_VOLATILE = [
  "content-length",
  "etag",
  "if-modified-since",
  "if-none-match",
  "last-modified",
  "location",
  "set-cookie",
  "age",
  "content-range",
];

/**
 * Encodes field lists into HPACK header blocks. Fields are given as one flat
 * array `[name0, value0, name1, value1, …]`, one octet per code unit.
 *
 * @example
 * ```ts
 * import { HPACKEncoder } from "./encoder.ts";
 * import { HPACKDecoder } from "./decoder.ts";
 * const enc = new HPACKEncoder();
 * const dec = new HPACKDecoder();
 * const block = enc.encode([":method", "GET", ":path", "/", "user-agent", "demo"]);
 * console.log(dec.decode(block)); // [":method", "GET", ":path", "/", "user-agent", "demo"]
 * ```
 */
export class HPACKEncoder {
  /** The dynamic table, mirrored by the peer's decoder. */
  readonly table: DynamicTable;
  #cap: number;
  #huffman: "auto" | "always" | "never";
  #neverIndex: Set<string>;
  #volatile: Set<string>;
  #shortCookie: number;
  #names = new Map<string, DynamicName>();
  #pendingMin = -1;
  #pendingFinal = -1;
  #buf = new Uint8Array(1024);
  #pos = 0;

  constructor(options: HPACKEncoderOptions = {}) {
    this.#cap = options.tableSizeCap ?? HPACK_LIMITS.maxHeaderTableSize;
    this.#huffman = options.huffman ?? "auto";
    this.#neverIndex = new Set(options.neverIndexNames ?? DEFAULT_NEVER_INDEX);
    this.#volatile = new Set(options.volatileNames ?? DEFAULT_VOLATILE);
    this.#shortCookie = options.shortCookieBytes ?? 20;
    const size = Math.min(options.maxTableSize ?? 4096, this.#cap);
    this.table = new DynamicTable(size);
    this.table.onEvict = (id, name, value) => {
      const entry = this.#names.get(name);
      if (!entry) return;
      if (entry.values.get(value) === id) entry.values.delete(value);
      if (entry.latest === id) {
        if (entry.values.size === 0) this.#names.delete(name);
        else {
          entry.latest = -1;
          for (const other of entry.values.values()) if (other > entry.latest) entry.latest = other;
        }
      }
    };
  }

  /**
   * Applies the peer's SETTINGS_HEADER_TABLE_SIZE. The change (capped by
   * `tableSizeCap`) is announced at the start of the next block; when the
   * size went down and up again, both the smallest and the final size are
   * announced (RFC 7541 §4.2).
   */
  setMaxTableSize(size: number): void {
    if (!Number.isInteger(size) || size < 0) throw new RangeError("table size must be a non-negative integer");
    const s = Math.min(size, this.#cap);
    this.#pendingMin = this.#pendingMin < 0 ? s : Math.min(this.#pendingMin, s);
    this.#pendingFinal = s;
  }

  /**
   * Encodes one field list into a header block. `neverIndexed[i]` marks
   * field `i` as sensitive (never indexed, here and by intermediaries).
   */
  encode(fields: readonly string[], neverIndexed?: readonly boolean[]): Uint8Array {
    if ((fields.length & 1) !== 0) throw new TypeError("fields must hold name/value pairs");
    this.#pos = 0;
    if (this.#pendingFinal >= 0) {
      if (this.#pendingMin < this.#pendingFinal) this.#sizeUpdate(this.#pendingMin);
      this.#sizeUpdate(this.#pendingFinal);
      this.#pendingMin = this.#pendingFinal = -1;
    }
    for (let i = 0; i < fields.length; i += 2) {
      this.#field(fields[i]!, fields[i + 1]!, neverIndexed !== undefined && neverIndexed[i >>> 1] === true);
    }
    return this.#buf.slice(0, this.#pos);
  }

  #sizeUpdate(size: number): void {
    this.#reserve(6);
    this.#integer(size, 0x1f, 0x20);
    this.table.maxSize = size;
  }

  #field(name: string, value: string, sensitive: boolean): void {
    this.#reserve(12 + name.length + value.length);
    const st = STATIC_LOOKUP.get(name);
    const dyn = this.#names.get(name);
    sensitive ||= this.#neverIndex.has(name) ||
      (name === "cookie" && value.length < this.#shortCookie);
    if (!sensitive) {
      const s = st?.values?.get(value);
      if (s !== undefined) {
        this.#integer(s, 0x7f, 0x80);
        return;
      }
      if (dyn) {
        const id = dyn.values.get(value);
        if (id !== undefined) {
          this.#integer(STATIC_TABLE_LENGTH + 1 + this.table.indexOfId(id), 0x7f, 0x80);
          return;
        }
      }
    }
    let nameIndex = st ? st.index : 0;
    if (nameIndex === 0 && dyn && dyn.latest >= 0) {
      nameIndex = STATIC_TABLE_LENGTH + 1 + this.table.indexOfId(dyn.latest);
    }
    if (sensitive) {
      this.#literal(name, value, nameIndex, 0x0f, 0x10);
      return;
    }
    const size = name.length + value.length + 32;
    if (size * 4 > this.table.maxSize * 3 || this.#volatile.has(name)) {
      this.#literal(name, value, nameIndex, 0x0f, 0x00);
      return;
    }
    this.#literal(name, value, nameIndex, 0x3f, 0x40);
    const id = this.table.insertCount;
    this.table.add(name, value);
    if (this.table.indexOfId(id) < 0) return;
    const entry = this.#names.get(name);
    if (entry) {
      entry.latest = id;
      entry.values.set(value, id);
    } else {
      this.#names.set(name, { latest: id, values: new Map([[value, id]]) });
    }
  }

  #literal(name: string, value: string, nameIndex: number, mask: number, flags: number): void {
    this.#integer(nameIndex, mask, flags);
    if (nameIndex === 0) this.#string(name);
    this.#string(value);
  }

  #string(s: string): void {
    const n = s.length;
    if (this.#huffman !== "never") {
      const h = huffmanEncodedLength(s);
      if (h < n || (this.#huffman === "always" && n > 0)) {
        if (h > n) this.#reserve(h + 6);
        this.#integer(h, 0x7f, 0x80);
        this.#pos = huffmanEncode(s, this.#buf, this.#pos);
        return;
      }
    }
    this.#integer(n, 0x7f, 0x00);
    this.#pos = latin1Encode(s, this.#buf, this.#pos);
  }

  #integer(value: number, mask: number, flags: number): void {
    const buf = this.#buf;
    if (value < mask) {
      buf[this.#pos++] = flags | value;
      return;
    }
    buf[this.#pos++] = flags | mask;
    value -= mask;
    while (value >= 128) {
      buf[this.#pos++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    buf[this.#pos++] = value;
  }

  #reserve(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }
}
