/**
 * `download(url, path)`: streams a response body to a file (written
 * through ffi/, no runtime file API), with a progress callback. With
 * `resume` (the default) and a non-empty file already at `path`, it asks
 * for the rest (`Range: bytes=N-`, with `If-Range` when an ETag or
 * Last-Modified is given): a `206` whose `Content-Range` starts at `N` is
 * appended, a `200` (the server ignores ranges, or the file changed)
 * starts over, and a `416` whose `Content-Range: bytes *\/N` equals the
 * file's size means it is already complete. The body is fetched without
 * content coding (`Accept-Encoding: identity`) so ranges count file bytes.
 *
 * @example
 * ```ts ignore
 * import { download } from "./download.ts";
 * const result = await download("http://127.0.0.1:8080/big.bin", "/tmp/big.bin", {
 *   onProgress: ({ received, total }) => console.log(received, total),
 * });
 * console.log(result.bytes, result.resumed);
 * ```
 *
 * @module
 */
import { HTTPError } from "../../core/errors.ts";
import { checkOptions } from "../../core/options.ts";
import { closeFile } from "../../ffi/file.ts";
import { fileEnd, openFileWrite, writeFileAll } from "../../ffi/file_write.ts";
import { expectOk } from "./convenience.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { fetch, type FetchInit } from "./fetch.ts";

/**
 * What {@link DownloadOptions.onProgress} is told after each piece
 * written: bytes in the file so far (a resumed part included) and the
 * whole size when the server said it (null otherwise).
 *
 * @example
 * ```ts
 * import type { DownloadProgress } from "./download.ts";
 * const p: DownloadProgress = { received: 512, total: 1024 };
 * console.log(p.received / (p.total ?? Infinity));
 * ```
 */
export interface DownloadProgress {
  /** Bytes in the file so far. */
  readonly received: number;
  /** The whole size, when known. */
  readonly total: number | null;
}

/**
 * Options of {@link download}; an unknown key is a `TypeError`.
 *
 * @example
 * ```ts
 * import type { DownloadOptions } from "./download.ts";
 * const options: DownloadOptions = { resume: false, onProgress: (p) => console.log(p.received) };
 * ```
 */
export interface DownloadOptions {
  /** Called after each piece written to the file. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Aborts the download in any phase (what was written stays: a later download can resume it). */
  signal?: AbortSignal;
  /** Continue a partial file with a Range request (default true); false always starts over. */
  resume?: boolean;
  /** Sent as `If-Range` when resuming (an ETag or an HTTP date of the partial file's version). */
  ifRange?: string;
  /** Extra header fields. */
  headers?: HeadersInit;
  /** Where to send it (default: the global Agent). */
  dispatcher?: Dispatcher;
  /** Most time for the whole download (`HTTPError` `ERR_HTTP_TOTAL_TIMEOUT`; what was written stays). */
  totalTimeoutMs?: number;
  /**
   * Largest file to download, in bytes (the whole file: a resumed part
   * counts; default none, as curl's `--max-filesize`). A file the server
   * announces larger (Content-Length, Content-Range) is not started: the
   * file at `path` is left as it was; one that turns out larger (no length
   * given) stops at the piece that would pass the limit, and what was
   * written before it stays (never more than `maxBytes`: a later download
   * with a larger limit resumes it; remove it yourself otherwise). Either
   * way `HTTPError` `ERR_HTTP_BODY_TOO_LARGE`, as getJSON's `maxBytes`; a
   * file already larger when resuming fails before any request.
   */
  maxBytes?: number;
}

const DOWNLOAD_KEYS: ReadonlySet<string> = new Set(Object.keys({
  onProgress: 1,
  signal: 1,
  resume: 1,
  ifRange: 1,
  headers: 1,
  dispatcher: 1,
  totalTimeoutMs: 1,
  maxBytes: 1,
} satisfies Record<keyof DownloadOptions, 1>));

/**
 * What {@link download} resolves with.
 *
 * @example
 * ```ts
 * import type { DownloadResult } from "./download.ts";
 * const r: DownloadResult = { status: 206, bytes: 1024, resumedFrom: 512, resumed: true };
 * console.log(r.resumed);
 * ```
 */
