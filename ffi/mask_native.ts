/**
 * WebSocket masking (XOR with a repeating 4-byte key) in machine code, for
 * payloads large enough that a native call beats JavaScript's word loop.
 *
 * None of the C libraries ffinet loads has such a routine, and the loops
 * JavaScript can write top out at 3–20 GB/s, while the npm `ws` package's
 * optional C++ addon (bufferutil) reaches 16–24. So ffinet carries the
 * routine itself: 162 bytes of baseline x86-64 (SSE2, which every x86-64
 * CPU has), assembled from the listing below, loaded through
 * `code_library.ts`. It runs at 40–55 GB/s. Elsewhere (arm64, macOS, a
 * system that refuses executable memory files) `nativeMasker()` is null
 * and the JavaScript loops in `ws/frame.ts` do the work;
 * `FFINET_PURE_MASK=1` asks for that everywhere.
 *
 * @module
 */
import { loadCodeLibrary } from "./code_library.ts";
import { ElfMachine } from "./elf_object.ts";
import { native } from "./native.ts";

/**
 * `void ffinet_mask(uint8_t *dst, uint32_t dstAt, const uint8_t *src,
 * uint32_t srcAt, uint32_t n, uint32_t key)`:
 * `dst[dstAt + i] = src[srcAt + i] ^ (key >> 8 * (i & 3))` for i < n. `src`
 * and `dst` are the same bytes at the same offset, or do not overlap.
 *
 * ```
 *   mov esi, esi ; add rdi, rsi          dst += dstAt (zero-extended)
 *   mov ecx, ecx ; lea rsi, [rdx+rcx]    src += srcAt
 *   mov edx, r8d ; mov ecx, r9d          rdx = n, ecx = key
 *   movd xmm0, ecx ; pshufd xmm0, xmm0, 0    the key in all four lanes
 *   cmp rdx, 64 ; jb L16
 * L64: movdqu xmm1..4, [rsi + 0/16/32/48]
 *   pxor xmm1..4, xmm0
 *   movdqu [rdi + 0/16/32/48], xmm1..4
 *   add rsi, 64 ; add rdi, 64 ; sub rdx, 64 ; cmp rdx, 64 ; jae L64
 * L16: cmp rdx, 16 ; jb L1
 *   movdqu xmm1, [rsi] ; pxor xmm1, xmm0 ; movdqu [rdi], xmm1
 *   add rsi, 16 ; add rdi, 16 ; sub rdx, 16 ; jmp L16
 * L1: test rdx, rdx ; jz done
 * Lb: mov al, [rsi] ; xor al, cl ; mov [rdi], al
 *   ror ecx, 8 ; inc rsi ; inc rdi ; dec rdx ; jnz Lb
 * done: ret
 * ```
 */
const MASK_X86_64 = new Uint8Array([
  0x89, 0xf6, 0x48, 0x01, 0xf7, 0x89, 0xc9, 0x48, 0x8d, 0x34, 0x0a, 0x44, 0x89, 0xc2, 0x44, 0x89,
  0xc9, 0x66, 0x0f, 0x6e, 0xc1, 0x66, 0x0f, 0x70, 0xc0, 0x00, 0x48, 0x83, 0xfa, 0x40, 0x72, 0x48,
  0xf3, 0x0f, 0x6f, 0x0e, 0xf3, 0x0f, 0x6f, 0x56, 0x10, 0xf3, 0x0f, 0x6f, 0x5e, 0x20, 0xf3, 0x0f,
  0x6f, 0x66, 0x30, 0x66, 0x0f, 0xef, 0xc8, 0x66, 0x0f, 0xef, 0xd0, 0x66, 0x0f, 0xef, 0xd8, 0x66,
  0x0f, 0xef, 0xe0, 0xf3, 0x0f, 0x7f, 0x0f, 0xf3, 0x0f, 0x7f, 0x57, 0x10, 0xf3, 0x0f, 0x7f, 0x5f,
  0x20, 0xf3, 0x0f, 0x7f, 0x67, 0x30, 0x48, 0x83, 0xc6, 0x40, 0x48, 0x83, 0xc7, 0x40, 0x48, 0x83,
  0xea, 0x40, 0x48, 0x83, 0xfa, 0x40, 0x73, 0xb8, 0x48, 0x83, 0xfa, 0x10, 0x72, 0x1a, 0xf3, 0x0f,
  0x6f, 0x0e, 0x66, 0x0f, 0xef, 0xc8, 0xf3, 0x0f, 0x7f, 0x0f, 0x48, 0x83, 0xc6, 0x10, 0x48, 0x83,
  0xc7, 0x10, 0x48, 0x83, 0xea, 0x10, 0xeb, 0xe0, 0x48, 0x85, 0xd2, 0x74, 0x14, 0x8a, 0x06, 0x30,
  0xc8, 0x88, 0x07, 0xc1, 0xc9, 0x08, 0x48, 0xff, 0xc6, 0x48, 0xff, 0xc7, 0x48, 0xff, 0xca, 0x75,
  0xec, 0xc3,
]);

