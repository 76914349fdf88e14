/**
 * Certificates out of a live connection, as DER bytes: the peer's own, and
 * the SPKI pins of its chain (verified chain when verification ran, else the
 * peer's certificate alone). X509 references taken here are freed here.
 *
 * @example
 * ```ts
 * import { normalizePins } from "./x509.ts";
 * console.log(normalizePins(["sha256/" + "A".repeat(43) + "="]).length); // 1
 * ```
 *
 * @module
 */
import { base64Decode } from "../core/base64.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import type { Pointer } from "../ffi/types.ts";
import { parseCertificate } from "./certificate.ts";
import { tlsError } from "./errors.ts";
import { encodeDER } from "./native_bytes.ts";

/**
 * The DER encoding of an `X509 *` (the reference stays the caller's).
 *
 * @example
 * ```ts ignore
 * const der = x509DER(x);
 * ```
 */
export function x509DER(x: Pointer): Uint8Array {
  const der = encodeDER((object, out) => libcrypto().i2d_X509(object, out), x);
  if (der === null) throw tlsError("ERR_TLS", "i2d_X509");
  return der;
}

/**
 * The peer's certificate as DER, or null when it sent none.
 *
 * @example
 * ```ts ignore
 * const der = peerCertificateDER(ssl);
 * ```
 */
export function peerCertificateDER(ssl: Pointer): Uint8Array | null {
  const lib = libssl();
  const get = lib.SSL_get1_peer_certificate ?? lib.SSL_get_peer_certificate;
  if (get === undefined) return null;
  const x = get(ssl);
  if (x === null) return null;
  try {
    return x509DER(x);
  } finally {
    libcrypto().X509_free(x);
  }
}

/**
 * The SPKI pins (base64 SHA-256) of the peer's chain: every certificate of
 * the verified chain when `verified`, else the peer's own certificate.
 *
 * @example
 * ```ts ignore
 * const pins = peerChainPins(ssl, true);
 * ```
 */
export function peerChainPins(ssl: Pointer, verified: boolean): string[] {
  if (verified) {
    const chain = libssl().SSL_get0_verified_chain(ssl);
    if (chain !== null) {
      const crypto = libcrypto();
      const out: string[] = [];
      const n = crypto.OPENSSL_sk_num(chain);
      for (let i = 0; i < n; i++) {
        const x = crypto.OPENSSL_sk_value(chain, i);
        if (x !== null) out.push(parseCertificate(x509DER(x)).spkiSha256);
      }
      return out;
    }
  }
  const der = peerCertificateDER(ssl);
  return der === null ? [] : [parseCertificate(der).spkiSha256];
}

/**
 * Checks pins ("sha256/BASE64" as HPKP, or the bare base64 of a SHA-256)
 * and returns them bare.
 *
 * @throws TypeError for anything that is not the base64 of 32 bytes
 *
 * @example
 * ```ts
 * import { normalizePins } from "./x509.ts";
 * try { normalizePins(["nope"]); } catch (err) { console.log((err as Error).name); } // TypeError
 * ```
 */
export function normalizePins(pins: unknown): readonly string[] {
  if (!Array.isArray(pins) || pins.length === 0) throw new TypeError("TLSContext: pins must be a non-empty array of base64 SHA-256 SPKI hashes");
  return pins.map((pin: unknown) => {
    const bare = typeof pin === "string" ? pin.replace(/^sha256\//, "") : "";
    let ok = /^[A-Za-z0-9+/]{43}=$/.test(bare);
    if (ok) {
      try {
        ok = base64Decode(bare).length === 32;
      } catch {
        ok = false;
      }
    }
    if (!ok) throw new TypeError(`TLSContext: pin ${JSON.stringify(pin)} is not the base64 of a SHA-256 hash`);
    return bare;
  });
}
