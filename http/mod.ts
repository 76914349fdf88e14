/**
 * HTTP: core types (headers, URI, dates, methods, status), the HTTP/1.1
 * codec, HPACK, the HTTP/2 protocol core and the HTTP/1.1 server (`serve`). Subpaths: `ffinet/http`.
 *
 * @example
 * ```ts
 * import * as http from "./mod.ts";
 * console.log(typeof http); // "object"
 * ```
 *
 * @module
 */
export * from "./core/mod.ts";
export * from "./h1/mod.ts";
export * from "./hpack/mod.ts";
export * from "./h2/mod.ts";
export * from "./content_coding.ts";
export * from "./server/mod.ts";
