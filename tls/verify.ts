/**
 * The one process-wide verify callback: it records where the chain check
 * failed (error number and depth), which `SSL_get_verify_result` alone does
 * not tell. The record is kept per `SSL` (keyed by its address, found from
 * the store through `SSL_get_ex_data_X509_STORE_CTX_idx`), so handshakes
 * that interleave on a loop never read each other's failure; the blocking
 * path uses the same records. The callback never throws into C.
 *
 * It also closes a gap in OpenSSL's name check: `SSL_set1_host` falls back
 * to the subject's common name whenever the certificate has no DNS name,
 * even when it has other subject alternative names (an IP address, a URI).
 * RFC 6125 §6.4.4 allows the common name only when the certificate has no
 * subjectAltName at all, so a client's check of a DNS name fails
 * (HOSTNAME_MISMATCH) when the leaf has that extension and none of its DNS
 * names match ({@link certificateNamesDNS}, also used for resumed sessions).
 *
 * @example
 * ```ts ignore
 * import { takeVerifyFailure, verifyCallback } from "./verify.ts";
 * libssl().SSL_CTX_set_verify(ctx, 1, verifyCallback());
 * // … handshake on `ssl` fails …
 * console.log(takeVerifyFailure(ssl)); // { code: 10, depth: 0 }
 * ```
 *
 * @module
 */
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import { cString, readCString } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import type { NativeCallback, Pointer } from "../ffi/types.ts";

/** Where verification failed. */
export interface VerifyFailure {
  /** The X509_V_ERR_* number. */
  readonly code: number;
  /** The depth in the chain (0: the peer's certificate). */
  readonly depth: number;
}

let callback: NativeCallback | undefined;
/** The first failure of each `SSL` still handshaking, by the SSL's address. */
const failures = new Map<bigint, VerifyFailure>();
/** `SSL_get_ex_data_X509_STORE_CTX_idx()`, read once. */
let sslIndex = -1;

/**
 * The callback pointer for `SSL_CTX_set_verify` (made once per process and
 * kept for its lifetime).
 *
 * @example
 * ```ts ignore
 * import { verifyCallback } from "./verify.ts";
 * const pointer = verifyCallback();
 * ```
 */
export function verifyCallback(): Pointer {
  if (callback === undefined) {
    // int verify_cb(int preverify_ok, X509_STORE_CTX *x509_ctx)
    callback = native.callback({ args: ["i32", "pointer"], result: "i32" }, ((ok: number, store: Pointer | null) => {
      try {
        if (ok === 0 && store !== null) record(store);
        else if (ok === 1 && store !== null && !leafNamesHost(store)) {
          libcrypto().X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
          record(store);
          return 0;
        }
      } catch {
        // never throw into C; the verify result still reports the failure
      }
      return ok;
    }) as never);
  }
  return callback.pointer;
}

/** X509_V_ERR_HOSTNAME_MISMATCH. */
const X509_V_ERR_HOSTNAME_MISMATCH = 62;
/** NID_subject_alt_name. */
const NID_SUBJECT_ALT_NAME = 85;
/** X509_CHECK_FLAG_NEVER_CHECK_SUBJECT: no fallback to the subject's common name. */
const NEVER_CHECK_SUBJECT = 0x20;
/**
 * X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS: `f*.example.com` matches nothing
 * (RFC 9525 §6.3: a wildcard is the whole left-most label or nothing).
 */
export const NO_PARTIAL_WILDCARDS = 0x4;

/** Records the store's current error for the `SSL` it verifies (the first one only). */
function record(store: Pointer): void {
  const lib = libcrypto();
  if (sslIndex < 0) sslIndex = libssl().SSL_get_ex_data_X509_STORE_CTX_idx();
  const ssl = lib.X509_STORE_CTX_get_ex_data(store, sslIndex);
  const key = ssl === null ? 0n : native.address(ssl);
  if (!failures.has(key)) failures.set(key, { code: lib.X509_STORE_CTX_get_error(store), depth: lib.X509_STORE_CTX_get_error_depth(store) });
}

/**
 * At the leaf's success (depth 0, after OpenSSL's own name check passed):
 * false when a DNS name is checked and only the common name matched it
 * although the leaf has subjectAltNames. True otherwise (an IP check, no
 * name checked, OpenSSL 1.1 without `X509_VERIFY_PARAM_get0_host`).
 */
function leafNamesHost(store: Pointer): boolean {
  const lib = libcrypto();
  const get0Host = lib.X509_VERIFY_PARAM_get0_host;
  if (get0Host === undefined || lib.X509_STORE_CTX_get_error_depth(store) !== 0) return true;
  const param = lib.X509_STORE_CTX_get0_param(store);
  const host = param === null ? null : get0Host(param, 0);
  if (host === null) return true;
  const cert = lib.X509_STORE_CTX_get_current_cert(store);
  return cert === null || certificateNamesDNS(cert, readCString(host));
}

/**
 * Whether the certificate `cert` (an `X509 *`) names the DNS name `name`
 * (in the form sent as SNI: no final dot, A-labels), as RFC 6125 §6.4
 * asks: its DNS subjectAltNames (a wildcard only as the whole left-most
 * label, covering one label: {@link NO_PARTIAL_WILDCARDS}), and the subject's common name only when it has no
 * subjectAltName extension at all.
 *
 * @example
 * ```ts ignore
 * import { certificateNamesDNS } from "./verify.ts";
 * console.log(certificateNamesDNS(cert, "example.com"));
 * ```
 */
export function certificateNamesDNS(cert: Pointer, name: string): boolean {
  const lib = libcrypto();
  const flags = NO_PARTIAL_WILDCARDS | (lib.X509_get_ext_by_NID(cert, NID_SUBJECT_ALT_NAME, -1) >= 0 ? NEVER_CHECK_SUBJECT : 0);
  return lib.X509_check_host(cert, cString(name), 0, flags, null) === 1;
}

/**
 * Forgets the failure recorded for `ssl` (before its handshake, and when
 * it is freed: a later SSL may get the same address).
 *
 * @example
 * ```ts ignore
 * import { resetVerifyFailure } from "./verify.ts";
 * resetVerifyFailure(ssl);
 * ```
 */
export function resetVerifyFailure(ssl: Pointer): void {
  if (failures.size > 0) failures.delete(native.address(ssl));
}

/**
 * Returns and clears the failure recorded for `ssl` since its reset.
 *
 * @example
 * ```ts ignore
 * import { takeVerifyFailure } from "./verify.ts";
 * console.log(takeVerifyFailure(ssl)); // null when its chain was fine
 * ```
 */
export function takeVerifyFailure(ssl: Pointer): VerifyFailure | null {
  if (failures.size === 0) return null;
  const key = native.address(ssl);
  const f = failures.get(key) ?? null;
  failures.delete(key);
  return f;
}

let acceptAll: NativeCallback | undefined;

/**
 * A verify callback that accepts any chain: a server that asks for client
 * certificates with `rejectUnauthorized: false` (made once per process).
 *
 * @example
 * ```ts ignore
 * import { acceptAllCallback } from "./verify.ts";
 * const pointer = acceptAllCallback();
 * ```
 */
export function acceptAllCallback(): Pointer {
  if (acceptAll === undefined) {
    acceptAll = native.callback({ args: ["i32", "pointer"], result: "i32" }, (() => 1) as never);
  }
  return acceptAll.pointer;
}
