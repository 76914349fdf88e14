/**
 * The HPACK encoder (RFC 7541 §6): a field list in, a header block out, with
 * a strategy for what to index, what never to index, and when to use Huffman.
 *
 * @module
 */
import { HPACK_LIMITS } from "../../core/limits.ts";
import { DynamicTable } from "./dynamic_table.ts";
import {
  huffmanEncode as huffmanEncodeImport,
  huffmanEncodedLength as huffmanLengthImport,
  huffmanEncodeWithin as huffmanWithinImport,
} from "./huffman.ts";
import { latin1Encode as latin1EncodeImport } from "./latin1.ts";
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from "./static_table.ts";

// Module-local copies (some loaders make imported bindings getters).
const NAMES = STATIC_NAMES;
const VALUES = STATIC_VALUES;
const STATIC_COUNT = STATIC_TABLE_LENGTH;
const huffmanEncode = huffmanEncodeImport;
const huffmanEncodedLength = huffmanLengthImport;
const huffmanEncodeWithin = huffmanWithinImport;
const latin1Encode = latin1EncodeImport;

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

/** What the encoder knows about one field name. */
interface NameInfo {
  /** Static table index of the name, 0 if none. */
  staticIndex: number;
  /** Static table indices of name/value pairs with this name. */
  staticValues: Map<string, number> | undefined;
  /** POLICY_INDEX, POLICY_VOLATILE or POLICY_NEVER. */
  policy: number;
  /** Absolute id of the newest dynamic entry with this name, -1 if none. */
  latest: number;
  /** Absolute ids of dynamic entries by value. */
  values: Map<string, number> | undefined;
  /**
   * The value last sent as an indexed field or inserted under this name,
   * with its static index (or 0) and dynamic id (or -1): headers such as
   * user-agent or accept repeat on every request of a connection, and this
   * spares their map lookups.
   */
  lastValue: string | undefined;
  lastStatic: number;
  lastId: number;
}

/**
 * Blocks returned by `encode()` are carved out of shared pools of this size
 * (like Node's pooled Buffers): a fresh Uint8Array per block costs about
 * 200 ns on Deno, whose typed arrays never live on the V8 heap, against
 * about 70 ns for a pool slice. Larger blocks get their own allocation.
 */
const POOL_SIZE = 8192;
const POOL_MAX_BLOCK = 1024;
let pool = new Uint8Array(0);
let poolUsed = 0;

function pooledCopy(src: Uint8Array, n: number): Uint8Array {
  if (n > POOL_MAX_BLOCK) return src.slice(0, n);
  if (pool.length - poolUsed < n) {
    pool = new Uint8Array(POOL_SIZE);
    poolUsed = 0;
  }
  const p = poolUsed;
  const out = pool.subarray(p, p + n);
  if (n <= 32) for (let i = 0; i < n; i++) out[i] = src[i]!;
  else out.set(src.subarray(0, n));
  poolUsed = p + n;
  return out;
}

const POLICY_INDEX = 0;
const POLICY_VOLATILE = 1;
const POLICY_NEVER = 2;

const STATIC_LOOKUP = new Map<string, { index: number; values: Map<string, number> | undefined }>();
for (let i = 0; i < STATIC_COUNT; i++) {
  const name = NAMES[i]!;
  const value = VALUES[i]!;
  let entry = STATIC_LOOKUP.get(name);
  if (!entry) STATIC_LOOKUP.set(name, entry = { index: i + 1, values: undefined });
  if (value !== "") (entry.values ??= new Map()).set(value, i + 1);
}

