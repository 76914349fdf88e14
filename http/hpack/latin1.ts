/**
 * Conversions between HTTP field octets and JavaScript strings. Field names
 * and values are octets (RFC 9110 §5.5); each octet maps to the code unit of
 * the same value (ISO-8859-1), like the WHATWG `ByteString`.
 *
 * @module
 */

const fromCharCode = String.fromCharCode;
const CHUNK = 4096;

/**
 * Turns bytes `start..end` of `bytes` into a string, one code unit per byte.
 *
 * @example
 * ```ts
 * import { latin1Decode } from "./latin1.ts";
 * latin1Decode(new Uint8Array([0x68, 0x69]), 0, 2); // "hi"
 * ```
 */
export function latin1Decode(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return "";
  if (n === 1) return fromCharCode(bytes[start]!);
  if (n <= CHUNK) {
    return fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  const parts: string[] = [];
  for (let i = start; i < end; i += CHUNK) {
    const stop = i + CHUNK < end ? i + CHUNK : end;
    parts.push(fromCharCode.apply(null, bytes.subarray(i, stop) as unknown as number[]));
  }
  return parts.join("");
}

/**
 * Writes `s` as one byte per code unit into `out` at `offset` and returns the
 * offset after it. A code unit above 0xff is not a field octet: TypeError.
 *
 * @example
 * ```ts
 * import { latin1Encode } from "./latin1.ts";
 * const out = new Uint8Array(2);
 * latin1Encode("hi", out, 0); // 2, out = [0x68, 0x69]
 * ```
 */
export function latin1Encode(s: string, out: Uint8Array, offset: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new TypeError(`field contains a character above U+00FF at ${i}`);
    out[offset + i] = c;
  }
  return offset + n;
}
