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
 * What the code above `ffi/` tunes by: behaviours and measured costs of
 * the runtime, so that nothing outside `ffi/` asks which runtime it is on.
 * Each field says what differs and where it was measured.
 *
 * @example
 * ```ts
 * import type { RuntimeCapabilities } from "./runtime.ts";
 * const lightByDefault = (c: RuntimeCapabilities) => c.responseBodiesAreStreams && c.takesForeignResponses;
 * console.log(typeof lightByDefault);
 * ```
 */
export interface RuntimeCapabilities {
  /**
   * The runtime's `Response` builds a body stream for every body (Node's
   * undici): a response that keeps its bytes instead pays
   * (http/client/buffered_response.ts), and a light server response saves
   * ~12 µs per small request (http/server/light_response.ts). False on
   * Deno and Bun.
   */
  readonly responseBodiesAreStreams: boolean;
  /**
   * The runtime's own APIs take a `Response` look-alike that is not its
   * class (Node). Deno's and Bun's HTTP servers and
   * `WebAssembly.compileStreaming` refuse one, so a process-wide default
   * must not hand them out there.
   */
  readonly takesForeignResponses: boolean;
  /**
   * `performance.now()` costs more than `clock_gettime(CLOCK_MONOTONIC)`
   * through FFI (Deno: an op call, ~100 ns against ~50 ns;
   * bench/http_server_limits.ts). False on Node and Bun.
   */
  readonly performanceNowIsSlow: boolean;
  /**
   * From these payload sizes on, WebSocket masking through WebAssembly SIMD
   * beats the JavaScript word loops (ws/frame.ts; best of interleaved
   * rounds on the project machine): `copying` (the sender writing a frame)
   * and `inPlace` (the receiver unmasking). Node 64/64, Deno 128/384, Bun
   * 128/512.
   */
  readonly wasmMaskFromBytes: { readonly copying: number; readonly inPlace: number };
}

/** The measured figures behind {@link RuntimeCapabilities.wasmMaskFromBytes}. */
const WASM_MASK_FROM = {
  node: { copying: 64, inPlace: 64 },
  deno: { copying: 128, inPlace: 384 },
  bun: { copying: 128, inPlace: 512 },
} as const;

/**
 * This runtime's {@link RuntimeCapabilities}, decided once.
 *
 * @example
 * ```ts
 * import { runtimeCapabilities } from "./runtime.ts";
 * console.log(runtimeCapabilities.wasmMaskFromBytes.copying >= 64); // true
 * ```
 */
export const runtimeCapabilities: RuntimeCapabilities = (() => {
  const runtime = detectRuntime();
  return Object.freeze({
    responseBodiesAreStreams: runtime === "node",
    takesForeignResponses: runtime === "node",
    performanceNowIsSlow: runtime === "deno",
    wasmMaskFromBytes: WASM_MASK_FROM[runtime],
  });
})();

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
