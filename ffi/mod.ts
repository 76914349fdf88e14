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
export { libc } from "./libc.ts";
export { libz, Z, Z_STREAM } from "./libz.ts";
export { libcrypto } from "./libcrypto.ts";
export { libssl } from "./libssl.ts";
export { libbrotlidec, libbrotlienc } from "./libbrotli.ts";
