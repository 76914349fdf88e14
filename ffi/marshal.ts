/**
 * C strings in and out, pointer-sized values and timespecs in memory.
 *
 * @module
 */
import { libc } from "./libc.ts";
import { native } from "./native.ts";
import { LAYOUT } from "./platform.ts";
import type { Pointer } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes `text` as NUL-terminated UTF-8, for a `buffer` parameter.
 * Throws TypeError if `text` contains a NUL character.
 *
 * @example
 * ```ts
 * import { cString } from "./marshal.ts";
 * console.log(cString("ab")); // Uint8Array [97, 98, 0]
 * ```
 */
export function cString(text: string): Uint8Array {
  if (text.includes("\0")) throw new TypeError("a C string cannot contain NUL");
  const out = new Uint8Array(text.length * 3 + 1);
  const { written } = encoder.encodeInto(text, out);
  return out.subarray(0, written + 1);
}

/**
 * Reads a NUL-terminated string at `pointer`, at most `maxBytes` bytes long
 * (the scan never goes further). Returns "" for NULL.
 *
 * @example
 * ```ts
 * import { readCString } from "./marshal.ts";
 * import { libc } from "./libc.ts";
 * console.log(readCString(libc().strerror(2))); // "No such file or directory"
 * ```
 */
export function readCString(pointer: Pointer | null, maxBytes = 65536): string {
  if (pointer === null) return "";
  const length = libc().strnlen(pointer, maxBytes);
  if (length === 0) return "";
  return decoder.decode(new Uint8Array(native.view(pointer, length)));
}

/**
 * Reads a NUL-terminated string out of a byte array (up to the first NUL or
 * the end).
 *
 * @example
 * ```ts
 * import { decodeCString } from "./marshal.ts";
 * console.log(decodeCString(new Uint8Array([104, 105, 0, 120]))); // "hi"
 * ```
 */
export function decodeCString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/**
 * Reads a pointer-sized value at `offset` of `view` as a pointer.
 *
 * @example
 * ```ts
 * import { readPointer, writePointer } from "./marshal.ts";
 * const view = new DataView(new ArrayBuffer(8));
 * writePointer(view, 0, null);
 * console.log(readPointer(view, 0)); // null
 * ```
 */
export function readPointer(view: DataView, offset: number): Pointer | null {
  return native.pointer(view.getBigUint64(offset, true));
}

/**
 * Writes a pointer as a pointer-sized value at `offset` of `view`.
 *
 * @example
 * ```ts
 * import { writePointer } from "./marshal.ts";
 * writePointer(new DataView(new ArrayBuffer(8)), 0, null);
 * ```
 */
export function writePointer(view: DataView, offset: number, pointer: Pointer | null): void {
  view.setBigUint64(offset, native.address(pointer), true);
}

/**
 * Writes `ms` (a non-negative duration; fractions are rounded up to whole
 * milliseconds) as a `struct timespec` at `offset` in `view`.
 *
 * @example
 * ```ts
 * import { writeTimespec } from "./marshal.ts";
 * const view = new DataView(new ArrayBuffer(16));
 * writeTimespec(view, 0, 1500); // { tv_sec: 1, tv_nsec: 500000000 }
 * ```
 */
export function writeTimespec(view: DataView, offset: number, ms: number): void {
  const whole = Math.max(0, Math.ceil(ms));
  const t = LAYOUT.timespec;
  view.setBigInt64(offset + t.sec, BigInt(Math.floor(whole / 1000)), true);
  view.setBigInt64(offset + t.nsec, BigInt((whole % 1000) * 1_000_000), true);
}
