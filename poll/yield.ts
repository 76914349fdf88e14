/**
 * How the Loop hands control back to the runtime: `setImmediate` (Node, Bun,
 * and Deno 2's global; `setTimeout(0)` is clamped on Deno and costs ~6× in
 * throughput), and an unreferenced runtime timer for polling while nothing
 * of ours keeps the process alive. The runtime-specific parts live in the
 * FFI backend ({@link native}).
 *
 * @example
 * ```ts
 * import { yieldToRuntime, unrefTimeout } from "./yield.ts";
 * yieldToRuntime(() => console.log("later"));
 * const cancel = unrefTimeout(() => {}, 10);
 * cancel();
 * ```
 *
 * @module
 */

import { afterMicrotasks } from "../ffi/immediate.ts";
import { native } from "../ffi/native.ts";

/**
 * Runs `fn` after the runtime has processed its pending I/O and timers.
 *
 * @example
 * ```ts
 * import { yieldToRuntime } from "./yield.ts";
 * yieldToRuntime(() => {});
 * ```
 */
export function yieldToRuntime(fn: () => void): void {
  native.yieldToRuntime(fn);
}

/**
 * Runs `fn` once pending promise jobs have run, without a turn of the
 * runtime's event loop (its I/O and timers wait): Node and Deno; undefined
 * on Bun, where no such hop is known. A loop turn on Node costs ~3 µs of
 * CPU and a libuv poll system call, this hop ~0.2–0.7 µs. Callers bound
 * how many such turns come between two {@link yieldToRuntime}.
 *
 * @example
 * ```ts
 * import { yieldSoon, yieldToRuntime } from "./yield.ts";
 * (yieldSoon ?? yieldToRuntime)(() => console.log("soon"));
 * ```
 */
export const yieldSoon: ((fn: () => void) => void) | undefined = afterMicrotasks;

/**
 * A runtime timer that does not keep the process alive; returns its cancel
 * function.
 *
 * @example
 * ```ts
 * import { unrefTimeout } from "./yield.ts";
 * const cancel = unrefTimeout(() => console.log("only if still running"), 50);
 * cancel();
 * ```
 */
export function unrefTimeout(fn: () => void, ms: number): () => void {
  return native.unrefTimeout(fn, ms);
}

/**
 * Runs `fn` after `ms` milliseconds on the runtime's own timer, which keeps
 * the process alive meanwhile; returns a function that cancels it.
 *
 * @example
 * ```ts
 * import { refTimeout } from "./yield.ts";
 * const cancel = refTimeout(() => console.log("later"), 5);
 * cancel();
 * ```
 */
export function refTimeout(fn: () => void, ms: number): () => void {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
}
