/**
 * Static files: `serveStatic(root, options)` answers `GET` and `HEAD` for
 * the files under `root`, as a middleware (what it does not find goes on
 * to `next`) or as a whole `fetch` handler (404 for what it does not
 * find).
 *
 * - Validators: `ETag` (strong by default, `"size-mtime"` in hex; weak with
 *   `etag: "weak"`) and `Last-Modified`; `If-None-Match` and
 *   `If-Modified-Since` answer `304`, `If-Match` and `If-Unmodified-Since`
 *   `412` (RFC 9110 §13.2.2 order).
 * - Ranges: one `bytes=` range answers `206` with `Content-Range`, an
 *   unsatisfiable one `416`; several ranges, or a stale `If-Range`, get the
 *   whole file (`200`).
 * - Media types from the extension (mime.ts); precompressed siblings
 *   (`app.js.br`, `app.js.gz`) served with `Content-Encoding` when
 *   `Accept-Encoding` allows, and `Vary: Accept-Encoding`.
 * - A directory is answered by its `index.html`; `/dir` is redirected to
 *   `/dir/` first.
 * - Refused without saying why: encoded `/` or `\`, `.`/`..` segments,
 *   dotfiles (unless `dotfiles: true`), anything whose real path (symbolic
 *   links resolved) lies outside the real path of `root` (404); a NUL or
 *   a malformed percent-encoding (400). No error page names a path.
 *
 * Files are read through libc (ffi/file.ts): a file up to 1 MiB in one
 * `pread` into a `Uint8Array` body; a larger one as a stream with its
 * `Content-Length`, 256 KiB per read, reopened by path for each so no
 * descriptor outlives a response that is dropped (and a file that changes
 * while being sent errors the stream, which closes the connection). On a
 * plain HTTP/1.1 connection that stream is not read: the kernel sends the
 * range straight from the file (sendfile, see file_body.ts). A `HEAD`
 * reads nothing.
 *
 * @example
 * ```ts ignore
 * import { serve } from "./serve.ts";
 * import { serveStatic } from "./static.ts";
 * serve({ port: 8080, fetch: serveStatic("./public", { maxAge: 3600 }) });
 * ```
 *
 * @module
 */
import { HTTPError } from "../../core/errors.ts";
import { checkOptions } from "../../core/options.ts";
import { closeFile, type FileStat, fileStat, openFileRead, readFileAt, realPath } from "../../ffi/file.ts";
import { preferredEncoding } from "./compress.ts";
import { errorResponse } from "./error_page.ts";
import { markFileBody } from "./file_body.ts";
import type { ServeHandlerInfo } from "./h1_session.ts";
import type { Next } from "./middleware.ts";
import { contentTypeFor } from "./mime.ts";

/**
 * Options of {@link serveStatic}; an unknown key is a `TypeError`.
 *
 * @example
 * ```ts
 * import type { ServeStaticOptions } from "./static.ts";
 * const options: ServeStaticOptions = { prefix: "/assets/", maxAge: 86_400, immutable: true, etag: "weak" };
 * ```
 */
export interface ServeStaticOptions {
  /** The URL path the files are mounted at (default "/"). */
  prefix?: string;
  /** The file that answers for a directory (default "index.html"; false: directories are 404). */
  index?: string | false;
  /** `ETag` kind (default "strong"; false: none). */
  etag?: "strong" | "weak" | false;
  /** Send `Last-Modified` and honour `If-Modified-Since` (default true). */
  lastModified?: boolean;
  /** Precompressed siblings to look for, in the server's order of preference (default ["br", "gzip"]; false: none). */
  precompressed?: readonly ("br" | "gzip")[] | false;
  /** `Cache-Control: public, max-age=N` (seconds; default: no Cache-Control). */
  maxAge?: number;
  /** With `maxAge`: add `immutable`. */
  immutable?: boolean;
  /** Serve files and directories whose name starts with "." (default false: 404). */
  dotfiles?: boolean;
  /** More extensions (lower-case, no dot) to media types. */
  mimeTypes?: Readonly<Record<string, string>>;
  /** More fields for every file response. */
  headers?: HeadersInit;
  /** Redirect a directory's path without its final "/" to the one with it (default true). */
  redirectDirectories?: boolean;
}

