/**
 * `process.on("exit")` for the Node and Bun backends: the hook that wakes
 * helper threads blocked in C before the runtime joins them.
 *
 * @example
 * ```ts
 * import { processOnExit } from "./process_exit.ts";
 * const off = processOnExit(() => console.log("bye"));
 * off();
 * ```
 *
 * @module
 */

interface ExitEmitter {
  on(event: "exit", listener: () => void): unknown;
  off(event: "exit", listener: () => void): unknown;
}

/**
 * Registers `listener` for the process's `exit` event; returns the function
 * that removes it again.
 *
 * @example
 * ```ts
 * import { processOnExit } from "./process_exit.ts";
 * const off = processOnExit(() => {});
 * off();
 * ```
 */
export function processOnExit(listener: () => void): () => void {
  const proc = (globalThis as unknown as { process: ExitEmitter }).process;
  proc.on("exit", listener);
  return () => {
    proc.off("exit", listener);
  };
}
