/**
 * OpenSSL's thread-local error queue as readable strings, and the typed
 * errors built from it. The queue is cleared before each I/O call (so one
 * connection's error never shows in another's) and drained into the message
 * of the error thrown after a failing call; a message is never empty.
 *
 * @example
 * ```ts
 * import { clearErrors, tlsError } from "./errors.ts";
 * clearErrors();
 * console.log(tlsError("ERR_TLS", "SSL_CTX_new").message); // "SSL_CTX_new failed"
 * ```
 *
 * @module
 */
import { TLSError, TLSHandshakeError, type NetErrorOptions } from "../core/errors.ts";
import { decodeCString } from "../ffi/marshal.ts";
import { libcrypto } from "../ffi/libcrypto.ts";

/** At most this many queue entries are kept (the queue holds 16). */
const MAX_ENTRIES = 16;

/**
 * Empties OpenSSL's error queue for this thread (before each I/O call, so
 * one connection's error never leaks into another's `SSL_get_error`).
 * It looks first and clears only a queue that holds something:
 * `ERR_peek_error` costs a fifth to a half of `ERR_clear_error` (which
 * resets all 16 slots every time: 0.5–3 µs a call here), and this runs
 * before every `SSL_read`, i.e. per 16 KiB record. `SSL_get_error` decides
 * by the same `ERR_peek_error`, so an empty queue left as it is reads the
 * same as a cleared one.
 *
 * @example
 * ```ts
 * import { clearErrors } from "./errors.ts";
 * clearErrors();
 * ```
 */
export function clearErrors(): void {
  const crypto = libcrypto();
  const oldest = crypto.ERR_peek_error();
  if (oldest !== 0) crypto.ERR_clear_error();
}

/**
 * Drains the error queue into readable strings, oldest first
 * ("error:0A000086:SSL routines::certificate verify failed").
 *
 * @example
 * ```ts
 * import { drainErrors } from "./errors.ts";
 * console.log(drainErrors()); // [] when nothing failed
 * ```
 */
export function drainErrors(): string[] {
  const lib = libcrypto();
  const out: string[] = [];
  const buf = new Uint8Array(256);
  for (;;) {
    const code = lib.ERR_get_error();
    if (code === 0) break;
    if (out.length >= MAX_ENTRIES) continue;
    lib.ERR_error_string_n(code, buf, buf.length);
    out.push(decodeCString(buf));
  }
  return out;
}

/** `what failed` plus the drained queue: never empty. */
function describe(what: string, detail?: string): string {
  const queue = drainErrors();
  const parts = [`${what} failed`];
  if (detail) parts.push(detail);
  if (queue.length > 0) parts.push(queue.join("; "));
  return parts.join(": ");
}

/**
 * A {@link TLSError} for a failed call `what`, its message carrying the
 * drained error queue (and `detail` first, when given).
 *
 * @example
 * ```ts
 * import { tlsError } from "./errors.ts";
 * console.log(tlsError("ERR_TLS_CERT", "load certificate", "no PEM data").message);
 * ```
 */
export function tlsError(code: string, what: string, detail?: string, options: NetErrorOptions = {}): TLSError {
  return new TLSError(code, describe(what, detail), { syscall: what, ...options });
}

/**
 * A {@link TLSHandshakeError} for a failed handshake, with the queue.
 *
 * @example
 * ```ts
 * import { handshakeError } from "./errors.ts";
 * console.log(handshakeError("SSL_connect", "peer closed").code); // "ERR_TLS_HANDSHAKE"
 * ```
 */
export function handshakeError(what: string, detail?: string, options: NetErrorOptions = {}): TLSHandshakeError {
  return new TLSHandshakeError("ERR_TLS_HANDSHAKE", describe(what, detail), { syscall: what, ...options });
}
