/**
 * Strict base64 and base64url (RFC 4648 §4, §5) in plain TypeScript: no
 * FFI, so protocol cores (the WebSocket handshake) can use it without any
 * permission. `core/crypto.ts` re-exports these.
 *
 * @example
 * ```ts
 * import { base64Decode, base64Encode } from "./base64.ts";
 * base64Encode("hi"); // "aGk="
 * base64Decode("aGk=").length; // 2
 * ```
 *
 * @module
 */
import { CryptoError } from "./errors.ts";

const encoder = new TextEncoder();

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

// ---- base64 and base64url (RFC 4648 §4, §5), strict

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function codes(alphabet: string): Uint8Array {
  const out = new Uint8Array(alphabet.length);
  for (let i = 0; i < alphabet.length; i++) out[i] = alphabet.charCodeAt(i);
  return out;
}

function reverse(alphabet: string): Int8Array {
  const out = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) out[alphabet.charCodeAt(i)] = i;
  return out;
}

const ENC = codes(B64);
const ENC_URL = codes(B64URL);
const DEC = reverse(B64);
const DEC_URL = reverse(B64URL);
const latin1 = new TextDecoder("latin1");

function encode(data: Uint8Array, table: Uint8Array, pad: boolean): string {
  const n = data.length;
  const full = n - (n % 3);
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  for (let i = 0; i < full; i += 3) {
    const v = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
    out[o++] = table[v >>> 18]!;
    out[o++] = table[(v >>> 12) & 63]!;
    out[o++] = table[(v >>> 6) & 63]!;
    out[o++] = table[v & 63]!;
  }
  if (n - full === 1) {
    const v = data[full]!;
    out[o++] = table[v >>> 2]!;
    out[o++] = table[(v & 3) << 4]!;
    if (pad) {
      out[o++] = 61;
      out[o++] = 61;
    }
  } else if (n - full === 2) {
    const v = (data[full]! << 8) | data[full + 1]!;
    out[o++] = table[v >>> 10]!;
    out[o++] = table[(v >>> 4) & 63]!;
    out[o++] = table[(v & 15) << 2]!;
    if (pad) out[o++] = 61;
  }
  // latin1 decoding maps each byte to the same code unit (pure ASCII here).
  return latin1.decode(out.subarray(0, o));
}

function decode(text: string, table: Int8Array, padding: "required" | "optional", name: string): Uint8Array {
  let len = text.length;
  if (len % 4 !== 0 && padding === "required") {
    throw new CryptoError("ERR_BASE64", `${name}: length ${len} is not a multiple of 4`);
  }
  // Strip the padding (at most two "=", only at the end, only to a multiple of 4).
  let pads = 0;
  while (pads < 2 && len > 0 && text.charCodeAt(len - 1) === 61) {
    len--;
    pads++;
  }
  if (pads > 0 && text.length % 4 !== 0) throw new CryptoError("ERR_BASE64", `${name}: bad padding`);
  const rest = len % 4;
  if (rest === 1) throw new CryptoError("ERR_BASE64", `${name}: truncated input`);
  if (pads > 0 && pads !== (4 - rest) % 4) throw new CryptoError("ERR_BASE64", `${name}: bad padding`);
  const out = new Uint8Array(((len >>> 2) * 3) + (rest === 0 ? 0 : rest - 1));
  let o = 0;
  let i = 0;
  const full = len - rest;
  const at = (k: number): number => {
    const c = text.charCodeAt(k);
    const v = c < 128 ? table[c]! : -1;
    if (v < 0) throw new CryptoError("ERR_BASE64", `${name}: invalid character at ${k}`);
    return v;
  };
  for (; i < full; i += 4) {
    const v = (at(i) << 18) | (at(i + 1) << 12) | (at(i + 2) << 6) | at(i + 3);
    out[o++] = v >>> 16;
    out[o++] = (v >>> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (rest === 2) {
    const v = (at(i) << 6) | at(i + 1);
    if ((v & 15) !== 0) throw new CryptoError("ERR_BASE64", `${name}: non-zero trailing bits`);
    out[o++] = v >>> 4;
  } else if (rest === 3) {
    const v = (at(i) << 12) | (at(i + 1) << 6) | at(i + 2);
    if ((v & 3) !== 0) throw new CryptoError("ERR_BASE64", `${name}: non-zero trailing bits`);
    out[o++] = v >>> 10;
    out[o++] = (v >>> 2) & 0xff;
  }
  return out;
}

/**
 * Base64 (RFC 4648 §4) with padding.
 *
 * @example
 * ```ts
 * import { base64Encode } from "./base64.ts";
 * base64Encode(new TextEncoder().encode("foob")); // "Zm9vYg=="
 * ```
 */
export function base64Encode(data: Uint8Array | string): string {
  return encode(toBytes(data), ENC, true);
}

/**
 * Strict base64 decoding: canonical padding required; whitespace, other
 * characters and non-zero trailing bits are a {@link CryptoError}.
 *
 * @example
 * ```ts
 * import { base64Decode } from "./base64.ts";
 * new TextDecoder().decode(base64Decode("Zm9vYg==")); // "foob"
 * ```
 */
export function base64Decode(text: string): Uint8Array {
  return decode(text, DEC, "required", "base64");
}

/**
 * Base64url (RFC 4648 §5) without padding, as JWT and ACME use it.
 *
 * @example
 * ```ts
 * import { base64urlEncode } from "./base64.ts";
 * base64urlEncode(new Uint8Array([0xfb, 0xff])); // "-_8"
 * ```
 */
export function base64urlEncode(data: Uint8Array | string): string {
  return encode(toBytes(data), ENC_URL, false);
}

/**
 * Strict base64url decoding: padding is optional but must be right when
 * present; other characters and non-zero trailing bits are a {@link CryptoError}.
 *
 * @example
 * ```ts
 * import { base64urlDecode } from "./base64.ts";
 * base64urlDecode("-_8"); // Uint8Array [ 251, 255 ]
 * ```
 */
export function base64urlDecode(text: string): Uint8Array {
  return decode(text, DEC_URL, "optional", "base64url");
}