export interface DownloadResult {
  /** The final response's status (200, 206, or 416 for a file already complete). */
  readonly status: number;
  /** The file's size at the end. */
  readonly bytes: number;
  /** Bytes that were already there and kept (0 when started over). */
  readonly resumedFrom: number;
  /** Whether the file was continued rather than written from the start. */
  readonly resumed: boolean;
}

/**
 * @internal `bytes a-b/c` → { start, end, total } (total null for `*`);
 * null when unparsable or inconsistent (b < a, b ≥ c). Exported for the
 * fuzz harness.
 *
 * @example
 * ```ts
 * import { contentRange } from "./download.ts";
 * console.log(contentRange("bytes 5-9/10"), contentRange("bytes 9-5/10")); // { start: 5, end: 9, total: 10 } null
 * ```
 */
export function contentRange(value: string | null): { start: number; end: number; total: number | null } | null {
  if (value === null) return null;
  const m = /^\s*bytes\s+(\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)\s*$/i.exec(value);
  if (m === null) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === "*" ? null : Number(m[3]);
  if (end < start || (total !== null && end >= total)) return null;
  return { start, end, total };
}

/**
 * Whether a 206 is for another version than the one `ifRange` names: a
 * strong ETag that differs from the response's, or a date that differs
 * from its Last-Modified (a server must answer 200 then, RFC 9110 §13.1.5;
 * one that sends the range anyway would splice two versions).
 */
function otherVersion(ifRange: string | undefined, headers: Headers): boolean {
  if (ifRange === undefined) return false;
  const wanted = ifRange.trim();
  if (wanted.startsWith('"')) {
    const etag = headers.get("etag");
    return etag !== null && etag.trim() !== wanted;
  }
  if (wanted.startsWith("W/")) return false;
  const modified = headers.get("last-modified");
  if (modified === null) return false;
  const a = Date.parse(modified);
  const b = Date.parse(wanted);
  return !Number.isNaN(a) && !Number.isNaN(b) && a !== b;
}

function unsatisfiedLength(value: string | null): number | null {
  if (value === null) return null;
  const m = /^\s*bytes\s+\*\/(\d{1,15})\s*$/i.exec(value);
  return m === null ? null : Number(m[1]);
}

function existingSize(path: string): number {
  const fd = openFileWrite(path, "append");
  try {
    return fileEnd(fd);
  } finally {
    closeFile(fd);
  }
}

/**
 * Downloads `url` into the file at `path`. See the module documentation.
 *
 * @throws (rejects) HTTPStatusError for a non-2xx answer (a 416 that does
 *   not match the file too); HTTPError `ERR_HTTP_RANGE` for a 206 that does
 *   not continue the file where it ends, was not asked for, carries other
 *   than its Content-Range's bytes, or is for another version than
 *   `ifRange` (nothing of it is written past its range); HTTPError
 *   `ERR_HTTP_BODY_TOO_LARGE` for a file above `maxBytes`; SocketError for the file (ENOENT
 *   for a missing directory …); the fetch's errors and the signal's reason.
 * @example
 * ```ts ignore
 * import { download } from "./download.ts";
 * await download("http://127.0.0.1:8080/a.txt", "/tmp/a.txt", { resume: false });
 * ```
 */
export async function download(url: string | URL, path: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  checkOptions(options, DOWNLOAD_KEYS, "download");
  const max = options.maxBytes;
  if (max !== undefined && (typeof max !== "number" || !(max >= 0))) throw new RangeError(`download: maxBytes must be a number >= 0, got ${String(max)}`);
  const resume = options.resume ?? true;
  const have = resume ? existingSize(path) : 0;
  if (max !== undefined && have > max) throw tooLarge(url, have, max);
  const headers = new Headers(options.headers);
  // A Range the caller set (nothing resumed): a 206 to it is written as the file.
  const callerRange = have === 0 && headers.has("range");
  headers.set("accept-encoding", "identity");
  if (have > 0) {
    headers.set("range", `bytes=${have}-`);
    if (options.ifRange !== undefined) headers.set("if-range", options.ifRange);
  }
  const init: FetchInit = { headers };
  if (options.signal !== undefined) init.signal = options.signal;
  if (options.dispatcher !== undefined) init.dispatcher = options.dispatcher;
  if (options.totalTimeoutMs !== undefined) init.totalTimeoutMs = options.totalTimeoutMs;
  const response = await fetch(url, init);
  try {
    return await save(response, path, options, have, callerRange);
  } catch (error) {
    // Whatever failed (the file, onProgress, a check), the body is let go:
    // left unread, it held its connection busy for good (a pool of one
    // connection then hung every later request).
    if (response.body !== null && !response.bodyUsed) await response.body.cancel(error).catch(() => {});
    throw error;
  }
}

