/**
 * HTTP core: methods, status codes, the `HeaderList` collection, URIs, dates,
 * weighted lists and media types — shared by HTTP/1.1 and HTTP/2.
 *
 * @example
 * ```ts
 * import { HeaderList, parseURI, formatHTTPDate } from "./mod.ts";
 * const h = new HeaderList({ Date: formatHTTPDate(Date.now()) });
 * console.log(h.has("date"), parseURI("/a?b").query); // true "b"
 * ```
 *
 * @module
 */
export * from "./date.ts";
export * from "./headers.ts";
export * from "./media_type.ts";
export * from "./methods.ts";
export * from "./qvalue.ts";
export * from "./status.ts";
export * from "./uri.ts";
export * from "./trailer_fields.ts";
