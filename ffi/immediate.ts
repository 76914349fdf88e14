/**
 * The runtime's "after pending I/O and timers" queue: `setImmediate` (Node,
 * Bun and Deno 2's global), else `setTimeout(0)`, which Deno clamps (~6×
 * less throughput for a loop that yields after every tick).
 *
 * @example
 * ```ts
 * import { immediate } from "./immediate.ts";
 * immediate(() => console.log("later"));
 * ```
 *
 * @module
 */

type Schedule = (fn: () => void) => unknown;

const g = globalThis as unknown as { setImmediate?: Schedule; setTimeout(fn: () => void, ms: number): unknown };

const schedule: Schedule = typeof g.setImmediate === "function"
  ? g.setImmediate.bind(globalThis)
  : (fn) => g.setTimeout(fn, 0);

/**
 * Runs `fn` once the runtime has processed its pending I/O and timers.
 *
 * @example
 * ```ts
 * import { immediate } from "./immediate.ts";
 * immediate(() => {});
 * ```
 */
export function immediate(fn: () => void): void {
  schedule(fn);
}
