/**
 * Session ticket keys with rotation: a server context's ring of keys for
 * stateless tickets (`SSL_CTX_set_tlsext_ticket_key_evp_cb`). The newest key
 * encrypts new tickets; the previous `kept` keys still decrypt, and a ticket
 * under one of them resumes and is renewed under the newest. A ticket whose
 * key has been dropped is not an error: the handshake is simply a full one.
 *
 * A key is 80 bytes, OpenSSL's own ticket key layout: a 16-byte name (sent
 * in the clear at the head of each ticket), a 32-byte HMAC-SHA256 key and a
 * 32-byte AES-256-CBC key. Servers that should accept each other's tickets
 * (several processes behind one address) share their keys and rotate them
 * together.
 *
 * @example
 * ```ts
 * import { TicketKeyRing } from "./ticket_keys.ts";
 * const ring = new TicketKeyRing({ keysKept: 1, rotationMs: 0 });
 * ring.rotate();
 * console.log(ring.size); // 2
 * ring.close();
 * ```
 *
 * @module
 */
import { monotonicMs } from "../core/clock.ts";
import { UnsupportedError, UseAfterCloseError } from "../core/errors.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import { writePointer } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import type { NativeCallback, Pointer } from "../ffi/types.ts";
import { TICKET } from "./ctrl.ts";
import { tlsError } from "./errors.ts";

/**
 * The length of one ticket key: name (16), HMAC key (32), AES key (32).
 *
 * @example
 * ```ts
 * import { TICKET_KEY_LENGTH } from "./ticket_keys.ts";
 * const key = crypto.getRandomValues(new Uint8Array(TICKET_KEY_LENGTH));
 * console.log(key.length); // 80
 * ```
 */
export const TICKET_KEY_LENGTH = 80;

/** Options of a {@link TicketKeyRing}. */
export interface TicketKeyRingOptions {
  /** Initial keys, newest first (each {@link TICKET_KEY_LENGTH} bytes); default: one random key. */
  readonly keys?: readonly Uint8Array[];
  /** How many keys older than the newest still decrypt (default 1). */
  readonly keysKept?: number;
  /** Rotate when the newest key is this old, checked at each ticket (0: only by {@link TicketKeyRing.rotate}). */
  readonly rotationMs?: number;
  /** The clock, in ms (default: the monotonic clock; tests pass their own). */
  readonly now?: () => number;
}

interface TicketKey {
  readonly name: Uint8Array;
  readonly hmac: Uint8Array;
  readonly aes: Uint8Array;
  readonly createdMs: number;
  /** The MAC's OSSL_PARAM array for this key, built at its first ticket and kept until the key is wiped. */
  macParams: NativeBuffer | null;
}

const encoder = new TextEncoder();
const PARAM_KEY = encoder.encode("key\0");
const PARAM_DIGEST = encoder.encode("digest\0");
const DIGEST_NAME = encoder.encode("SHA256\0");

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (libcrypto().RAND_bytes(out, n) !== 1) throw tlsError("ERR_TLS", "RAND_bytes");
  return out;
}

function toKey(material: Uint8Array, createdMs: number): TicketKey {
  if (!(material instanceof Uint8Array) || material.length !== TICKET_KEY_LENGTH) {
    throw new TypeError(`TLSContext: a ticket key must be a Uint8Array of ${TICKET_KEY_LENGTH} bytes (16 name, 32 HMAC, 32 AES)`);
  }
  const copy = material.slice();
  return { name: copy.subarray(0, 16), hmac: copy.subarray(16, 48), aes: copy.subarray(48, 80), createdMs, macParams: null };
}

/** Zeroes a key's bytes (name, HMAC and AES share one 80-byte copy). */
function wipe(key: TicketKey): void {
  new Uint8Array(key.name.buffer, key.name.byteOffset, TICKET_KEY_LENGTH).fill(0);
  if (key.macParams !== null) {
    key.macParams.bytes.fill(0);
    key.macParams.free();
    key.macParams = null;
  }
}

