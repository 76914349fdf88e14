/**
 * The digests HTTP Digest authentication names (RFC 7616 §3.2): MD5
 * (RFC 1321) and SHA-512/256 (FIPS 180-4 §5.3.6) in plain TypeScript,
 * SHA-256 from libcrypto (core/crypto.ts). Inputs are short (credentials,
 * nonces, and for `auth-int` a body held in memory), so the portable
 * versions are fast enough and need no extra libcrypto symbols.
 *
 * @example
 * ```ts
 * import { digestHex } from "./auth_hash.ts";
 * console.log(digestHex("MD5", "abc")); // "900150983cd24fb0d6963f7d28e17f72"
 * ```
 *
 * @module
 */
import { sha256 } from "../../core/crypto.ts";

/** A hash a Digest `algorithm` parameter names (without `-sess`). */
export type DigestHashName = "MD5" | "SHA-256" | "SHA-512-256";

const encoder = new TextEncoder();
const toBytes = (data: Uint8Array | string): Uint8Array => typeof data === "string" ? encoder.encode(data) : data;

const MD5_SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const MD5_K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

/**
 * MD5 (RFC 1321) of `data` (strings as UTF-8). Only for Digest
 * authentication with servers that offer nothing better.
 *
 * @example
 * ```ts
 * import { md5 } from "./auth_hash.ts";
 * md5("").length; // 16
 * ```
 */
export function md5(data: Uint8Array | string): Uint8Array {
  const input = toBytes(data);
  const padded = new Uint8Array(((input.length + 8) >>> 6) * 64 + 64);
  padded.set(input);
  padded[input.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, (input.length * 8) >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(input.length / 0x20000000), true);
  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  const m = new Uint32Array(16);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getUint32(off + i * 4, true);
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) [f, g] = [(b & c) | (~b & d), i];
      else if (i < 32) [f, g] = [(d & b) | (~d & c), (5 * i + 1) % 16];
      else if (i < 48) [f, g] = [b ^ c ^ d, (3 * i + 5) % 16];
      else [f, g] = [c ^ (b | ~d), (7 * i) % 16];
      const s = MD5_SHIFTS[(i >>> 4) * 4 + (i % 4)]!;
      const sum = (a + f + MD5_K[i]! + m[g]!) >>> 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) >>> 0;
    }
    a0 = (a0 + a) >>> 0;
    b0 = (b0 + b) >>> 0;
    c0 = (c0 + c) >>> 0;
    d0 = (d0 + d) >>> 0;
  }
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  [a0, b0, c0, d0].forEach((w, i) => ov.setUint32(i * 4, w, true));
  return out;
}

