/**
 * Detaching ArrayBuffers that view native memory, so that a view kept past
 * `free()` reads as empty instead of touching freed memory.
 *
 * @module
 */

/**
 * Detaches `buffer` with ES2024 `ArrayBuffer.prototype.transfer(0)` where the
 * engine has it (Deno, Bun, Node ≥ 22); returns false where it cannot (Node
 * 20), in which case the caller's handle still refuses further use.
 *
 * @example
 * ```ts
 * import { detachBuffer } from "./detach.ts";
 * const ab = new ArrayBuffer(8);
 * if (detachBuffer(ab)) console.log(ab.byteLength); // 0
 * ```
 */
export function detachBuffer(buffer: ArrayBuffer): boolean {
  const transfer = (buffer as { transfer?: (n?: number) => ArrayBuffer }).transfer;
  if (typeof transfer !== "function") return false;
  try {
    transfer.call(buffer, 0);
    return true;
  } catch {
    return false;
  }
}
