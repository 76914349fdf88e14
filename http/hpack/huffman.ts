/**
 * HPACK Huffman coding (RFC 7541 §5.2, Appendix B): an encoder that packs
 * codes through a 32-bit accumulator and a table-driven decoder that consumes
 * 4 bits per step.
 *
 * @module
 */
import { HPACKError } from "../../core/errors.ts";
import {
  HUFFMAN_ACCEPT,
  HUFFMAN_CODES,
  HUFFMAN_DECODE,
  HUFFMAN_EMIT,
  HUFFMAN_FAIL,
  HUFFMAN_LENGTHS,
} from "./huffman_table.ts";

// Module-local copies: some loaders (tsx on Node) turn imported bindings into
// getters, which costs a call per access in the hot loops below.
const CODES = HUFFMAN_CODES;
const LENGTHS = HUFFMAN_LENGTHS;
const DECODE = HUFFMAN_DECODE;
const EMIT = HUFFMAN_EMIT;
const ACCEPT = HUFFMAN_ACCEPT;
const FAIL = HUFFMAN_FAIL;

/**
 * Number of bytes the Huffman encoding of `s` takes (code units above 0xff
 * count as one byte's worst case; {@link huffmanEncode} rejects them).
 *
 * @example
 * ```ts
 * import { huffmanEncodedLength } from "./huffman.ts";
 * huffmanEncodedLength("www.example.com"); // 12
 * ```
 */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) bits += LENGTHS[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/**
 * Huffman-encodes `s` (one octet per code unit) into `out` at `offset`,
 * padding the last byte with the most significant bits of EOS. Returns the
 * offset after the encoding; throws RangeError when `out` lacks room for
 * {@link huffmanEncodedLength} bytes.
 *
 * @example
 * ```ts
 * import { huffmanEncode } from "./huffman.ts";
 * const out = new Uint8Array(12);
 * huffmanEncode("www.example.com", out, 0); // 12: f1 e3 c2 e5 f2 3a 6b a0 ab 90 f4 ff
 * ```
 */
export function huffmanEncode(s: string, out: Uint8Array, offset: number): number {
  const end = huffmanEncodeWithin(s, out, offset, out.length);
  if (end < 0) throw new RangeError(`Huffman encoding of ${s.length} characters does not fit at offset ${offset}`);
  return end;
}

/**
 * Like {@link huffmanEncode}, but gives up as soon as the encoding would end
 * after `limit`: returns the offset after the encoding, or -1 when it does
 * not fit (the bytes written up to about 4 past `limit` are then garbage).
 * One pass instead of {@link huffmanEncodedLength} then {@link huffmanEncode}
 * when Huffman is used only where it is shorter.
 *
 * @example
 * ```ts
 * import { huffmanEncodeWithin } from "./huffman.ts";
 * const out = new Uint8Array(20);
 * huffmanEncodeWithin("www.example.com", out, 0, 14); // 12
 * huffmanEncodeWithin("www.example.com", out, 0, 11); // -1
 * ```
 */
export function huffmanEncodeWithin(s: string, out: Uint8Array, offset: number, limit: number): number {
  let acc = 0; // pending bits, right-aligned; fewer than 8 between symbols
  let bits = 0;
  let pos = offset;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new TypeError(`field contains a character above U+00FF at ${i}`);
    let code = CODES[c]!;
    let len = LENGTHS[c]!;
    if (len > 24) {
      // Keep the accumulator within 31 bits: push the high part first.
      const high = len - 16;
      acc = (acc << high) | (code >>> 16);
      bits += high;
      while (bits >= 8) {
        bits -= 8;
        out[pos++] = acc >>> bits;
      }
      acc &= (1 << bits) - 1;
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      out[pos++] = acc >>> bits;
    }
    if (pos > limit) return -1;
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) {
    if (pos >= limit) return -1;
    out[pos++] = (acc << (8 - bits)) | (0xff >>> bits);
  }
  return pos > limit ? -1 : pos;
}

/** A reusable output buffer for {@link huffmanDecode}. */
export interface HuffmanScratch {
  /** Reusable output buffer (replaced by a larger one when too small). */
  bytes: Uint8Array;
}

/**
 * Decodes the Huffman string in `src[start..end)` into `scratch.bytes`
 * (grown as needed) and returns the decoded length. EOS inside the string,
 * padding longer than 7 bits or padding that is not all ones is a
 * COMPRESSION_ERROR.
 *
 * @example
 * ```ts
 * import { huffmanDecode } from "./huffman.ts";
 * const scratch = { bytes: new Uint8Array(64) };
 * const n = huffmanDecode(new Uint8Array([0x9c, 0xb4, 0x50, 0x75, 0x3c, 0x1e, 0xca, 0x24, 0xfe, 0x3f]), 0, 10, scratch);
 * new TextDecoder().decode(scratch.bytes.subarray(0, n)); // "custom-value"
 * ```
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, scratch: HuffmanScratch): number {
  let out = scratch.bytes;
  const max = (((end - start) * 8) / 5) | 0;
  if (out.length < max) {
    out = new Uint8Array(Math.max(max, out.length * 2));
    scratch.bytes = out;
  }
  let state = 0;
  let accept = true;
  let n = 0;
  const table = DECODE;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    let e = table[(state << 4) | (b >>> 4)]!;
    if ((e & EMIT) !== 0) out[n++] = e >>> 8;
    else if ((e & FAIL) !== 0) throw eos();
    e = table[((e & 0xff) << 4) | (b & 0xf)]!;
    if ((e & EMIT) !== 0) out[n++] = e >>> 8;
    else if ((e & FAIL) !== 0) throw eos();
    state = e & 0xff;
    accept = (e & ACCEPT) !== 0;
  }
  if (!accept) {
    throw new HPACKError("ERR_HPACK_HUFFMAN_PADDING", "Huffman string ends with invalid padding");
  }
  return n;
}

function eos(): HPACKError {
  return new HPACKError("ERR_HPACK_HUFFMAN_EOS", "Huffman string contains EOS");
}
