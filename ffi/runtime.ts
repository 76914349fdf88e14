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
