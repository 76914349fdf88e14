/**
 * Pointer helpers for the backends whose pointers are plain numbers (Bun,
 * and koffi with `intptr_t` results); x86-64 and arm64 user addresses fit
 * in a safe integer.
 *
 * @example
 * ```ts
 * import { NUMERIC_POINTERS } from "./numeric_pointer.ts";
 * console.log(NUMERIC_POINTERS.address(NUMERIC_POINTERS.pointer(16n))); // 16n
 * ```
 *
 * @module
 */
import { detachBuffer } from "./detach.ts";
import type { Native, Pointer } from "./types.ts";

const num = (p: Pointer | null) => p as unknown as number | null;

/** `detach`, `address`, `pointer` and `offset` for numeric pointers. */
export const NUMERIC_POINTERS: Pick<Native, "detach" | "address" | "pointer" | "offset"> = {
  detach: detachBuffer,
  address(pointer: Pointer | null): bigint {
    return pointer === null ? 0n : BigInt(num(pointer)!);
  },
  pointer(address: bigint | number): Pointer | null {
    const a = Number(address);
    return a === 0 ? null : (a as unknown as Pointer);
  },
  offset(pointer: Pointer, bytes: number): Pointer {
    return (num(pointer)! + bytes) as unknown as Pointer;
  },
};
