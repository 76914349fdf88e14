/**
 * The runtime's own UTF-8 validator, where it is worth calling: `isUtf8`
 * from `node:buffer` (Node ≥ 18.14, Bun and Deno). On Node and Bun it runs
 * simdutf, which checks 10–20 GB/s on non-ASCII text, far beyond a
 * validator in JavaScript; on Deno it is Rust's scalar `from_utf8` (about
 * 1.2 GB/s on CJK text, no faster than our DFA), so it is not used there.
 *
 * `core/utf8.ts` hands it the bulk of large inputs and keeps the DFA for
 * everything the native call cannot say: where the first bad byte is, code
 * points split across chunks, and inputs too short to repay the call.
 *
 * Measured on the project machine (ns per call, 64 KiB CJK / 1 KiB Latin /
 * 32 B): Node 3.8 µs / 87 / 37 against the DFA's 66 µs / 1100 / 67; Bun
 * 3.5 µs / 65 / 15 against 44 µs / 800 / 80; Deno 53 µs / 720 / 57 against
 * 55 µs / 920 / 45 (and slower than the DFA on CJK at 512 B).
 *
 * @example
 * ```ts
 * import { nativeUtf8 } from "./utf8_native.ts";
 * if (nativeUtf8 !== null) {
 *   nativeUtf8.isValid(new Uint8Array([0xce, 0xba])); // true
 *   nativeUtf8.minBytes; // below this, the DFA is faster
 * }
 * ```
 *
 * @module
 */
import * as nodeBuffer from "node:buffer";
import { detectRuntime } from "./runtime.ts";

/** A native whole-input UTF-8 check and the input size from which it pays. */
export interface NativeUtf8 {
  /** `true` when `bytes` is complete, well-formed UTF-8 (RFC 3629). */
  isValid(bytes: Uint8Array): boolean;
  /** Inputs shorter than this are checked faster by the DFA. */
  minBytes: number;
}

/** Smallest input handed to the native check, per runtime (null: never). */
const MIN_BYTES: Record<"node" | "bun" | "deno", number | null> = {
  node: 32,
  bun: 16,
  deno: null,
};

function load(): NativeUtf8 | null {
  const minBytes = MIN_BYTES[detectRuntime()];
  if (minBytes === null) return null;
  if (globalThis.process?.env?.FFINET_PURE_UTF8 === "1") return null;
  const isUtf8 = (nodeBuffer as { isUtf8?: (input: Uint8Array) => boolean }).isUtf8;
  if (typeof isUtf8 !== "function") return null;
  // Trust it only after it agrees with RFC 3629 on the cases that tell
  // a strict validator from a lenient one.
  const probe = (bytes: number[]): boolean => isUtf8(new Uint8Array(bytes));
  const strict = probe([0xe2, 0x82, 0xac]) && probe([0xf4, 0x8f, 0xbf, 0xbf]) &&
    !probe([0xc0, 0x80]) && !probe([0xed, 0xa0, 0x80]) && !probe([0xf4, 0x90, 0x80, 0x80]) &&
    !probe([0xe2, 0x82]) && !probe([0x80]) && !probe([0xf8, 0x88, 0x80, 0x80, 0x80]);
  if (!strict) return null;
  return { isValid: isUtf8, minBytes };
}

/**
 * The native validator for this runtime, or `null` where it is missing or
 * not faster (Deno), or when the environment variable `FFINET_PURE_UTF8=1`
 * asks for the pure JavaScript DFA.
 *
 * @example
 * ```ts
 * import { nativeUtf8 } from "./utf8_native.ts";
 * console.log(nativeUtf8 === null ? "pure DFA" : `native from ${nativeUtf8.minBytes} B`);
 * ```
 */
export const nativeUtf8: NativeUtf8 | null = load();
