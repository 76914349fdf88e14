/**
 * Response compression: a middleware that encodes responses with `br` or
 * `gzip`, the one the request's `Accept-Encoding` prefers (q-values; on a
 * tie the server's order, br first), through libz and libbrotli over FFI
 * (http/content_coding.ts).
 *
 * A `HEAD` request is negotiated as its `GET` would be (RFC 9110 §9.3.2:
 * the same fields): `Content-Encoding`, `Vary`, a weak `ETag`, but its
 * body is not encoded just to learn its length, so an encoded HEAD answer
 * has no `Content-Length` (§8.6 lets a HEAD answer omit it; a wrong one
 * is forbidden). One under `threshold` is sent as it is, as its GET is.
 *
 * Left alone: bodyless statuses, `206` and anything with
 * `Content-Range`, responses that already have a `Content-Encoding`,
 * `Cache-Control: no-transform`, types that do not compress (images,
 * video, archives: see `isCompressibleType` in mime.ts; `text/event-stream`
 * too, whose events must not wait), and bodies under `threshold` bytes
 * (default 1 KiB). A compressible response gets `Vary: Accept-Encoding`
 * whether it is encoded or not; an encoded one loses its `Content-Length`
 * and a strong `ETag` becomes weak.
 *
 * A `304` answers for the representation the client holds, so it carries
 * the `ETag` and `Vary` that representation's `200` carried (RFC 9110
 * §15.4.5): `Vary: Accept-Encoding` (unless the 304's own `Content-Type`,
 * `Content-Encoding` or `no-transform` says the 200 is left alone), and a
 * strong tag made weak when the request accepts a coding and its
 * `If-None-Match` does not name that strong tag (the client holds the
 * encoded variant's `W/` tag, or validated by date). `If-None-Match`
 * compares weakly (§13.1.2), so a handler matching tags as serveStatic
 * does answers `304` to the encoded variant's `W/` tag; `If-Match` and
 * `If-Range` compare strongly, and an encoded variant's tag fails them.
 *
 * A body that is all there at once (a string, bytes, a small file) is
 * encoded in one go and keeps a known length; a longer stream is encoded
 * chunk by chunk, each flushed, so what the handler sends goes out (it
 * waits for one chunk past `threshold` first, to learn whether the body
 * has ended).
 *
 * @example
 * ```ts ignore
 * import { serve } from "./serve.ts";
 * import { compression } from "./compress.ts";
 * serve({ port: 8080, middleware: [compression()], fetch: () => Response.json({ big: "x".repeat(5000) }) });
 * ```
 *
 * @module
 */
import { checkOptions } from "../../core/options.ts";
import { ContentEncoder, encodeContent, isBrotliAvailable } from "../content_coding.ts";
import type { Middleware } from "./middleware.ts";
import { responseContentType } from "./response_peek.ts";
import { isCompressibleType } from "./mime.ts";

/**
 * The coding among `available` (in the server's order of preference) that
 * `acceptEncoding` rates highest (RFC 9110 §12.5.3: q-values, `*`,
 * `x-gzip` for gzip), or undefined when none is acceptable (identity).
 *
 * @example
 * ```ts
 * import { preferredEncoding } from "./compress.ts";
 * console.log(preferredEncoding("gzip, br;q=0.5", ["br", "gzip"])); // "gzip"
 * console.log(preferredEncoding("gzip;q=0, *;q=0.1", ["br", "gzip"])); // "br"
 * ```
 */
export function preferredEncoding(acceptEncoding: string, available: readonly string[]): string | undefined {
  if (available.length === 0) return undefined;
  const q = new Map<string, number>();
  for (const item of acceptEncoding.split(",")) {
    const [rawName, ...params] = item.split(";");
    let name = rawName!.trim().toLowerCase();
    if (name === "") continue;
    if (name === "x-gzip") name = "gzip";
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
      if (m !== null) weight = Math.min(1, Number(m[1]));
      else if (/^\s*q\s*=/i.test(p)) weight = 0; // a malformed q: not acceptable
    }
    q.set(name, Math.max(weight, q.get(name) ?? 0));
  }
  let best: string | undefined;
  let bestQ = 0;
  for (const coding of available) {
    const weight = q.get(coding) ?? q.get("*") ?? 0;
    if (weight > bestQ) {
      best = coding;
      bestQ = weight;
    }
  }
  return best;
}

/**
 * Options of {@link compression}; an unknown key is a `TypeError`.
 *
 * @example
 * ```ts
 * import type { CompressionOptions } from "./compress.ts";
 * const options: CompressionOptions = { threshold: 2048, encodings: ["gzip"], gzipLevel: 4 };
 * ```
 */
