/**
 * One microtask, queued the cheap way on every runtime.
 *
 * @module
 */

/** Settled once: `then` on it queues a microtask. */
const settled: Promise<void> = Promise.resolve();

/**
 * Runs `fn` as a microtask, from a reaction on a settled promise rather
 * than `queueMicrotask`: Node's `queueMicrotask` makes an async resource per
 * call, 100–200 ns more per event-loop turn (bench/http_server_limits.ts,
 * SESSION_CONNS=1); on Deno and Bun the two cost the same. The queue and
 * its order are the same; `fn` must not throw (a throw would be an
 * unhandled rejection, not an uncaught exception).
 *
 * @example
 * ```ts
 * import { onMicrotask } from "./microtask.ts";
 * onMicrotask(() => console.log("second"));
 * console.log("first");
 * ```
 */
export function onMicrotask(fn: () => void): void {
  void settled.then(fn);
}
