/**
 * `fetch(input, init)` over our HTTP/1.1 client: takes and returns the
 * runtime's own `Request`, `Response` and `Headers`, so code written for
 * the runtime's fetch runs unchanged, and goes through a {@link Dispatcher}
 * (`init.dispatcher`, default the global Agent) for pooling and keep-alive.
 *
 * - Bodies: string, bytes, Blob, FormData, URLSearchParams, ReadableStream
 *   (with `duplex: "half"`, sent chunked), async iterables.
 * - The response body streams; gzip, deflate and br are decoded (bounded by
 *   `COMPRESSION_LIMITS`, or `init.decompress` limits; `decompress: false`
 *   hands the coded bytes over).
 * - `signal` is honoured while connecting, writing, waiting for the head and
 *   reading the body (the promise, or the body, rejects with its reason).
 * - `redirect`: "follow" (at most 20, `maxRedirections`; see redirect.ts
 *   for methods, bodies, dropped credentials and refused downgrades),
 *   "manual" (the 3xx response itself, with its real status and
 *   Location), "error".
 * - Cookies and authentication plug in through `cookieJar` and `auth`
 *   (hooks.ts).
 *
 * Network failures reject with `TypeError("fetch failed")` whose `cause`
 * is the typed error (as undici's fetch); a body that fails while it is
 * read (`text()`, `arrayBuffer()`, a reader) errors with
 * `TypeError("terminated")` whose `cause` is the typed error; an abort
 * rejects (or errors the body) with the signal's reason.
 *
 * @example
 * ```ts ignore
 * import { fetch } from "./fetch.ts";
 * const response = await fetch("http://127.0.0.1:8080/items", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ name: "x" }),
 * });
 * console.log(response.status, await response.json());
 * ```
 *
 * @module
 */
import { HTTPError, UnsupportedError } from "../../core/errors.ts";
import { ContentDecoder, type ContentDecoderOptions, isCodingSupported } from "../content_coding.ts";
import { getGlobalDispatcher } from "./agent.ts";
import type { Dispatcher, DispatchHandler, ResponseControl } from "./dispatcher.ts";
import type { MessageHead } from "../h1/fields.ts";
import { authFromURL } from "./auth.ts";
import type { AuthProvider, AuthRequest, CookieStore } from "./hooks.ts";
import { abortReason } from "./pending.ts";
import { BODY_FIELDS, CREDENTIAL_FIELDS, nextRedirect, REDIRECT_STATUSES } from "./redirect.ts";
import { normalizeMethod } from "../core/methods.ts";
import { type RequestBody, type RequestBodyInit, toRequestBody, toRequestBodySync } from "./request_body.ts";
import { type BodySource, ResponseBody } from "./response_body.ts";
import { DataCopies } from "../h2/data_copies.ts";
import { type CachedFields, HeadCache } from "./head_cache.ts";
import { BUFFERED_RESPONSES_PAY, bufferedResponse } from "./buffered_response.ts";
import { deadlineSignal } from "./timeouts.ts";

/** Body pieces of HTTP/1.1 responses, copied out of the connection's read buffer into shared slabs (one small view each, not one ArrayBuffer each). */
const bodyCopies = new DataCopies();

/** Response head strings per origin, reused while a server keeps sending the same head. */
const headCache = new HeadCache();

/**
 * The `init` of {@link fetch}: the standard `RequestInit` fields that
 * matter to a client outside a browser, and ours. Other standard fields
 * (`cache`, `credentials`, `mode`, `referrer`, …) are accepted and ignored.
 *
 * @example
 * ```ts
 * import type { FetchInit } from "./fetch.ts";
 * const init: FetchInit = { method: "POST", body: "x", redirect: "manual", maxRedirections: 5 };
 * ```
 */