function sameName(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < TICKET.KEYNAME_LENGTH; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Sets the ticket MAC (HMAC-SHA256 with the key's HMAC key) on OpenSSL's
 * `EVP_MAC_CTX`: an `OSSL_PARAM` array {"key": octets, "digest": "SHA256",
 * end} in native memory, built once per ticket key (two tickets per
 * handshake used to allocate, fill, wipe and free one each) and wiped
 * with the key.
 */
function setMacKey(macCtx: Pointer, key: TicketKey): boolean {
  key.macParams ??= macParams(key.hmac);
  return libcrypto().EVP_MAC_CTX_set_params!(macCtx, key.macParams.pointer) === 1;
}

function macParams(key: Uint8Array): NativeBuffer {
  const P = TICKET.OSSL_PARAM_SIZE;
  const keyAt = 3 * P;
  const nameAt = keyAt + key.length;
  const digestAt = nameAt + PARAM_KEY.length;
  const valueAt = digestAt + PARAM_DIGEST.length;
  const params = NativeBuffer.alloc(valueAt + DIGEST_NAME.length);
  {
    const bytes = params.bytes;
    const view = params.view;
    bytes.set(key, keyAt);
    bytes.set(PARAM_KEY, nameAt);
    bytes.set(PARAM_DIGEST, digestAt);
    bytes.set(DIGEST_NAME, valueAt);
    const entry = (at: number, name: number, type: number, data: number, size: number) => {
      writePointer(view, at, params.pointerAt(name));
      view.setUint32(at + 8, type, true);
      writePointer(view, at + 16, params.pointerAt(data));
      view.setBigUint64(at + 24, BigInt(size), true);
      view.setBigUint64(at + 32, TICKET.OSSL_PARAM_UNMODIFIED, true);
    };
    entry(0, nameAt, TICKET.OSSL_PARAM_OCTET_STRING, keyAt, key.length);
    entry(P, digestAt, TICKET.OSSL_PARAM_UTF8_STRING, valueAt, DIGEST_NAME.length - 1);
    // The third entry stays zero: the terminator.
  }
  return params;
}

/**
 * Whether this libssl/libcrypto can run a {@link TicketKeyRing} (OpenSSL 3).
 *
 * @example
 * ```ts
 * import { ticketKeysSupported } from "./ticket_keys.ts";
 * console.log(typeof ticketKeysSupported()); // "boolean"
 * ```
 */
export function ticketKeysSupported(): boolean {
  return libssl().SSL_CTX_set_tlsext_ticket_key_evp_cb !== undefined && libcrypto().EVP_MAC_CTX_set_params !== undefined;
}

/**
 * A rotating set of ticket keys and the OpenSSL callback that uses them.
 * The callback never throws into C: a failure while encrypting is an
 * internal error for that handshake, while decrypting a full handshake.
 *
 * @example
 * ```ts
 * import { TicketKeyRing } from "./ticket_keys.ts";
 * using ring = new TicketKeyRing({ keys: [new Uint8Array(80).fill(7)] });
 * console.log(ring.size); // 1
 * ```
 */
export class TicketKeyRing {
  /** Newest first. */
  #keys: TicketKey[];
  readonly #kept: number;
  readonly #rotationMs: number;
  readonly #now: () => number;
  #callback: NativeCallback | null = null;
  #closed = false;

  /**
   * Makes the ring (no callback yet: see {@link TicketKeyRing.install}).
   *
   * @throws TypeError / RangeError for bad options, UnsupportedError before OpenSSL 3
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "./ticket_keys.ts";
   * new TicketKeyRing({ keysKept: 2, rotationMs: 3_600_000 }).close();
   * ```
   */
  constructor(options: TicketKeyRingOptions = {}) {
    if (!ticketKeysSupported()) throw new UnsupportedError("ticket key rotation", "SSL_CTX_set_tlsext_ticket_key_evp_cb needs OpenSSL 3");
    const kept = options.keysKept ?? 1;
    if (!Number.isInteger(kept) || kept < 0 || kept > 16) throw new RangeError(`TLSContext: ticketKeysKept must be an integer 0–16, got ${String(kept)}`);
    const rotationMs = options.rotationMs ?? 0;
    if (typeof rotationMs !== "number" || !Number.isInteger(rotationMs) || rotationMs < 0) {
      throw new RangeError(`TLSContext: ticketKeyRotationMs must be a non-negative integer, got ${String(rotationMs)}`);
    }
    this.#kept = kept;
    this.#rotationMs = rotationMs;
    if (options.now !== undefined && typeof options.now !== "function") throw new TypeError("TicketKeyRing: now must be a function");
    this.#now = options.now ?? monotonicMs;
    const now = this.#now();
    let initial: readonly Uint8Array[];
    if (options.keys === undefined) initial = [randomBytes(TICKET_KEY_LENGTH)];
    else if (options.keys instanceof Uint8Array) initial = [options.keys];
    else if (Array.isArray(options.keys) && options.keys.length > 0) initial = options.keys;
    else throw new TypeError("TLSContext: ticketKeys must be a Uint8Array or a non-empty array of them");
    this.#keys = initial.slice(0, kept + 1).map((k) => toKey(k, now));
  }

  /** How many keys decrypt now (the newest and those kept). */
  get size(): number {
    return this.#keys.length;
  }

  /**
   * Installs the callback on `ctx` (a server `SSL_CTX`).
   *
   * @example
   * ```ts ignore
   * ring.install(ctx);
   * ```
   */
  install(ctx: Pointer): void {
    this.#live();
    if (ctx === null || ctx === undefined) throw new TypeError("TicketKeyRing.install: ctx must be an SSL_CTX pointer");
    if (this.#callback === null) {
      // int cb(SSL *s, unsigned char key_name[16], unsigned char *iv,
      //        EVP_CIPHER_CTX *ctx, EVP_MAC_CTX *hctx, int enc)
      this.#callback = native.callback(
        { args: ["pointer", "pointer", "pointer", "pointer", "pointer", "i32"], result: "i32" },
        ((_ssl: Pointer | null, name: Pointer | null, iv: Pointer | null, cipher: Pointer | null, mac: Pointer | null, enc: number) => {
          if (name === null || iv === null || cipher === null || mac === null) return TICKET.RESULT_ERROR;
          try {
            return enc === 1 ? this.#encrypt(name, iv, cipher, mac) : this.#decrypt(name, iv, cipher, mac);
          } catch {
            return enc === 1 ? TICKET.RESULT_ERROR : TICKET.RESULT_NOT_FOUND; // never throw into C
          }
        }) as never,
      );
    }
    if (libssl().SSL_CTX_set_tlsext_ticket_key_evp_cb!(ctx, this.#callback.pointer) !== 1) {
      throw tlsError("ERR_TLS_OPTION", "SSL_CTX_set_tlsext_ticket_key_evp_cb");
    }
  }

  /**
   * Makes a new newest key (random, or `material`), keeps the previous
   * `keysKept` for decryption and drops (and wipes) the rest.
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "./ticket_keys.ts";
   * using ring = new TicketKeyRing({ keysKept: 0 });
   * ring.rotate();
   * console.log(ring.size); // 1
   * ```
   */
  rotate(material?: Uint8Array): void {
    this.#live();
    const key = toKey(material ?? randomBytes(TICKET_KEY_LENGTH), this.#now());
    this.#keys.unshift(key);
    for (const dropped of this.#keys.splice(this.#kept + 1)) wipe(dropped);
  }

  /**
   * Rotates when the newest key has reached the rotation interval (run
   * before each ticket is made or read); returns whether it did.
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "./ticket_keys.ts";
   * let now = 0;
   * using ring = new TicketKeyRing({ rotationMs: 1000, now: () => now });
   * now = 1000;
   * console.log(ring.rotateIfDue(), ring.size); // true 2
   * ```
   */
  rotateIfDue(): boolean {
    this.#live();
    if (this.#rotationMs === 0 || this.#keys.length === 0 || this.#now() - this.#keys[0]!.createdMs < this.#rotationMs) return false;
    this.rotate();
    return true;
  }

  /** The name of the newest key (what new tickets start with), a copy. */
  get currentName(): Uint8Array {
    return this.#keys[0]?.name.slice() ?? new Uint8Array(0);
  }

  /** Whether a ticket under the key named `name` would still be decrypted. */
  accepts(name: Uint8Array): boolean {
    return this.#keys.some((k) => name.length === TICKET.KEYNAME_LENGTH && sameName(k.name, name));
  }

  /** Throws {@link UseAfterCloseError} once closed. */
  #live(): void {
    if (this.#closed) throw new UseAfterCloseError("TicketKeyRing");
  }

  #current(): TicketKey {
    this.rotateIfDue();
    return this.#keys[0]!;
  }

  #encrypt(name: Pointer, iv: Pointer, cipher: Pointer, mac: Pointer): number {
    const key = this.#current();
    const crypto = libcrypto();
    const ivBytes = randomBytes(TICKET.MAX_IV_LENGTH);
    new Uint8Array(native.view(name, TICKET.KEYNAME_LENGTH)).set(key.name);
    new Uint8Array(native.view(iv, TICKET.MAX_IV_LENGTH)).set(ivBytes);
    if (crypto.EVP_EncryptInit_ex(cipher, crypto.EVP_aes_256_cbc(), null, key.aes, ivBytes) !== 1) return TICKET.RESULT_ERROR;
    return setMacKey(mac, key) ? TICKET.RESULT_OK : TICKET.RESULT_ERROR;
  }

  #decrypt(name: Pointer, iv: Pointer, cipher: Pointer, mac: Pointer): number {
    const current = this.#current();
    const wanted = new Uint8Array(native.view(name, TICKET.KEYNAME_LENGTH)).slice();
    const key = this.#keys.find((k) => sameName(k.name, wanted));
    if (key === undefined) return TICKET.RESULT_NOT_FOUND;
    const crypto = libcrypto();
    const ivBytes = new Uint8Array(native.view(iv, TICKET.MAX_IV_LENGTH)).slice();
    if (crypto.EVP_DecryptInit_ex(cipher, crypto.EVP_aes_256_cbc(), null, key.aes, ivBytes) !== 1) return TICKET.RESULT_NOT_FOUND;
    if (!setMacKey(mac, key)) return TICKET.RESULT_NOT_FOUND;
    return key === current ? TICKET.RESULT_OK : TICKET.RESULT_RENEW;
  }

  /**
   * Wipes the keys and frees the callback (call once no `SSL` of the
   * context can run it). Idempotent; afterwards `size` is 0, nothing is
   * accepted, and `install`, `rotate` and `rotateIfDue` throw
   * `UseAfterCloseError` (they would make new keys and a new callback).
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "./ticket_keys.ts";
   * const ring = new TicketKeyRing();
   * ring.close();
   * ring.close();
   * ```
   */
  close(): void {
    this.#closed = true;
    for (const key of this.#keys.splice(0)) wipe(key);
    this.#callback?.close();
    this.#callback = null;
  }

  /** Same as {@link TicketKeyRing.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
