/**
 * The WHATWG `Request` a handler of `serve` receives, built lazily: a light
 * object whose prototype chain includes the runtime's own
 * `Request.prototype` (so `request instanceof Request` holds), answering
 * `method`, `url`, `headers` and `signal` from the parsed head, and making
 * the real `Request` only when something else is asked for (the body
 * methods, `clone()`, `cache`, …). This is the approach of
 * `@hono/node-server`.
 *
 * The light object is accepted wherever a real `Request` is: `new
 * Request(request, init)`, `fetch(request)`, `Request.prototype` methods.
 * Node's undici and Deno keep a request's state under symbol keys, which
 * their `Request` constructor reads from its argument; the light
 * prototype answers every such key (found once on a probe `Request`) from
 * the materialized request, so those reads make the real request then and
 * never before. Where that is not enough (a runtime that keeps the state in
 * private fields), a self-test at first use finds out and light requests
 * are then made real at once. Bun's `Request` takes a light request as it
 * takes any object with `url`, `method`, `headers` and `body`, except that
 * with a second argument the method is that argument's (GET when it has
 * none): pass `method: request.method` there, or `realRequest(request)`.
 *
 * @example
 * ```ts
 * import { lightRequest } from "./request.ts";
 * const request = lightRequest({
 *   method: "GET",
 *   url: "http://127.0.0.1:8000/hello",
 *   headers: [["Host", "127.0.0.1:8000"]],
 *   body: null,
 *   signal: () => new AbortController().signal,
 * });
 * console.log(request instanceof Request, request.method, new URL(request.url).pathname); // true "GET" "/hello"
 * ```
 *
 * @module
 */

/**
 * What a light request is made from.
 *
 * @example
 * ```ts
 * import type { RequestParts } from "./request.ts";
 * const parts: RequestParts = { method: "GET", url: "http://a/", headers: [], body: null, signal: () => AbortSignal.abort() };
 * ```
 */
export interface RequestParts {
  readonly method: string;
  /** The absolute URL (may be a getter: read once, when asked for). */
  readonly url: string;
  /** The header fields as received: pairs (name as sent, value), or a field list read when asked for. */
  readonly headers: Array<[string, string]> | RequestFieldList;
  /** The body stream, or null for a request without a body (may be a getter). */
  readonly body: ReadableStream<Uint8Array> | null;
  /** Makes the request's abort signal (called at most once). */
  signal(): AbortSignal;
}

/**
 * Header fields read by index (the parser's `FieldBlock` is one), turned
 * into strings only when the handler asks for `headers`.
 *
 * @example
 * ```ts
 * import type { RequestFieldList } from "./request.ts";
 * const list: RequestFieldList = { count: 1, rawName: () => "Host", value: () => "a" };
 * ```
 */
export interface RequestFieldList {
  readonly count: number;
  rawName(i: number): string;
  value(i: number): string;
}

const PARTS = Symbol("ffinet.requestParts");
const REAL = Symbol("ffinet.realRequest");
const HEADERS = Symbol("ffinet.requestHeaders");
const SIGNAL = Symbol("ffinet.requestSignal");

interface LightRequest {
  [PARTS]: RequestParts;
  [REAL]?: Request;
  [HEADERS]?: Headers;
  [SIGNAL]?: AbortSignal;
}

function signalOf(self: LightRequest): AbortSignal {
  return (self[SIGNAL] ??= self[PARTS].signal());
}

function append(headers: Headers, name: string, value: string): void {
  try {
    headers.append(name, value);
  } catch {
    // a value the runtime's Headers refuses (obs-text it will not take): left out
  }
}

function headersOf(self: LightRequest): Headers {
  if (self[HEADERS] !== undefined) return self[HEADERS];
  const headers = new Headers();
  const fields = self[PARTS].headers;
  if (Array.isArray(fields)) {
    for (const [name, value] of fields) append(headers, name, value);
  } else {
    for (let i = 0; i < fields.count; i++) append(headers, fields.rawName(i), fields.value(i));
  }
  return (self[HEADERS] = headers);
}

