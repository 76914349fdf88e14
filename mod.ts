/**
 * ffinet: networking in pure TypeScript over FFI, for Deno, Bun and Node.
 *
 * Subpath modules: `ffi/mod.ts` (the FFI layer), `socket/mod.ts`,
 * `poll/mod.ts`, `http/mod.ts`, `ws/mod.ts`.
 *
 * @example
 * ```ts
 * import { NetError, Deflater } from "./mod.ts";
 * console.log(typeof NetError, typeof Deflater); // "function function"
 * ```
 *
 * @module
 */
export * from "./core/errors.ts";
export * from "./core/limits.ts";
export * from "./core/zlib.ts";
export * from "./core/clock.ts";
export * from "./core/timer_heap.ts";
export * from "./core/socket_buf.ts";
export * from "./core/rate_limit.ts";
export * from "./core/crypto.ts";
export * from "./core/utf8.ts";
export * from "./socket/mod.ts";
export * from "./http/mod.ts";
// socket/address.ts is the one IP literal parser; http/core re-exports its
// checks, so name the source once here.
export { isIPv4, isIPv6 } from "./socket/mod.ts";
