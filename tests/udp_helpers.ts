/**
 * Helpers for the async UDP integration tests.
 *
 * @example
 * ```ts
 * import { until } from "./udp_helpers.ts";
 * let n = 0;
 * await until(() => ++n > 3, "n to pass 3");
 * ```
 *
 * @module
 */

/** The loopback hosts every UDP test runs on. */
export const HOSTS = ["127.0.0.1", "::1"] as const;

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Bytes of a string.
 *
 * @example
 * ```ts
 * import { bytes } from "./udp_helpers.ts";
 * console.log(bytes("a")); // Uint8Array(1) [97]
 * ```
 */
export function bytes(text: string): Uint8Array {
  return enc.encode(text);
}

/**
 * A string of bytes.
 *
 * @example
 * ```ts
 * import { text } from "./udp_helpers.ts";
 * console.log(text(new Uint8Array([104, 105]))); // "hi"
 * ```
 */
export function text(data: Uint8Array): string {
  return dec.decode(data);
}

/**
 * Lets runtime timers and the loop run once (a macrotask).
 *
 * @example
 * ```ts
 * import { turn } from "./udp_helpers.ts";
 * await turn();
 * ```
 */
export function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * Waits, a bounded number of turns, until `condition` holds; throws naming
 * `what` otherwise (a hang becomes a failure, no duration is asserted).
 *
 * @example
 * ```ts
 * import { until } from "./udp_helpers.ts";
 * await until(() => true, "nothing");
 * ```
 */
export async function until(condition: () => boolean, what: string, turns = 5000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await turn();
  }
  throw new Error(`gave up waiting for ${what}`);
}