const MASK_SYMBOLS = {
  /** void ffinet_mask(uint8_t *dst, uint32_t dstAt, const uint8_t *src, uint32_t srcAt, uint32_t n, uint32_t key) */
  ffinet_mask: { args: ["buffer", "u32", "buffer", "u32", "u32", "i32"], result: "void" },
} as const;

/** The native masking routine and when to use it. */
export interface NativeMasker {
  /**
   * `dst[dstAt + i] = src[srcAt + i] ^ key byte (i & 3)` for `n` bytes,
   * where `keyWord` packs the four key bytes little-endian (the first
   * byte's key in the low 8 bits). `src` and `dst` must be the same bytes
   * at the same offset, or not overlap; the ranges must lie inside them.
   */
  readonly mask: (dst: Uint8Array, dstAt: number, src: Uint8Array, srcAt: number, n: number, keyWord: number) => void;
  /**
   * Below this many bytes the call costs more than the JavaScript loop on
   * this runtime (koffi's ~90 ns per call on Node, ~45 ns on Deno, ~12 ns
   * on Bun, against 1–5 GB/s for short JavaScript loops).
   */
  readonly minBytes: number;
}

const MIN_BYTES = { node: 128, deno: 64, bun: 64 } as const;

let loaded: NativeMasker | null | undefined;
let whyNot = "";

/**
 * The machine-code masker, or null where it cannot run (see
 * {@link nativeMaskUnavailableReason}). Loaded once, on first call.
 *
 * @example
 * ```ts
 * import { nativeMasker } from "./mask_native.ts";
 * const m = nativeMasker();
 * const data = new Uint8Array(1024).fill(0x0f);
 * if (m !== null) m.mask(data, 0, data, 0, data.length, 0x0f0f0f0f);
 * console.log(m === null || data.every((b) => b === 0)); // true
 * ```
 */
export function nativeMasker(): NativeMasker | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (native.env("FFINET_PURE_MASK") === "1") {
    whyNot = "FFINET_PURE_MASK=1";
  } else if (native.arch !== "x64") {
    whyNot = `no masking routine for ${native.arch}`;
  } else {
    const lib = loadCodeLibrary("mask", ElfMachine.x86_64, { ffinet_mask: MASK_X86_64 }, MASK_SYMBOLS);
    if (lib.ok) {
      const fn = lib.functions.ffinet_mask;
      loaded = { mask: fn, minBytes: MIN_BYTES[native.runtime] };
    } else {
      whyNot = lib.reason;
    }
  }
  return loaded;
}

/**
 * Why {@link nativeMasker} is null ("" when it is not, or not yet asked).
 *
 * @example
 * ```ts
 * import { nativeMasker, nativeMaskUnavailableReason } from "./mask_native.ts";
 * if (nativeMasker() === null) console.log(nativeMaskUnavailableReason());
 * ```
 */
export function nativeMaskUnavailableReason(): string {
  return whyNot;
}
