/**
 * The WHATWG `Request` a handler of `serve` receives, built lazily: a light
 * object whose prototype chain includes the runtime's own
 * `Request.prototype` (so `request instanceof Request` holds), answering
 * `method`, `url`, `headers` and `signal` from the parsed head, and making
 * the real `Request` only when something else is asked for (the body
 * methods, `clone()`, `cache`, …). This is the approach of
 * `@hono/node-server`; passing the light object to `new Request(...)` or
 * to `fetch` works through its materialized request.
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
  return (self[REAL] = new Request(parts.url, init));
}

let prototype: object | undefined;

function lightPrototype(): object {
  if (prototype !== undefined) return prototype;
  const proto: Record<PropertyKey, unknown> = {};
  Object.defineProperties(proto, {
    method: { get(this: LightRequest) { return this[REAL]?.method ?? this[PARTS].method; } },
    url: { get(this: LightRequest) { return this[PARTS].url; } },
    headers: { get(this: LightRequest) { return this[REAL]?.headers ?? headersOf(this); } },
    signal: { get(this: LightRequest) { return this[REAL]?.signal ?? signalOf(this); } },
    body: { get(this: LightRequest) { return this[REAL] === undefined && this[PARTS].body === null ? null : realOf(this).body; } },
    bodyUsed: { get(this: LightRequest) { return this[REAL]?.bodyUsed ?? false; } },
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
        const real = realOf(this) as unknown as Record<string, () => unknown>;
        return real[key]!.call(real);
      },
      writable: true,
      configurable: true,
    });
  }
  Object.setPrototypeOf(proto, Request.prototype);
  return (prototype = proto);
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
  const self = Object.create(lightPrototype()) as LightRequest;
  self[PARTS] = parts;
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
