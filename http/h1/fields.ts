/**
 * Zero-copy views of a parsed header or trailer section. A {@link FieldBlock}
 * holds offsets into the bytes the parser was given; a string is made only
 * for a name or value that is read. The views are valid during the parser
 * callback that hands them out; `detach()` makes an independent copy.
 *
 * @example
 * ```ts
 * import { HTTP1Parser } from "./parser.ts";
 * const parser = new HTTP1Parser({ kind: "request" }, {
 *   onHead(head) { console.log(head.method, head.target, head.get("host")); },
 * });
 * parser.push(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 * ```
 *
 * @module
 */
import { HeaderList } from "../core/headers.ts";
import { latin1Decode } from "../hpack/latin1.ts";

/**
 * Decodes bytes as ISO-8859-1 (each byte one UTF-16 code unit), the way
 * field values are turned into strings (WHATWG "isomorphic decode").
 *
 * @example
 * ```ts
 * import { latin1 } from "./fields.ts";
 * console.log(latin1(new Uint8Array([0x68, 0x69]), 0, 2)); // "hi"
 * ```
 */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  // hpack/latin1.ts: fixed-arity String.fromCharCode for short strings (no apply, slow on JavaScriptCore), TextDecoder for long ASCII.
  return latin1Decode(buf, start, end);
}

function lowerLatin1(buf: Uint8Array, start: number, end: number): string {
  let upper = false;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c >= 0x41 && c <= 0x5a) {
      upper = true;
      break;
    }
  }
  const s = latin1(buf, start, end);
  return upper ? s.toLowerCase() : s;
}

/**
 * A header or trailer section as spans: field `i` has its name at
 * `spans[4i]..spans[4i+1]` and its value (without surrounding whitespace) at
 * `spans[4i+2]..spans[4i+3]`, relative to `offset` in `buffer`.
 *
 * @example
 * ```ts
 * import { FieldBlock } from "./fields.ts";
 * const bytes = new TextEncoder().encode("Host: a");
 * const block = new FieldBlock(bytes, 0, Int32Array.of(0, 4, 6, 7), 1);
 * console.log(block.name(0), block.value(0)); // "host" "a"
 * ```
 */
export class FieldBlock {
  /** The bytes the spans point into. */
  buffer: Uint8Array;
  /** Where span offset 0 is in `buffer`. */
  offset: number;
  /** Four offsets per field: name start, name end, value start, value end. */
  spans: Int32Array;
  /** Number of field lines. */
  count: number;

  /** Wraps `count` field lines whose spans (four offsets each) index into `buffer` from `offset`. */
  constructor(buffer: Uint8Array, offset: number, spans: Int32Array, count: number) {
    this.buffer = buffer;
    this.offset = offset;
    this.spans = spans;
    this.count = count;
  }

  /** The lower-cased name of field `i`. */
  name(i: number): string {
    const o = this.offset;
    return lowerLatin1(this.buffer, o + (this.spans[4 * i] as number), o + (this.spans[4 * i + 1] as number));
  }

  /** The name of field `i` as it was sent. */
  rawName(i: number): string {
    const o = this.offset;
    return latin1(this.buffer, o + (this.spans[4 * i] as number), o + (this.spans[4 * i + 1] as number));
  }

  /** The value of field `i`, without leading and trailing whitespace. */
  value(i: number): string {
    const o = this.offset;
    return latin1(this.buffer, o + (this.spans[4 * i + 2] as number), o + (this.spans[4 * i + 3] as number));
  }

  /** The value bytes of field `i` (a view, valid as long as the block). */
  valueBytes(i: number): Uint8Array {
    const o = this.offset;
    return this.buffer.subarray(o + (this.spans[4 * i + 2] as number), o + (this.spans[4 * i + 3] as number));
  }

