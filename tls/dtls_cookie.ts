/**
 * DTLS cookies (RFC 6347 §4.2.1): a server answers a ClientHello without a
 * valid cookie with a HelloVerifyRequest carrying
 * `HMAC-SHA256(secret, peer address)` and keeps nothing, so a spoofed source
 * costs it no state. The secret rotates every `rotateMs`; a cookie made under
 * the previous secret is still accepted, so a cookie lives between one and
 * two rotation periods.
 *
 * {@link DTLSCookieSecrets} is I/O-free (a clock is injected);
 * {@link makeCookieCallbacks} wraps it in the two OpenSSL callbacks, which
 * read the peer's address from the `SSL`'s datagram BIO.
 *
 * @example
 * ```ts
 * import { DTLSCookieSecrets } from "./dtls_cookie.ts";
 * const secrets = new DTLSCookieSecrets();
 * const cookie = secrets.cookie("127.0.0.1:5000");
 * console.log(secrets.verify("127.0.0.1:5000", cookie), secrets.verify("127.0.0.1:5001", cookie)); // true false
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "../core/clock.ts";
import { hmacSha256, randomBytes, secureClear, secureCompare } from "../core/crypto.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import { native } from "../ffi/native.ts";
import type { NativeCallback, Pointer } from "../ffi/types.ts";
import { decodeSockaddr, formatSocketAddress } from "../socket/sockaddr.ts";
import { BIO_DGRAM_CTRL } from "./ctrl.ts";

/** The default rotation period of the cookie secret, in ms. */
export const DEFAULT_COOKIE_ROTATE_MS = 30_000;

/** Bytes of a cookie (one HMAC-SHA256). */
export const COOKIE_BYTES = 32;

/** Options of {@link DTLSCookieSecrets}. */
export interface DTLSCookieSecretsOptions {
  /** Rotation period in ms (default 30 000; 1–2^31-1). */
  readonly rotateMs?: number;
  /** Clock for rotation (default: the monotonic clock). */
  readonly clock?: Clock;
}

/**
 * The current and previous cookie secrets, rotated lazily on use.
 *
 * @example
 * ```ts
 * import { ManualClock } from "../core/clock.ts";
 * import { DTLSCookieSecrets } from "./dtls_cookie.ts";
 * const clock = new ManualClock();
 * const secrets = new DTLSCookieSecrets({ rotateMs: 1000, clock });
 * const cookie = secrets.cookie("[::1]:443");
 * clock.advance(1000);
 * console.log(secrets.verify("[::1]:443", cookie)); // true (previous secret)
 * clock.advance(1000);
 * console.log(secrets.verify("[::1]:443", cookie)); // false
 * ```
 */
export class DTLSCookieSecrets {
  /** Rotation period in ms. */
  readonly rotateMs: number;
  readonly #clock: Clock;
  #current: Uint8Array = randomBytes(32);
  #previous: Uint8Array = randomBytes(32);
  #rotatedAt: number;
  /** Rotations so far (for tests and metrics). */
  rotations = 0;

  /**
   * Makes fresh random secrets.
   *
   * @example
   * ```ts
   * import { DTLSCookieSecrets } from "./dtls_cookie.ts";
   * const secrets = new DTLSCookieSecrets({ rotateMs: 60_000 });
   * ```
   */
  constructor(options: DTLSCookieSecretsOptions = {}) {
    const rotateMs = options.rotateMs ?? DEFAULT_COOKIE_ROTATE_MS;
    if (typeof rotateMs !== "number" || !Number.isInteger(rotateMs) || rotateMs < 1 || rotateMs > 0x7fffffff) {
      throw new RangeError(`cookieRotateMs must be an integer 1–2147483647, got ${String(rotateMs)}`);
    }
    this.rotateMs = rotateMs;
    this.#clock = options.clock ?? systemClock;
    this.#rotatedAt = this.#clock.now();
  }

