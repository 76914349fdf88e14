/**
 * Which runtime this process is on, decided once from its globals.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "./runtime.ts";
 * console.log(detectRuntime()); // "deno", "bun" or "node"
 * ```
 *
 * @module
 */
import type { RuntimeName } from "./types.ts";

/** Tells the runtime from its globals: Deno, then Bun, else Node. */
export function detectRuntime(): RuntimeName {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (typeof g.Deno === "object" && g.Deno !== null) return "deno";
  if (typeof g.Bun === "object" && g.Bun !== null) return "bun";
  return "node";
}

/**
 * Whether a small `new Uint8Array(n)` is cheap here (~10 ns on Node and
 * Bun, which keep small buffers in the JavaScript heap). On Deno every
 * ArrayBuffer is allocated outside the heap (~200 ns for 16 bytes), so code
 * that makes many small buffers should cut them from a larger one there.
 * Callers ask for this behaviour, not for the runtime's name.
 *
 * @example
 * ```ts
 * import { smallTypedArraysAreCheap } from "./runtime.ts";
 * const pooled = !smallTypedArraysAreCheap();
 * console.log(typeof pooled); // "boolean"
 * ```
 */
export function smallTypedArraysAreCheap(): boolean {
  return detectRuntime() !== "deno";
}

/**
 * The runtime's nanosecond monotonic clock, `process.hrtime.bigint` (Node,
 * Bun, Deno 2, none of which asks for a permission), or undefined where the
 * runtime has none.
 *
 * @example
 * ```ts
 * import { hrtimeBigint } from "./runtime.ts";
 * const t0 = hrtimeBigint?.();
 * console.log(t0 === undefined || typeof t0 === "bigint"); // true
 * ```
 */
export const hrtimeBigint: (() => bigint) | undefined = (() => {
  const hrtime = (globalThis as { process?: { hrtime?: { bigint?: unknown } } }).process?.hrtime;
  const fn = hrtime?.bigint;
  if (typeof fn !== "function") return undefined;
  const call = () => (fn as () => bigint).call(hrtime);
  try {
    if (typeof call() !== "bigint") return undefined;
  } catch {
    return undefined;
  }
  return call;
})();
