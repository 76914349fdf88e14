/**
 * The chunked transfer coding on the sending side (RFC 9112 §7.1): chunk
 * headers, the last chunk and a trailer section. Chunk data is never copied:
 * `encodeChunk` returns the pieces to write with one vectored write.
 *
 * @example
 * ```ts
 * import { encodeChunk, encodeLastChunk } from "./chunked.ts";
 * const parts = encodeChunk(new TextEncoder().encode("hello"));
 * console.log(parts.length, new TextDecoder().decode(encodeLastChunk())); // 3 "0\r\n\r\n"
 * ```
 *
 * @module
 */
import { forEachField, type HeaderFields, writeFields } from "./serializer.ts";
import { isProhibitedTrailer } from "../core/trailer_fields.ts";

const CRLF: Uint8Array = Uint8Array.of(0x0d, 0x0a);
const HEX = "0123456789abcdef";

/**
 * Writes a chunk-size line (`<hex size>\r\n`) into `out` at `offset`;
 * returns the end offset or -1 when `out` is too small.
 *
 * @throws RangeError for a size that is not a positive safe integer (size 0 is the last chunk).
 * @example
 * ```ts
 * import { writeChunkHeader } from "./chunked.ts";
 * const out = new Uint8Array(16);
 * console.log(writeChunkHeader(out, 0, 255)); // 4 ("ff\r\n")
 * ```
 */
export function writeChunkHeader(out: Uint8Array, offset: number, size: number): number {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`Invalid chunk size ${size}`);
  let digits = 0;
  for (let v = size; v > 0; v = Math.floor(v / 16)) digits++;
  if (offset + digits + 2 > out.length) return -1;
  let v = size;
  for (let i = digits - 1; i >= 0; i--) {
    out[offset + i] = HEX.charCodeAt(v % 16);
    v = Math.floor(v / 16);
  }
  out[offset + digits] = 0x0d;
  out[offset + digits + 1] = 0x0a;
  return offset + digits + 2;
}

/**
 * The pieces of one chunk: size line, the data itself (not copied) and
 * CRLF. An empty `data` gives no pieces (an empty chunk would end the body).
 *
 * @example
 * ```ts
 * import { encodeChunk } from "./chunked.ts";
 * const [size] = encodeChunk(new Uint8Array(16));
 * console.log(new TextDecoder().decode(size)); // "10\r\n"
 * ```
 */
export function encodeChunk(data: Uint8Array): Uint8Array[] {
  if (data.length === 0) return [];
  const head = new Uint8Array(16);
  const end = writeChunkHeader(head, 0, data.length);
  return [head.subarray(0, end), data, CRLF];
}


/**
 * The last chunk and trailer section: `0\r\n`, the trailer fields, `\r\n`.
 * Fields that framing, routing or content handling depend on are refused
 * (RFC 9110 §6.5.1).
 *
 * @throws TypeError for an invalid or forbidden trailer field.
 * @example
 * ```ts
 * import { encodeLastChunk } from "./chunked.ts";
 * console.log(new TextDecoder().decode(encodeLastChunk([["Server-Timing", "db;dur=5"]])));
 * ```
 */
export function encodeLastChunk(trailers?: HeaderFields): Uint8Array {
  for (let size = 256;; size *= 4) {
    const out = new Uint8Array(size);
    const end = writeLastChunk(out, 0, trailers);
    if (end >= 0) return out.subarray(0, end);
  }
}

/**
 * Writes the last chunk and trailer section into `out` at `offset`; returns
 * the end offset or -1 when `out` is too small.
 *
 * @throws TypeError for an invalid or forbidden trailer field.
 * @example
 * ```ts
 * import { writeLastChunk } from "./chunked.ts";
 * const out = new Uint8Array(32);
 * console.log(writeLastChunk(out, 0)); // 5 ("0\r\n\r\n")
 * ```
 */
export function writeLastChunk(out: Uint8Array, offset: number, trailers?: HeaderFields): number {
  forEachField(trailers, (name) => {
    if (isProhibitedTrailer(name)) throw new TypeError(`${name} is not allowed in trailers`);
  });
  if (offset + 3 > out.length) {
    writeFields(new Uint8Array(0), 0, trailers); // validates the trailers all the same
    return -1;
  }
  out[offset] = 0x30;
  out[offset + 1] = 0x0d;
  out[offset + 2] = 0x0a;
  return writeFields(out, offset + 3, trailers);
}
