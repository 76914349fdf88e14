/**
 * `request(url, options)`: the fast path, as undici's `request`. Resolves
 * with `{ statusCode, headers, trailers, body }` once the response head is
 * in — plain objects, no WHATWG `Response` or `Headers` — and streams the
 * body through a {@link ResponseBody} (`text()`, `json()`, `arrayBuffer()`,
 * async iteration). No redirects are followed and nothing is decompressed.
 * Read or `dump()` every body: an unread body holds its connection.
 *
 * @example
 * ```ts ignore
 * import { request } from "./request.ts";
 * const { statusCode, headers, body } = await request("http://127.0.0.1:8080/items", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ name: "x" }),
 * });
 * console.log(statusCode, headers["content-type"], await body.json());
 * ```
 *
 * @module
 */
import { checkOptions } from "../../core/options.ts";
import type { MessageHead } from "../h1/fields.ts";
import { normalizeMethod } from "../core/methods.ts";
import { getGlobalDispatcher } from "./agent.ts";
import type { Dispatcher, DispatchHandler, ResponseControl } from "./dispatcher.ts";
import { type RequestBody, type RequestBodyInit, toRequestBody, toRequestBodySync } from "./request_body.ts";
import { type BodySource, ResponseBody } from "./response_body.ts";
import { DataCopies } from "../h2/data_copies.ts";
import { type CachedFields, HeadCache } from "./head_cache.ts";
import { type Deadline, deadlineSignal } from "./timeouts.ts";

/** Body pieces of HTTP/1.1 responses, copied out of the connection's read buffer into shared slabs (one small view each, not one ArrayBuffer each). */
const bodyCopies = new DataCopies();

/** Response head strings per origin, reused while a server keeps sending the same head. */
const headCache = new HeadCache();

/** What a request needs of its URL. */
interface Target {
  readonly protocol: string;
  readonly origin: string;
  /** Path and query. */
  readonly path: string;
}

/** URL strings parsed lately (a client asks for the same URLs again and again; parsing one was 1-2% of a request's CPU). */
const targets = new Map<string, Target>();
/** URL strings kept at once (the map starts over beyond), and the longest one kept. */
const MAX_TARGETS = 128;
const MAX_TARGET_LENGTH = 1024;

/** The protocol, origin and path of `url`, parsed once per string; strings with userinfo (`@`) are not kept. */
function targetOf(url: string | URL): Target {
  if (typeof url !== "string") return { protocol: url.protocol, origin: url.origin, path: url.pathname + url.search };
  let t = targets.get(url);
  if (t !== undefined) return t;
  const u = new URL(url);
  t = { protocol: u.protocol, origin: u.origin, path: u.pathname + u.search };
  if (url.length <= MAX_TARGET_LENGTH && !url.includes("@")) {
    if (targets.size >= MAX_TARGETS) targets.clear();
    targets.set(url, t);
  }
  return t;
}

/**
 * Header fields of a request: a record (arrays for repeated fields),
 * `[name, value]` pairs, or a `Headers`.
 *
 * @example
 * ```ts
 * import type { RequestHeaders } from "./request.ts";
 * const a: RequestHeaders = { accept: "application/json", "x-tag": ["a", "b"] };
 * const b: RequestHeaders = [["accept", "text/plain"]];
 * ```
 */
export type RequestHeaders =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | Iterable<readonly [string, string]>
  | Headers;

/**
 * Options of {@link request}; an unknown key is a `TypeError`.
 *
 * @example
 * ```ts
 * import type { RequestOptions } from "./request.ts";
 * const options: RequestOptions = { method: "PUT", body: "x", headersTimeoutMs: 5_000 };
 * ```
 */
export interface RequestOptions {
  /** The method (default GET). */
  method?: string;
  /** Header fields. */
  headers?: RequestHeaders | null;
  /** The body. */
  body?: RequestBodyInit;
  /** Aborts the request in any phase (the promise or the body rejects with its reason). */
  signal?: AbortSignal;
  /** Where to send it (default: the global Agent). */
  dispatcher?: Dispatcher;
  /** Treat as idempotent (pipelining, one retry), default by method. */
  idempotent?: boolean;
  /** `Expect: 100-continue`: true, false, or the body size from which (default: the pool's). */
  expectContinue?: boolean | number;
  /** Most time to the response head (default: the pool's). */
  headersTimeoutMs?: number;
  /** Most time between two pieces of the response body (default: the pool's). */
  bodyTimeoutMs?: number;
  /** Most time for everything, the body's end included (`HTTPError` `ERR_HTTP_TOTAL_TIMEOUT`; default: none). */
  totalTimeoutMs?: number;
}

