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
import { type FieldBlock, latin1 } from "../h1/fields.ts";

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
