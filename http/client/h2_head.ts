/**
 * The response head of an HTTP/2 stream as the {@link MessageHead} the
 * dispatcher's handlers take from HTTP/1.1: the fields (pseudo-fields
 * left out) as the strings HPACK decoded, laid out as latin-1 bytes with
 * spans only when something asks for bytes (`valueBytes`, `detach`), the status, and the
 * framing (`none` when HEADERS ended the stream, else `length` with a
 * content-length, `chunked` without: the body ends with the stream).
 *
 * @example
 * ```ts
 * import { h2ResponseHead } from "./h2_head.ts";
 * const head = h2ResponseHead(200, ["content-type", "text/plain", "content-length", "2"], false);
 * console.log(head.statusCode, head.get("content-type"), head.framing); // 200 "text/plain" "length"
 * ```
 *
 * @module
 */
import { type FieldBlock, MessageHead } from "../h1/fields.ts";

/**
 * A response head whose names and values are the strings HPACK decoded
 * (lower-case names, checked by the HTTP/2 layer): `name`, `rawName` and
 * `value` hand them back instead of decoding the bytes again, `nameIs`
 * compares them. `buffer` and `spans` stay empty until `valueBytes` or
 * `detach` needs them (most responses never do: encoding them was ~2% of
 * an HTTP/2 request's CPU on Bun).
 */
class H2MessageHead extends MessageHead {
  /** The decoded list; the regular fields start at {@link from} (the pseudo-fields before it are not the head's). */
  readonly all: readonly string[];
  /** Where the regular fields start in {@link all} (even). */
  readonly from: number;
  #laidOut = false;
  constructor(all: readonly string[], from: number) {
    super("response");
    this.all = all;
    this.from = from;
  }
  /** Fills `buffer` and `spans` from the strings. */
  #layOut(): void {
    if (this.#laidOut) return;
    this.#laidOut = true;
    const fields = this.all;
    const from = this.from;
    let size = 0;
    for (let i = from; i < fields.length; i++) size += fields[i]!.length;
    const buffer = new Uint8Array(size);
    const spans = new Int32Array(4 * this.count);
    let at = 0;
    for (let f = 0; f < this.count; f++) {
      const name = fields[from + 2 * f]!;
      const value = fields[from + 2 * f + 1]!;
      spans[4 * f] = at;
      for (let k = 0; k < name.length; k++) buffer[at++] = name.charCodeAt(k) & 0xff;
      spans[4 * f + 1] = at;
      spans[4 * f + 2] = at;
      for (let k = 0; k < value.length; k++) buffer[at++] = value.charCodeAt(k) & 0xff;
      spans[4 * f + 3] = at;
    }
    this.buffer = buffer;
    this.offset = 0;
    this.spans = spans;
  }
  override nameIs(i: number, lowerName: string): boolean {
    return this.all[this.from + 2 * i] === lowerName;
  }
  override valueBytes(i: number): Uint8Array {
    this.#layOut();
    return super.valueBytes(i);
  }
  override detach(): MessageHead {
    this.#layOut();
    return super.detach();
  }
  /** The decoded strings of the regular fields: name, value, name, value, … */
  get strings(): readonly string[] {
    return this.from === 0 ? this.all : this.all.slice(this.from);
  }
  override name(i: number): string {
    return this.all[this.from + 2 * i]!;
  }
  override rawName(i: number): string {
    return this.all[this.from + 2 * i]!;
  }
  override value(i: number): string {
    return this.all[this.from + 2 * i + 1]!;
  }
}

/**
 * The decoded strings of a head {@link h2ResponseHead} made (name, value,
 * name, value, …), or null for any other head.
 *
 * @example
 * ```ts
 * import { h2FieldStrings, h2ResponseHead } from "./h2_head.ts";
 * console.log(h2FieldStrings(h2ResponseHead(200, ["server", "x"], true))); // ["server", "x"]
 * ```
 */
export function h2FieldStrings(head: FieldBlock): readonly string[] | null {
  return head instanceof H2MessageHead ? head.strings : null;
}

/**
 * The decoded list of a head {@link h2ResponseHead} made, as it was given
 * (its regular fields from {@link h2FieldsFrom} on), or null for any
 * other head: compared without a copy of the regular part.
 *
 * @example
 * ```ts
 * import { h2Fields, h2FieldsFrom, h2ResponseHead } from "./h2_head.ts";
 * const head = h2ResponseHead(200, [":status", "200", "server", "x"], true, 2);
 * console.log(h2Fields(head), h2FieldsFrom(head)); // [":status", "200", "server", "x"] 2
 * ```
 */
export function h2Fields(head: FieldBlock): readonly string[] | null {
  return head instanceof H2MessageHead ? head.all : null;
}

/**
 * Where the regular fields start in {@link h2Fields}' list (0 for any other head).
 *
 * @example
 * ```ts
 * import { h2FieldsFrom, h2ResponseHead } from "./h2_head.ts";
 * console.log(h2FieldsFrom(h2ResponseHead(204, [], true))); // 0
 * ```
 */
export function h2FieldsFrom(head: FieldBlock): number {
  return head instanceof H2MessageHead ? head.from : 0;
}

