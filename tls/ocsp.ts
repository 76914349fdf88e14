/**
 * OCSP stapling. A server staples a DER OCSP response (the status callback
 * hands OpenSSL a fresh `OPENSSL_malloc` copy per handshake, which the `SSL`
 * then owns and frees). A client asks for one (`status_request`) and checks
 * it after the handshake with libcrypto: the response parses and is
 * successful, its signature verifies against the peer's chain and the
 * trust store (`OCSP_basic_verify`), it covers the peer's certificate
 * (`OCSP_resp_find_status` with the issuer from the chain) and is current.
 * A bad or revoked staple is a `TLSVerifyError` (code ERR_TLS_OCSP, reason
 * OCSP_INVALID / OCSP_REVOKED); when the staple is required, a missing one
 * is OCSP_MISSING and an "unknown" status OCSP_UNKNOWN.
 *
 * @example
 * ```ts
 * import { ocspError } from "./ocsp.ts";
 * console.log(ocspError("OCSP_MISSING", "the server sent no OCSP response").reason); // OCSP_MISSING
 * ```
 *
 * @module
 */
import { TLSVerifyError } from "../core/errors.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import { readCString, readPointer } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import type { NativeCallback, Pointer } from "../ffi/types.ts";
import { CTRL, OCSP, SSL_TLSEXT_ERR } from "./ctrl.ts";
import { clearErrors, drainErrors } from "./errors.ts";

/** The outcome of a staple check: "good", "revoked", "unknown", or "none" when nothing was stapled. */
export type OCSPStatus = "good" | "revoked" | "unknown" | "none";

/** Stable reasons of an OCSP failure (`TLSVerifyError.reason`). */
export type OCSPFailure = "OCSP_MISSING" | "OCSP_INVALID" | "OCSP_REVOKED" | "OCSP_UNKNOWN";

/** The most a stapled response may hold (a real one is 1–4 KiB). */
export const MAX_OCSP_RESPONSE_BYTES = 64 * 1024;

const FILE_NAME = new TextEncoder().encode("ffinet/tls/ocsp.ts\0");

/**
 * The typed error for an OCSP failure.
 *
 * @example
 * ```ts
 * import { ocspError } from "./ocsp.ts";
 * console.log(ocspError("OCSP_REVOKED", "revoked (keyCompromise)").code); // ERR_TLS_OCSP
 * ```
 */
export function ocspError(reason: OCSPFailure, detail: string): TLSVerifyError {
  const queue = drainErrors();
  return new TLSVerifyError("ERR_TLS_OCSP", `OCSP check failed: ${detail} (${reason})${queue.length > 0 ? `: ${queue.join("; ")}` : ""}`, {
    reason,
    depth: 0,
    syscall: "handshake",
  });
}

/**
 * Checks a staple for the server context's use: a non-empty DER value that
 * looks like an OCSPResponse (a SEQUENCE), copied.
 *
 * @throws TypeError otherwise
 *
 * @example
 * ```ts
 * import { checkStaple } from "./ocsp.ts";
 * console.log(checkStaple(new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x00])).length); // 5
 * ```
 */
export function checkStaple(der: unknown): Uint8Array {
  if (!(der instanceof Uint8Array) || der.length < 2 || der[0] !== 0x30 || der.length > MAX_OCSP_RESPONSE_BYTES) {
    throw new TypeError(`TLSContext: an OCSP response must be DER bytes (a SEQUENCE) of at most ${MAX_OCSP_RESPONSE_BYTES} bytes`);
  }
  return der.slice();
}

/**
 * The server's status callback (`SSL_CTX_set_tlsext_status_cb`): staples
 * what `current()` returns, or nothing when it returns null. It never
 * throws into C.
 *
 * @example
 * ```ts ignore
 * const cb = makeStapleCallback(() => staple);
 * libssl().SSL_CTX_callback_ctrl(ctx, CTRL.SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB, cb.pointer);
 * ```
 */
export function makeStapleCallback(current: () => Uint8Array | null): NativeCallback {
  // int status_cb(SSL *s, void *arg)
  return native.callback({ args: ["pointer", "pointer"], result: "i32" }, ((ssl: Pointer | null) => {
    try {
      const der = current();
      if (ssl === null || der === null) return SSL_TLSEXT_ERR.NOACK;
      const crypto = libcrypto();
      const mem = crypto.CRYPTO_malloc(der.length, FILE_NAME, 0);
      if (mem === null) return SSL_TLSEXT_ERR.NOACK;
      const owned = new Uint8Array(native.view(mem, der.length));
      owned.set(der);
      // The SSL takes the buffer (it frees it, and any earlier one, itself).
      if (libssl().SSL_ctrl(ssl, CTRL.SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP, der.length, owned) !== 1) {
        crypto.CRYPTO_free(mem, FILE_NAME, 0);
        return SSL_TLSEXT_ERR.NOACK;
      }
      return SSL_TLSEXT_ERR.OK;
    } catch {
      return SSL_TLSEXT_ERR.NOACK; // never throw into C: no staple
    }
  }) as never);
}

/**
 * The DER OCSP response the server stapled on this connection, or null.
 *
 * @example
 * ```ts ignore
 * const der = stapledResponse(ssl);
 * ```
 */