const KEYS: ReadonlySet<string> = new Set([
  "prefix",
  "index",
  "etag",
  "lastModified",
  "precompressed",
  "maxAge",
  "immutable",
  "dotfiles",
  "mimeTypes",
  "headers",
  "redirectDirectories",
]);

/**
 * What {@link serveStatic} returns: a middleware (`(request, next)`),
 * which is also a `fetch` handler (`(request, info)`: not found is 404).
 *
 * @example
 * ```ts
 * import { serveStatic, type StaticHandler } from "./static.ts";
 * const files: StaticHandler = serveStatic(".");
 * ```
 */
export type StaticHandler = (request: Request, next?: Next | ServeHandlerInfo) => Promise<Response>;

/** Files up to this size are read whole into the body; larger ones stream. */
const WHOLE_MAX = 1 << 20;
/** Bytes per read of a streamed file. */
const STREAM_CHUNK = 256 * 1024;
const ENCODING_SUFFIX: Readonly<Record<string, string>> = { br: ".br", gzip: ".gz" };

/** A file found for a request: its real path and what fstat said. */
interface Found {
  path: string;
  stat: FileStat;
  fd: number;
}

/** Why a request path maps to no file: the status to answer. */
type Refusal = 400 | 404;

function isRefusal(x: unknown): x is Refusal {
  return x === 400 || x === 404;
}

/**
 * A handler for the files under `root` (see the module text).
 *
 * @param root the directory to serve (resolved, symbolic links included, when first used)
 * @throws TypeError for an unknown option key or a bad option value
 * @example
 * ```ts
 * import { compose } from "./middleware.ts";
 * import { serveStatic } from "./static.ts";
 * const site = compose(serveStatic("./public"), serveStatic("./assets", { prefix: "/assets/" }));
 * ```
 */
