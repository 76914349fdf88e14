/**
 * The runtime's "after pending I/O and timers" queue: `setImmediate` (Node,
 * Bun and Deno 2's global), else `setTimeout(0)`, which Deno clamps (~6×
 * less throughput for a loop that yields after every tick); and
 * {@link afterMicrotasks}, a cheaper hop that lets pending promise jobs run
 * but not the runtime's own I/O and timers.
 *
 * @example
 * ```ts
 * import { immediate } from "./immediate.ts";
 * immediate(() => console.log("later"));
 * ```
 *
 * @module
 */
import { onMicrotask } from "../core/microtask.ts";

type Schedule = (fn: () => void) => unknown;

const g = globalThis as unknown as {
  setImmediate?: Schedule;
  setTimeout(fn: () => void, ms: number): unknown;
  Bun?: unknown;
  process?: { nextTick?: (fn: () => void) => void };
};

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

const nextTick = g.Bun === undefined && typeof g.process?.nextTick === "function" ? g.process.nextTick.bind(g.process) : undefined;

/**
 * Runs `fn` once every promise job queued so far, and every job those
 * queue in turn, has run — without a turn of the runtime's event loop (no
 * poll of its I/O, no timers): on Node and Deno a `process.nextTick` queued
 * from a promise reaction, which both run only when the microtask queue is empty
 * (~0.2–0.7 µs of CPU against 1–3 µs for `setImmediate`, and on Node no
 * libuv poll system call). Undefined where no such hop is known: on Bun
 * `process.nextTick` from a microtask runs before the later promise jobs.
 * Callers must still yield with {@link immediate} now and then, or the
 * runtime's own I/O and timers starve.
 *
 * @example
 * ```ts
 * import { afterMicrotasks, immediate } from "./immediate.ts";
 * (afterMicrotasks ?? immediate)(() => console.log("after the promise jobs"));
 * ```
 */
export const afterMicrotasks: ((fn: () => void) => void) | undefined = nextTick === undefined ? undefined : (fn) => {
  // Not queueMicrotask (Node, load 19: ~155 against ~215 ns per hop; the same on Deno).
  onMicrotask(() => nextTick(fn));
};