export interface CompressionOptions {
  /** Bodies smaller than this many bytes are sent as they are (default 1024). */
  threshold?: number;
  /** Codings offered, in the server's order of preference (default ["br", "gzip"]; br only where libbrotli is found). */
  encodings?: readonly ("br" | "gzip")[];
  /** gzip level 1–9 (default 6). */
  gzipLevel?: number;
  /** br quality 0–11 (default 4). */
  brotliQuality?: number;
  /** Which media types to compress (default `isCompressibleType` of mime.ts, without `text/event-stream`). */
  filter?: (contentType: string) => boolean;
}

const KEYS: ReadonlySet<string> = new Set(["threshold", "encodings", "gzipLevel", "brotliQuality", "filter"]);

function defaultFilter(contentType: string): boolean {
  return isCompressibleType(contentType) && !/^\s*text\/event-stream/i.test(contentType);
}

function addVary(headers: Headers): void {
  const vary = headers.get("vary");
  if (vary === null) headers.set("vary", "Accept-Encoding");
  else if (!vary.split(",").some((v) => { const t = v.trim().toLowerCase(); return t === "accept-encoding" || t === "*"; })) headers.set("vary", `${vary}, Accept-Encoding`);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`a response body stream must give Uint8Array chunks, got ${typeof value}`);
}

/**
 * The compression middleware (see the module text).
 *
 * @throws TypeError for an unknown option key or a bad value
 * @example
 * ```ts
 * import { compression } from "./compress.ts";
 * import { withMiddleware } from "./middleware.ts";
 * const handler = withMiddleware(compression({ threshold: 512 }), () => new Response("a".repeat(4096), { headers: { "content-type": "text/plain" } }));
 * ```
 */
export function compression(options: CompressionOptions = {}): Middleware {
  checkOptions(options, KEYS, "compression");
  const threshold = options.threshold ?? 1024;
  if (!Number.isSafeInteger(threshold) || threshold < 0) throw new RangeError(`compression: threshold must be a non-negative integer, got ${String(threshold)}`);
  const wanted = [...(options.encodings ?? ["br", "gzip"])];
  for (const e of wanted) if (e !== "br" && e !== "gzip") throw new TypeError(`compression: encodings are "br" and "gzip", got ${JSON.stringify(e)}`);
  const gzipLevel = options.gzipLevel ?? 6;
  if (!Number.isInteger(gzipLevel) || gzipLevel < 1 || gzipLevel > 9) throw new RangeError(`compression: gzipLevel must be 1-9, got ${String(gzipLevel)}`);
  const brotliQuality = options.brotliQuality ?? 4;
  if (!Number.isInteger(brotliQuality) || brotliQuality < 0 || brotliQuality > 11) throw new RangeError(`compression: brotliQuality must be 0-11, got ${String(brotliQuality)}`);
  const filter = options.filter ?? defaultFilter;
  if (typeof filter !== "function") throw new TypeError("compression: filter must be a function");
  let available: string[] | undefined;

  return async (request, next) => {
    const response = await next();
    if (!(response instanceof Response)) return response;
    const status = response.status;
    // The headers before the body: Bun puts a Blob's type into them only if they are read first.
    const h = response.headers;
    if (status === 304) return notModified(request, response, filter, available ??= wanted.filter((e) => e !== "br" || isBrotliAvailable()));
    if (status === 204 || status === 205 || status === 206 || status < 200 || response.body === null) return response;
    if (h.has("content-encoding") || h.has("content-range")) return response;
    // What the response is sent with (on Bun a string body's type is not in its headers).
    const type = responseContentType(response);
    if (type === null || !filter(type)) return response;
    if (/(?:^|,)\s*no-transform\s*(?:,|$)/i.test(h.get("cache-control") ?? "")) return response;
    const head = request.method === "HEAD";
    const declared = Number(h.get("content-length") ?? NaN);
    available ??= wanted.filter((e) => e !== "br" || isBrotliAvailable());
    const accept = request.headers.get("accept-encoding");
    const coding = accept === null ? undefined : preferredEncoding(accept, available);
    if (coding === undefined || declared < threshold) return varied(response, type);
    if (head && declared >= threshold) return headOnly(response, coding, type);
    const level = coding === "br" ? brotliQuality : gzipLevel;

    // Gather up to the threshold, and one read more, to learn whether the body ends there.
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    let done = false;
    try {
      while (total < threshold) {
        const r = await reader.read();
        if (r.done) {
          done = true;
          break;
        }
        const b = asBytes(r.value);
        chunks.push(b);
        total += b.length;
      }
      if (!done) {
        const r = await reader.read();
        if (r.done) done = true;
        else {
          const b = asBytes(r.value);
          chunks.push(b);
          total += b.length;
        }
      }
    } catch (error) {
      reader.releaseLock();
      throw error;
    }
    if (head && !(done && total < threshold)) {
      reader.cancel().catch(() => {});
      return headOnly(response, coding, type);
    }
    const headers = new Headers(h);
    // The type goes with the copy (Bun keeps a string body's out of `h`).
    if (!headers.has("content-type")) headers.set("content-type", type);
    addVary(headers);
    if (done) {
      reader.releaseLock();
      const whole = concat(chunks, total);
      if (total < threshold) return new Response(whole as Uint8Array<ArrayBuffer>, { status, statusText: response.statusText, headers });
      return encoded(encodeContent(coding, whole, { level }) as Uint8Array<ArrayBuffer>, coding, status, response.statusText, headers);
    }
    const encoder = new ContentEncoder(coding, { level });
    let pending: Uint8Array[] | undefined = chunks;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          if (pending !== undefined) {
            for (const c of pending) for (const out of encoder.push(c)) controller.enqueue(out);
            for (const out of encoder.flush()) controller.enqueue(out);
            pending = undefined;
            return;
          }
          const r = await reader.read();
          if (r.done) {
            for (const out of encoder.end()) controller.enqueue(out);
            encoder.close();
            controller.close();
            return;
          }
          for (const out of encoder.push(asBytes(r.value))) controller.enqueue(out);
          for (const out of encoder.flush()) controller.enqueue(out);
        } catch (error) {
          encoder.close();
          reader.cancel(error).catch(() => {});
          throw error;
        }
      },
      cancel(reason) {
        encoder.close();
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
    return encoded(stream, coding, status, response.statusText, headers);
  };
}