const REQUEST_KEYS: ReadonlySet<string> = new Set(Object.keys({
  method: 1,
  headers: 1,
  body: 1,
  signal: 1,
  dispatcher: 1,
  idempotent: 1,
  expectContinue: 1,
  headersTimeoutMs: 1,
  bodyTimeoutMs: 1,
  totalTimeoutMs: 1,
} satisfies Record<keyof RequestOptions, 1>));

/**
 * What {@link request} resolves with. `headers` has lower-case names; a
 * repeated field is an array (`set-cookie` always is one). `trailers` is
 * filled when the body ends.
 *
 * @example
 * ```ts
 * import type { ResponseData } from "./request.ts";
 * function describe(r: ResponseData) { return `${r.statusCode} ${r.headers["content-type"] ?? ""}`; }
 * ```
 */
export interface ResponseData {
  /** The response status, e.g. 200. */
  statusCode: number;
  /** The reason phrase the server sent with the status. */
  statusText: string;
  /** Header fields by lower-case name; a repeated field is an array. */
  headers: Record<string, string | string[]>;
  /** Trailer fields by lower-case name, filled in once the body has ended. */
  trailers: Record<string, string>;
  /** The body, read as a stream or at once (text, json, arrayBuffer). */
  body: ResponseBody;
}

/**
 * Header fields of a response head as a record: lower-case names, arrays
 * for repeated fields and `set-cookie`.
 *
 * @example
 * ```ts
 * import { HTTP1Parser } from "../h1/parser.ts";
 * import { headersRecord } from "./request.ts";
 * new HTTP1Parser({ kind: "response" }, { onHead: (h) => console.log(headersRecord(h)) })
 *   .push(new TextEncoder().encode("HTTP/1.1 204 No Content\r\nX-A: 1\r\nX-A: 2\r\n\r\n")); // { "x-a": ["1", "2"] }
 * ```
 */
export function headersRecord(head: MessageHead): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < head.count; i++) {
    const name = head.name(i);
    const value = head.value(i);
    const had = out[name];
    if (had === undefined) out[name] = name === "set-cookie" ? [value] : value;
    else if (typeof had === "string") out[name] = [had, value];
    else had.push(value);
  }
  return out;
}

/**
 * Header fields in any accepted shape as `[name, value]` pairs.
 *
 * @example
 * ```ts
 * import { headerPairs } from "./request.ts";
 * console.log(headerPairs({ a: ["1", "2"], b: "3" })); // [["a","1"],["a","2"],["b","3"]]
 * ```
 */
export function headerPairs(headers: RequestHeaders | null | undefined): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  if (headers === null || headers === undefined) return out;
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === "function") {
    for (const pair of headers as Iterable<readonly [string, string]>) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError("header pairs must be [name, value]");
      out.push([String(pair[0]), String(pair[1])]);
    }
    return out;
  }
  for (const name of Object.keys(headers)) {
    const value = (headers as Record<string, string | readonly string[] | undefined>)[name];
    if (value === undefined) continue;
    if (typeof value === "string") out.push([name, value]);
    else if (Array.isArray(value)) for (const v of value) out.push([name, String(v)]);
    else out.push([name, String(value)]);
  }
  return out;
}

/**
 * A body piece copied out of the connection's buffer: the whole body in one
 * piece gets a buffer of its own (`arrayBuffer()` then hands it over without
 * another copy), other pieces a view into a shared slab.
 */
function copyPiece(chunk: Uint8Array, wholeLength: number): Uint8Array {
  return chunk.length === wholeLength ? chunk.slice() : bodyCopies.copy(chunk);
}

function pairsRecord(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!;
    const had = out[name];
    if (had === undefined) out[name] = name === "set-cookie" ? [value] : value;
    else if (typeof had === "string") out[name] = [had, value];
    else had.push(value);
  }
  return out;
}

/** The user's own copy of the head's record: made once per head and copied while it repeats (a record without arrays). */
function headRecord(cached: CachedFields): Record<string, string | string[]> {
  if (cached.hits === 0) return pairsRecord(cached.pairs);
  let record = cached.record;
  if (record === undefined) {
    const made = pairsRecord(cached.pairs);
    for (const name in made) if (typeof made[name] !== "string") return made;
    record = cached.record = made;
  }
  return { ...record };
}

/**
 * The dispatch handler of one {@link request}, and its body's source: one
 * object with methods instead of a handler, a source and seven closures per
 * request.
 */
