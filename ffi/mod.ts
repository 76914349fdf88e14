/**
 * The FFI layer: the only runtime-specific code in ffinet.
 *
 * @example
 * ```ts
 * import { native, libc } from "./mod.ts";
 * console.log(native.runtime, libc().getpid() > 0);
 * ```
 *
 * @module
 */
export type {
  LibraryDefinition,
  LazyLibrary,
} from "./library.ts";
export { defineLibrary } from "./library.ts";
export type * from "./types.ts";
export { native } from "./native.ts";
export { NativeBuffer } from "./native_buffer.ts";
export { cString, decodeCString, readCString, readPointer, writePointer } from "./marshal.ts";
export { C, E, LAYOUT, errnoName } from "./platform.ts";
export type { PlatformConstants, PlatformLayout } from "./platform.ts";
export { LINUX } from "./constants/linux.ts";
export { libc, LIBC_SYMBOLS } from "./libc.ts";
export { libz, LIBZ_SYMBOLS, Z, Z_STREAM } from "./libz.ts";
export { libcrypto, LIBCRYPTO_SYMBOLS } from "./libcrypto.ts";
export { libssl, LIBSSL_SYMBOLS } from "./libssl.ts";
export { libbrotlidec, LIBBROTLIDEC_SYMBOLS, libbrotlienc, LIBBROTLIENC_SYMBOLS } from "./libbrotli.ts";