  /** Tells whether field `i` is named `lowerName` (which must be lower case), without making a string. */
  nameIs(i: number, lowerName: string): boolean {
    const o = this.offset;
    const s = o + (this.spans[4 * i] as number);
    const e = o + (this.spans[4 * i + 1] as number);
    if (e - s !== lowerName.length) return false;
    const b = this.buffer;
    for (let k = 0; k < lowerName.length; k++) {
      let c = b[s + k] as number;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c !== lowerName.charCodeAt(k)) return false;
    }
    return true;
  }

  /** The index of the first field named `name` (any case), or -1. */
  indexOf(name: string): number {
    const lower = name.toLowerCase();
    for (let i = 0; i < this.count; i++) if (this.nameIs(i, lower)) return i;
    return -1;
  }

  /**
   * The values of every field named `name`, joined with ", " as `Headers.get`
   * does, or null when there is none.
   */
  get(name: string): string | null {
    const lower = name.toLowerCase();
    let out: string | null = null;
    for (let i = 0; i < this.count; i++) {
      if (this.nameIs(i, lower)) out = out === null ? this.value(i) : out + ", " + this.value(i);
    }
    return out;
  }

  /** Every value of the fields named `name`, in order. */
  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) if (this.nameIs(i, lower)) out.push(this.value(i));
    return out;
  }

  /** Tells whether a field named `name` is present. */
  has(name: string): boolean {
    return this.indexOf(name) !== -1;
  }

  /** Every field as `[name as sent, value]`, in order, duplicates kept. */
  entries(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (let i = 0; i < this.count; i++) out.push([this.rawName(i), this.value(i)]);
    return out;
  }

  /** The fields as a {@link HeaderList} collection (strings are made here). */
  toHeaderList(): HeaderList {
    const h = new HeaderList();
    for (let i = 0; i < this.count; i++) h.append(this.rawName(i), this.value(i));
    return h;
  }

  /** Copies the bytes and spans so the block outlives the parser callback. */
  detach(): FieldBlock {
    const [lo, hi] = this.extent();
    return new FieldBlock(
      this.buffer.slice(this.offset + lo, this.offset + hi),
      -lo,
      this.spans.slice(0, 4 * this.count),
      this.count,
    );
  }

  /** The smallest and largest span offsets in use. */
  protected extent(): [number, number] {
    let lo = 0x7fffffff;
    let hi = 0;
    for (let i = 0; i < 4 * this.count; i++) {
      const v = this.spans[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return this.count === 0 ? [0, 0] : [lo, hi];
  }
}

/** How the body of a message is delimited (RFC 9112 §6.3). */
export type BodyFraming = "none" | "length" | "chunked" | "until-close";

/** What an empty head starts with (shared: nothing can be written into empty arrays; ~2% of an HTTP/2 response's CPU on Bun went into making a pair per head). */
const NO_BYTES = new Uint8Array(0);
const NO_SPANS = new Int32Array(0);

/**
 * A parsed request or status line plus its header section, and the framing
 * that follows from it. Strings are made lazily from spans.
 *
 * @example
 * ```ts
 * import { HTTP1Parser } from "./parser.ts";
 * new HTTP1Parser({ kind: "response" }, {
 *   onHead(head) { console.log(head.statusCode, head.framing, head.contentLength); },
 * }).push(new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
 * ```
 */
export class MessageHead extends FieldBlock {
  /** "request" or "response". */
  kind: "request" | "response";
  /** Request method (interned for the standard methods); "" on responses. */
  method = "";
  /** Span of the request-target, relative to `offset`. */
  targetStart = 0;
  /** End of the request-target span. */
  targetEnd = 0;
  /** The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  versionMinor = 1;
  /** Response status code; 0 on requests. */
  statusCode = 0;
  /** Span of the reason phrase. */
  reasonStart = 0;
  /** End of the reason phrase span. */
  reasonEnd = 0;
  /** The Content-Length value, or -1 when absent (or not used for framing). */
  contentLength: number = -1;
  /** How the body is delimited. */
  framing: BodyFraming = "none";
  /** The connection stays open after this message. */
  keepAlive = true;
  /** The connection switches protocol (Upgrade, 101, CONNECT) after this message; the following bytes go to `onUpgrade`. */
  upgrade = false;

  /** Creates an empty head for a `kind` message (request or response). */
  constructor(kind: "request" | "response") {
    super(NO_BYTES, 0, NO_SPANS, 0);
    this.kind = kind;
  }

  /** The request-target string (made on first use). */
  get target(): string {
    return latin1(this.buffer, this.offset + this.targetStart, this.offset + this.targetEnd);
  }

  /** The reason phrase of a response. */
  get reason(): string {
    return latin1(this.buffer, this.offset + this.reasonStart, this.offset + this.reasonEnd);
  }

  /** "HTTP/1.0" or "HTTP/1.1". */
  get version(): string {
    return this.versionMinor === 0 ? "HTTP/1.0" : "HTTP/1.1";
  }

  /** Tells whether the body is chunked. */
  get chunked(): boolean {
    return this.framing === "chunked";
  }

  /** Copies everything so the head outlives the parser callback. */
  override detach(): MessageHead {
    let [lo, hi] = this.extent();
    if (this.count === 0) [lo, hi] = [this.targetStart, this.targetEnd];
    lo = Math.min(lo, this.targetStart, this.reasonStart);
    hi = Math.max(hi, this.targetEnd, this.reasonEnd);
    const copy = new MessageHead(this.kind);
    Object.assign(copy, this);
    copy.buffer = this.buffer.slice(this.offset + lo, this.offset + hi);
    copy.offset = -lo;
    copy.spans = this.spans.slice(0, 4 * this.count);
    return copy;
  }
}
