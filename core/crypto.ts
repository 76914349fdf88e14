/**
 * Hashes, HMAC, random bytes and constant-time helpers over libcrypto
 * (loaded on first use), plus strict base64 and base64url (RFC 4648, from
 * `base64.ts`) and SHA-1 (from `sha1.ts`) in plain TypeScript.
 *
 * @example
 * ```ts
 * import { base64Encode, sha1 } from "./crypto.ts";
 * // The WebSocket accept key of RFC 6455 §1.3:
 * const key = "dGhlIHNhbXBsZSBub25jZQ==" + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
 * console.log(base64Encode(sha1(key))); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 *
 * @module
 */
import { CryptoError, UseAfterCloseError } from "./errors.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import type { Pointer } from "../ffi/types.ts";

const encoder = new TextEncoder();

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

function opensslError(what: string): CryptoError {
  const lib = libcrypto();
  const code = lib.ERR_get_error();
  let detail = "";
  if (code !== 0) {
    const buf = new Uint8Array(256);
    lib.ERR_error_string_n(code, buf, buf.length);
    const end = buf.indexOf(0);
    detail = ": " + new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
  }
  lib.ERR_clear_error();
  return new CryptoError("ERR_CRYPTO_OPERATION", `${what} failed${detail}`);
}

/** A digest algorithm this module offers. */
export type DigestAlgorithm = "sha1" | "sha256";

const DIGEST_SIZE: Record<DigestAlgorithm, number> = { sha1: 20, sha256: 32 };

function evp(algorithm: DigestAlgorithm): Pointer {
  const lib = libcrypto();
  const md = algorithm === "sha1" ? lib.EVP_sha1() : algorithm === "sha256" ? lib.EVP_sha256() : null;
  if (md === null) throw new TypeError(`unknown digest algorithm ${String(algorithm)}`);
  return md;
}

/**
 * SHA-256 (FIPS 180-4) of `data` (strings are hashed as UTF-8).
 *
 * @example
 * ```ts
 * import { sha256 } from "./crypto.ts";
 * sha256("abc").length; // 32
 * ```
 */
export function sha256(data: Uint8Array | string): Uint8Array {
  const bytes = toBytes(data);
  const out = new Uint8Array(32);
  if (libcrypto().SHA256(bytes, bytes.length, out) === null) throw opensslError("SHA256");
  return out;
}

/**
 * HMAC-SHA-256 (RFC 2104, RFC 4231) of `data` under `key`.
 *
 * @example
 * ```ts
 * import { hmacSha256 } from "./crypto.ts";
 * hmacSha256("key", "The quick brown fox jumps over the lazy dog").length; // 32
 * ```
 */
export function hmacSha256(key: Uint8Array | string, data: Uint8Array | string): Uint8Array {
  const k = toBytes(key);
  const d = toBytes(data);
  if (k.length > 0x7fffffff) throw new RangeError("HMAC key too long");
  const out = new Uint8Array(32);
  const len = new Uint32Array(1);
  const lib = libcrypto();
  if (lib.HMAC(evp("sha256"), k, k.length, d, d.length, out, len) === null) throw opensslError("HMAC");
  return out;
}

// Native contexts whose owner was collected without close() are freed here.
const digestContexts = new FinalizationRegistry<{ ptr: Pointer; freed: boolean }>((held) => {
  if (!held.freed) libcrypto().EVP_MD_CTX_free(held.ptr);
});
const hmacContexts = new FinalizationRegistry<{ ptr: Pointer; freed: boolean }>((held) => {
  if (!held.freed) libcrypto().HMAC_CTX_free(held.ptr);
});

/**
 * An incremental digest: `update` any number of times, then `digest` once.
 * The native context is freed by `digest()`, `close()` or `using`.
 *
 * @example
 * ```ts
 * import { Hash } from "./crypto.ts";
 * const h = new Hash("sha256");
 * h.update("ab");
 * h.update("c");
 * h.digest().length; // 32
 * ```
 */
export class Hash {
  /** The digest this hash computes. */
  readonly algorithm: DigestAlgorithm;
  #held: { ptr: Pointer; freed: boolean };

