/**
 * How the Loop hands control back to the runtime: `setImmediate` (Node, Bun,
 * and Deno 2's global; `setTimeout(0)` is clamped on Deno and costs ~6× in
 * throughput), and an unreferenced runtime timer for polling while nothing
 * of ours keeps the process alive.
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

type Immediate = (fn: () => void) => unknown;
type Timeout = (fn: () => void, ms: number) => unknown;

const g = globalThis as unknown as {
  setImmediate?: Immediate;
  setTimeout: Timeout;
  clearTimeout: (t: unknown) => void;
  Deno?: { unrefTimer?: (id: number) => void };
};

const immediate: Immediate = typeof g.setImmediate === "function"
  ? g.setImmediate.bind(globalThis)
  : (fn) => g.setTimeout(fn, 0);

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
  immediate(fn);
}

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
  const handle = g.setTimeout(fn, ms);
  if (typeof handle === "object" && handle !== null && "unref" in handle) {
    (handle as { unref(): void }).unref();
  } else if (typeof handle === "number") {
    g.Deno?.unrefTimer?.(handle);
  }
  return () => g.clearTimeout(handle);
}
