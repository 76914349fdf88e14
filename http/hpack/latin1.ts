/**
 * Conversions between HTTP field octets and JavaScript strings. Field names
 * and values are octets (RFC 9110 §5.5); each octet maps to the code unit of
 * the same value (ISO-8859-1), like the WHATWG `ByteString`.
 *
 * @module
 */

const fcc = String.fromCharCode;
const CHUNK = 4096;
/** From this length on, an ASCII string is decoded by TextDecoder (one native call). */
const NATIVE_MIN = 48;
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Turns bytes `start..end` of `bytes` into a string, one code unit per byte.
 *
 * Field names and values are short: up to 16 bytes, `String.fromCharCode`
 * is called with a fixed number of arguments (no subarray, no `apply`,
 * which are slow on every engine and very slow on JavaScriptCore); long
 * ASCII strings go through TextDecoder, others through `apply` in chunks.
 *
 * @example
 * ```ts
 * import { latin1Decode } from "./latin1.ts";
 * latin1Decode(new Uint8Array([0x68, 0x69]), 0, 2); // "hi"
 * ```
 */
export function latin1Decode(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 16) return n <= 0 ? "" : short(bytes, start, n);
  if (n < NATIVE_MIN) return fcc(
    bytes[start]!, bytes[start + 1]!, bytes[start + 2]!, bytes[start + 3]!,
    bytes[start + 4]!, bytes[start + 5]!, bytes[start + 6]!, bytes[start + 7]!,
    bytes[start + 8]!, bytes[start + 9]!, bytes[start + 10]!, bytes[start + 11]!,
    bytes[start + 12]!, bytes[start + 13]!, bytes[start + 14]!, bytes[start + 15]!,
  ) + latin1Decode(bytes, start + 16, end);
  let high = 0;
  for (let i = start; i < end; i++) high |= bytes[i]!;
  if (high < 0x80) return utf8.decode(bytes.subarray(start, end));
  if (n <= CHUNK) return fcc.apply(null, bytes.subarray(start, end) as unknown as number[]);
  const parts: string[] = [];
  for (let i = start; i < end; i += CHUNK) {
    const stop = i + CHUNK < end ? i + CHUNK : end;
    parts.push(fcc.apply(null, bytes.subarray(i, stop) as unknown as number[]));
  }
  return parts.join("");
}

/** 1 to 16 bytes at `s` as a string. */
function short(b: Uint8Array, s: number, n: number): string {
  switch (n) {
    case 1: return fcc(b[s]!);
    case 2: return fcc(b[s]!, b[s + 1]!);
    case 3: return fcc(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    case 9: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!);
    case 10: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!);
    case 11: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!);
    case 12: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!);
    case 13: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!);
    case 14: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!);
    case 15: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!);
    case 16: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!);
    default: return "";
  }
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
