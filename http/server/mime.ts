/**
 * Media types by file extension, for static files: a small table of the
 * types a web server serves most (text with `charset=utf-8`), extendable
 * per call; anything unknown is `application/octet-stream`.
 *
 * @example
 * ```ts
 * import { contentTypeFor } from "./mime.ts";
 * console.log(contentTypeFor("/site/index.HTML")); // "text/html; charset=utf-8"
 * console.log(contentTypeFor("archive.bin")); // "application/octet-stream"
 * ```
 *
 * @module
 */

const UTF8 = "; charset=utf-8";

/**
 * The built-in table: lower-case extension (without the dot) to media type.
 *
 * @example
 * ```ts
 * import { MIME_TYPES } from "./mime.ts";
 * console.log(MIME_TYPES.svg); // "image/svg+xml"
 * ```
 */
export const MIME_TYPES: Readonly<Record<string, string>> = Object.freeze({
  html: "text/html" + UTF8,
  htm: "text/html" + UTF8,
  css: "text/css" + UTF8,
  js: "text/javascript" + UTF8,
  mjs: "text/javascript" + UTF8,
  cjs: "text/javascript" + UTF8,
  json: "application/json",
  map: "application/json",
  webmanifest: "application/manifest+json",
  txt: "text/plain" + UTF8,
  md: "text/markdown" + UTF8,
  csv: "text/csv" + UTF8,
  xml: "application/xml",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/x-icon",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  otf: "font/otf",
  wasm: "application/wasm",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  mp4: "video/mp4",
  webm: "video/webm",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  wav: "audio/wav",
});

/** The type of files whose extension is unknown. */
const FALLBACK = "application/octet-stream";

/**
 * The media type for `path` by its extension (case-insensitive), from
 * `extra` first, then {@link MIME_TYPES}; `application/octet-stream` when
 * neither knows it.
 *
 * @param path a file name or path
 * @param extra more extensions (lower-case, no dot) to types
 * @example
 * ```ts
 * import { contentTypeFor } from "./mime.ts";
 * console.log(contentTypeFor("a.glb", { glb: "model/gltf-binary" })); // "model/gltf-binary"
 * ```
 */
export function contentTypeFor(path: string, extra?: Readonly<Record<string, string>>): string {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  if (dot <= slash + 1) return FALLBACK; // no extension, or a dotfile's name
  const ext = path.slice(dot + 1).toLowerCase();
  if (extra !== undefined && Object.hasOwn(extra, ext)) return extra[ext]!;
  return Object.hasOwn(MIME_TYPES, ext) ? MIME_TYPES[ext]! : FALLBACK;
}

/**
 * Whether a response of media type `contentType` is worth compressing:
 * text, JSON, JavaScript, XML, SVG, WebAssembly and similar (not images,
 * audio, video, fonts in compressed formats, archives).
 *
 * @example
 * ```ts
 * import { isCompressibleType } from "./mime.ts";
 * console.log(isCompressibleType("application/json"), isCompressibleType("image/png")); // true false
 * ```
 */
export function isCompressibleType(contentType: string): boolean {
  const semi = contentType.indexOf(";");
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (type.startsWith("text/")) return true;
  if (type.endsWith("+json") || type.endsWith("+xml")) return true;
  switch (type) {
    case "application/json":
    case "application/javascript":
    case "application/x-javascript":
    case "application/xml":
    case "application/wasm":
    case "application/x-ndjson":
    case "application/ld+json":
    case "image/svg+xml":
    case "image/x-icon":
    case "font/ttf":
    case "font/otf":
      return true;
  }
  return false;
}