/** The rest of {@link download} once `response` arrived; throws with its body possibly unread. */
async function save(response: Response, path: string, options: DownloadOptions, have: number, callerRange: boolean): Promise<DownloadResult> {
  if (have > 0 && response.status === 416 && unsatisfiedLength(response.headers.get("content-range")) === have) {
    await response.body?.cancel();
    options.onProgress?.({ received: have, total: have });
    return { status: 416, bytes: have, resumedFrom: have, resumed: true };
  }
  await expectOk(response);
  let start = 0;
  let total: number | null = null;
  const length = response.headers.get("content-length");
  // The bytes a 206 must carry (its range's length); null for a 200.
  let rangeBytes: number | null = null;
  if (response.status === 206) {
    const given = response.headers.get("content-range");
    const range = contentRange(given);
    const problem = have === 0 && !callerRange
      ? "a 206 to a request without Range"
      : range === null || (!callerRange && range.start !== have)
      ? `asked for bytes from ${have}, got Content-Range ${JSON.stringify(given)}`
      : length !== null && length !== String(range.end - range.start + 1)
      ? `Content-Range ${JSON.stringify(given)} with Content-Length ${length}`
      : otherVersion(options.ifRange, response.headers)
      ? `a 206 for another version than If-Range ${options.ifRange} (ETag ${response.headers.get("etag")}, Last-Modified ${response.headers.get("last-modified")})`
      : null;
    if (problem !== null || range === null) {
      await response.body?.cancel();
      throw new HTTPError("ERR_HTTP_RANGE", problem ?? "no Content-Range");
    }
    start = have;
    total = range.total;
    rangeBytes = range.end - range.start + 1;
  } else if (length !== null && /^\d{1,15}$/.test(length)) {
    total = Number(length);
  }
  const max = options.maxBytes ?? Infinity;
  // The file's size once this response is written, when announced: above the limit, nothing is started.
  const announced = rangeBytes !== null ? start + rangeBytes : total;
  if (announced !== null && announced > max) {
    await response.body?.cancel();
    throw tooLarge(response.url, announced, max);
  }
  const fd = openFileWrite(path, start > 0 ? "append" : "truncate");
  let received = start;
  const reader = response.body?.getReader();
  try {
    if (reader !== undefined) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (rangeBytes !== null && received - start + value.length > rangeBytes) {
          throw new HTTPError("ERR_HTTP_RANGE", `the 206 carries more than its Content-Range's ${rangeBytes} bytes`);
        }
        if (received + value.length > max) throw tooLarge(response.url, received + value.length, max);
        writeFileAll(fd, value);
        received += value.length;
        options.onProgress?.({ received, total });
        if (options.signal?.aborted === true) throw options.signal.reason;
      }
    }
  } catch (error) {
    // A failed write or onProgress as much as a check: the body is let go (see download).
    await reader?.cancel(error).catch(() => {});
    throw error;
  } finally {
    closeFile(fd);
  }
  if (response.body === null) options.onProgress?.({ received, total });
  if (rangeBytes !== null && received - start !== rangeBytes) {
    throw new HTTPError("ERR_HTTP_RANGE", `the 206 carried ${received - start} of its Content-Range's ${rangeBytes} bytes`);
  }
  return { status: response.status, bytes: received, resumedFrom: start, resumed: start > 0 };
}

function tooLarge(url: string | URL, size: number, max: number): HTTPError {
  return new HTTPError("ERR_HTTP_BODY_TOO_LARGE", `download: ${String(url)} is larger than maxBytes (${size} > ${max} bytes)`);
}
