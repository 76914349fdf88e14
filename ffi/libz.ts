/**
 * zlib: the symbols the content codings and permessage-deflate use, loaded
 * lazily on first use; `FFINET_LIBZ` overrides the path.
 *
 * @example
 * ```ts
 * import { libz } from "./libz.ts";
 * import { readCString } from "./marshal.ts";
 * console.log(readCString(libz().zlibVersion())); // "1.2.13" or similar
 * ```
 *
 * @module
 */
import { defineLibrary, type LazyLibrary } from "./library.ts";

/**
 * The zlib symbol table. `z_streamp` points at a z_stream in native memory.
 *
 * @example
 * ```ts
 * import { LIBZ_SYMBOLS } from "./libz.ts";
 * console.log(LIBZ_SYMBOLS.zlibVersion.result); // "pointer"
 * ```
 */
export const LIBZ_SYMBOLS = {
  /** const char *zlibVersion(void) */
  zlibVersion: { args: [], result: "pointer" },
  /** int deflateInit2_(z_streamp strm, int level, int method, int windowBits, int memLevel, int strategy, const char *version, int stream_size) */
  deflateInit2_: { args: ["pointer", "i32", "i32", "i32", "i32", "i32", "buffer", "i32"], result: "i32" },
  /** int deflate(z_streamp strm, int flush) */
  deflate: { args: ["pointer", "i32"], result: "i32" },
  /** int deflateEnd(z_streamp strm) */
  deflateEnd: { args: ["pointer"], result: "i32" },
  /** int deflateReset(z_streamp strm) */
  deflateReset: { args: ["pointer"], result: "i32" },
  /** int deflateParams(z_streamp strm, int level, int strategy) */
  deflateParams: { args: ["pointer", "i32", "i32"], result: "i32" },
  /** int deflateSetDictionary(z_streamp strm, const Bytef *dictionary, uInt dictLength) */
  deflateSetDictionary: { args: ["pointer", "buffer", "u32"], result: "i32", bounds: [[1, 2]] },
  /** uLong deflateBound(z_streamp strm, uLong sourceLen) */
  deflateBound: { args: ["pointer", "u64"], result: "u64" },
  /** int inflateInit2_(z_streamp strm, int windowBits, const char *version, int stream_size) */
  inflateInit2_: { args: ["pointer", "i32", "buffer", "i32"], result: "i32" },
  /** int inflate(z_streamp strm, int flush) */
  inflate: { args: ["pointer", "i32"], result: "i32" },
  /** int inflateEnd(z_streamp strm) */
  inflateEnd: { args: ["pointer"], result: "i32" },
  /** int inflateReset(z_streamp strm) */
  inflateReset: { args: ["pointer"], result: "i32" },
  /** int inflateReset2(z_streamp strm, int windowBits) */
  inflateReset2: { args: ["pointer", "i32"], result: "i32" },
  /** int inflateSetDictionary(z_streamp strm, const Bytef *dictionary, uInt dictLength) */
  inflateSetDictionary: { args: ["pointer", "buffer", "u32"], result: "i32", bounds: [[1, 2]] },
  /** uLong crc32(uLong crc, const Bytef *buf, uInt len) */
  crc32: { args: ["u64", "buffer", "u32"], result: "u64", bounds: [[1, 2]] },
  /** uLong adler32(uLong adler, const Bytef *buf, uInt len) */
  adler32: { args: ["u64", "buffer", "u32"], result: "u64", bounds: [[1, 2]] },
} as const;

/**
 * zlib return codes and flush values (zlib.h).
 *
 * @example
 * ```ts
 * import { Z } from "./libz.ts";
 * console.log(Z.STREAM_END, Z.BUF_ERROR); // 1 -5
 * ```
 */
export const Z = {
  OK: 0, STREAM_END: 1, NEED_DICT: 2, ERRNO: -1, STREAM_ERROR: -2, DATA_ERROR: -3,
  MEM_ERROR: -4, BUF_ERROR: -5, VERSION_ERROR: -6,
  NO_FLUSH: 0, PARTIAL_FLUSH: 1, SYNC_FLUSH: 2, FULL_FLUSH: 3, FINISH: 4, BLOCK: 5,
  DEFLATED: 8, DEFAULT_COMPRESSION: -1, DEFAULT_STRATEGY: 0, FILTERED: 1, HUFFMAN_ONLY: 2,
  RLE: 3, FIXED: 4,
} as const;

/**
 * z_stream layout on LP64 platforms (112 bytes).
 *
 * @example
 * ```ts
 * import { Z_STREAM } from "./libz.ts";
 * console.log(Z_STREAM.size, Z_STREAM.avail_out); // 112 32
 * ```
 */
export const Z_STREAM = {
  size: 112, next_in: 0, avail_in: 8, total_in: 16, next_out: 24, avail_out: 32,
  total_out: 40, msg: 48, state: 56, zalloc: 64, zfree: 72, opaque: 80, data_type: 88,
  adler: 96,
} as const;

/**
 * zlib, loaded on first call.
 *
 * @example
 * ```ts
 * import { libz } from "./libz.ts";
 * console.log(libz().crc32(0, new TextEncoder().encode("abc"), 3)); // 891568578
 * ```
 */
export const libz: LazyLibrary<typeof LIBZ_SYMBOLS> = defineLibrary({
  name: "libz",
  env: "FFINET_LIBZ",
  candidates: {
    linux: ["libz.so.1", "libz.so"],
    darwin: ["libz.1.dylib", "libz.dylib", "/usr/lib/libz.1.dylib"],
    "*": ["libz.so.1", "libz.so"],
  },
  hint: "install zlib (Debian: zlib1g)",
  symbols: LIBZ_SYMBOLS,
});