const DEFAULT_NEVER_INDEX: ReadonlySet<string> = new Set(["authorization", "proxy-authorization"]);
const DEFAULT_VOLATILE: ReadonlySet<string> = new Set([
  "content-length",
  "etag",
  "if-modified-since",
  "if-none-match",
  "last-modified",
  "location",
  "set-cookie",
  "age",
  "content-range",
]);

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
  #shortCookie: number;
  /** Per-name knowledge, created on a name's first use (static names, names with policies, names in the table). */
  #names = new Map<string, NameInfo>();
  #neverIndex: ReadonlySet<string>;
  #volatile: ReadonlySet<string>;
  #pendingMin = -1;
  #pendingFinal = -1;
  #buf = new Uint8Array(1024);
  /** The last view {@link HPACKEncoder.encodeView} returned (of `#buf` from 0). */
  #view: Uint8Array = this.#buf.subarray(0, 0);
  /** The buffer `#view` is of (`#buf` until it grows). */
  #viewOf: Uint8Array = this.#buf;
  #pos = 0;

  /** Creates an encoder whose dynamic table never exceeds `tableSizeCap` octets (default HPACK_LIMITS.maxHeaderTableSize). */
  constructor(options: HPACKEncoderOptions = {}) {
    this.#cap = options.tableSizeCap ?? HPACK_LIMITS.maxHeaderTableSize;
    this.#huffman = options.huffman ?? "auto";
    this.#shortCookie = options.shortCookieBytes ?? 20;
    this.#volatile = options.volatileNames ? new Set(options.volatileNames) : DEFAULT_VOLATILE;
    this.#neverIndex = options.neverIndexNames ? new Set(options.neverIndexNames) : DEFAULT_NEVER_INDEX;
    const size = Math.min(options.maxTableSize ?? 4096, this.#cap);
    this.table = new DynamicTable(size);
    this.table.onEvict = (id, name, value) => {
      const info = this.#names.get(name);
      if (!info || !info.values) return;
      if (info.values.get(value) === id) info.values.delete(value);
      if (info.latest !== id) return;
      info.latest = -1;
      for (const other of info.values.values()) if (other > info.latest) info.latest = other;
      if (info.latest < 0 && info.staticIndex === 0 && info.policy === POLICY_INDEX) this.#names.delete(name);
    };
  }

  /** The policy configured for a field name. */
  #policy(name: string): number {
    return this.#neverIndex.has(name) ? POLICY_NEVER : this.#volatile.has(name) ? POLICY_VOLATILE : POLICY_INDEX;
  }

  /**
   * What the encoder knows about `name`, created when missing. With
   * `onlyKnown`, a name that is neither static nor configured is not
   * recorded (undefined): the map holds only names with something to know.
   */
  #info(name: string, onlyKnown = false): NameInfo | undefined {
    let info = this.#names.get(name);
    if (info === undefined) {
      const st = STATIC_LOOKUP.get(name);
      const policy = this.#policy(name);
      if (onlyKnown && st === undefined && policy === POLICY_INDEX) return undefined;
      info = {
        staticIndex: st === undefined ? 0 : st.index,
        staticValues: st === undefined ? undefined : st.values,
        policy,
        latest: -1,
        values: undefined,
        lastValue: undefined,
        lastStatic: 0,
        lastId: -1,
      };
      this.#names.set(name, info);
    }
    return info;
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
   * The block is the caller's to keep; a small one shares its ArrayBuffer
   * with other blocks (never transfer or detach `block.buffer`).
   */
  encode(fields: readonly string[], neverIndexed?: readonly boolean[]): Uint8Array {
    const n = this.#encode(fields, neverIndexed); // may replace #buf
    return pooledCopy(this.#buf, n);
  }

  /**
   * Like {@link encode}, but returns a view of the encoder's own buffer,
   * valid only until the next call: for callers that copy the block right
   * away (into frames), saving an allocation.
   *
   * @example
   * ```ts
   * import { HPACKEncoder } from "./encoder.ts";
   * const enc = new HPACKEncoder();
   * const view = enc.encodeView([":status", "200"]);
   * const frame = new Uint8Array(9 + view.length);
   * frame.set(view, 9); // copy before the next encodeView()
   * ```
   */
  encodeView(fields: readonly string[], neverIndexed?: readonly boolean[]): Uint8Array {
    const n = this.#encode(fields, neverIndexed); // may replace #buf
    // A connection's blocks mostly repeat their length (a client's same
    // request, a server's same head): the view of the last one serves again
    // (a subarray per block was ~6% of the HTTP/2 client's CPU on Bun).
    let view = this.#view;
    if (view.length !== n || this.#viewOf !== this.#buf) {
      view = this.#view = this.#buf.subarray(0, n);
      this.#viewOf = this.#buf;
    }
    return view;
  }

  /** Encodes into `#buf` from offset 0; returns the block's length. */
  #encode(fields: readonly string[], neverIndexed: readonly boolean[] | undefined): number {
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
    return this.#pos;
  }

  #sizeUpdate(size: number): void {
    this.#reserve(6);
    this.#integer(size, 0x1f, 0x20);
    this.table.maxSize = size;
  }

  #field(name: string, value: string, sensitive: boolean): void {
    this.#reserve(12 + name.length + value.length);
    const info = this.#names.get(name) ?? this.#info(name, true);
    if (info === undefined) {
      if (name === "cookie" && value.length < this.#shortCookie) sensitive = true;
      this.#literal(name, value, 0, sensitive ? POLICY_NEVER : POLICY_INDEX);
      return;
    }
    if (info.policy === POLICY_NEVER || (name === "cookie" && value.length < this.#shortCookie)) sensitive = true;
    if (!sensitive) {
      if (value === info.lastValue) {
        if (info.lastStatic > 0) {
          this.#integer(info.lastStatic, 0x7f, 0x80);
          return;
        }
        const i = this.table.indexOfId(info.lastId);
        if (i >= 0) {
          this.#integer(STATIC_COUNT + 1 + i, 0x7f, 0x80);
          return;
        }
      }
      if (info.staticValues !== undefined) {
        const s = info.staticValues.get(value);
        if (s !== undefined) {
          this.#integer(s, 0x7f, 0x80);
          info.lastValue = value;
          info.lastStatic = s;
          return;
        }
      }
      if (info.values !== undefined) {
        const id = info.values.get(value);
        if (id !== undefined) {
          this.#integer(STATIC_COUNT + 1 + this.table.indexOfId(id), 0x7f, 0x80);
          info.lastValue = value;
          info.lastStatic = 0;
          info.lastId = id;
          return;
        }
      }
    }
    let nameIndex = info.staticIndex;
    if (nameIndex === 0 && info.latest >= 0) nameIndex = STATIC_COUNT + 1 + this.table.indexOfId(info.latest);
    this.#literal(name, value, nameIndex, sensitive ? POLICY_NEVER : info.policy);
  }

  /** Writes a literal; POLICY_INDEX also inserts it into the table. */
  #literal(name: string, value: string, nameIndex: number, policy: number): void {
    if (policy === POLICY_NEVER) this.#integer(nameIndex, 0x0f, 0x10);
    else if (policy === POLICY_VOLATILE || (name.length + value.length + 32) * 4 > this.table.maxSize * 3) {
      this.#integer(nameIndex, 0x0f, 0x00);
      policy = POLICY_VOLATILE;
    } else this.#integer(nameIndex, 0x3f, 0x40);
    if (nameIndex === 0) this.#string(name);
    this.#string(value);
    if (policy !== POLICY_INDEX) return;
    const id = this.table.insertCount;
    this.table.add(name, value);
    if (this.table.indexOfId(id) < 0) return;
    const info = this.#info(name)!;
    info.latest = id;
    (info.values ??= new Map()).set(value, id);
    info.lastValue = value;
    info.lastStatic = 0;
    info.lastId = id;
  }

  #string(s: string): void {
    const n = s.length;
    if (n < 0x7f && this.#huffman === "auto") {
      // One pass: Huffman straight after a one-octet length, kept only if
      // shorter than the raw octets (so its length fits the octet too).
      const buf = this.#buf;
      const start = this.#pos + 1;
      const end = n === 0 ? -1 : huffmanEncodeWithin(s, buf, start, start + n - 1);
      if (end >= 0) {
        buf[this.#pos] = 0x80 | (end - start);
        this.#pos = end;
      } else {
        buf[this.#pos] = n;
        this.#pos = latin1Encode(s, buf, start);
      }
      return;
    }
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
