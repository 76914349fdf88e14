/**
 * Whether this kernel can carry TLS records (kTLS): Linux's `tls` upper
 * layer protocol, which `SSL_OP_ENABLE_KTLS` hands a connection's record
 * layer to after the handshake. The probe asks the kernel directly, once
 * per process: `setsockopt(TCP_ULP, "tls")` on a fresh TCP socket fails
 * with ENOENT when no `tls` protocol is registered (a kernel built without
 * `CONFIG_TLS`, or the module not loaded and not loadable), and with
 * ENOTCONN (or succeeds) when there is one — a socket must be connected
 * before the protocol attaches, so the fresh socket is never changed.
 *
 * `ktls: true` is best effort (a no-op where the kernel says no:
 * `tlsInfo(conn).ktls` stays false); `ktls: "require"` makes that an
 * `UnsupportedError` (`ERR_UNSUPPORTED`, feature "kTLS") with the probe's
 * errno in its message.
 *
 * @example
 * ```ts
 * import { kernelTLSSupport } from "./ktls.ts";
 * const ktls = kernelTLSSupport();
 * console.log(ktls.available ? "kernel TLS available" : `no kernel TLS: ${ktls.reason}`);
 * ```
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E, errnoName } from "../ffi/platform.ts";

/**
 * `TCP_ULP` (linux/tcp.h): the socket option naming a TCP socket's upper
 * layer protocol.
 */
const TCP_ULP = 31;

/** What {@link kernelTLSSupport} found. */
export interface KernelTLSSupport {
  /** Whether the kernel has the `tls` upper layer protocol. */
  readonly available: boolean;
  /**
   * The errno name the probe's `setsockopt(TCP_ULP, "tls")` gave
   * ("ENOENT": no `tls` protocol; "ENOTCONN": there is one), "" when it
   * succeeded, or "EPLATFORM" off Linux (no probe made).
   */
  readonly errno: string;
  /** Why it is unavailable (empty when available), for messages and logs. */
  readonly reason: string;
}

let probed: KernelTLSSupport | undefined;

/**
 * Asks the kernel, once per process, whether it has the `tls` upper layer
 * protocol that kTLS needs (see the module text). OpenSSL must also have
 * been built with kTLS for a connection to use it: `tlsInfo(conn).ktls`
 * tells after the handshake.
 *
 * @example
 * ```ts
 * import { kernelTLSSupport } from "./ktls.ts";
 * console.log(kernelTLSSupport().errno); // "ENOTCONN" with a tls module; "ENOENT" without
 * ```
 */
export function kernelTLSSupport(): KernelTLSSupport {
  probed ??= probe();
  return probed;
}

function probe(): KernelTLSSupport {
  if (native.os !== "linux") {
    return { available: false, errno: "EPLATFORM", reason: `kernel TLS is Linux's; this is ${native.os}` };
  }
  const c = libc();
  const fd = c.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const name = errnoName(native.errno());
    return { available: false, errno: name, reason: `the probe could not make a socket (${name})` };
  }
  try {
    const r = c.setsockopt(fd, C.IPPROTO_TCP, TCP_ULP, ULP_NAME, ULP_NAME.length);
    if (r === 0) return { available: true, errno: "", reason: "" };
    const errno = native.errno();
    const name = errnoName(errno);
    if (errno === E.ENOENT) {
      return {
        available: false,
        errno: name,
        reason: `the kernel has no "tls" upper layer protocol (setsockopt TCP_ULP "tls": ENOENT; a kernel without CONFIG_TLS, or the tls module not loaded)`,
      };
    }
    // Any other answer means the protocol exists: the fresh socket is just not connected.
    return { available: true, errno: name, reason: "" };
  } finally {
    c.close(fd);
  }
}

const ULP_NAME = new TextEncoder().encode("tls");

/**
 * Checks a `ktls` option: false/undefined → false, true → true (best
 * effort), "require" → true once {@link kernelTLSSupport} says the kernel
 * can, else an `UnsupportedError`. Anything else is a TypeError.
 *
 * @example
 * ```ts
 * import { ktlsOption } from "./ktls.ts";
 * console.log(ktlsOption(undefined, "ktls")); // false
 * ```
 */
export function ktlsOption(value: unknown, name: string): boolean {
  if (value === undefined || value === false) return false;
  if (value === true) return true;
  if (value !== "require") throw new TypeError(`TLS: ${name} must be a boolean or "require"`);
  const support = kernelTLSSupport();
  if (!support.available) throw new UnsupportedError("kTLS", support.reason);
  return true;
}
