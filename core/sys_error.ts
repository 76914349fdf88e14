/**
 * One function that turns a failed C call into the right exception.
 *
 * @module
 */
import { native } from "../ffi/native.ts";
import { errnoName } from "../ffi/platform.ts";
import {
  SocketClosedError,
  SocketError,
  SocketTimeoutError,
} from "./errors.ts";

const PEER_GONE = new Set(["EPIPE", "ECONNRESET", "ENOTCONN", "ESHUTDOWN"]);

/**
 * Builds the error for `errno` from `syscall`: SocketClosedError when the
 * peer is gone, SocketTimeoutError for ETIMEDOUT, SocketError otherwise; the
 * message names the call, the errno and the address.
 *
 * @example
 * ```ts
 * import { sysError } from "./sys_error.ts";
 * const err = sysError(111, "connect", "127.0.0.1:1");
 * console.log(err.code); // "ECONNREFUSED"
 * ```
 */
export function sysError(errno: number, syscall: string, address?: string): SocketError {
  const code = errnoName(errno);
  const where = address === undefined ? "" : ` (${address})`;
  const message = `${syscall} failed: ${code}${where}`;
  const options = address === undefined ? { errno, syscall } : { errno, syscall, address };
  if (PEER_GONE.has(code)) return new SocketClosedError(code, message, options);
  if (code === "ETIMEDOUT") return new SocketTimeoutError(message, options);
  return new SocketError(code, message, options);
}

/**
 * Returns `result` when it is not negative; otherwise reads errno at once and
 * throws {@link sysError}. Call it directly on the result of the C call.
 *
 * @example
 * ```ts
 * import { check } from "./sys_error.ts";
 * import { libc } from "../ffi/libc.ts";
 * const fd = check(libc().socket(2, 1, 0), "socket");
 * libc().close(fd);
 * ```
 */
export function check(result: number, syscall: string, address?: string): number {
  if (result >= 0) return result;
  throw sysError(native.errno(), syscall, address);
}