export function serveStatic(root: string, options: ServeStaticOptions = {}): StaticHandler {
  checkOptions(options, KEYS, "serveStatic");
  if (typeof root !== "string" || root.length === 0 || root.includes("\0")) throw new TypeError("serveStatic: root must be a non-empty path");
  const prefix = options.prefix ?? "/";
  if (typeof prefix !== "string" || !prefix.startsWith("/")) throw new TypeError(`serveStatic: prefix must start with "/", got ${JSON.stringify(prefix)}`);
  const mount = prefix.endsWith("/") ? prefix : prefix + "/";
  const index = options.index ?? "index.html";
  if (index !== false && (typeof index !== "string" || index.length === 0 || /[/\\\0]/.test(index))) throw new TypeError("serveStatic: index must be a file name or false");
  const etagKind = options.etag ?? "strong";
  if (etagKind !== false && etagKind !== "strong" && etagKind !== "weak") throw new TypeError(`serveStatic: etag must be "strong", "weak" or false`);
  const lastModified = options.lastModified ?? true;
  const precompressed = options.precompressed === false ? [] : [...(options.precompressed ?? ["br", "gzip"])];
  for (const e of precompressed) if (e !== "br" && e !== "gzip") throw new TypeError(`serveStatic: precompressed encodings are "br" and "gzip", got ${JSON.stringify(e)}`);
  const maxAge = options.maxAge;
  if (maxAge !== undefined && (!Number.isSafeInteger(maxAge) || maxAge < 0)) throw new RangeError(`serveStatic: maxAge must be a non-negative integer (seconds), got ${String(maxAge)}`);
  const cacheControl = maxAge === undefined ? undefined : `public, max-age=${maxAge}${options.immutable === true ? ", immutable" : ""}`;
  const dotfiles = options.dotfiles === true;
  const mimeTypes = options.mimeTypes;
  const extraHeaders = options.headers === undefined ? [] : [...new Headers(options.headers)];
  const redirectDirectories = options.redirectDirectories ?? true;
  let rootReal: string | undefined;

  const refuse = (status: Refusal, next: Next | undefined): Promise<Response> =>
    status === 404 && next !== undefined ? next() : Promise.resolve(errorResponse(status));

  /** The file under the root at `real` (already canonical), opened; null when it escapes the root or cannot be opened. */
  const open = (real: string): Found | null => {
    const base = rootReal!;
    if (real !== base && !real.startsWith(base.endsWith("/") ? base : base + "/")) return null;
    const fd = openFileRead(real);
    if (fd === null) return null;
    try {
      return { path: real, stat: fileStat(fd), fd };
    } catch (error) {
      closeFile(fd);
      throw error;
    }
  };

  /** The regular file a URL path names (index of a directory included), a redirect, or a refusal. */
  const find = (pathname: string): Found | Refusal | { redirect: true } => {
    const rest = pathname.slice(mount.length);
    const parts: string[] = [];
    for (const raw of rest.split("/")) {
      if (raw === "") continue;
      let part: string;
      try {
        part = decodeURIComponent(raw);
      } catch {
        return 400;
      }
      if (part.includes("\0")) return 400;
      if (part === "." || part === ".." || part.includes("/") || part.includes("\\")) return 404;
      if (!dotfiles && part.startsWith(".")) return 404;
      parts.push(part);
    }
    rootReal ??= realPath(root) ?? undefined;
    if (rootReal === undefined) return 404;
    const joined = parts.length === 0 ? rootReal : `${rootReal.endsWith("/") ? rootReal : rootReal + "/"}${parts.join("/")}`;
    const real = realPath(joined);
    if (real === null) return 404;
    let found = open(real);
    if (found === null) return 404;
    if (found.stat.kind === "file" && pathname.endsWith("/")) {
      // "/a.txt/" names a directory that does not exist (a file there would answer relative links wrong).
      closeFile(found.fd);
      return 404;
    }
    if (found.stat.kind === "directory") {
      closeFile(found.fd);
      if (index === false) return 404;
      if (redirectDirectories && !pathname.endsWith("/")) return { redirect: true };
      const indexReal = realPath(`${real.endsWith("/") ? real : real + "/"}${index}`);
      found = indexReal === null ? null : open(indexReal);
      if (found === null) return 404;
    }
    if (found.stat.kind !== "file") {
      closeFile(found.fd);
      return 404;
    }
    return found;
  };

  return async (request, nextOrInfo) => {
    const next = typeof nextOrInfo === "function" ? nextOrInfo : undefined;
    const method = request.method;
    const url = new URL(request.url);
    const pathname = url.pathname;
    if (pathname !== mount.slice(0, -1) && !pathname.startsWith(mount)) return refuse(404, next);
    if (method !== "GET" && method !== "HEAD") {
      if (next !== undefined) return next();
      return errorResponse(405, { allow: "GET, HEAD" });
    }
    if (pathname === mount.slice(0, -1)) {
      // the mount point without its "/": a directory
      return redirect(url);
    }
    const found = find(pathname);
    if (isRefusal(found)) return refuse(found, next);
    if ("redirect" in found) return redirect(url);
    let file = found;
    let encoding: string | undefined;
    try {
      const accept = request.headers.get("accept-encoding");
      if (precompressed.length > 0 && accept !== null) {
        const usable: string[] = precompressed.filter((e) => accept.includes(e));
        let chosen = preferredEncoding(accept, usable);
        while (chosen !== undefined) {
          const sibling = realPath(file.path + ENCODING_SUFFIX[chosen]!);
          const alt = sibling === null ? null : open(sibling);
          if (alt !== null && alt.stat.kind === "file") {
            closeFile(file.fd);
            file = alt;
            encoding = chosen;
            break;
          }
          if (alt !== null) closeFile(alt.fd);
          usable.splice(usable.indexOf(chosen), 1);
          chosen = preferredEncoding(accept, usable);
        }
      }
      const headers = new Headers();
      headers.set("content-type", contentTypeFor(found.path, mimeTypes));
      if (encoding !== undefined) headers.set("content-encoding", encoding);
      if (precompressed.length > 0) headers.set("vary", "Accept-Encoding");
      const { size, mtimeMs } = file.stat;
      const tag = etagKind === false ? undefined : `${etagKind === "weak" ? "W/" : ""}"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}${encoding === undefined ? "" : "-" + encoding}"`;
      if (tag !== undefined) headers.set("etag", tag);
      const modified = new Date(Math.floor(mtimeMs / 1000) * 1000).toUTCString();
      if (lastModified) headers.set("last-modified", modified);
      if (cacheControl !== undefined) headers.set("cache-control", cacheControl);
      for (const [name, value] of extraHeaders) headers.set(name, value);

      const precondition = checkPreconditions(request.headers, tag, lastModified ? mtimeMs : undefined);
      if (precondition === 412) return errorResponse(412);
      if (precondition === 304) {
        const h304 = new Headers();
        for (const name of ["etag", "last-modified", "cache-control", "vary", "content-location", "expires"]) {
          const v = headers.get(name);
          if (v !== null) h304.set(name, v);
        }
        return new Response(null, { status: 304, headers: h304 });
      }

      headers.set("accept-ranges", "bytes");
      let start = 0;
      let length = size;
      let status = 200;
      const rangeHeader = method === "GET" ? request.headers.get("range") : null;
      if (rangeHeader !== null && ifRangeHolds(request.headers.get("if-range"), tag, mtimeMs)) {
        const range = parseByteRange(rangeHeader, size);
        if (range === "unsatisfiable") {
          return errorResponse(416, { "content-range": `bytes */${size}` });
        }
        if (range !== undefined) {
          start = range.start;
          length = range.end - range.start + 1;
          status = 206;
          headers.set("content-range", `bytes ${range.start}-${range.end}/${size}`);
        }
      }
      if (method === "HEAD") {
        headers.set("content-length", String(length));
        return new Response(headBody(), { status, headers });
      }
      if (length <= WHOLE_MAX) {
        const bytes = new Uint8Array(length);
        const got = readFileAt(file.fd, bytes, start);
        if (got !== length) throw new HTTPError("ERR_STATIC_FILE_CHANGED", "serveStatic: a file changed size while it was read");
        return new Response(bytes, { status, headers });
      }
      headers.set("content-length", String(length));
      // Marked as the file's range: on a plain HTTP/1.1 connection the kernel sends it straight from the file.
      const body = markFileBody(fileStream(file.path, file.stat, start, length), { path: file.path, size: file.stat.size, mtimeMs: file.stat.mtimeMs, start, length });
      return new Response(body, { status, headers });
    } finally {
      closeFile(file.fd);
    }
  };
}

