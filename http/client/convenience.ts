/**
 * Conveniences over {@link fetch}: `getJSON` / `postJSON` (a non-2xx answer
 * is an {@link HTTPStatusError}, a body that is not JSON an `HTTPError`
 * `ERR_HTTP_BAD_JSON`) and `upload(url, path)`, which streams a file from
 * disk (read through ffi/, no runtime file API) with a `Content-Length`.
 * `download` is in download.ts.
 *
 * @example
 * ```ts ignore
 * import { getJSON, postJSON } from "./convenience.ts";
 * const items = await getJSON<string[]>("http://127.0.0.1:8080/items");
 * await postJSON("http://127.0.0.1:8080/items", { name: "x" });
 * ```
 *
 * @module
 */
import { HTTPError } from "../../core/errors.ts";
import { checkOptions } from "../../core/options.ts";
import { closeFile, fileStat, openFileRead, readFileAt } from "../../ffi/file.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { fetch, type FetchInit } from "./fetch.ts";

/** Most bytes of an error answer's body kept on an {@link HTTPStatusError}. */
const ERROR_BODY_BYTES = 4096;

/** Default most bytes of a JSON answer read by getJSON and postJSON (decoded): 64 MiB. */
const JSON_BODY_BYTES = 64 * 1024 * 1024;

/**
 * A response whose status is not 2xx, where a success was needed
 * (code `ERR_HTTP_STATUS`). `body` holds the start of the answer's body
 * (at most 4 KiB, as text).
 *
 * @example
 * ```ts
 * import { HTTPStatusError } from "./convenience.ts";
 * const e = new HTTPStatusError("http://127.0.0.1/x", 404, "Not Found", "");
 * console.log(e.code, e.status); // "ERR_HTTP_STATUS" 404
 * ```
 */
export class HTTPStatusError extends HTTPError {
  /** The brand that `instanceof` checks across library copies. */
  static override readonly brand: string = "ffinet.HTTPStatusError";
  /** The URL answered (after redirects). */
  readonly url: string;
  /** The status code. */
  readonly status: number;
  /** The reason phrase. */
  readonly statusText: string;
  /** The start of the body, as text. */
  readonly body: string;

  /** An error for the answer `status` `statusText` from `url`, with the start of its body. */
  constructor(url: string, status: number, statusText: string, body: string) {
    super("ERR_HTTP_STATUS", `${url} answered ${status}${statusText === "" ? "" : ` ${statusText}`}`);
    this.url = url;
    this.status = status;
    this.statusText = statusText;
    this.body = body;
  }
}

/**
 * Options of {@link getJSON}, {@link postJSON} and {@link upload}; an
 * unknown key is a `TypeError`.
 *
 * @example
 * ```ts
 * import type { ConvenienceOptions } from "./convenience.ts";
 * const options: ConvenienceOptions = { headers: { authorization: "Bearer t" }, signal: AbortSignal.timeout(5_000) };
 * ```
 */
export interface ConvenienceOptions {
  /** Extra header fields. */
  headers?: HeadersInit;
  /** Aborts the request in any phase. */
  signal?: AbortSignal;
  /** Where to send it (default: the global Agent). */
  dispatcher?: Dispatcher;
  /** The method (defaults: GET for getJSON, POST for postJSON, PUT for upload). */
  method?: string;
  /** Most time for everything, the body included (`HTTPError` `ERR_HTTP_TOTAL_TIMEOUT`). */
  totalTimeoutMs?: number;
  /**
   * getJSON and postJSON: most bytes of the answer's body (after content
   * decoding) read and held for parsing (default 64 MiB); a longer body is
   * `HTTPError` `ERR_HTTP_BODY_TOO_LARGE`, its rest not read.
   */
  maxBytes?: number;
}