const SHA512_K = [
  "428a2f98d728ae22", "7137449123ef65cd", "b5c0fbcfec4d3b2f", "e9b5dba58189dbbc", "3956c25bf348b538", "59f111f1b605d019",
  "923f82a4af194f9b", "ab1c5ed5da6d8118", "d807aa98a3030242", "12835b0145706fbe", "243185be4ee4b28c", "550c7dc3d5ffb4e2",
  "72be5d74f27b896f", "80deb1fe3b1696b1", "9bdc06a725c71235", "c19bf174cf692694", "e49b69c19ef14ad2", "efbe4786384f25e3",
  "0fc19dc68b8cd5b5", "240ca1cc77ac9c65", "2de92c6f592b0275", "4a7484aa6ea6e483", "5cb0a9dcbd41fbd4", "76f988da831153b5",
  "983e5152ee66dfab", "a831c66d2db43210", "b00327c898fb213f", "bf597fc7beef0ee4", "c6e00bf33da88fc2", "d5a79147930aa725",
  "06ca6351e003826f", "142929670a0e6e70", "27b70a8546d22ffc", "2e1b21385c26c926", "4d2c6dfc5ac42aed", "53380d139d95b3df",
  "650a73548baf63de", "766a0abb3c77b2a8", "81c2c92e47edaee6", "92722c851482353b", "a2bfe8a14cf10364", "a81a664bbc423001",
  "c24b8b70d0f89791", "c76c51a30654be30", "d192e819d6ef5218", "d69906245565a910", "f40e35855771202a", "106aa07032bbd1b8",
  "19a4c116b8d2d0c8", "1e376c085141ab53", "2748774cdf8eeb99", "34b0bcb5e19b48a8", "391c0cb3c5c95a63", "4ed8aa4ae3418acb",
  "5b9cca4f7763e373", "682e6ff3d6b2b8a3", "748f82ee5defb2fc", "78a5636f43172f60", "84c87814a1f0ab72", "8cc702081a6439ec",
  "90befffa23631e28", "a4506cebde82bde9", "bef9a3f7b2c67915", "c67178f2e372532b", "ca273eceea26619c", "d186b8c721c0c207",
  "eada7dd6cde0eb1e", "f57d4f7fee6ed178", "06f067aa72176fba", "0a637dc5a2c898a6", "113f9804bef90dae", "1b710b35131c471b",
  "28db77f523047d84", "32caab7b40c72493", "3c9ebe0a15c9bebc", "431d67c49c100d4c", "4cc5d4becb3e42b6", "597f299cfc657e2a",
  "5fcb6fab3ad6faec", "6c44198c4a475817",
].map((h) => BigInt("0x" + h));
// FIPS 180-4 §5.3.6.2: the initial hash value of SHA-512/256.
const SHA512_256_IV = [
  "22312194fc2bf72c", "9f555fa3c84c64c2", "2393b86b6f53b151", "963877195940eabd",
  "96283ee2a88effe3", "be5e1e2553863992", "2b0199fc2c85b8aa", "0eb72ddc81c52ca2",
].map((h) => BigInt("0x" + h));
const MASK64 = (1n << 64n) - 1n;
const rotr = (x: bigint, n: bigint): bigint => ((x >> n) | (x << (64n - n))) & MASK64;

/**
 * SHA-512/256 (FIPS 180-4) of `data` (strings as UTF-8): 32 bytes.
 *
 * @example
 * ```ts
 * import { sha512_256 } from "./auth_hash.ts";
 * sha512_256("abc").length; // 32
 * ```
 */
export function sha512_256(data: Uint8Array | string): Uint8Array {
  const input = toBytes(data);
  const padded = new Uint8Array(((input.length + 16) >>> 7) * 128 + 128);
  padded.set(input);
  padded[input.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setBigUint64(padded.length - 8, BigInt(input.length) * 8n, false);
  const h = SHA512_256_IV.slice();
  const w = new Array<bigint>(80);
  for (let off = 0; off < padded.length; off += 128) {
    for (let i = 0; i < 16; i++) w[i] = view.getBigUint64(off + i * 8, false);
    for (let i = 16; i < 80; i++) {
      const w15 = w[i - 15]!, w2 = w[i - 2]!;
      const s0 = rotr(w15, 1n) ^ rotr(w15, 8n) ^ (w15 >> 7n);
      const s1 = rotr(w2, 19n) ^ rotr(w2, 61n) ^ (w2 >> 6n);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) & MASK64;
    }
    let [a, b, c, d, e, f, g, hh] = h as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
    for (let i = 0; i < 80; i++) {
      const t1 = (hh + (rotr(e, 14n) ^ rotr(e, 18n) ^ rotr(e, 41n)) + ((e & f) ^ (~e & MASK64 & g)) + SHA512_K[i]! + w[i]!) & MASK64;
      const t2 = ((rotr(a, 28n) ^ rotr(a, 34n) ^ rotr(a, 39n)) + ((a & b) ^ (a & c) ^ (b & c))) & MASK64;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) & MASK64;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) & MASK64;
    }
    [a, b, c, d, e, f, g, hh].forEach((v, i) => (h[i] = (h[i]! + v) & MASK64));
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) ov.setBigUint64(i * 8, h[i]!, false);
  return out;
}

/**
 * The lower-case hex digest Digest authentication uses (RFC 7616 §3.4.1).
 *
 * @example
 * ```ts
 * import { digestHex } from "./auth_hash.ts";
 * digestHex("SHA-256", "abc").length; // 64
 * ```
 */
export function digestHex(name: DigestHashName, data: Uint8Array | string): string {
  const bytes = name === "MD5" ? md5(data) : name === "SHA-256" ? sha256(data) : sha512_256(data);
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}
