/**
 * The `process` seams of the Node and Bun backends: environment, exit hook,
 * unreferenced timers, signals and exit, all through `globalThis.process`.
 *
 * @example
 * ```ts
 * import { processRuntime } from "./process_runtime.ts";
 * const seams = processRuntime();
 * console.log(seams.env("HOME") !== undefined);
 * ```
 *
 * @module
 */
import { immediate } from "./immediate.ts";
import type { Native } from "./types.ts";

/**
 * The members of {@link Native} a backend takes from the runtime rather than
 * from its FFI.
 *
 * @example
 * ```ts
 * import { processRuntime, type RuntimeSeams } from "./process_runtime.ts";
 * const seams: RuntimeSeams = processRuntime();
 * seams.yieldToRuntime(() => {});
 * ```
 */
export type RuntimeSeams = Pick<
  Native,
  "env" | "onExit" | "yieldToRuntime" | "unrefTimeout" | "addSignalListener" | "removeSignalListener" | "exit"
>;

interface Process {
  env: Record<string, string | undefined>;
  on(event: string, listener: () => void): unknown;
  removeListener(event: string, listener: () => void): unknown;
  exit(code: number): never;
}

/**
 * The runtime seams of a runtime with Node's `process` (Node, Bun).
 *
 * @example
 * ```ts
 * import { processRuntime } from "./process_runtime.ts";
 * const cancel = processRuntime().unrefTimeout(() => console.log("only if still running"), 50);
 * cancel();
 * ```
 */
export function processRuntime(): RuntimeSeams {
  const proc = (globalThis as unknown as { process: Process }).process;
  return {
    env: (name) => proc.env[name],
    // Runs before the runtime joins its helper threads: the place to wake
    // one blocked in C, which Node would otherwise wait for forever.
    onExit(listener) {
      proc.on("exit", listener);
    },
    yieldToRuntime: immediate,
    unrefTimeout(fn, ms) {
      const handle = setTimeout(fn, ms) as unknown as { unref?(): void };
      handle.unref?.();
      return () => clearTimeout(handle as unknown as Parameters<typeof clearTimeout>[0]);
    },
    addSignalListener(signal, listener) {
      proc.on(signal, listener);
    },
    removeSignalListener(signal, listener) {
      proc.removeListener(signal, listener);
    },
    exit: (code) => proc.exit(code),
  };
}
