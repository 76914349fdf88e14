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