export interface FetchInit {
  /** The request method (default GET). */
  method?: string;
  /** Request header fields. */
  headers?: HeadersInit;
  /** The request body (none for GET and HEAD). */
  body?: RequestBodyInit;
  /** Aborts the request, and the response body's reading. */
  signal?: AbortSignal | null;
  /** Follow redirects (default), hand them back ("manual") or fail on one ("error"). */
  redirect?: "follow" | "manual" | "error";
  /** Needed (as the standard says) for a ReadableStream body. */
  duplex?: "half";
  /** Where to send requests (default: the global Agent). */
  dispatcher?: Dispatcher;
  /** Most redirects followed (default 20). */
  maxRedirections?: number;
  /** Most time for everything, redirects and the body's end included (`HTTPError` `ERR_HTTP_TOTAL_TIMEOUT`; default: none). */
  totalTimeoutMs?: number;
  /** Follow a redirect from https to http (default false: it is refused). */
  allowInsecureRedirect?: boolean;
  /** Decode gzip/deflate/br (default true), or the decoder's limits. */
  decompress?: boolean | ContentDecoderOptions;
  /** Sends and keeps cookies. */
  cookieJar?: CookieStore;
  /** Sends credentials and answers 401 challenges. */
  auth?: AuthProvider;
  /** Accepted for `RequestInit` compatibility; ignored. */
  cache?: string;
  /** Accepted for `RequestInit` compatibility; ignored. */
  credentials?: string;
  /** Accepted for `RequestInit` compatibility; ignored. */
  integrity?: string;
  /** Accepted for `RequestInit` compatibility; ignored. */
  keepalive?: boolean;
  /** Accepted for `RequestInit` compatibility; ignored. */
  mode?: string;
  /** Accepted for `RequestInit` compatibility; ignored. */
  priority?: string;
  /** Accepted for `RequestInit` compatibility; ignored. */
  referrer?: string;
  /** Accepted for `RequestInit` compatibility; ignored. */
  referrerPolicy?: string;
  /** Accepted for `RequestInit` compatibility; ignored. */
  window?: null;
}

const FORBIDDEN_METHODS: ReadonlySet<string> = new Set(["CONNECT", "TRACE", "TRACK"]);
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

let acceptEncoding: string | undefined;
function defaultAcceptEncoding(): string {
  if (acceptEncoding === undefined) {
    let br = false;
    try {
      br = isCodingSupported("br");
    } catch {
      br = false;
    }
    acceptEncoding = br ? "gzip, deflate, br" : "gzip, deflate";
  }
  return acceptEncoding;
}

/** One response head and its body, as a hop gets it. */
interface Hop {
  status: number;
  statusText: string;
  /** Shared with later responses of the same head: never changed. */
  fields: ReadonlyArray<readonly [string, string]>;
  /** Where `fields` came from, and the runtime Headers made of them once they were reused. */
  cached: CachedFields;
  body: ResponseBody;
  /** The body was empty by framing (or HEAD). */
  empty: boolean;
}

/**
 * The dispatch handler of one hop, and its body's source: one object with
 * methods instead of a source and five closures per hop.
 */
class HopHandler implements DispatchHandler, BodySource {
  hop: Hop | undefined = undefined;
  /** The Content-Length when the head gave one (a piece of that length is the whole body). */
  wholeLength = -1;
  control: ResponseControl | undefined = undefined;
  readonly origin: string;
  readonly method: string;
  readonly resolve: (hop: Hop) => void;
  readonly reject: (error: Error) => void;

  constructor(origin: string, method: string, resolve: (hop: Hop) => void, reject: (error: Error) => void) {
    this.origin = origin;
    this.method = method;
    this.resolve = resolve;
    this.reject = reject;
  }

  onHeaders(status: number, head: MessageHead, control: ResponseControl): void {
    this.control = control;
    const responseBody = new ResponseBody(this);
    const cached = headCache.fields(this.origin, head);
    const empty = this.method === "HEAD" || head.framing === "none";
    if (empty) responseBody.end();
    const hop: Hop = { status, statusText: head.reason, fields: cached.pairs, cached, body: responseBody, empty };
    this.hop = hop;
    this.wholeLength = head.framing === "length" ? head.contentLength : -1;
    this.resolve(hop);
  }