export function stapledResponse(ssl: Pointer): Uint8Array | null {
  const out = new Uint8Array(8);
  const length = libssl().SSL_ctrl(ssl, CTRL.SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, out);
  const p = readPointer(new DataView(out.buffer), 0);
  if (length <= 0 || p === null) return null;
  return new Uint8Array(native.view(p, length)).slice();
}

/** What the client checks (see {@link verifyStaple}). */
export interface StaplePolicy {
  /** A missing staple, or an "unknown" status, fails the handshake. */
  readonly required: boolean;
  /** The peer's chain was verified (else only the response's own signature is checked). */
  readonly verified: boolean;
}

/**
 * Checks the staple of a finished client handshake; returns its status.
 * A resumed session has no certificate exchange (it was checked when the
 * session was made) and reports "none" without failing.
 *
 * @throws TLSVerifyError ERR_TLS_OCSP (reason {@link OCSPFailure})
 *
 * @example
 * ```ts ignore
 * const status = verifyStaple(ssl, { required: true, verified: true }); // "good"
 * ```
 */
export function verifyStaple(ssl: Pointer, policy: StaplePolicy): OCSPStatus {
  const lib = libssl();
  if (lib.SSL_session_reused(ssl) === 1) return "none";
  clearErrors();
  const pp = new Uint8Array(8);
  const length = lib.SSL_ctrl(ssl, CTRL.SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, pp);
  if (length <= 0 || readPointer(new DataView(pp.buffer), 0) === null) {
    if (policy.required) throw ocspError("OCSP_MISSING", "the server stapled no OCSP response");
    return "none";
  }
  const crypto = libcrypto();
  // d2i advances the pointer in `pp` (our copy), reading the SSL's buffer.
  const response = crypto.d2i_OCSP_RESPONSE(null, pp, length);
  if (response === null) throw ocspError("OCSP_INVALID", "the stapled bytes are not an OCSP response");
  let basic: Pointer | null = null;
  let id: Pointer | null = null;
  try {
    const status = crypto.OCSP_response_status(response);
    if (status !== OCSP.RESPONSE_STATUS_SUCCESSFUL) throw ocspError("OCSP_INVALID", `the responder answered with status ${status}, not successful`);
    basic = crypto.OCSP_response_get1_basic(response);
    if (basic === null) throw ocspError("OCSP_INVALID", "the response has no basic response");
    const chain = lib.SSL_get_peer_cert_chain(ssl);
    const ctx = lib.SSL_get_SSL_CTX(ssl);
    const store = ctx === null ? null : lib.SSL_CTX_get_cert_store(ctx);
    if (chain === null || store === null) throw ocspError("OCSP_INVALID", "no peer chain to check the response against");
    if (crypto.OCSP_basic_verify(basic, chain, store, policy.verified ? 0 : OCSP.NOVERIFY) !== 1) {
      throw ocspError("OCSP_INVALID", "the response's signature does not verify against the peer's chain and the trust store");
    }
    const path = policy.verified ? lib.SSL_get0_verified_chain(ssl) ?? chain : chain;
    const leaf = crypto.OPENSSL_sk_num(path) > 0 ? crypto.OPENSSL_sk_value(path, 0) : null;
    const issuer = crypto.OPENSSL_sk_num(path) > 1 ? crypto.OPENSSL_sk_value(path, 1) : null;
    if (leaf === null || issuer === null) throw ocspError("OCSP_INVALID", "the peer's chain has no issuer to identify its certificate by");
    id = crypto.OCSP_cert_to_id(null, leaf, issuer);
    if (id === null) throw ocspError("OCSP_INVALID", "OCSP_cert_to_id failed");
    const certStatus = new Int32Array(1);
    const reason = new Int32Array(1);
    const revoked = new Uint8Array(8), thisUpdate = new Uint8Array(8), nextUpdate = new Uint8Array(8);
    const found = crypto.OCSP_resp_find_status(basic, id, new Uint8Array(certStatus.buffer), new Uint8Array(reason.buffer), revoked, thisUpdate, nextUpdate);
    if (found !== 1) throw ocspError("OCSP_INVALID", "the response does not cover the server's certificate");
    const at = (b: Uint8Array) => readPointer(new DataView(b.buffer), 0);
    if (crypto.OCSP_check_validity(at(thisUpdate), at(nextUpdate), OCSP.VALIDITY_SKEW_SECONDS, -1) !== 1) {
      throw ocspError("OCSP_INVALID", "the response is not current (thisUpdate/nextUpdate)");
    }
    if (certStatus[0] === OCSP.CERTSTATUS_REVOKED) {
      const why = reason[0]! >= 0 ? readCString(crypto.OCSP_crl_reason_str(reason[0]!)) : "no reason given";
      throw ocspError("OCSP_REVOKED", `the server's certificate is revoked (${why})`);
    }
    if (certStatus[0] === OCSP.CERTSTATUS_GOOD) return "good";
    if (policy.required) throw ocspError("OCSP_UNKNOWN", "the responder does not know the server's certificate");
    return "unknown";
  } finally {
    if (id !== null) crypto.OCSP_CERTID_free(id);
    if (basic !== null) crypto.OCSP_BASICRESP_free(basic);
    crypto.OCSP_RESPONSE_free(response);
    clearErrors();
  }
}
