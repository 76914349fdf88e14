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
import { C, LAYOUT } from "../ffi/platform.ts";
import { detectRuntime } from "../ffi/runtime.ts";

const timespec = new Uint8Array(LAYOUT.timespec.size);
const words = new Uint32Array(timespec.buffer);
const SEC_LOW = LAYOUT.timespec.sec / 4;
const NSEC_LOW = LAYOUT.timespec.nsec / 4;
/** clock_gettime's reading minus performance.now()'s, in ms. */
let origin = 0;
let lib: ReturnType<typeof libc> | undefined;
/** 0: not decided yet (Deno, libc not loaded so far), 1: FFI, 2: performance.now(). */
let mode = detectRuntime() === "deno" ? 0 : 2;

/** CLOCK_MONOTONIC in ms, minus `origin`; NaN when the call fails. */
function ffiMs(): number {
  if (lib!.clock_gettime(C.CLOCK_MONOTONIC, timespec) !== 0) return Number.NaN;
  // tv_sec since boot fits 32 bits for 136 years; tv_nsec < 1e9.
  return words[SEC_LOW]! * 1000 + words[NSEC_LOW]! / 1e6 - origin;
}

/** Takes clock_gettime and sets `origin` from the tightest of a few bracketed readings; false when FFI is no use. */
function bind(): boolean {
  try {
    lib = libc();
    if (Number.isNaN(ffiMs())) return false;
  } catch {
    return false;
  }
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 7; i++) {
    const before = performance.now();
    const raw = ffiMs();
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = raw - (before + after) / 2;
    }
  }
  origin = offset;
  return true;
}

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
    const ms = ffiMs();
    if (ms === ms) return ms;
  } else if (mode === 0 && libc.loaded) {
    mode = bind() ? 1 : 2;
  }
  return performance.now();
}
