/**
 * HTTP/1.1: the strict incremental parser, the head serializer and the
 * chunked encoder.
 *
 * @example
 * ```ts
 * import { HTTP1Parser, encodeResponseHead } from "./mod.ts";
 * const parser = new HTTP1Parser({ kind: "response" }, { onHead: (h) => console.log(h.statusCode) });
 * parser.push(encodeResponseHead({ status: 204 }));
 * ```
 *
 * @module
 */
export * from "./chunked.ts";
export * from "./fields.ts";
export * from "./framing.ts";
export * from "./parser.ts";
export * from "./recorder.ts";
export * from "./serializer.ts";
export * from "./target.ts";