class RequestHandler implements DispatchHandler, BodySource {
  /** The response, once its head came. */
  data: ResponseData | undefined = undefined;
  /** The Content-Length when the head gave one (a piece of that length is the whole body). */
  wholeLength = -1;
  /** Pauses, resumes or aborts the response (set with the head). */
  control: ResponseControl | undefined = undefined;
  readonly origin: string;
  readonly method: string;
  readonly deadline: Deadline | undefined;
  readonly resolve: (data: ResponseData) => void;
  readonly reject: (error: Error) => void;

  constructor(origin: string, method: string, deadline: Deadline | undefined, resolve: (data: ResponseData) => void, reject: (error: Error) => void) {
    this.origin = origin;
    this.method = method;
    this.deadline = deadline;
    this.resolve = resolve;
    this.reject = reject;
  }

  onHeaders(statusCode: number, head: MessageHead, control: ResponseControl): void {
    this.control = control;
    const body = new ResponseBody(this);
    const data: ResponseData = { statusCode, statusText: head.reason, headers: headRecord(headCache.fields(this.origin, head)), trailers: {}, body };
    this.data = data;
    this.wholeLength = head.framing === "length" ? head.contentLength : -1;
    if (this.method === "HEAD" || head.framing === "none") body.end();
    this.resolve(data);
  }

  onData(chunk: Uint8Array, owned?: boolean): boolean {
    return this.data!.body.push(owned === true ? chunk : copyPiece(chunk, this.wholeLength));
  }

  onComplete(trailers: Array<[string, string]> | null): void {
    this.deadline?.clear();
    const data = this.data!;
    if (trailers !== null) for (const [n, v] of trailers) data.trailers[n.toLowerCase()] = v;
    data.body.end();
  }

  onError(error: Error): void {
    this.deadline?.clear();
    if (this.data === undefined) this.reject(error);
    else this.data.body.fail(error);
  }

  pause(): void {
    this.control!.pause();
  }

  resume(): void {
    this.control!.resume();
  }

  cancel(reason: Error): void {
    this.control!.abort(reason);
  }
}

/**
 * Sends one request and resolves with the response head and a streaming
 * body. See the module documentation.
 *
 * @throws TypeError for bad options (rejects); the typed error of the
 * failed step (connect, timeout, parse) or the signal's reason otherwise.
 * @example
 * ```ts ignore
 * import { request } from "./request.ts";
 * const { statusCode, body } = await request("http://127.0.0.1:8080/");
 * for await (const chunk of body) console.log(chunk.length);
 * console.log(statusCode);
 * ```
 */
export function request(url: string | URL, options: RequestOptions = {}): Promise<ResponseData> {
  let u: Target;
  let prepared: RequestBody | null | undefined;
  try {
    checkOptions(options, REQUEST_KEYS, "request");
    u = targetOf(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new TypeError(`only http: and https: URLs are supported, got ${u.protocol}`);
    const total = options.totalTimeoutMs;
    if (total !== undefined && (typeof total !== "number" || !Number.isFinite(total) || total < 0)) throw new RangeError(`totalTimeoutMs must be a finite number >= 0, got ${String(total)}`);
    prepared = toRequestBodySync(options.body);
  } catch (err) {
    return Promise.reject(err);
  }
  if (prepared === undefined) {
    return toRequestBody(options.body).then((body) => send(u, options, body));
  }
  return send(u, options, prepared);
}

function send(u: Target, options: RequestOptions, body: RequestBody | null): Promise<ResponseData> {
  const headers = headerPairs(options.headers);
  if (body !== null && body.contentType !== null && !headers.some((h) => h[0].toLowerCase() === "content-type")) {
    headers.push(["content-type", body.contentType]);
  }
  const method = options.method === undefined ? "GET" : normalizeMethod(options.method);
  const dispatcher = options.dispatcher ?? getGlobalDispatcher();
  const deadline = options.totalTimeoutMs === undefined ? undefined : deadlineSignal(options.totalTimeoutMs, options.signal);
  const origin = u.origin;
  return new Promise<ResponseData>((resolve, reject) => {
    dispatcher.dispatch({
      origin,
      method,
      path: u.path,
      headers,
      body,
      signal: deadline === undefined ? options.signal : deadline.signal,
      idempotent: options.idempotent,
      expectContinue: options.expectContinue,
      headersTimeoutMs: options.headersTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs,
    }, new RequestHandler(origin, method, deadline, resolve, reject));
  });
}