/** A 304's fields made those of the 200 it stands for (see the module text). */
function notModified(request: Request, response: Response, filter: (contentType: string) => boolean, available: readonly string[]): Response {
  const h = response.headers;
  const type = h.get("content-type");
  if (h.has("content-encoding") || (type !== null && !filter(type))) return response;
  if (/(?:^|,)\s*no-transform\s*(?:,|$)/i.test(h.get("cache-control") ?? "")) return response;
  const tag = h.get("etag");
  const accept = request.headers.get("accept-encoding");
  const wantsCoding = accept !== null && preferredEncoding(accept, available) !== undefined;
  const weaken = tag !== null && !tag.startsWith("W/") && wantsCoding && !namesTag(request.headers.get("if-none-match"), tag);
  let headers = h;
  try {
    addVary(headers);
    if (weaken) headers.set("etag", `W/${tag}`);
    return response;
  } catch {
    headers = new Headers(h);
    addVary(headers);
    if (weaken) headers.set("etag", `W/${tag}`);
    return new Response(null, { status: 304, statusText: response.statusText, headers });
  }
}

/** Whether an If-None-Match value lists `tag` itself (a strong tag, compared strongly). */
function namesTag(ifNoneMatch: string | null, tag: string): boolean {
  if (ifNoneMatch === null) return false;
  for (const m of ifNoneMatch.matchAll(/(W\/)?"[^"]*"/g)) if (m[1] === undefined && m[0] === tag) return true;
  return false;
}

function varied(response: Response, type: string): Response {
  try {
    addVary(response.headers);
    return response;
  } catch {
    // immutable headers (a Response.redirect or error): a copy, with the type the original is sent with
    const headers = new Headers(response.headers);
    if (!headers.has("content-type")) headers.set("content-type", type);
    addVary(headers);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

/**
 * The answer to a HEAD whose GET would be encoded with `coding`: its GET's
 * fields without a `Content-Length` (its encoded length is not known
 * without encoding it), and a body of unknown length that the server
 * does not send (it cancels it).
 */
function headOnly(response: Response, coding: string, type: string): Response {
  void response.body?.cancel().catch(() => {});
  const headers = new Headers(response.headers);
  if (!headers.has("content-type")) headers.set("content-type", type);
  addVary(headers);
  return encoded(new ReadableStream<Uint8Array>({}, { highWaterMark: 0 }), coding, response.status, response.statusText, headers);
}

function encoded(body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>, coding: string, status: number, statusText: string, headers: Headers): Response {
  headers.set("content-encoding", coding);
  headers.delete("content-length");
  const tag = headers.get("etag");
  if (tag !== null && !tag.startsWith("W/")) headers.set("etag", `W/${tag}`);
  return new Response(body, { status, statusText, headers });
}