/**
 * Builds the head of a response from its regular fields (a flat
 * `[name0, value0, …]` list; with `from`, the fields from that index on:
 * the pseudo-fields before it are left out without a copy of the list).
 *
 * @example
 * ```ts
 * import { h2ResponseHead } from "./h2_head.ts";
 * console.log(h2ResponseHead(204, [], true).framing); // "none"
 * ```
 */
export function h2ResponseHead(status: number, fields: readonly string[], ended: boolean, from = 0): MessageHead {
  const count = (fields.length - from) >> 1;
  let contentLength = -1;
  for (let f = from; f < fields.length; f += 2) {
    // The length first: a name HPACK decoded from a literal is a fresh string, not an atom like the
    // static table's; JavaScriptCore compiles the comparison for atoms and exited and recompiled
    // (BadStringType) each time such a name reached it (Bun). Few other names have 14 characters.
    const name = fields[f]!;
    if (name.length !== 14 || name !== "content-length") continue;
    const value = fields[f + 1]!;
    if (/^\d{1,15}$/.test(value)) contentLength = Number(value);
  }
  const head = new H2MessageHead(fields, from);
  head.count = count;
  head.statusCode = status;
  head.versionMinor = 1;
  head.contentLength = contentLength;
  head.framing = ended ? "none" : contentLength >= 0 ? "length" : "chunked";
  head.keepAlive = true;
  return head;
}

/** Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2), and those the client sets itself. */
const DROPPED = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "expect", "http2-settings"]);

/**
 * The last list {@link h2RequestFields} made from a frozen list of frozen
 * pairs (`fetch` passes the same one for every request without fields of
 * its own), with what it was made from: the same request again gets the
 * same list, not a new one checked and built again.
 */
let last: {
  headers: ReadonlyArray<readonly [string, string]>;
  method: string;
  scheme: string;
  authority: string;
  path: string;
  contentLength: number;
  fields: string[];
} | undefined;

/** Whether `headers` and each of its pairs are frozen (so a list made from them stays right). */
function frozenPairs(headers: ReadonlyArray<readonly [string, string]>): boolean {
  if (!Object.isFrozen(headers)) return false;
  for (let i = 0; i < headers.length; i++) if (!Object.isFrozen(headers[i])) return false;
  return true;
}

/**
 * The HEADERS field list of a request: pseudo-fields first, then the
 * caller's fields with lower-case names, without connection-specific
 * ones (`te` kept only as `trailers`); `Host` becomes `:authority`.
 * `contentLength` (-1: unknown) is added when the caller gave none. The
 * list is the caller's to send, not to change: the same request again
 * over the same frozen `headers` gets the same list back.
 *
 * @throws TypeError for a name or value HTTP/2 cannot carry.
 * @example
 * ```ts
 * import { h2RequestFields } from "./h2_head.ts";
 * console.log(h2RequestFields("GET", "https", "a.test", "/", [["Accept", "*\/*"]], -1).slice(8)); // ["accept", "*\/*"]
 * ```
 */
export function h2RequestFields(
  method: string,
  scheme: string,
  authority: string,
  path: string,
  headers: ReadonlyArray<readonly [string, string]>,
  contentLength: number,
): string[] {
  const l = last;
  if (
    l !== undefined && l.headers === headers && l.path === path && l.method === method && l.authority === authority &&
    l.scheme === scheme && l.contentLength === contentLength
  ) return l.fields;
  const fields = buildRequestFields(method, scheme, authority, path, headers, contentLength);
  if (headers.length > 0 && frozenPairs(headers)) last = { headers, method, scheme, authority, path, contentLength, fields };
  return fields;
}

function buildRequestFields(
  method: string,
  scheme: string,
  authority: string,
  path: string,
  headers: ReadonlyArray<readonly [string, string]>,
  contentLength: number,
): string[] {
  let host = authority;
  const rest: string[] = [":method", method, ":scheme", scheme, ":authority", authority, ":path", path];
  let hasLength = false;
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i]!;
    const name = pair[0].toLowerCase();
    const value = pair[1];
    if (name.length === 0 || name.charCodeAt(0) === 0x3a || /[^!#$%&'*+\-.^_`|~0-9a-z]/.test(name)) {
      throw new TypeError(`invalid header name: ${JSON.stringify(pair[0])}`);
    }
    if (/[\0\r\n]/.test(value)) throw new TypeError(`invalid value of ${pair[0]}`);
    if (name === "host") {
      host = value.trim();
      continue;
    }
    if (name === "expect") {
      if (value.trim().toLowerCase() !== "100-continue") throw new TypeError(`unsupported Expect: ${value}`);
      continue;
    }
    if (DROPPED.has(name)) continue;
    if (name === "te") {
      if (value.trim().toLowerCase() === "trailers") rest.push("te", "trailers");
      continue;
    }
    if (name === "content-length") {
      const v = value.trim();
      if (!/^\d{1,15}$/.test(v)) throw new TypeError(`invalid Content-Length: ${value}`);
      if (contentLength >= 0 && Number(v) !== contentLength) {
        throw new TypeError(`Content-Length ${v} does not match the body (${contentLength} bytes)`);
      }
      if (hasLength) continue;
      hasLength = true;
    }
    rest.push(name, value.trim());
  }
  if (!hasLength && contentLength >= 0) rest.push("content-length", String(contentLength));
  rest[5] = host;
  return rest;
}