const CONVENIENCE_KEYS: ReadonlySet<string> = new Set(Object.keys({
  headers: 1,
  signal: 1,
  dispatcher: 1,
  method: 1,
  totalTimeoutMs: 1,
  maxBytes: 1,
} satisfies Record<keyof ConvenienceOptions, 1>));

/**
 * Throws an {@link HTTPStatusError} for a response that is not 2xx (after
 * reading the start of its body and cancelling the rest); returns it
 * otherwise.
 *
 * @example
 * ```ts ignore
 * import { expectOk } from "./convenience.ts";
 * import { fetch } from "./fetch.ts";
 * const response = await expectOk(await fetch("http://127.0.0.1:8080/"));
 * console.log(response.status);
 * ```
 */
export async function expectOk(response: Response): Promise<Response> {
  if (response.status >= 200 && response.status < 300) return response;
  let text = "";
  if (response.body !== null) {
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      while (size < ERROR_BODY_BYTES) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        size += value.length;
      }
      await reader.cancel().catch(() => {});
    } catch {
      // The body failing too changes nothing: the status is the error.
    }
    const all = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    text = new TextDecoder().decode(all.subarray(0, ERROR_BODY_BYTES));
  }
  throw new HTTPStatusError(response.url, response.status, response.statusText, text);
}

function init(options: ConvenienceOptions, method: string, extra: Partial<FetchInit>): FetchInit {
  const out: FetchInit = { method: options.method ?? method, ...extra };
  if (options.signal !== undefined) out.signal = options.signal;
  if (options.dispatcher !== undefined) out.dispatcher = options.dispatcher;
  if (options.totalTimeoutMs !== undefined) out.totalTimeoutMs = options.totalTimeoutMs;
  return out;
}

function headers(options: ConvenienceOptions, defaults: Record<string, string>): Headers {
  const h = new Headers(options.headers);
  for (const [name, value] of Object.entries(defaults)) if (!h.has(name)) h.set(name, value);
  return h;
}

function maxBytesOf(options: ConvenienceOptions, where: string): number {
  const max = options.maxBytes ?? JSON_BODY_BYTES;
  if (typeof max !== "number" || !(max >= 0)) throw new RangeError(`${where}: maxBytes must be a number >= 0, got ${String(max)}`);
  return max;
}

/**
 * The body as text, read up to `max` bytes: a server sending without end
 * (or a huge body) ends in ERR_HTTP_BODY_TOO_LARGE, not in memory
 * exhaustion, as `response.text()` would.
 */