function realOf(self: LightRequest): Request {
  if (self[REAL] !== undefined) return self[REAL];
  const parts = self[PARTS];
  const init: RequestInit & { duplex?: "half" } = {
    method: parts.method,
    headers: headersOf(self),
    signal: signalOf(self),
  };
  const body = parts.body;
  if (body !== null) {
    init.body = body;
    init.duplex = "half";
  }
  let real: Request;
  try {
    real = new Request(parts.url, init);
  } catch (err) {
    // A GET or HEAD with content (RFC 9110 §9.3.1: it has no defined
    // semantics): Node's and Deno's Request refuse a body there (Bun's takes
    // it), which let any client make a handler that touches the body throw.
    // The content is discarded instead, and the request has no body.
    if (body === null || !BODYLESS_METHODS.has(parts.method.toUpperCase())) throw err;
    delete init.body;
    delete init.duplex;
    body.cancel().catch(() => {});
    real = new Request(parts.url, init);
  }
  return (self[REAL] = real);
}

/** Whether the request's method is one no real `Request` carries on Node and Deno (Bun's takes them). */
function cannotBeReal(self: LightRequest): boolean {
  return FORBIDDEN_METHODS.has(self[PARTS].method.toUpperCase());
}

/**
 * A body method (`text`, `json`, …) of a CONNECT, TRACE or TRACK request:
 * no real `Request` can be made for them on Node and Deno, so any client
 * sending `TRACE /` made a handler that reads the body throw (a 500 and
 * an error logged per request). The light body is read as a `Response`
 * reads one (a second read rejects: the stream is locked).
 */