  onData(chunk: Uint8Array, owned?: boolean): boolean {
    // The whole body in one piece gets a buffer of its own (the Response's bytes, no second copy); other pieces a slab view.
    return this.hop!.body.push(owned === true ? chunk : chunk.length === this.wholeLength ? chunk.slice() : bodyCopies.copy(chunk));
  }

  onComplete(): void {
    this.hop!.body.end();
  }

  onError(error: Error): void {
    if (this.hop === undefined) this.reject(error);
    else this.hop.body.fail(error);
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

function dispatchHop(
  dispatcher: Dispatcher,
  origin: string,
  path: string,
  method: string,
  headers: ReadonlyArray<readonly [string, string]>,
  body: RequestBody | null,
  signal: AbortSignal | undefined,
): Promise<Hop> {
  return new Promise<Hop>((resolve, reject) => {
    dispatcher.dispatch({ origin, method, path, headers, body, signal }, new HopHandler(origin, method, resolve, reject));
  });
}

function fieldValue(fields: ReadonlyArray<readonly [string, string]>, name: string): string | null {
  let out: string | null = null;
  for (const [n, v] of fields) if (n === name) out = out === null ? v : `${out}, ${v}`;
  return out;
}

function fieldValues(fields: ReadonlyArray<readonly [string, string]>, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of fields) if (n === name) out.push(v);
  return out;
}

/**
 * The one Location of a redirect, or null without one. Location holds a
 * single URI (RFC 9110 §10.2.2): differing Location fields (a response
 * split or two layers that disagree, where joining them with a comma made
 * a URL neither meant) are `ERR_HTTP_REDIRECT_LOCATION`, as the Fetch
 * standard's "extract header list values" fails for them; identical
 * repeats count as one, as browsers take them.
 */
function redirectLocation(fields: ReadonlyArray<readonly [string, string]>): string | null {
  let out: string | null = null;
  for (const [n, v] of fields) {
    if (n !== "location") continue;
    if (out !== null && v !== out) throw new HTTPError("ERR_HTTP_REDIRECT_LOCATION", `differing Location fields: ${JSON.stringify(out.slice(0, 100))} and ${JSON.stringify(v.slice(0, 100))}`);
    out = v;
  }
  return out;
}

/** Drops a body we will not hand over: read it when small (the connection is kept), else close. */
async function discard(hop: Hop): Promise<void> {
  if (hop.empty) return;
  const length = Number(fieldValue(hop.fields, "content-length") ?? "NaN");
  if (length <= 64 * 1024) {
    try {
      await hop.body.dump();
    } catch {
      // the connection failed; the next hop opens another
    }
  } else hop.body.cancel();
}

function decodedStream(body: ResponseBody, coding: string, options: ContentDecoderOptions, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  let decoder: ContentDecoder | undefined;
  return new ReadableStream<Uint8Array>({
    start() {
      decoder = new ContentDecoder(coding, options);
    },
    async pull(controller) {
      try {
        for (;;) {
          const chunk = await body.read();
          const out = chunk === null ? decoder!.end() : decoder!.push(chunk);
          for (const piece of out) controller.enqueue(piece);
          if (chunk === null) {
            decoder!.close();
            controller.close();
            return;
          }
          if (out.length > 0) return;
        }
      } catch (err) {
        decoder!.close();
        body.cancel(err);
        throw bodyError(err, signal);
      }
    },
    cancel(reason) {
      decoder?.close();
      body.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

function plainStream(body: ResponseBody, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: Uint8Array | null;
      try {
        chunk = await body.read();
      } catch (err) {
        throw bodyError(err, signal);
      }
      if (chunk === null) controller.close();
      else controller.enqueue(chunk);
    },
    cancel(reason) {
      body.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

function makeResponse(
  hop: Hop,
  href: string,
  redirected: boolean,
  method: string,
  decompress: boolean | ContentDecoderOptions,
  signal: AbortSignal | undefined,
): Response {
  let body: BodyInit | null = null;
  let whole: Uint8Array<ArrayBuffer> | null = null;
  if (NULL_BODY_STATUSES.has(hop.status) || method === "HEAD") {
    if (!hop.body.complete) hop.body.cancel();
  } else {
    const coding = decompress === false ? null : fieldValue(hop.fields, "content-encoding");
    const limits: ContentDecoderOptions = typeof decompress === "object" ? decompress : {};
    let decodable = false;
    if (coding !== null && !hop.empty) {
      try {
        // Unknown codings are handed over coded, as other fetches do.
        new ContentDecoder(coding, limits).close();
        decodable = true;
      } catch (err) {
        if (!(err instanceof UnsupportedError)) throw err;
      }
    }
    if (decodable) body = decodedStream(hop.body, coding!, limits, signal);
    else {
      whole = hop.body.takeAll();
      body = whole ?? plainStream(hop.body, signal);
    }
  }
  if (hop.status < 200 || hop.status > 599) {
    throw new HTTPError("ERR_HTTP_INVALID_STATUS", `a fetch Response cannot carry status ${hop.status}`);
  }
  // The first time, the field pairs go in as they are (a Headers made first would be copied once more); a head seen
  // again gets the Headers made of it then, which the runtime copies faster than it takes pairs (Bun: ~0.7 against 1.5 µs).
  const cached = hop.cached;
  const headers = cached.hits === 0 ? hop.fields as Array<[string, string]> : cached.headers ??= new Headers(hop.fields as Array<[string, string]>);
  const init = { status: hop.status, statusText: hop.statusText, headers };
  // Node's Response streams every body it is given: one whose bytes are all in keeps them instead (buffered_response.ts).
  const response = whole !== null && BUFFERED_RESPONSES_PAY ? bufferedResponse(whole, init) : new Response(body, init);
  // The Fetch standard's url getter serializes with "exclude fragment" (a serialized URL's first '#' starts it).
  const hash = href.indexOf("#");
  Object.defineProperty(response, "url", { value: hash < 0 ? href : href.slice(0, hash), configurable: true, enumerable: true });
  if (redirected) Object.defineProperty(response, "redirected", { value: true, configurable: true, enumerable: true });
  return response;
}

function networkError(cause: unknown): TypeError {
  return new TypeError("fetch failed", { cause });
}

/**
 * What a response body that failed while it was read errors with: as the
 * standard's fetch (undici: `TypeError("terminated")`), a TypeError whose
 * `cause` is the typed error (a TLSError, a reset, a bad chunk or coding,
 * with its `code`); an abort of the request's signal as the signal's
 * reason (or the AbortError made for it).
 */
function bodyError(err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted && (err === signal.reason || (err instanceof Error && err.name === "AbortError"))) return err;
  return new TypeError("terminated", { cause: err });
}

/**
 * Fetches a resource. See the module documentation.
 *
 * @example
 * ```ts ignore
 * import { fetch } from "./fetch.ts";
 * const controller = new AbortController();
 * const response = await fetch("http://127.0.0.1:8080/stream", { signal: controller.signal });
 * for await (const chunk of response.body!) console.log(chunk.length);
 * ```
 */
export function fetch(input: string | URL | Request, init: FetchInit = {}): Promise<Response> {
  const plan = simplePlan(input, init);
  return plan === undefined ? fetchInFull(input, init, undefined) : fetchSimply(plan, input as string | URL, init);
}

/** URL strings parsed lately for the simple path (a client fetches the same URLs again and again), as request()'s. */
const targets = new Map<string, FetchTarget>();
const MAX_TARGETS = 128;
const MAX_TARGET_LENGTH = 1024;

/** What the simple path needs of a URL. */
interface FetchTarget {
  readonly href: string;
  readonly protocol: string;
  readonly origin: string;
  /** Path and query. */
  readonly path: string;
}

/** The URL's parts, or undefined when it carries credentials (the full path takes them out) or does not parse. */
function targetOf(input: string | URL): FetchTarget | undefined {
  if (typeof input !== "string") {
    if (input.username !== "" || input.password !== "") return undefined;
    return { href: input.href, protocol: input.protocol, origin: input.origin, path: input.pathname + input.search };
  }
  const known = targets.get(input);
  if (known !== undefined) return known;
  if (input.includes("@")) return undefined;
  const u = new URL(input);
  if (u.username !== "" || u.password !== "") return undefined;
  const t: FetchTarget = { href: u.href, protocol: u.protocol, origin: u.origin, path: u.pathname + u.search };
  if (input.length <= MAX_TARGET_LENGTH) {
    if (targets.size >= MAX_TARGETS) targets.clear();
    targets.set(input, t);
  }
  return t;
}

/** The request fields of a fetch without headers of its own: the same array each time (dispatchers never change it). */
const PLAIN_PAIRS: { decoded?: ReadonlyArray<readonly [string, string]>; coded?: ReadonlyArray<readonly [string, string]> } = {};

/** A fetch the simple path sends: everything the full path would work out before its first hop, when that has no side effects. */
interface SimplePlan {
  target: FetchTarget;
  method: string;
  pairs: ReadonlyArray<readonly [string, string]>;
  signal: AbortSignal | undefined;
  redirect: "follow" | "manual" | "error";
  decompress: boolean | ContentDecoderOptions;
  dispatcher: Dispatcher;
}

/**
 * The plan of a fetch with no body, cookie jar, auth, total timeout or
 * credentials in the URL, whose headers (if any) name each field once; undefined for
 * anything else (and for anything the full path rejects), which the full path then does. Never throws.
 */
function simplePlan(input: string | URL | Request, init: FetchInit): SimplePlan | undefined {
  if (typeof input !== "string" && !(input instanceof URL)) return undefined;
  if ((init.body !== undefined && init.body !== null) || init.cookieJar !== undefined || init.auth !== undefined || init.totalTimeoutMs !== undefined) return undefined;
  const redirect = init.redirect ?? "follow";
  if (redirect !== "follow" && redirect !== "manual" && redirect !== "error") return undefined;
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return undefined;
  // Misused options go the full way, which refuses them (checkHooks).
  if ((signal !== undefined && !(signal instanceof AbortSignal)) || (init.dispatcher != null && typeof init.dispatcher.dispatch !== "function")) return undefined;
  if (init.maxRedirections !== undefined && !(Number.isInteger(init.maxRedirections) && init.maxRedirections >= 0)) return undefined;
  try {
    const target = targetOf(input);
    if (target === undefined || (target.protocol !== "http:" && target.protocol !== "https:")) return undefined;
    const method = init.method === undefined ? "GET" : normalizeMethod(init.method);
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) return undefined;
    const decompress = init.decompress ?? true;
    let pairs: ReadonlyArray<readonly [string, string]>;
    if (init.headers === undefined) {
      pairs = decompress === false
        ? PLAIN_PAIRS.coded ??= Object.freeze([Object.freeze(["accept", "*/*"] as const)])
        : PLAIN_PAIRS.decoded ??= Object.freeze([Object.freeze(["accept", "*/*"] as const), Object.freeze(["accept-encoding", defaultAcceptEncoding()] as const)]);
    } else {
      // As the full path: the fields in the Headers' order, then accept and accept-encoding when not given, the cookie last.
      const out: Array<readonly [string, string]> = [];
      let cookie: string | undefined;
      let accept = false;
      let acceptEncoding = false;
      let last = "";
      for (const [name, value] of new Headers(init.headers)) {
        // A name twice (set-cookie): the full path keeps the last value.
        if (name === last) return undefined;
        last = name;
        if (name === "accept") accept = true;
        else if (name === "accept-encoding") acceptEncoding = true;
        if (name === "cookie") cookie = value;
        else out.push([name, value]);
      }
      if (!accept) out.push(["accept", "*/*"]);
      if (decompress !== false && !acceptEncoding) out.push(["accept-encoding", defaultAcceptEncoding()]);
      if (cookie !== undefined) out.push(["cookie", cookie]);
      pairs = out;
    }
    return { target, method, pairs, signal, redirect, decompress, dispatcher: init.dispatcher ?? getGlobalDispatcher() };
  } catch {
    return undefined;
  }
}

/** One hop, then the Response; a redirect to follow (or refuse) goes on in the full path with this hop as its first. */
function fetchSimply(plan: SimplePlan, input: string | URL, init: FetchInit): Promise<Response> {
  const { target, method, signal, redirect, decompress } = plan;
  return dispatchHop(plan.dispatcher, target.origin, target.path, method, plan.pairs, null, signal).then((hop) => {
    if (redirect !== "manual" && REDIRECT_STATUSES.has(hop.status) && fieldValue(hop.fields, "location") !== null) {
      return fetchInFull(input, init, hop);
    }
    try {
      return makeResponse(hop, target.href, false, method, decompress, signal);
    } catch (err) {
      throw fetchError(err, signal);
    }
  }, (err) => {
    throw fetchError(err, signal);
  });
}

/** Everything fetch does; `firstHop` is a hop the simple path already made for the same input and init. */
async function fetchInFull(input: string | URL | Request, init: FetchInit, firstHop: Hop | undefined): Promise<Response> {
  let url: URL;
  let method = "GET";
  let headers: Headers | undefined;
  let bodyInit: RequestBodyInit = null;
  let signal: AbortSignal | undefined;
  let redirect: "follow" | "manual" | "error" = "follow";
  if (typeof input === "string") url = new URL(input);
  else if (input instanceof URL) url = new URL(input.href);
  else if (typeof Request !== "undefined" && input instanceof Request) {
    url = new URL(input.url);
    method = input.method;
    headers = new Headers(input.headers);
    bodyInit = input.body as ReadableStream<Uint8Array> | null;
    signal = input.signal;
    redirect = input.redirect as typeof redirect;
  } else throw new TypeError("fetch input must be a string, a URL or a Request");
  checkHooks(init);
  if (init.method !== undefined) method = init.method;
  if (init.headers !== undefined) headers = new Headers(init.headers);
  if (init.body !== undefined) bodyInit = init.body;
  if (init.signal !== undefined) signal = init.signal ?? undefined;
  const deadline = init.totalTimeoutMs === undefined ? undefined : deadlineSignal(init.totalTimeoutMs, signal);
  if (deadline !== undefined) signal = deadline.signal;
  if (init.redirect !== undefined) redirect = init.redirect;
  if (redirect !== "follow" && redirect !== "manual" && redirect !== "error") throw new TypeError(`invalid redirect mode: ${String(redirect)}`);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`fetch supports http: and https: URLs here, got ${url.protocol}`);
  // Credentials in the URL answer that origin's challenges (curl's way), never sent as part of the URL.
  const fromURL = authFromURL(url);
  url = fromURL.url;
  method = normalizeMethod(method);
  if (FORBIDDEN_METHODS.has(method.toUpperCase())) throw new TypeError(`${method} is a forbidden method`);
  if (bodyInit !== null && bodyInit !== undefined && (method === "GET" || method === "HEAD")) {
    throw new TypeError(`a ${method} request cannot have a body`);
  }
  if (
    typeof ReadableStream !== "undefined" && bodyInit instanceof ReadableStream &&
    init.duplex !== "half" && !(typeof Request !== "undefined" && input instanceof Request && init.body === undefined)
  ) {
    throw new TypeError("a ReadableStream body needs duplex: \"half\"");
  }
  if (signal?.aborted) throw abortReason(signal);
  const dispatcher = init.dispatcher ?? getGlobalDispatcher();
  const maxRedirections = init.maxRedirections ?? 20;
  const decompress = init.decompress ?? true;
  const jar = init.cookieJar;
  const auth = init.auth ?? fromURL.auth ?? undefined;

  try {
    let body = toRequestBodySync(bodyInit);
    if (body === undefined) body = await toRequestBody(bodyInit);
    const fields = new Map<string, string>();
    const order: string[] = [];
    const set = (name: string, value: string) => {
      if (!fields.has(name) && !order.includes(name)) order.push(name);
      fields.set(name, value);
    };
    if (headers) for (const [n, v] of headers) set(n, v);
    if (body !== null && body.contentType !== null && !fields.has("content-type")) set("content-type", body.contentType);
    if (!fields.has("accept")) set("accept", "*/*");
    if (decompress !== false && !fields.has("accept-encoding")) set("accept-encoding", defaultAcceptEncoding());
    // Answers per status: a second one only for a Digest nonce gone stale (the provider decides).
    const authAttempts = { 401: 0, 407: 0 };
    const userAuthorization = fields.has("authorization");
    // Server credentials stay with the origin they were given for (as curl without --location-trusted).
    const authOrigin = url.origin;
    if (auth?.authorization && !fields.has("authorization")) {
      const value = await auth.authorization(authRequest(method, url, body));
      if (value !== null) set("authorization", value);
    }
    // Proxy credentials up front (Digest after the proxy's first 407, nc counting on), for each hop to an HTTP proxy in absolute form.
    const upfrontProxy = auth?.proxyAuthorization !== undefined && !fields.has("proxy-authorization") && dispatcher.proxyFor !== undefined;
    let answered407 = false;
    for (let hops = 0;; ) {
      if (upfrontProxy && !answered407) {
        const proxy = dispatcher.proxyFor!(url.origin);
        const value = proxy === null ? null : await auth!.proxyAuthorization!({ ...authRequest(method, url, body), proxy });
        if (value !== null) set("proxy-authorization", value);
        else fields.delete("proxy-authorization");
      }
      answered407 = false;
      const pairs: Array<readonly [string, string]> = [];
      for (const name of order) {
        const value = fields.get(name);
        if (value !== undefined && name !== "cookie") pairs.push([name, value]);
      }
      let cookie = fields.get("cookie");
      if (jar) {
        const stored = await jar.cookieHeader(url);
        if (stored !== null && stored !== "") cookie = cookie === undefined ? stored : `${cookie}; ${stored}`;
      }
      if (cookie !== undefined) pairs.push(["cookie", cookie]);
      // A hop the simple path already made (a redirect it hands over) is the first one here.
      const hop = firstHop ?? await dispatchHop(dispatcher, url.origin, url.pathname + url.search, method, pairs, body, signal);
      firstHop = undefined;
      if (jar) {
        const setCookie = fieldValues(hop.fields, "set-cookie");
        if (setCookie.length > 0) await jar.storeSetCookie(url, setCookie);
      }
      let location: string | null;
      try {
        location = redirect === "manual" || !REDIRECT_STATUSES.has(hop.status) ? null : redirectLocation(hop.fields);
      } catch (err) {
        hop.body.cancel();
        throw err;
      }
      if (location !== null) {
        if (redirect === "error") {
          hop.body.cancel();
          throw new HTTPError("ERR_HTTP_REDIRECT", `redirect ${hop.status} to ${location} with redirect: "error"`);
        }
        if (hops >= maxRedirections) {
          hop.body.cancel();
          throw new HTTPError("ERR_HTTP_TOO_MANY_REDIRECTS", `more than ${maxRedirections} redirects`);
        }
        let step;
        try {
          step = nextRedirect(hop.status, method, location, url, body !== null, body?.replayable ?? true, init.allowInsecureRedirect === true);
        } catch (err) {
          hop.body.cancel();
          throw err;
        }
        await discard(hop);
        if (step.dropBody) {
          body = null;
          for (const name of BODY_FIELDS) fields.delete(name);
        }
        if (step.crossOrigin) {
          for (const name of CREDENTIAL_FIELDS) fields.delete(name);
        }
        url = step.url;
        method = step.method;
        hops++;
        // A new target: fresh challenge counts, and the provider's up-front value for it (Digest's uri changes).
        authAttempts[401] = authAttempts[407] = 0;
        if (auth?.authorization && !userAuthorization && url.origin === authOrigin) {
          const value = await auth.authorization(authRequest(method, url, body));
          if (value !== null) set("authorization", value);
          else fields.delete("authorization");
        }
        continue;
      }
      // A 407 is a proxy's, and only a request sent to an HTTP proxy in
      // absolute form gets one from it: a 407 on a direct route, or from
      // inside a CONNECT tunnel, is the origin server's, which must never
      // get the proxy credentials.
      const proxy = hop.status === 407 ? dispatcher.proxyFor?.(url.origin) ?? null : null;
      if (((hop.status === 407 && proxy !== null) || (hop.status === 401 && url.origin === authOrigin)) && auth && authAttempts[hop.status] < 2) {
        const challenges = fieldValues(hop.fields, hop.status === 401 ? "www-authenticate" : "proxy-authenticate");
        if (challenges.length > 0 && (body === null || body.replayable)) {
          const attempt = authAttempts[hop.status]++;
          const request = authRequest(method, url, body);
          if (proxy !== null) request.proxy = proxy;
          const value = await auth.respond({ status: hop.status, challenges, request, attempt });
          if (value !== null) {
            await discard(hop);
            set(hop.status === 401 ? "authorization" : "proxy-authorization", value);
            answered407 = hop.status === 407;
            continue;
          }
        }
      }
      return makeResponse(hop, url.href, hops > 0, method, decompress, signal);
    }
  } catch (err) {
    deadline?.clear();
    throw fetchError(err, signal);
  }
}

/** What a failed fetch rejects with: the signal's reason, a late argument error as it is, else `TypeError("fetch failed")`. */
function fetchError(err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted && (err === signal.reason || (err instanceof Error && err.name === "AbortError"))) return err;
  if (err instanceof TypeError && !(err.cause instanceof Error) && err.message !== "fetch failed") {
    // A bad argument found late (a header value, a body): as the standard's TypeError.
    return err;
  }
  return networkError(err);
}

function authRequest(method: string, url: URL, body: RequestBody | null): AuthRequest {
  return { method, url, body: body?.bytes ?? null };
}

/**
 * `auth`, `cookieJar`, `signal`, `dispatcher` and `maxRedirections` are
 * checked before anything is sent: a plain object there (credentials as `{ username, password }`, a jar of another
 * library) would otherwise fail in the middle of the exchange ("respond is
 * not a function" on the first 401), or never be used at all.
 */
function checkHooks(init: FetchInit): void {
  const signal = init.signal as unknown;
  if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal)) throw new TypeError("fetch: signal must be an AbortSignal");
  const dispatcher = init.dispatcher as unknown;
  if (dispatcher !== undefined && dispatcher !== null && (typeof dispatcher !== "object" || typeof (dispatcher as { dispatch?: unknown }).dispatch !== "function")) {
    throw new TypeError("fetch: dispatcher must be a Dispatcher (an object with dispatch(), such as an Agent, Pool or Client)");
  }
  const max = init.maxRedirections;
  if (max !== undefined && !(Number.isInteger(max) && max >= 0)) throw new RangeError(`fetch: maxRedirections must be an integer >= 0, got ${String(max)}`);
  const auth = init.auth as unknown;
  if (auth !== undefined && auth !== null) {
    const a = auth as Record<string, unknown>;
    if (typeof auth !== "object" || typeof a.respond !== "function") {
      throw new TypeError("fetch: auth must be an AuthProvider (an object with respond(), such as new HttpAuth({ username, password }))");
    }
    for (const name of ["authorization", "proxyAuthorization"]) {
      if (a[name] !== undefined && typeof a[name] !== "function") throw new TypeError(`fetch: auth.${name} must be a function`);
    }
  }
  const jar = init.cookieJar as unknown;
  if (jar !== undefined && jar !== null) {
    const j = jar as Record<string, unknown>;
    if (typeof jar !== "object" || typeof j.cookieHeader !== "function" || typeof j.storeSetCookie !== "function") {
      throw new TypeError("fetch: cookieJar must be a CookieStore (cookieHeader() and storeSetCookie(), such as new CookieJar())");
    }
  }
}
