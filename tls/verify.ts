/**
 * The one process-wide verify callback: it records where the chain check
 * failed (error number and depth), which `SSL_get_verify_result` alone does
 * not tell. Handshakes run synchronously on this thread, so the connection
 * that reads the record right after its handshake call is the one it is
 * about. The callback never throws into C.
 *
 * @example
 * ```ts ignore
 * import { takeVerifyFailure, verifyCallback } from "./verify.ts";
 * libssl().SSL_CTX_set_verify(ctx, 1, verifyCallback());
 * // … handshake fails …
 * console.log(takeVerifyFailure()); // { code: 10, depth: 0 }
 * ```
 *
 * @module
 */
import { libcrypto } from "../ffi/libcrypto.ts";
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
let failure: VerifyFailure | null = null;

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
        if (ok === 0 && failure === null && store !== null) {
          const lib = libcrypto();
          failure = { code: lib.X509_STORE_CTX_get_error(store), depth: lib.X509_STORE_CTX_get_error_depth(store) };
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
 * Forgets any recorded failure (before a handshake call).
 *
 * @example
 * ```ts
 * import { resetVerifyFailure } from "./verify.ts";
 * resetVerifyFailure();
 * ```
 */
export function resetVerifyFailure(): void {
  failure = null;
}

/**
 * Returns and clears the failure recorded since the last reset.
 *
 * @example
 * ```ts
 * import { takeVerifyFailure } from "./verify.ts";
 * console.log(takeVerifyFailure()); // null
 * ```
 */
export function takeVerifyFailure(): VerifyFailure | null {
  const f = failure;
  failure = null;
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
