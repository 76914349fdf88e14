/**
 * `process.on("exit")` for the Node and Bun backends: the hook that wakes
 * helper threads blocked in C before the runtime joins them.
 *
 * @example
 * ```ts
 * import { processOnExit } from "./process_exit.ts";
 * processOnExit(() => console.log("bye"));
 * ```
 *
 * @module
 */

/**
 * Registers `listener` for the process's `exit` event.
 *
 * @example
 * ```ts
 * import { processOnExit } from "./process_exit.ts";
 * processOnExit(() => {});
 * ```
 */
export function processOnExit(listener: () => void): void {
  (globalThis as unknown as { process: { on(event: "exit", listener: () => void): unknown } }).process.on("exit", listener);
}
