/**
 * Brotli (libbrotlidec / libbrotlienc), optional: loaded lazily where the
 * system has it; `FFINET_LIBBROTLIDEC` / `FFINET_LIBBROTLIENC` override.
 *
 * @module
 */
import { defineLibrary, type LazyLibrary } from "./library.ts";

/**
 * The Brotli decoder functions ffinet binds.
 *
 * @example
 * ```ts
 * import { LIBBROTLIDEC_SYMBOLS } from "./libbrotli.ts";
 * console.log(LIBBROTLIDEC_SYMBOLS.BrotliDecoderCreateInstance.args.length); // 3
 * ```
 */
export const LIBBROTLIDEC_SYMBOLS = {
  /** BrotliDecoderState* BrotliDecoderCreateInstance(brotli_alloc_func, brotli_free_func, void *opaque) */
  BrotliDecoderCreateInstance: { args: ["pointer", "pointer", "pointer"], result: "pointer" },
  /** BrotliDecoderResult BrotliDecoderDecompressStream(BrotliDecoderState*, size_t *available_in, const uint8_t **next_in, size_t *available_out, uint8_t **next_out, size_t *total_out) */
  BrotliDecoderDecompressStream: {
    args: ["pointer", "pointer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  /** BROTLI_BOOL BrotliDecoderIsFinished(const BrotliDecoderState*) */
  BrotliDecoderIsFinished: { args: ["pointer"], result: "i32" },
  /** BrotliDecoderErrorCode BrotliDecoderGetErrorCode(const BrotliDecoderState*) */
  BrotliDecoderGetErrorCode: { args: ["pointer"], result: "i32" },
  /** void BrotliDecoderDestroyInstance(BrotliDecoderState*) */
  BrotliDecoderDestroyInstance: { args: ["pointer"], result: "void" },
} as const;

/**
 * The Brotli decoder library, loaded on first call.
 *
 * @example
 * ```ts
 * import { libbrotlidec } from "./libbrotli.ts";
 * console.log(libbrotlidec.loaded); // false until first use
 * ```
 */
export const libbrotlidec: LazyLibrary<typeof LIBBROTLIDEC_SYMBOLS> = defineLibrary({
  name: "libbrotlidec",
  env: "FFINET_LIBBROTLIDEC",
  candidates: {
    linux: ["libbrotlidec.so.1", "libbrotlidec.so"],
    darwin: ["libbrotlidec.1.dylib", "libbrotlidec.dylib"],
    "*": ["libbrotlidec.so.1", "libbrotlidec.so"],
  },
  hint: "install brotli (Debian: libbrotli1)",
  symbols: LIBBROTLIDEC_SYMBOLS,
});

/**
 * The Brotli encoder functions ffinet binds.
 *
 * @example
 * ```ts
 * import { LIBBROTLIENC_SYMBOLS } from "./libbrotli.ts";
 * console.log(LIBBROTLIENC_SYMBOLS.BrotliEncoderCreateInstance.args.length); // 3
 * ```
 */
export const LIBBROTLIENC_SYMBOLS = {
  /** BrotliEncoderState* BrotliEncoderCreateInstance(brotli_alloc_func, brotli_free_func, void *opaque) */
  BrotliEncoderCreateInstance: { args: ["pointer", "pointer", "pointer"], result: "pointer" },
  /** BROTLI_BOOL BrotliEncoderSetParameter(BrotliEncoderState*, BrotliEncoderParameter, uint32_t value) */
  BrotliEncoderSetParameter: { args: ["pointer", "i32", "u32"], result: "i32" },
  /** BROTLI_BOOL BrotliEncoderCompressStream(BrotliEncoderState*, BrotliEncoderOperation, size_t *available_in, const uint8_t **next_in, size_t *available_out, uint8_t **next_out, size_t *total_out) */
  BrotliEncoderCompressStream: {
    args: ["pointer", "i32", "pointer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  /** BROTLI_BOOL BrotliEncoderHasMoreOutput(BrotliEncoderState*) */
  BrotliEncoderHasMoreOutput: { args: ["pointer"], result: "i32" },
  /** void BrotliEncoderDestroyInstance(BrotliEncoderState*) */
  BrotliEncoderDestroyInstance: { args: ["pointer"], result: "void" },
} as const;

/**
 * The Brotli encoder library, loaded on first call.
 *
 * @example
 * ```ts
 * import { libbrotlienc } from "./libbrotli.ts";
 * console.log(libbrotlienc.loaded); // false until first use
 * ```
 */
export const libbrotlienc: LazyLibrary<typeof LIBBROTLIENC_SYMBOLS> = defineLibrary({
  name: "libbrotlienc",
  env: "FFINET_LIBBROTLIENC",
  candidates: {
    linux: ["libbrotlienc.so.1", "libbrotlienc.so"],
    darwin: ["libbrotlienc.1.dylib", "libbrotlienc.dylib"],
    "*": ["libbrotlienc.so.1", "libbrotlienc.so"],
  },
  hint: "install brotli (Debian: libbrotli1)",
  symbols: LIBBROTLIENC_SYMBOLS,
});
