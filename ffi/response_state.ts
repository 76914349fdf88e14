/**
 * What the readers of a runtime's private `Response` state share
 * (ffi/deno_response_body.ts, ffi/undici_response_body.ts): the class
 * type they probe, the body sources the server can send as they are, and
 * the once-loader that looks for the state's layout on the first call,
 * on one runtime only, and answers the same after (undefined where the
 * layout is not found or the probe threw).
 *
 * @example
 * ```ts
 * import { responseStateReader } from "./response_state.ts";
 * const reader = responseStateReader("node", (R) => new R("probe").status);
 * console.log(reader(Response) === undefined || reader(Response) === 200); // true
 * ```
 *
 * @module
 */
import { detectRuntime } from "./runtime.ts";
import type { RuntimeName } from "./types.ts";

/**
 * A `Response` class: the runtime's own, whose instances are probed.
 *
 * @example
 * ```ts
 * import type { ResponseClass } from "./response_state.ts";
 * const R: ResponseClass = Response;
 * console.log(new R("x").status); // 200
 * ```
 */
export type ResponseClass = new (body?: BodyInit | null, init?: ResponseInit) => Response;

/**
 * `src` when it is a body the server sends as it is (a string, bytes or a
 * Blob); undefined for anything else.
 *
 * @example
 * ```ts
 * import { bodySource } from "./response_state.ts";
 * console.log(bodySource("hi"), bodySource(42)); // "hi" undefined
 * ```
 */
export function bodySource(src: unknown): string | Uint8Array | Blob | undefined {
  if (typeof src === "string" || src instanceof Uint8Array) return src;
  if (typeof Blob === "function" && src instanceof Blob) return src;
  return undefined;
}

/**
 * A function that runs `open` with the class of its first call, once and
 * only on `runtime` (a throw counts as not found), and answers what it
 * found then on every call.
 *
 * @example
 * ```ts
 * import { responseStateReader } from "./response_state.ts";
 * let probes = 0;
 * const reader = responseStateReader("deno", () => ++probes);
 * reader(Response);
 * reader(Response);
 * console.log(probes <= 1); // true
 * ```
 */
export function responseStateReader<T>(runtime: RuntimeName, open: (R: ResponseClass) => T | undefined): (R: ResponseClass) => T | undefined {
  let made = false;
  let found: T | undefined;
  return (R) => {
    if (!made) {
      made = true;
      if (detectRuntime() === runtime) {
        try {
          found = open(R);
        } catch {
          found = undefined;
        }
      }
    }
    return found;
  };
}
