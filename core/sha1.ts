/**
 * SHA-1 (RFC 3174, FIPS 180-4) in plain TypeScript, for the WebSocket
 * accept key (RFC 6455 §4.2.2), so the handshake needs no libcrypto and no
 * FFI permission. SHA-1 is broken for collision resistance: use it where a
 * protocol names it, not in new security designs.
 *
 * @example
 * ```ts
 * import { sha1 } from "./sha1.ts";
 * sha1("abc").length; // 20
 * ```
 *
 * @module
 */

const encoder = new TextEncoder();

// The message schedule, reused by every call (SHA-1 is synchronous).
const w = new Int32Array(80);

/**
 * The SHA-1 digest of `data` (strings are hashed as UTF-8): 20 bytes.
 *
 * @example
 * ```ts
 * import { sha1 } from "./sha1.ts";
 * const hex = Array.from(sha1("abc"), (b) => b.toString(16).padStart(2, "0")).join("");
 * console.log(hex); // "a9993e364706816aba3e25717850c26c9cd0d89d"
 * ```
 */
export function sha1(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const n = bytes.length;
  if (n > 0x1fffffffffffff / 8) throw new RangeError("sha1: input too long");
  // The padded tail: the bytes after the last whole block, 0x80, zeros and
  // the bit length as a 64-bit big-endian number (one or two blocks).
  const whole = n - (n % 64);
  const tailLength = n - whole < 56 ? 64 : 128;
  const tail = new Uint8Array(tailLength);
  tail.set(bytes.subarray(whole));
  tail[n - whole] = 0x80;
  const bits = n * 8;
  const hi = Math.floor(bits / 0x100000000);
  const lo = bits >>> 0;
  const end = tailLength - 8;
  tail[end] = hi >>> 24;
  tail[end + 1] = hi >>> 16;
  tail[end + 2] = hi >>> 8;
  tail[end + 3] = hi;
  tail[end + 4] = lo >>> 24;
  tail[end + 5] = lo >>> 16;
  tail[end + 6] = lo >>> 8;
  tail[end + 7] = lo;

  const h = new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
  for (let at = 0; at < whole; at += 64) block(h, bytes, at);
  for (let at = 0; at < tailLength; at += 64) block(h, tail, at);

  const out = new Uint8Array(20);
  for (let i = 0; i < 5; i++) {
    const v = h[i]!;
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = v >>> 16;
    out[i * 4 + 2] = v >>> 8;
    out[i * 4 + 3] = v;
  }
  return out;
}

/** One 64-byte block at `src[at]` into the state `h` (RFC 3174 §6.1). */
function block(h: Int32Array, src: Uint8Array, at: number): void {
  for (let t = 0; t < 16; t++) {
    const p = at + t * 4;
    w[t] = (src[p]! << 24) | (src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!;
  }
  for (let t = 16; t < 80; t++) {
    const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
    w[t] = (x << 1) | (x >>> 31);
  }
  let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!;
  for (let t = 0; t < 80; t++) {
    let f: number;
    let k: number;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = temp;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
}
