/**
 * Fuzz target for the HTTP/1.1 parser. The first byte picks the mode
 * (request or response parser, lenient options, small limits) and the
 * second a split pattern; the rest is parsed whole and split into chunks,
 * and both runs must agree exactly (same messages, same error code and
 * offset). Only HTTP1ParseError may escape the parser; limits must hold.
 *
 * @module
 */
import { HTTP1ParseError } from "../core/errors.ts";
import type { HTTP1ParserOptions } from "../http/h1/parser.ts";
import { recordMessages, type Recording } from "../http/h1/recorder.ts";

function options(mode: number): HTTP1ParserOptions {
  const response = (mode & 1) === 1;
  const small = (mode & 4) === 4;
  const o: HTTP1ParserOptions = { kind: response ? "response" : "request" };
  if ((mode & 2) === 2) {
    if (response) o.lenientLineEndings = true;
    else o.lenientTargetChars = true;
  }
  if (small) {
    o.maxStartLineBytes = 64;
    o.maxUriBytes = 32;
    o.maxHeaderBytes = 256;
    o.maxHeaderCount = 4;
    o.maxFieldBytes = 64;
    o.maxChunkExtensionBytes = 16;
    o.maxTrailerBytes = 64;
    o.maxBodyBytes = 128;
  }
  return o;
}

function record(o: HTTP1ParserOptions, chunks: Uint8Array[], expect: string[]): Recording {
  try {
    return recordMessages(o, chunks, { expect });
  } catch (e) {
    // recordMessages turns HTTP1ParseError into a result: anything else is a defect.
    if (e instanceof HTTP1ParseError) throw new Error(`HTTP1ParseError escaped the recorder: ${e.code}`);
    throw e;
  }
}

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./h1_parser.ts";
 * fuzz(new TextEncoder().encode("\x00\x03GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  if (data.length < 2) return;
  const mode = data[0]!;
  const step = (data[1]! % 13) + 1;
  const input = data.subarray(2);
  const o = options(mode);
  const expect = (mode & 9) === 9 ? ["HEAD", "GET", "CONNECT"] : [];
  const whole = record(o, [input], expect);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < input.length; i += step) chunks.push(input.subarray(i, i + step));
  const split = record(o, chunks, expect);
  if (JSON.stringify(whole) !== JSON.stringify(split)) {
    throw new Error(`split run differs: ${JSON.stringify(whole).slice(0, 300)} vs ${JSON.stringify(split).slice(0, 300)}`);
  }
  const maxBody = o.maxBodyBytes ?? Infinity;
  const maxHeaders = o.maxHeaderCount ?? 100;
  for (const m of whole.messages) {
    if (m.body.length > maxBody) throw new Error("body above maxBodyBytes");
    if (m.headers.length > maxHeaders) throw new Error("more header fields than maxHeaderCount");
    if (m.complete && m.framing === "length" && m.body.length !== m.contentLength) {
      throw new Error("body length differs from Content-Length");
    }
  }
  if (whole.error && (whole.error.offset < 0 || whole.error.offset > input.length)) {
    throw new Error(`error offset ${whole.error.offset} outside the input`);
  }
}

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * Valid inputs that mutations start from (used by scripts/fuzz.ts).
 *
 * @example
 * ```ts
 * import { fuzz, seeds } from "./h1_parser.ts";
 * for (const s of seeds) fuzz(s);
 * ```
 */
export const seeds: readonly Uint8Array[] = [
  enc("\x00\x01GET /a?b HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"),
  enc("\x00\x02POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=\"y\"\r\nabc\r\n0\r\nT: 1\r\n\r\n"),
  enc("\x01\x03HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 204 No Content\r\n\r\n"),
  enc("\x09\x05HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
  enc("\x04\x07GET /x HTTP/1.1\r\nHost: a\r\nUpgrade: ws\r\nConnection: upgrade\r\n\r\nrest"),
  enc("\x00\x04CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\ntunnel"),
];
