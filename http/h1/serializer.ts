/**
 * HTTP/1.1 head serializer (RFC 9112 §3, §4, §5): request and status lines
 * and header fields written byte by byte into a caller-supplied buffer,
 * validated on the way out (methods and names are tokens, values and reason
 * phrases have no CR, LF, NUL or other controls, targets have only
 * request-target characters). No string is built per header.
 *
 * @example
 * ```ts
 * import { encodeRequestHead } from "./serializer.ts";
 * const bytes = encodeRequestHead({ method: "GET", target: "/", headers: [["Host", "example.com"]] });
 * console.log(new TextDecoder().decode(bytes)); // "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
 * ```
 *
 * @module
 */
import { HeaderList } from "../core/headers.ts";
import { reasonPhrase } from "../core/status.ts";
import { FIELD_VALUE, REASON, TARGET, TOKEN } from "./tables.ts";

/** Header fields to write: our `HeaderList` (raw order kept), pairs, or a record. */
export type HeaderFields =
  | HeaderList
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | readonly string[]>>;

/**
 * A request head to write.
 *
 * @example
 * ```ts
 * import type { RequestHeadInit } from "./serializer.ts";
 * const head: RequestHeadInit = { method: "GET", target: "/", headers: { Host: "example.com" } };
 * ```
 */
export interface RequestHeadInit {
  /** The request method, e.g. "GET". */
  method: string;
  /** The request-target, e.g. "/path?q" (origin form) or "host:443" for CONNECT. */
  target: string;
  /** "HTTP/1.1" (default) or "HTTP/1.0". */
  version?: "HTTP/1.1" | "HTTP/1.0";
  /** Header fields, written in order. */
  headers?: HeaderFields;
}

/**
 * A response head to write.
 *
 * @example
 * ```ts
 * import type { ResponseHeadInit } from "./serializer.ts";
 * const head: ResponseHeadInit = { status: 200, headers: [["Content-Length", "0"]] };
 * ```
 */
export interface ResponseHeadInit {
  /** 100–999. */
  status: number;
  /** Defaults to the registered phrase for `status`. */
  reason?: string;
  /** "HTTP/1.1" (default) or "HTTP/1.0". */
  version?: "HTTP/1.1" | "HTTP/1.0";
  /** Header fields, written in order. */
  headers?: HeaderFields;
}

/**
 * Calls `fn(name, value)` for each field of `fields`, in order.
 *
 * @example
 * ```ts
 * import { forEachField } from "./serializer.ts";
 * forEachField({ a: ["1", "2"] }, (n, v) => console.log(n, v)); // a 1, a 2
 * ```
 */
export function forEachField(fields: HeaderFields | undefined, fn: (name: string, value: string) => void): void {
  if (fields === undefined) return;
  if (fields instanceof HeaderList) {
    for (const [n, v] of fields.rawEntries()) fn(n, v);
  } else if (typeof (fields as Iterable<unknown>)[Symbol.iterator] === "function") {
    for (const [n, v] of fields as Iterable<readonly [string, string]>) fn(n, v);
  } else {
    for (const [n, v] of Object.entries(fields as Record<string, string | readonly string[]>)) {
      if (typeof v === "string") fn(n, v);
      else for (const one of v) fn(n, one);
    }
  }
}

function put(out: Uint8Array, at: number, s: string, table: Uint8Array, what: string, from = 0, to = s.length): number {
  if (at + (to - from) > out.length) return -1;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || table[c] !== 1) throw new TypeError(`Invalid character in ${what}: ${JSON.stringify(s.slice(0, 100))}`);
    out[at++] = c;
  }
  return at;
}

function putAscii(out: Uint8Array, at: number, s: string): number {
  if (at + s.length > out.length) return -1;
  for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i);
  return at;
}

/**
 * Writes `name: value\r\n` lines and the final empty line. Leading and
 * trailing whitespace of a value is left out (the parser would drop it).
 * Returns the end offset, or -1 when `out` is too small.
 *
 * @throws TypeError for an invalid name or value.
 * @example
 * ```ts
 * import { writeFields } from "./serializer.ts";
 * const out = new Uint8Array(64);
 * const end = writeFields(out, 0, [["X-A", "1"]]);
 * console.log(new TextDecoder().decode(out.subarray(0, end))); // "X-A: 1\r\n\r\n"
 * ```
 */