async function boundedText(response: Response, max: number): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      void reader.cancel().catch(() => {});
      throw new HTTPError("ERR_HTTP_BODY_TOO_LARGE", `${response.url} answered a body above ${max} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return new TextDecoder().decode(chunks[0]);
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

async function parseJSON<T>(response: Response, max: number): Promise<T> {
  const text = await boundedText(response, max);
  if (text === "" && (response.status === 204 || response.status === 205)) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new HTTPError("ERR_HTTP_BAD_JSON", `${response.url} answered a body that is not JSON`, { cause: err });
  }
}

/**
 * GETs `url` with `Accept: application/json` and parses the answer.
 *
 * @throws (rejects) HTTPStatusError for a non-2xx status; HTTPError
 *   `ERR_HTTP_BAD_JSON` for a body that is not JSON,
 *   `ERR_HTTP_BODY_TOO_LARGE` for one above `maxBytes`; the fetch's errors.
 * @example
 * ```ts ignore
 * import { getJSON } from "./convenience.ts";
 * const user = await getJSON<{ name: string }>("http://127.0.0.1:8080/user/1");
 * console.log(user.name);
 * ```
 */
export async function getJSON<T = unknown>(url: string | URL, options: ConvenienceOptions = {}): Promise<T> {
  checkOptions(options, CONVENIENCE_KEYS, "getJSON");
  const max = maxBytesOf(options, "getJSON");
  const response = await fetch(url, init(options, "GET", { headers: headers(options, { accept: "application/json" }) }));
  return parseJSON<T>(await expectOk(response), max);
}

/**
 * POSTs `value` as JSON (`Content-Type: application/json`) and parses the
 * answer (undefined for 204/205).
 *
 * @throws (rejects) TypeError when `value` cannot be serialised;
 *   HTTPStatusError for a non-2xx status; HTTPError `ERR_HTTP_BAD_JSON`.
 * @example
 * ```ts ignore
 * import { postJSON } from "./convenience.ts";
 * const created = await postJSON<{ id: number }>("http://127.0.0.1:8080/items", { name: "x" });
 * console.log(created.id);
 * ```
 */
export async function postJSON<T = unknown>(url: string | URL, value: unknown, options: ConvenienceOptions = {}): Promise<T> {
  checkOptions(options, CONVENIENCE_KEYS, "postJSON");
  const max = maxBytesOf(options, "postJSON");
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError("postJSON: the value has no JSON form");
  const h = headers(options, { accept: "application/json", "content-type": "application/json" });
  const response = await fetch(url, init(options, "POST", { headers: h, body: text }));
  return parseJSON<T>(await expectOk(response), max);
}

/** Bytes read from disk per piece of an upload. */
const UPLOAD_CHUNK = 64 * 1024;

/** An open file read in pieces; `close()` may come before, during or after the reading. */
class FileSource {
  #fd: number | null;
  readonly size: number;
  constructor(fd: number, size: number) {
    this.#fd = fd;
    this.size = size;
  }
  close(): void {
    if (this.#fd === null) return;
    closeFile(this.#fd);
    this.#fd = null;
  }
  async *chunks(): AsyncGenerator<Uint8Array> {
    try {
      let offset = 0;
      while (offset < this.size) {
        if (this.#fd === null) return;
        const buffer = new Uint8Array(Math.min(UPLOAD_CHUNK, this.size - offset));
        const n = readFileAt(this.#fd, buffer, offset);
        if (n === 0) throw new HTTPError("ERR_HTTP_UPLOAD_SHORT", `the file ended after ${offset} of ${this.size} bytes`);
        offset += n;
        yield n === buffer.length ? buffer : buffer.subarray(0, n);
      }
    } finally {
      this.close();
    }
  }
}

/**
 * Streams the file at `path` as the body of a PUT (or `method`) to `url`,
 * with its size as `Content-Length`, and resolves with the (2xx) response.
 *
 * @throws (rejects) HTTPError `ERR_HTTP_UPLOAD_FILE` when the file cannot
 *   be opened or is not a regular file; HTTPStatusError for a non-2xx
 *   answer; the fetch's errors.
 * @example
 * ```ts ignore
 * import { upload } from "./convenience.ts";
 * const response = await upload("http://127.0.0.1:8080/files/a.bin", "/tmp/a.bin");
 * console.log(response.status);
 * ```
 */
export async function upload(url: string | URL, path: string, options: ConvenienceOptions = {}): Promise<Response> {
  checkOptions(options, CONVENIENCE_KEYS, "upload");
  const fd = openFileRead(path);
  if (fd === null) throw new HTTPError("ERR_HTTP_UPLOAD_FILE", `cannot open ${path} for reading`);
  let size: number;
  try {
    const stat = fileStat(fd);
    if (stat.kind !== "file") throw new HTTPError("ERR_HTTP_UPLOAD_FILE", `${path} is not a regular file`);
    size = stat.size;
  } catch (err) {
    closeFile(fd);
    throw err;
  }
  const source = new FileSource(fd, size);
  const h = headers(options, { "content-type": "application/octet-stream", "content-length": String(size) });
  let response: Response;
  try {
    response = await fetch(url, init(options, "PUT", { headers: h, body: source.chunks(), duplex: "half" }));
  } finally {
    // Answered (or failed) before the body was all read: the file closes now.
    source.close();
  }
  return expectOk(response);
}
