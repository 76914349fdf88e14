/**
 * HTTP: core types (headers, URI, dates, methods, status), the HTTP/1.1
 * codec, HPACK, the HTTP/2 protocol core, the HTTP/1.1 server (`serve`) and
 * client (`fetch`, `request`, `Client`, `Pool`, `Agent`). Subpaths: `ffinet/http`.
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
export * from "./client/mod.ts";