function redirect(url: URL): Response {
  // One leading slash: "//sub" (empty segments are skipped when finding the
  // directory) would be the protocol-relative "//sub/", a redirect to the
  // host "sub" (an open redirect for any directory named like a host).
  const path = url.pathname.replace(/^\/+/, "/");
  return new Response(null, { status: 301, headers: { location: `${path}/${url.search}` } });
}

/** A body for a HEAD response: never read by the server, which sends the head with the declared Content-Length. */
function headBody(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({ pull: () => new Promise<void>(() => {}) }, { highWaterMark: 0 });
}

/** A large file's bytes `[start, start + length)`, reopened by path for each read and checked against `stat`. */
function fileStream(path: string, stat: FileStat, start: number, length: number): ReadableStream<Uint8Array> {
  let offset = start;
  const end = start + length;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const fd = openFileRead(path);
      if (fd === null) throw new HTTPError("ERR_STATIC_FILE_CHANGED", "serveStatic: a file went away while it was sent");
      try {
        const now = fileStat(fd);
        if (now.size !== stat.size || now.mtimeMs !== stat.mtimeMs) throw new HTTPError("ERR_STATIC_FILE_CHANGED", "serveStatic: a file changed while it was sent");
        const chunk = new Uint8Array(Math.min(STREAM_CHUNK, end - offset));
        const got = readFileAt(fd, chunk, offset);
        if (got !== chunk.length) throw new HTTPError("ERR_STATIC_FILE_CHANGED", "serveStatic: a file changed size while it was sent");
        offset += got;
        controller.enqueue(chunk);
        if (offset >= end) controller.close();
      } finally {
        closeFile(fd);
      }
    },
  }, { highWaterMark: 0 });
}