  /** Starts a hash; throws TypeError for an unknown algorithm. */
  constructor(algorithm: DigestAlgorithm) {
    const md = evp(algorithm);
    this.algorithm = algorithm;
    const lib = libcrypto();
    const ptr = lib.EVP_MD_CTX_new();
    if (ptr === null) throw opensslError("EVP_MD_CTX_new");
    this.#held = { ptr, freed: false };
    digestContexts.register(this, this.#held, this.#held);
    if (lib.EVP_DigestInit_ex(ptr, md, null) !== 1) {
      this.close();
      throw opensslError("EVP_DigestInit_ex");
    }
  }

  /** Adds data (strings as UTF-8). Returns `this` for chaining. */
  update(data: Uint8Array | string): this {
    const bytes = toBytes(data);
    if (libcrypto().EVP_DigestUpdate(this.#ptr(), bytes, bytes.length) !== 1) throw opensslError("EVP_DigestUpdate");
    return this;
  }

  /** Finishes and returns the digest; the hash is closed afterwards. */
  digest(): Uint8Array {
    const out = new Uint8Array(DIGEST_SIZE[this.algorithm]);
    const ok = libcrypto().EVP_DigestFinal_ex(this.#ptr(), out, null);
    this.close();
    if (ok !== 1) throw opensslError("EVP_DigestFinal_ex");
    return out;
  }

  /** Frees the native context; a second call does nothing. */
  close(): void {
    if (this.#held.freed) return;
    this.#held.freed = true;
    digestContexts.unregister(this.#held);
    libcrypto().EVP_MD_CTX_free(this.#held.ptr);
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #ptr(): Pointer {
    if (this.#held.freed) throw new UseAfterCloseError("Hash");
    return this.#held.ptr;
  }
}

/**
 * Incremental HMAC-SHA-256.
 *
 * @example
 * ```ts
 * import { HmacSha256 } from "./crypto.ts";
 * const mac = new HmacSha256("key");
 * mac.update("The quick brown fox ");
 * mac.update("jumps over the lazy dog");
 * mac.digest().length; // 32
 * ```
 */
export class HmacSha256 {
  #held: { ptr: Pointer; freed: boolean };

  /** Starts a MAC under `key` (a string is UTF-8 encoded). */
  constructor(key: Uint8Array | string) {
    const k = toBytes(key);
    if (k.length > 0x7fffffff) throw new RangeError("HMAC key too long");
    const md = evp("sha256");
    const lib = libcrypto();
    const ptr = lib.HMAC_CTX_new();
    if (ptr === null) throw opensslError("HMAC_CTX_new");
    this.#held = { ptr, freed: false };
    hmacContexts.register(this, this.#held, this.#held);
    if (lib.HMAC_Init_ex(ptr, k, k.length, md, null) !== 1) {
      this.close();
      throw opensslError("HMAC_Init_ex");
    }
  }

  /** Adds data (strings as UTF-8). Returns `this` for chaining. */
  update(data: Uint8Array | string): this {
    const bytes = toBytes(data);
    if (libcrypto().HMAC_Update(this.#ptr(), bytes, bytes.length) !== 1) throw opensslError("HMAC_Update");
    return this;
  }

  /** Finishes and returns the 32-byte MAC; the object is closed afterwards. */
  digest(): Uint8Array {
    const out = new Uint8Array(32);
    const len = new Uint32Array(1);
    const ok = libcrypto().HMAC_Final(this.#ptr(), out, len);
    this.close();
    if (ok !== 1) throw opensslError("HMAC_Final");
    return out;
  }

  /** Frees the native context; a second call does nothing. */
  close(): void {
    if (this.#held.freed) return;
    this.#held.freed = true;
    hmacContexts.unregister(this.#held);
    libcrypto().HMAC_CTX_free(this.#held.ptr);
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #ptr(): Pointer {
    if (this.#held.freed) throw new UseAfterCloseError("HmacSha256");
    return this.#held.ptr;
  }
}

/**
 * `n` cryptographically secure random bytes (OpenSSL RAND_bytes).
 *
 * @example
 * ```ts
 * import { randomBytes } from "./crypto.ts";
 * randomBytes(16).length; // 16
 * ```
 */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`invalid byte count ${n}`);
  const out = new Uint8Array(n);
  if (n > 0) fillRandom(out);
  return out;
}

/**
 * Fills `out` with cryptographically secure random bytes.
 *
 * @example
 * ```ts
 * import { fillRandom } from "./crypto.ts";
 * fillRandom(new Uint8Array(4));
 * ```
 */
export function fillRandom(out: Uint8Array): void {
  if (out.length === 0) return;
  if (libcrypto().RAND_bytes(out, out.length) !== 1) throw opensslError("RAND_bytes");
}

/**
 * Compares two byte strings in time that depends only on their length
 * (CRYPTO_memcmp). Different lengths compare unequal at once.
 *
 * @example
 * ```ts
 * import { secureCompare } from "./crypto.ts";
 * secureCompare(new Uint8Array([1, 2]), new Uint8Array([1, 2])); // true
 * ```
 */
export function secureCompare(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.length === 0) return true;
  return libcrypto().CRYPTO_memcmp(a, b, a.length) === 0;
}

/**
 * Overwrites `buf` with zeros in a way the compiler may not elide
 * (OPENSSL_cleanse), for keys and secrets that are done with.
 *
 * @example
 * ```ts
 * import { secureClear } from "./crypto.ts";
 * const secret = new Uint8Array([1, 2, 3]);
 * secureClear(secret); // secret is now [0, 0, 0]
 * ```
 */
export function secureClear(buf: Uint8Array): void {
  if (buf.length === 0) return;
  libcrypto().OPENSSL_cleanse(buf, buf.length);
}

export { base64Decode, base64Encode, base64urlDecode, base64urlEncode } from "./base64.ts";
export { sha1 } from "./sha1.ts";