export function writeFields(out: Uint8Array, offset: number, fields: HeaderFields | undefined): number {
  let at = offset;
  forEachField(fields, (name, value) => {
    if (name.length === 0) throw new TypeError("Empty header name");
    let s = 0;
    let e = value.length;
    while (s < e && (value.charCodeAt(s) === 0x20 || value.charCodeAt(s) === 0x09)) s++;
    while (e > s && (value.charCodeAt(e - 1) === 0x20 || value.charCodeAt(e - 1) === 0x09)) e--;
    if (at < 0) {
      // Still validate, so a too-small buffer never hides a bad field.
      put(new Uint8Array(name.length), 0, name, TOKEN, "header name");
      put(new Uint8Array(e - s), 0, value, FIELD_VALUE, "header value", s, e);
      return;
    }
    at = put(out, at, name, TOKEN, "header name");
    if (at >= 0) at = putAscii(out, at, ": ");
    if (at >= 0) at = put(out, at, value, FIELD_VALUE, "header value", s, e);
    else put(new Uint8Array(e - s), 0, value, FIELD_VALUE, "header value", s, e);
    if (at >= 0) at = putAscii(out, at, "\r\n");
  });
  return at < 0 ? -1 : putAscii(out, at, "\r\n");
}

/**
 * Writes a request head into `out` at `offset`. Returns the end offset, or
 * -1 when `out` is too small (grow it and call again).
 *
 * @throws TypeError for an invalid method, target, name or value.
 * @example
 * ```ts
 * import { writeRequestHead } from "./serializer.ts";
 * const out = new Uint8Array(256);
 * const end = writeRequestHead(out, 0, { method: "POST", target: "/x", headers: { Host: "a", "Content-Length": "2" } });
 * console.log(end > 0); // true
 * ```
 */
export function writeRequestHead(out: Uint8Array, offset: number, head: RequestHeadInit): number {
  if (head.method.length === 0) throw new TypeError("Empty method");
  if (head.target.length === 0) throw new TypeError("Empty request-target");
  let at = put(out, offset, head.method, TOKEN, "method");
  if (at >= 0) at = putAscii(out, at, " ");
  if (at >= 0) at = put(out, at, head.target, TARGET, "request-target");
  else put(new Uint8Array(head.target.length), 0, head.target, TARGET, "request-target");
  if (at >= 0) at = putAscii(out, at, head.version === "HTTP/1.0" ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  return writeFields(out, at, head.headers);
}

/**
 * Writes a response head into `out` at `offset`. Returns the end offset, or
 * -1 when `out` is too small.
 *
 * @throws RangeError for a status outside 100–999; TypeError for an invalid reason, name or value.
 * @example
 * ```ts
 * import { writeResponseHead } from "./serializer.ts";
 * const out = new Uint8Array(128);
 * const end = writeResponseHead(out, 0, { status: 404 });
 * console.log(new TextDecoder().decode(out.subarray(0, end))); // "HTTP/1.1 404 Not Found\r\n\r\n"
 * ```
 */
export function writeResponseHead(out: Uint8Array, offset: number, head: ResponseHeadInit): number {
  const status = head.status;
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`Invalid status code ${status}`);
  }
  const reason = head.reason ?? reasonPhrase(status);
  let at = putAscii(out, offset, head.version === "HTTP/1.0" ? "HTTP/1.0 " : "HTTP/1.1 ");
  if (at >= 0) at = putAscii(out, at, `${status} `);
  if (at >= 0) at = put(out, at, reason, REASON, "reason phrase");
  else put(new Uint8Array(reason.length), 0, reason, REASON, "reason phrase");
  if (at >= 0) at = putAscii(out, at, "\r\n");
  return writeFields(out, at, head.headers);
}

function grow(write: (out: Uint8Array) => number): Uint8Array {
  let size = 512;
  for (;;) {
    const out = new Uint8Array(size);
    const end = write(out);
    if (end >= 0) return out.subarray(0, end);
    size *= 4;
  }
}

/**
 * Encodes a request head into a new buffer.
 *
 * @example
 * ```ts
 * import { encodeRequestHead } from "./serializer.ts";
 * console.log(encodeRequestHead({ method: "HEAD", target: "/", headers: [["Host", "a"]] }).length); // 30
 * ```
 */
export function encodeRequestHead(head: RequestHeadInit): Uint8Array {
  return grow((out) => writeRequestHead(out, 0, head));
}

/**
 * Encodes a response head into a new buffer.
 *
 * @example
 * ```ts
 * import { encodeResponseHead } from "./serializer.ts";
 * console.log(new TextDecoder().decode(encodeResponseHead({ status: 204 }))); // "HTTP/1.1 204 No Content\r\n\r\n"
 * ```
 */
export function encodeResponseHead(head: ResponseHeadInit): Uint8Array {
  return grow((out) => writeResponseHead(out, 0, head));
}
