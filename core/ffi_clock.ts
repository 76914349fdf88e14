/**
 * `CLOCK_MONOTONIC` read through FFI into reused memory and shifted onto
 * `performance.now()`'s origin (aligned once, from the tightest of a few
 * bracketed readings of both clocks). It allocates nothing per reading
 * (V8's `performance.now()` returns a fresh heap number) and on Deno it
 * costs about half a `performance.now()` op call. Loads libc on first use.
 *
 * @example
 * ```ts
 * import { ffiClockMs } from "./ffi_clock.ts";
 * const a = ffiClockMs();
 * console.log(Number.isNaN(a) || ffiClockMs() >= a); // true
 * ```
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { C, LAYOUT } from "../ffi/platform.ts";

const timespec = new Uint8Array(LAYOUT.timespec.size);
const words = new Uint32Array(timespec.buffer);
const SEC_LOW = LAYOUT.timespec.sec / 4;
const NSEC_LOW = LAYOUT.timespec.nsec / 4;
const MONOTONIC = C.CLOCK_MONOTONIC;
/** clock_gettime's reading minus performance.now()'s, in ms (NaN: not aligned yet). */
let origin = Number.NaN;
/**
 * libc's `clock_gettime`, bound once (by {@link align}): a reading is then
 * the FFI call itself, not also a `libc()` call and a property lookup (on
 * Deno request metrics read it once per request).
 */
let clockGettime: (clock: number, timespec: Uint8Array) => number = () => -1;

/** CLOCK_MONOTONIC in ms minus `origin`; NaN when the call fails. */
function rawMs(): number {
  if (clockGettime(MONOTONIC, timespec) !== 0) return Number.NaN;
  // tv_sec since boot fits 32 bits for 136 years; tv_nsec < 1e9.
  return words[SEC_LOW]! * 1000 + words[NSEC_LOW]! / 1e6 - origin;
}

function align(): void {
  const lib = libc();
  clockGettime = (clock, ts) => lib.clock_gettime(clock, ts);
  origin = 0;
  if (Number.isNaN(rawMs())) { // the first call also binds the symbol
    origin = Number.NaN;
    return;
  }
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 7; i++) {
    const before = performance.now();
    const raw = rawMs();
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = raw - (before + after) / 2;
    }
  }
  origin = offset;
}

/**
 * Monotonic milliseconds on `performance.now()`'s origin (to within the
 * alignment, well under a microsecond), or NaN when `clock_gettime` fails.
 *
 * @example
 * ```ts
 * import { ffiClockMs } from "./ffi_clock.ts";
 * const t = ffiClockMs();
 * console.log(Number.isNaN(t) || Math.abs(t - performance.now()) < 50); // true
 * ```
 */
export function ffiClockMs(): number {
  if (origin !== origin) align();
  return rawMs();
}