/** The entity tags of an If-Match / If-None-Match value ("*" stays "*"). */
function entityTags(value: string): string[] {
  const tags: string[] = [];
  for (const m of value.matchAll(/\s*(\*|(?:W\/)?"[^"]*")\s*(?:,|$)/g)) tags.push(m[1]!);
  return tags;
}

function opaque(tag: string): string {
  return tag.startsWith("W/") ? tag.slice(2) : tag;
}

/** RFC 9110 §13.2.2: 412, 304, or undefined (go on). */
function checkPreconditions(h: Headers, tag: string | undefined, mtimeMs: number | undefined): 304 | 412 | undefined {
  const seconds = mtimeMs === undefined ? undefined : Math.floor(mtimeMs / 1000);
  const ifMatch = h.get("if-match");
  if (ifMatch !== null) {
    const tags = entityTags(ifMatch);
    const ok = tags.includes("*") || (tag !== undefined && !tag.startsWith("W/") && tags.includes(tag));
    if (!ok) return 412;
  } else {
    const ius = h.get("if-unmodified-since");
    if (ius !== null && seconds !== undefined) {
      const t = Date.parse(ius);
      if (!Number.isNaN(t) && seconds > Math.floor(t / 1000)) return 412;
    }
  }
  const ifNoneMatch = h.get("if-none-match");
  if (ifNoneMatch !== null) {
    const tags = entityTags(ifNoneMatch);
    if (tags.includes("*")) return 304;
    if (tag !== undefined && tags.some((t) => opaque(t) === opaque(tag))) return 304;
    return undefined;
  }
  const ims = h.get("if-modified-since");
  if (ims !== null && seconds !== undefined) {
    const t = Date.parse(ims);
    if (!Number.isNaN(t) && seconds <= Math.floor(t / 1000)) return 304;
  }
  return undefined;
}

/** If-Range (RFC 9110 §13.1.5): absent, a strong tag equal to ours, or the exact Last-Modified date. */
function ifRangeHolds(value: string | null, tag: string | undefined, mtimeMs: number): boolean {
  if (value === null) return true;
  const v = value.trim();
  if (v.startsWith('"') || v.startsWith("W/")) return tag !== undefined && !tag.startsWith("W/") && v === tag;
  const t = Date.parse(v);
  return !Number.isNaN(t) && Math.floor(t / 1000) === Math.floor(mtimeMs / 1000);
}

/** A range bound (digits only): its value, or Infinity past 2^53 (`bytes=0-99999999999999999999` still means "to the end"). */
function rangeNumber(digits: string): number {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : Infinity;
}

/**
 * One `bytes=` range of a `size`-byte file: its inclusive bounds,
 * "unsatisfiable", or undefined (not a single valid byte range: ignored,
 * the whole file is sent).
 *
 * @example
 * ```ts
 * import { parseByteRange } from "./static.ts";
 * console.log(parseByteRange("bytes=0-9", 100), parseByteRange("bytes=-10", 100), parseByteRange("bytes=200-", 100));
 * // { start: 0, end: 9 } { start: 90, end: 99 } "unsatisfiable"
 * ```
 */
export function parseByteRange(value: string, size: number): { start: number; end: number } | "unsatisfiable" | undefined {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (m === null) return undefined; // several ranges, another unit, or junk
  const [, a, b] = m;
  if (a === "" && b === "") return undefined;
  if (a === "") {
    const n = rangeNumber(b!);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  // RFC 9110 §14.1.2: a last-pos past the end means the end, a suffix longer than the file the whole file, a first-pos past it 416; so do numbers of any length.
  const start = rangeNumber(a!);
  const last = b === "" ? size - 1 : rangeNumber(b!);
  if (b !== "" && last < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(last, size - 1) };
}
