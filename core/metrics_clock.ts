/**
 * The clock request metrics read once per request (the end of each
 * request's latency): `performance.now()`, except on Deno, where that is
 * an op call costing about twice a `clock_gettime(CLOCK_MONOTONIC)`
 * through FFI (~100 ns against ~50 ns per reading, `bench/http_server_limits.ts`),
 * so there the monotonic clock is read through FFI into reused memory
 * and shifted onto `performance.now()`'s origin (the latency's start is
 * the event-loop turn's `performance.now()` reading, core/clock.ts's
 * `turnMs`). On Node and Bun `performance.now()` is the cheaper of the
 * two and is used as is.
 *
 * @example
 * ```ts
 * import { metricsNowMs } from "./metrics_clock.ts";
 * const start = performance.now();
 * const elapsed = metricsNowMs() - start;
 * console.log(elapsed > -1); // true: the same origin (to within the alignment, well under a microsecond)
 * ```
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { detectRuntime } from "../ffi/runtime.ts";
import { ffiClockMs } from "./ffi_clock.ts";

/** 0: not decided yet (Deno, libc not loaded so far), 1: FFI, 2: performance.now(). */
let mode = detectRuntime() === "deno" ? 0 : 2;

/**
 * Monotonic milliseconds on `performance.now()`'s origin, read the
 * cheapest way the runtime has (see the module doc). FFI is used only once
 * the program loaded libc itself (as any socket does): measuring never
 * asks Deno for the FFI permission.
 *
 * @example
 * ```ts
 * import { metricsNowMs } from "./metrics_clock.ts";
 * const a = metricsNowMs();
 * console.log(metricsNowMs() >= a); // true
 * ```
 */
export function metricsNowMs(): number {
  if (mode === 1) {
    const ms = ffiClockMs();
    if (ms === ms) return ms;
  } else if (mode === 0 && libc.loaded) {
    mode = Number.isNaN(ffiClockMs()) ? 2 : 1;
  }
  return performance.now();
}
