/**
 * The one process-wide verify callback: it records where the chain check
 * failed (error number and depth), which `SSL_get_verify_result` alone does
 * not tell. The record is kept per `SSL` (keyed by its address, found from
 * the store through `SSL_get_ex_data_X509_STORE_CTX_idx`), so handshakes
 * that interleave on a loop never read each other's failure; the blocking
 * path uses the same records. The callback never throws into C.
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
        if (ok === 0 && store !== null) {
          const lib = libcrypto();
          if (sslIndex < 0) sslIndex = libssl().SSL_get_ex_data_X509_STORE_CTX_idx();
          const ssl = lib.X509_STORE_CTX_get_ex_data(store, sslIndex);
          const key = ssl === null ? 0n : native.address(ssl);
          if (!failures.has(key)) failures.set(key, { code: lib.X509_STORE_CTX_get_error(store), depth: lib.X509_STORE_CTX_get_error_depth(store) });
        }
      } catch {
        // never throw into C; the verify result still reports the failure
      }
      return ok;
    }) as never);
  }
  return callback.pointer;
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
