/**
 * Byte-array helpers shared by the codecs.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * console.log(concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])])); // Uint8Array [1, 2, 3]
 * ```
 *
 * @module
 */

/**
 * The parts one after another in a new array (the part itself when there
 * is exactly one and `total` is not given or matches it). `total`, when
 * known, saves summing the lengths.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * const parts = [new Uint8Array([1, 2]), new Uint8Array([3])];
 * console.log(concatBytes(parts, 3).length); // 3
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  let size = total;
  if (size === undefined) {
    size = 0;
    for (const p of parts) size += p.length;
  }
  if (parts.length === 1 && parts[0]!.length === size) return parts[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
