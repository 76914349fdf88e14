/**
 * The header fields of a request, kept past the parser callback as one
 * Latin-1 string of the header section and the spans of each name and
 * value in it (plain numbers): two allocations per request however many
 * fields it has, where copying the parser's bytes costs two typed arrays
 * (expensive on Deno, whose typed arrays live outside the V8 heap). Field
 * strings are sliced out only when the handler reads `request.headers`.
 *
 * @example
 * ```ts
 * import { HTTP1Parser } from "../h1/parser.ts";
 * import { RequestFields } from "./request_fields.ts";
 * let fields: RequestFields | undefined;
 * new HTTP1Parser({ kind: "request" }, { onHead: (head) => void (fields = RequestFields.from(head)) })
 *   .push(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\nX-Id: 7\r\n\r\n"));
 * console.log(fields!.get("x-id"), fields!.rawName(0)); // "7" "Host"
 * ```
 *
 * @module
 */
import { type FieldBlock, latin1, type MessageHead } from "../h1/fields.ts";

/**
 * Header fields as a string and spans (see the module text).
 *
 * @example
 * ```ts
 * import { RequestFields } from "./request_fields.ts";
 * const f = new RequestFields("Host: a", [0, 4, 6, 7], 1);
 * console.log(f.get("host")); // "a"
 * ```
 */
export class RequestFields {
  /** The header section's bytes as Latin-1. */
  readonly text: string;
  /** Four offsets into `text` per field: name start, name end, value start, value end. */
  readonly spans: number[];
  /** Number of fields. */
  readonly count: number;

  constructor(text: string, spans: number[], count: number) {
    this.text = text;
    this.spans = spans;
    this.count = count;
  }

  /** Copies the fields of a parsed head (valid only during the parser's callback) into a string and spans. */
  static from(head: FieldBlock): RequestFields {
    const n = head.count;
    const src = head.spans;
    if (n === 0) return new RequestFields("", [], 0);
    const lo = src[0]!;
    const hi = src[4 * n - 1]!;
    const spans = new Array<number>(4 * n);
    for (let i = 0; i < 4 * n; i++) spans[i] = src[i]! - lo;
    return new RequestFields(latin1(head.buffer, head.offset + lo, head.offset + hi), spans, n);
  }

  /**
   * These fields with every Host field's value replaced by `authority` (one
   * `Host` added when there was none): for a request whose absolute-form
   * target names the authority, which RFC 9112 §3.2.2 has the server use
   * instead of the Host field, so that `request.headers.get("host")` and
   * `new URL(request.url).host` cannot disagree (a virtual-host check on
   * one and routing on the other).
   *
   * @example
   * ```ts
   * import { RequestFields } from "./request_fields.ts";
   * const f = new RequestFields("Host: a", [0, 4, 6, 7], 1).withHost("b.example");
   * console.log(f.get("host")); // "b.example"
   * ```
   */
  withHost(authority: string): RequestFields {
    const spans = this.spans.slice();
    const from = this.text.length;
    let found = false;
    for (let i = 0; i < this.count; i++) {
      if (!this.nameIs(i, "host")) continue;
      spans[4 * i + 2] = from;
      spans[4 * i + 3] = from + authority.length;
      found = true;
    }
    if (found) return new RequestFields(this.text + authority, spans, this.count);
    spans.push(from, from + 4, from + 4, from + 4 + authority.length);
    return new RequestFields(`${this.text}Host${authority}`, spans, this.count + 1);
  }

  /**
   * Whether `head` holds these fields (the same bytes from its first name to
   * its last value, so the same names, values and spans): a client's next
   * request on a connection usually repeats its header section.
   */
  matches(head: FieldBlock): boolean {
    const n = head.count;
    if (n !== this.count || n === 0) return n === this.count;
    const src = head.spans;
    const from = head.offset + src[0]!;
    const len = src[4 * n - 1]! - src[0]!;
    const t = this.text;
    if (len !== t.length) return false;
    const b = head.buffer;
    for (let i = 0; i < len; i++) if (b[from + i] !== t.charCodeAt(i)) return false;
    return true;
  }

  /** The name of field `i` as it was sent. */
  rawName(i: number): string {
    return this.text.slice(this.spans[4 * i], this.spans[4 * i + 1]);
  }

  /** The value of field `i`. */
  value(i: number): string {
    return this.text.slice(this.spans[4 * i + 2], this.spans[4 * i + 3]);
  }

  /** Tells whether field `i` is named `lowerName` (lower case), in any case. */
  nameIs(i: number, lowerName: string): boolean {
    const s = this.spans[4 * i]!;
    const e = this.spans[4 * i + 1]!;
    if (e - s !== lowerName.length) return false;
    const t = this.text;
    for (let k = 0; k < lowerName.length; k++) {
      let c = t.charCodeAt(s + k);
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c !== lowerName.charCodeAt(k)) return false;
    }
    return true;
  }

  /** The values of the fields named `name` joined with ", " (as `Headers.get`), or null. */
  get(name: string): string | null {
    const lower = name.toLowerCase();
    let out: string | null = null;
    for (let i = 0; i < this.count; i++) {
      if (this.nameIs(i, lower)) out = out === null ? this.value(i) : `${out}, ${this.value(i)}`;
    }
    return out;
  }
}

/** Header sections longer than this are not compared with the last one (decoding them is the cheaper path). */
const MEMO_MAX_BYTES = 256;
/** Request-targets longer than this are decoded, not compared with the last one. */
const MEMO_MAX_TARGET = 128;

/**
 * The last request's fields, target and URL on one connection, reused by the
 * next request that repeats them (a client sends the same header section
 * and often the same target again and again): no string, span array or
 * URL is made for it. {@link RequestFields} are never changed, so one can
 * be shared by requests.
 *
 * @example
 * ```ts
 * import { HTTP1Parser } from "../h1/parser.ts";
 * import { RequestFields, RequestHeadMemo } from "./request_fields.ts";
 * const memo = new RequestHeadMemo();
 * const seen: RequestFields[] = [];
 * const parser = new HTTP1Parser({ kind: "request" }, { onHead: (head) => void seen.push(memo.fieldsOf(head)) });
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * parser.push(bytes);
 * parser.push(bytes);
 * console.log(seen[0] === seen[1], seen[1]!.get("host")); // true "a"
 * ```
 */
export class RequestHeadMemo {
  /** The fields last made. */
  fields: RequestFields | undefined = undefined;
  /** The target last decoded. */
  target = "";
  /** The URL of a request with {@link RequestHeadMemo.fields} and {@link RequestHeadMemo.target}, once one was made. */
  url: string | undefined = undefined;

  /** The fields of `head` (valid only during the parser's callback): the last ones when they are the same bytes. */
  fieldsOf(head: FieldBlock): RequestFields {
    const last = this.fields;
    if (last !== undefined && last.text.length <= MEMO_MAX_BYTES && last.matches(head)) return last;
    this.url = undefined;
    return (this.fields = RequestFields.from(head));
  }

  /** The request-target of `head` (valid only during the parser's callback): the last one when it is the same bytes. */
  targetOf(head: MessageHead): string {
    const last = this.target;
    const from = head.offset + head.targetStart;
    const len = head.targetEnd - head.targetStart;
    if (len === last.length && len <= MEMO_MAX_TARGET && len > 0) {
      const b = head.buffer;
      let i = 0;
      while (i < len && b[from + i] === last.charCodeAt(i)) i++;
      if (i === len) return last;
    }
    this.url = undefined;
    return (this.target = head.target);
  }
}
