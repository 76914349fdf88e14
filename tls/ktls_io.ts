/**
 * The I/O a TLS connection or listener takes when kTLS is asked for: the
 * kernel's record layer needs fd mode, which io_uring's memory-BIO TLS
 * cannot give, so without an `io` option such a connection takes
 * readiness I/O (else, with io_uring the default, `ktls` would silently
 * go without the kernel's record layer and `"require"` would not hold).
 * A small module of its own so `poll/listener.ts` can decide before it
 * loads the TLS engine.
 *
 * @example
 * ```ts
 * import { tlsIo } from "./ktls_io.ts";
 * console.log(tlsIo(undefined, "require", undefined)); // "readiness"
 * console.log(tlsIo("uring", true, undefined)); // "uring"
 * ```
 *
 * @module
 */

/**
 * The `io` of a TLS connection or listener: `io` when given; else
 * "readiness" when kTLS is asked for (the `ktls` option, or a context
 * made with it); else undefined (the default I/O).
 *
 * @example
 * ```ts
 * import { tlsIo } from "./ktls_io.ts";
 * console.log(tlsIo(undefined, false, { ktls: true })); // "readiness"
 * ```
 */
export function tlsIo<T extends string>(io: T | undefined, ktls: unknown, context: { readonly ktls?: unknown } | undefined): T | "readiness" | undefined {
  if (io !== undefined) return io;
  return ktls === true || ktls === "require" || context?.ktls === true ? "readiness" : undefined;
}