function readLightBody(self: LightRequest, key: string): Promise<unknown> {
  try {
    const type = headersOf(self).get("content-type");
    const carrier = new Response(self[PARTS].body, type === null ? undefined : { headers: { "content-type": type } }) as unknown as Record<string, () => Promise<unknown>>;
    return carrier[key]!.call(carrier);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Methods whose `Request` the Fetch standard gives no body. */
const BODYLESS_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD"]);

let prototype: object | undefined;

function lightPrototype(): object {
  if (prototype !== undefined) return prototype;
  const proto: Record<PropertyKey, unknown> = {};
  Object.defineProperties(proto, {
    // The method as sent: a real Request normalizes `get`, `post` … to upper case (methods are case-sensitive, RFC 9110 §9.1).
    method: { get(this: LightRequest) { return this[PARTS].method; } },
    url: { get(this: LightRequest) { return this[PARTS].url; } },
    headers: { get(this: LightRequest) { return this[REAL]?.headers ?? headersOf(this); } },
    signal: { get(this: LightRequest) { return this[REAL]?.signal ?? signalOf(this); } },
    body: { get(this: LightRequest) { return this[REAL] === undefined && (this[PARTS].body === null || cannotBeReal(this)) ? this[PARTS].body : realOf(this).body; } },
    bodyUsed: { get(this: LightRequest) { return this[REAL]?.bodyUsed ?? (cannotBeReal(this) && this[PARTS].body?.locked === true); } },
    [Symbol.toStringTag]: { value: "Request" },
  });
  for (const key of ["cache", "credentials", "destination", "integrity", "keepalive", "mode", "redirect", "referrer", "referrerPolicy", "duplex"]) {
    Object.defineProperty(proto, key, {
      get(this: LightRequest) {
        return (realOf(this) as unknown as Record<string, unknown>)[key];
      },
    });
  }
  for (const key of ["arrayBuffer", "blob", "bytes", "formData", "json", "text", "clone"]) {
    Object.defineProperty(proto, key, {
      value(this: LightRequest) {
        if (key !== "clone" && this[REAL] === undefined && cannotBeReal(this)) return readLightBody(this, key);
        const real = realOf(this) as unknown as Record<string, () => unknown>;
        return real[key]!.call(real);
      },
      writable: true,
      configurable: true,
    });
  }
  forwardRuntimeKeys(proto);
  Object.setPrototypeOf(proto, Request.prototype);
  prototype = proto;
  eager = !forwardingWorks();
  return proto;
}

/** Whether `symbol` is one of the well-known symbols (`Symbol.toStringTag` …), kept as the light prototype has them. */
function wellKnown(symbol: symbol): boolean {
  return Object.getOwnPropertyNames(Symbol).some((name) => (Symbol as unknown as Record<string, unknown>)[name] === symbol);
}

/**
 * Answers, on the light prototype, every symbol key a real `Request` has
 * (its own, where undici and Deno keep its state, and its prototype's) from
 * the materialized request: the runtime's code reading them off a light
 * request (its `Request` constructor, `fetch`, inspection) gets the real one's.
 */
function forwardRuntimeKeys(proto: object): void {
  const probe = new Request("http://localhost/");
  const keys = new Set<symbol>([...Object.getOwnPropertySymbols(probe), ...Object.getOwnPropertySymbols(Request.prototype)]);
  for (const key of keys) {
    if (wellKnown(key) || Object.prototype.hasOwnProperty.call(proto, key)) continue;
    const own = Object.getOwnPropertyDescriptor(Request.prototype, key);
    if (own !== undefined && typeof own.value === "function") {
      Object.defineProperty(proto, key, {
        value(this: LightRequest, ...args: unknown[]) {
          const real = realOf(this) as unknown as Record<symbol, (...a: unknown[]) => unknown>;
          return real[key]!.apply(real, args);
        },
        writable: true,
        configurable: true,
      });
      continue;
    }
    Object.defineProperty(proto, key, {
      get(this: LightRequest) {
        return (realOf(this) as unknown as Record<symbol, unknown>)[key];
      },
      set(this: LightRequest, value: unknown) {
        (realOf(this) as unknown as Record<symbol, unknown>)[key] = value;
      },
      configurable: true,
    });
  }
}

/**
 * Makes light requests: a plain function whose `prototype` is the light
 * prototype (no `constructor` of its own, so a light request's is
 * `Request`'s), cheaper than `Object.create` and a symbol key added to
 * each object.
 */
let LightRequestOf: (new (parts: RequestParts) => LightRequest) | undefined;

function lightConstructor(): new (parts: RequestParts) => LightRequest {
  const make = function (this: LightRequest, parts: RequestParts): void {
    this[PARTS] = parts;
  };
  make.prototype = lightPrototype();
  return (LightRequestOf = make as unknown as new (parts: RequestParts) => LightRequest);
}

/** Light requests are made real at once (the runtime's `Request` does not take a light one). */
let eager = false;

/** Methods a real `Request` refuses (Fetch: forbidden methods). */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** Whether this runtime's `Request` constructor takes a light request (with its method, URL, headers and body). */
function forwardingWorks(): boolean {
  try {
    const self = Object.create(prototype!) as LightRequest;
    self[PARTS] = { method: "POST", url: "http://localhost/probe", headers: [["x-probe", "1"]], body: null, signal: () => new AbortController().signal };
    const same = new Request(self as unknown as Request);
    return same.method === "POST" && same.url === "http://localhost/probe" && same.headers.get("x-probe") === "1";
  } catch {
    return false;
  }
}

/**
 * Makes the light `Request` of a parsed request.
 *
 * @example
 * ```ts
 * import { lightRequest } from "./request.ts";
 * const body = new Blob(["hi"]).stream();
 * const r = lightRequest({ method: "POST", url: "http://a/x", headers: [], body, signal: () => new AbortController().signal });
 * console.log(await r.text()); // "hi"
 * ```
 */
export function lightRequest(parts: RequestParts): Request {
  const self = new (LightRequestOf ?? lightConstructor())(parts);
  // A runtime whose Request keeps its state in private fields (Node 24's
  // undici) takes no light request anywhere: hand out the real one — but
  // for the methods the Fetch standard forbids (CONNECT: RFC 8441's
  // extended CONNECT; TRACE, TRACK), which no real Request can carry, and
  // for a method not all in upper case, which a real one may change (`get`
  // would become GET: RFC 9110 §9.1 makes them different methods).
  const upper = parts.method.toUpperCase();
  if (eager && upper === parts.method && !FORBIDDEN_METHODS.has(upper)) return realOf(self);
  return self as unknown as Request;
}

/**
 * The runtime's real `Request` behind a request from {@link lightRequest}
 * (made now if it was not yet); any other value is returned as it is.
 *
 * @example
 * ```ts
 * import { lightRequest, realRequest } from "./request.ts";
 * const r = lightRequest({ method: "GET", url: "http://a/", headers: [], body: null, signal: () => new AbortController().signal });
 * console.log(realRequest(r).url); // "http://a/"
 * ```
 */
export function realRequest(request: Request): Request {
  const self = request as unknown as LightRequest;
  return self[PARTS] !== undefined ? realOf(self) : request;
}