  /**
   * Replaces the secrets when due: after one period the current becomes the
   * previous; after two, both are new.
   */
  #tick(): void {
    const elapsed = this.#clock.now() - this.#rotatedAt;
    if (elapsed < this.rotateMs) return;
    if (elapsed >= 2 * this.rotateMs) {
      this.rotate();
      this.rotate();
    } else {
      this.rotate();
    }
  }

  /**
   * Rotates now: the current secret becomes the previous one.
   *
   * @example
   * ```ts
   * import { DTLSCookieSecrets } from "./dtls_cookie.ts";
   * const secrets = new DTLSCookieSecrets();
   * secrets.rotate();
   * ```
   */
  rotate(): void {
    secureClear(this.#previous);
    this.#previous = this.#current;
    this.#current = randomBytes(32);
    this.#rotatedAt = this.#clock.now();
    this.rotations++;
  }

  /**
   * The cookie for `peer` (any stable text naming the address) under the
   * current secret.
   *
   * @example
   * ```ts
   * import { DTLSCookieSecrets } from "./dtls_cookie.ts";
   * console.log(new DTLSCookieSecrets().cookie("127.0.0.1:9").length); // 32
   * ```
   */
  cookie(peer: string): Uint8Array {
    this.#tick();
    return hmacSha256(this.#current, peer);
  }

  /**
   * Whether `cookie` was made for `peer` under the current or the previous
   * secret (compared in constant time).
   *
   * @example
   * ```ts
   * import { DTLSCookieSecrets } from "./dtls_cookie.ts";
   * const s = new DTLSCookieSecrets();
   * console.log(s.verify("127.0.0.1:9", new Uint8Array(32))); // false
   * ```
   */
  verify(peer: string, cookie: Uint8Array): boolean {
    this.#tick();
    if (cookie.length !== COOKIE_BYTES) return false;
    // Both compared, so the time taken says nothing about which matched.
    const current = secureCompare(hmacSha256(this.#current, peer), cookie);
    const previous = secureCompare(hmacSha256(this.#previous, peer), cookie);
    return current || previous;
  }

  /**
   * Wipes both secrets (the server is closing).
   *
   * @example
   * ```ts
   * import { DTLSCookieSecrets } from "./dtls_cookie.ts";
   * new DTLSCookieSecrets().clear();
   * ```
   */
  clear(): void {
    secureClear(this.#current);
    secureClear(this.#previous);
  }
}

/** Counters of the cookie callbacks (read by tests and for metrics). */
export interface CookieStats {
  /** HelloVerifyRequest cookies made. */
  issued: number;
  /** Cookie checks that passed (OpenSSL checks a cookie in `DTLSv1_listen` and again in `SSL_accept`). */
  accepted: number;
  /** Cookies that did not. */
  rejected: number;
}

/** The two OpenSSL callbacks over one set of secrets. */
export interface CookieCallbacks {
  readonly generate: NativeCallback;
  readonly verify: NativeCallback;
  readonly stats: CookieStats;
  /** Frees both trampolines. */
  close(): void;
}

/**
 * The peer of the datagram BIO under `ssl`, as text (what the cookie is
 * bound to), or null when it cannot be read.
 */
function peerOf(ssl: Pointer | null, scratch: Uint8Array): string | null {
  if (ssl === null) return null;
  const bio = libssl().SSL_get_rbio(ssl);
  if (bio === null) return null;
  scratch.fill(0);
  const length = Number(libcrypto().BIO_ctrl(bio, BIO_DGRAM_CTRL.BIO_CTRL_DGRAM_GET_PEER, 0, scratch));
  if (length <= 0) return null;
  const address = decodeSockaddr(scratch, Math.min(length, scratch.length));
  // Host and port only (never the IPv6 flow label, which may vary per packet).
  return formatSocketAddress(address.family === "unix" ? address : { family: address.family, host: address.host, port: address.port });
}

/**
 * The generate and verify callbacks for `SSL_CTX_set_cookie_generate_cb` /
 * `SSL_CTX_set_cookie_verify_cb`. Neither ever throws into C: any failure
 * makes no cookie (generate returns 0, the handshake attempt is dropped) or
 * rejects it.
 *
 * @example
 * ```ts ignore
 * const callbacks = makeCookieCallbacks(new DTLSCookieSecrets());
 * libssl().SSL_CTX_set_cookie_generate_cb(ctx, callbacks.generate.pointer);
 * libssl().SSL_CTX_set_cookie_verify_cb(ctx, callbacks.verify.pointer);
 * ```
 */
export function makeCookieCallbacks(secrets: DTLSCookieSecrets): CookieCallbacks {
  const scratch = new Uint8Array(128); // sockaddr_storage
  const stats: CookieStats = { issued: 0, accepted: 0, rejected: 0 };
  // int generate(SSL *ssl, unsigned char *cookie, unsigned int *cookie_len)
  const generate = native.callback({ args: ["pointer", "pointer", "pointer"], result: "i32" }, ((ssl: Pointer | null, out: Pointer | null, outLength: Pointer | null) => {
    try {
      if (out === null || outLength === null) return 0;
      const peer = peerOf(ssl, scratch);
      if (peer === null) return 0;
      const cookie = secrets.cookie(peer);
      // The cookie buffer holds DTLS1_COOKIE_LENGTH (255) bytes.
      new Uint8Array(native.view(out, cookie.length)).set(cookie);
      new Uint32Array(native.view(outLength, 4))[0] = cookie.length; // native byte order
      stats.issued++;
      return 1;
    } catch {
      return 0;
    }
  }) as never);
  // int verify(SSL *ssl, const unsigned char *cookie, unsigned int cookie_len)
  const verify = native.callback({ args: ["pointer", "pointer", "u32"], result: "i32" }, ((ssl: Pointer | null, cookie: Pointer | null, length: number) => {
    try {
      if (cookie === null || length !== COOKIE_BYTES) {
        stats.rejected++;
        return 0;
      }
      const peer = peerOf(ssl, scratch);
      const bytes = new Uint8Array(native.view(cookie, length)).slice();
      const ok = peer !== null && secrets.verify(peer, bytes);
      if (ok) stats.accepted++;
      else stats.rejected++;
      return ok ? 1 : 0;
    } catch {
      stats.rejected++;
      return 0;
    }
  }) as never);
  return {
    generate,
    verify,
    stats,
    close() {
      generate.close();
      verify.close();
    },
  };
}
