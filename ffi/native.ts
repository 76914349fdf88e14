/**
 * The process-wide {@link Native}: the backend for the runtime this process
 * is on, chosen once at import.
 *
 * @example
 * ```ts
 * import { native } from "./native.ts";
 * console.log(native.runtime, native.os, native.arch);
 * ```
 *
 * @module
 */
import { FFIUnavailableError } from "../core/errors.ts";
import { createBunNative } from "./bun.ts";
import { createDenoNative } from "./deno.ts";
import { createNodeNative, type Koffi } from "./node.ts";
import { processRuntime } from "./process_runtime.ts";
import { detectRuntime } from "./runtime.ts";
import type { Native } from "./types.ts";

async function loadNative(): Promise<Native> {
  const runtime = detectRuntime();
  if (runtime === "deno") return createDenoNative();
  if (runtime === "bun") {
    // A specifier in a variable: Deno and tsc must not try to resolve it.
    const spec = "bun:ffi";
    const ffi = await import(spec);
    return createBunNative(ffi);
  }
  const { createRequire } = await import("node:module");
  const { Worker } = await import("node:worker_threads");
  const require = createRequire(import.meta.url);
  let koffiPath: string;
  let koffi: Koffi;
  try {
    koffiPath = require.resolve("koffi");
    koffi = require(koffiPath) as Koffi;
  } catch (cause) {
    return unavailableNative(cause);
  }
  return createNodeNative(koffi, koffiPath, Worker as never);
}

/** A Native whose every native operation explains that koffi is missing. */
function unavailableNative(cause: unknown): Native {
  const fail = (): never => {
    throw new FFIUnavailableError(
      "koffi",
      "ffinet needs the koffi package on Node: run `npm install koffi`",
      cause,
    );
  };
  const proc = (globalThis as unknown as { process: { platform: string; arch: string } }).process;
  return {
    runtime: "node",
    os: proc.platform,
    arch: proc.arch,
    bigInt64Args: false,
    open: fail,
    errno: fail,
    view: fail,
    detach: () => false,
    address: fail,
    pointer: fail,
    offset: fail,
    callback: fail,
    offThread: fail,
    ...processRuntime(),
  };
}

/**
 * The backend for this runtime.
 *
 * @example
 * ```ts
 * import { native } from "./native.ts";
 * console.log(native.os, native.arch); // "linux" "x64", for instance
 * ```
 */
export const native: Native = await loadNative();
