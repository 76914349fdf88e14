/**
 * ffinet: networking in pure TypeScript over FFI, for Deno, Bun and Node.
 *
 * The root re-exports the whole public surface: the core (errors, limits,
 * codecs), blocking sockets (`socket/`), the event loop with async
 * connections and listeners (`poll/`), HTTP/1 and HTTP/2 codecs (`http/`)
 * and WebSocket framing (`ws/`).
 *
 * Each layer is also its own subpath: `ffinet/socket`, `ffinet/poll`,
 * `ffinet/http`, `ffinet/ws` (from JSR: `@ffinet/ffinet/socket` and so on).
 * The raw FFI layer (`libc`, `native`, platform constants) is only at
 * `ffinet/ffi`, so its short generic names (`C`, `E`, `libc`) stay out of
 * the root.
 *
 * Two names exist in two layers with different meanings; the root gives
 * each one a name of its own:
 * - `writeFrameHeader` is the HTTP/2 frame header writer (as before);
 *   the WebSocket one is `writeWebSocketFrameHeader` here and
 *   `writeFrameHeader` in `ffinet/ws`.
 *
 * @example
 * ```ts
 * import { Loop, NetError, Receiver, Deflater } from "./mod.ts";
 * console.log(typeof Loop, typeof NetError, typeof Receiver, typeof Deflater);
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
export * from "./core/ip_tracker.ts";
export * from "./core/ip_key.ts";
export * from "./core/circuit_breaker.ts";
export * from "./core/retry.ts";
export * from "./core/metrics.ts";
export * from "./core/quantile_sketch.ts";
export * from "./core/prometheus.ts";
export * from "./core/statsd.ts";
export * from "./core/log.ts";
export * from "./socket/mod.ts";
export * from "./poll/mod.ts";
export * from "./http/mod.ts";
export * from "./ws/mod.ts";
export * from "./dns/mod.ts";
export * from "./tls/mod.ts";
export * from "./socket/proxy/mod.ts";
export * from "./pool/mod.ts";
// socket/address.ts is the one IP literal parser; http/core re-exports its
// checks, so name the source once here.
export { isIPv4, isIPv6 } from "./socket/mod.ts";
// writeFrameHeader: HTTP/2's at the root (as before ws joined it), the
// WebSocket one under a name of its own.
export { writeFrameHeader } from "./http/mod.ts";
export { writeFrameHeader as writeWebSocketFrameHeader } from "./ws/mod.ts";
