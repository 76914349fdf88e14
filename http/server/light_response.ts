/**
 * A light `Response` for servers whose runtime makes the real one costly
 * (Node's undici builds a `ReadableStream` for every body at construction,
 * and copies `Uint8Array` bodies): {@link installLightResponse} replaces
 * `globalThis.Response` with a class that records `(body, init)` and makes
 * the runtime's real `Response` only when something asks for more than
 * `serve` needs (`headers`, `body`, the body methods, `clone()`, …).
 * `serve` writes a light response with a string, bytes or no body and
 * plain header fields straight from what was recorded. `serve` installs it
 * by default where it pays ({@link LIGHT_RESPONSE_DEFAULT}: Node), as
 * `@hono/node-server` does; `serve({ lightResponse: false })` opts out.
 * Once installed it stays (code may hold the class); `uninstall()` is for
 * tests.
 *
 * What the real constructor refuses, the light one refuses at once with
 * the same error class: it takes the light path only for a body that is a
 * string, a `Uint8Array` (not empty, not a view of a shared or resizable
 * buffer), `null` or `undefined`, a status that is an
 * integer in 200..599 (with no body for 204, 205 and 304), a status text
 * of HTAB, SP, VCHAR and obs-text, and header fields given as a plain
 * object or `[name, value]` pairs of strings with token names and values
 * without NUL, CR, LF or characters over U+00FF. Anything else (another
 * body type, a `Headers` or other non-plain `init.headers`, a non-object
 * `init`, a number as a field value, a status to convert or refuse…) makes
 * the runtime's `Response` in the constructor, which converts, accepts or
 * throws exactly as it does alone. `instanceof Response` holds for light
 * and real responses alike, subclasses (`class X extends Response`) work,
 * `Response.json()` makes a light one the same way (with the runtime's
 * JSON `Content-Type` unless given), `Response.redirect()` and
 * `Response.error()` real ones, `structuredClone` refuses a light one (as the real one
 * on Node 24, Deno and Bun). `status`, `statusText`, `ok`, `type`, `url`,
 * `redirected` and `bodyUsed` are answered without making the real one.
 *
 * The header fields are copied at construction (changes to the object
 * given are not seen, as with the real one). Differences left: a
 * `Uint8Array` body is not copied (changing its bytes before `serve` has
 * the response changes what is sent; the real one copies them at
 * construction; `serve` copies them when the response has to wait, see
 * {@link ownLightBytes}); a light response has one own enumerable key (a
 * function, so that `structuredClone` refuses it as the real one;
 * `JSON.stringify` skips it); and the runtime's own APIs that check for
 * their class by its internal slots (Deno's and Bun's own HTTP servers,
 * `WebAssembly.compileStreaming`) refuse a light response:
 * hand them {@link realResponseOf}'s (Node's undici takes either).
 *
 * @example
 * ```ts
 * import { installLightResponse } from "./light_response.ts";
 * const uninstall = installLightResponse();
 * const r = new Response("hi", { headers: { "content-type": "text/plain" } });
 * console.log(r instanceof Response, r.status, await r.text()); // true 200 "hi"
 * uninstall();
 * ```
 *
 * @module
 */
import { runtimeCapabilities } from "../../ffi/runtime.ts";
import { TOKEN } from "../h1/tables.ts";

const STATE = Symbol.for("ffinet.lightResponse");
/** An own enumerable key holding a function: `structuredClone` refuses the object, as the real one. */
const CLONE_GUARD = "ffinet:lightResponse";
/** The guard's value (its text is what `structuredClone`'s error quotes). */
const notCloneable = function Response(): void {};

type ResponseClass = new (body?: BodyInit | null, init?: ResponseInit) => Response;

/** A light response's fields as recorded (see {@link LightParts}). */
interface LightState {
  body: string | Uint8Array | null;
  status: number;
  statusText: string;
  headers: Record<string, string> | ReadonlyArray<readonly [string, string]> | undefined;
  /** The runtime's response, once made (then every question goes to it). */
  real: Response | undefined;
  /** The runtime's Response class the real one is made with. */
  make: ResponseClass;
  /** `body` is a copy of the handler's bytes ({@link ownLightBytes}). */
  owned: boolean;
}

interface Light {
  [STATE]: LightState;
}

/**
 * Whether `serve` installs the light class by default (its
 * `lightResponse` option): on Node, where undici's `Response` costs more
 * than the rest of a small request (made and written in process: ~12 µs
 * against ~0.5 µs light) and the runtime's APIs take a light one; not on
 * Deno and Bun, where it would save 1-2 µs per small response (~15 µs for
 * 64 KiB of bytes) but Deno's and Bun's own HTTP servers and
 * `WebAssembly.compileStreaming` refuse a light response, which a
 * process-wide default must not break (bench/http_server.ts
 * HTTP_LIGHT=cpu).
 *
 * @example
 * ```ts
 * import { LIGHT_RESPONSE_DEFAULT } from "./light_response.ts";
 * console.log(typeof LIGHT_RESPONSE_DEFAULT); // "boolean"
 * ```
 */
export const LIGHT_RESPONSE_DEFAULT: boolean = runtimeCapabilities.responseBodiesAreStreams && runtimeCapabilities.takesForeignResponses;

/**
 * What `serve` writes from a light response without making the real one:
 * the status, the header fields given (a plain object or pairs, checked
 * and copied at construction) and a string, bytes or null body.
 *
 * @example
 * ```ts
 * import type { LightParts } from "./light_response.ts";
 * const parts: LightParts = { status: 200, headers: { "x-a": "1" }, body: "hi" };
 * ```
 */
export interface LightParts {
  status: number;
  headers: Record<string, string> | ReadonlyArray<readonly [string, string]> | undefined;
  body: string | Uint8Array | null;
}

/**
 * The recorded parts of a light response not made real yet (and without a
 * status text), when `serve` can write them directly; undefined otherwise.
 *
 * @example
 * ```ts
 * import { lightParts } from "./light_response.ts";
 * console.log(lightParts(Response.error())); // undefined
 * ```
 */
export function lightParts(response: Response): LightParts | undefined {
  const state = (response as unknown as Partial<Light>)[STATE];
  if (state === undefined || state.real !== undefined || state.statusText !== "") return undefined;
  return state;
}

/**
 * `response.status` without the accessor when `response` is a light
 * response whose real one is not made (its recorded status, one field
 * read): what request metrics read per request. Anything else: its own
 * `status`, read once.
 *
 * @example
 * ```ts
 * import { statusOf } from "./light_response.ts";
 * console.log(statusOf(new Response(null, { status: 204 }))); // 204
 * ```
 */
export function statusOf(response: Response): unknown {
  const state = (response as unknown as Partial<Light>)[STATE];
  return state !== undefined && state.real === undefined ? state.status : response.status;
}

/**
 * A light response that will be written later (behind another on its
 * connection, or once the output drained) gets a copy of its bytes now,
 * as the runtime's `Response` copies them at construction: bytes the
 * application changes after answering (a buffer it reuses) are not what
 * goes out. Any other response is left alone.
 *
 * @example
 * ```ts
 * import { installLightResponse, lightParts, ownLightBytes } from "./light_response.ts";
 * const uninstall = installLightResponse();
 * const bytes = Uint8Array.of(1, 2);
 * const r = new Response(bytes);
 * ownLightBytes(r);
 * bytes[0] = 9;
 * console.log(lightParts(r)?.body); // Uint8Array(2) [1, 2]
 * uninstall();
 * ```
 */
export function ownLightBytes(response: Response): void {
  const state = (response as unknown as Partial<Light>)[STATE];
  if (state === undefined || state.owned || state.real !== undefined || !(state.body instanceof Uint8Array)) return;
  state.body = state.body.slice();
  state.owned = true;
}

/**
 * The runtime's response behind a light one (made now if it was not yet:
 * for a writer that cannot use the light parts); any other response as it
 * is.
 *
 * @example
 * ```ts
 * import { realResponseOf } from "./light_response.ts";
 * const r = new Response("x");
 * console.log(realResponseOf(r) instanceof Response); // true
 * ```
 */
export function realResponseOf(response: Response): Response {
  const state = (response as unknown as Partial<Light>)[STATE];
  return state === undefined ? response : realOf(state);
}

/**
 * The runtime's own `Response` class, whether or not the light one is
 * installed.
 *
 * @example
 * ```ts
 * import { nativeResponse } from "./light_response.ts";
 * console.log(new (nativeResponse())("x") instanceof Response); // true
 * ```
 */
export function nativeResponse(): ResponseClass {
  const current = globalThis.Response as unknown as { [STATE]?: ResponseClass };
  return current[STATE] ?? (globalThis.Response as ResponseClass);
}

function realOf(state: LightState): Response {
  if (state.real === undefined) {
    const init: ResponseInit = { status: state.status };
    if (state.statusText !== "") init.statusText = state.statusText;
    if (state.headers !== undefined) init.headers = state.headers as HeadersInit;
    state.real = new state.make(state.body as BodyInit | null, init);
  }
  return state.real;
}

/** A header field value the runtime's `Headers` takes: no NUL, CR, LF, nothing over U+00FF. */
function fieldValueOk(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0 || c > 0xff) return false;
  }
  return true;
}

function tokenOk(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7f || TOKEN[c] !== 1) return false;
  }
  return true;
}

/** A reason phrase (RFC 9110): HTAB, SP, VCHAR, obs-text. */
function statusTextOk(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x09 || (c >= 0x20 && c !== 0x7f && c <= 0xff)) continue;
    return false;
  }
  return true;
}

/**
 * Bytes the light path takes as the runtime's `Response` would: not empty
 * (a detached buffer's view is), not a view of a SharedArrayBuffer or of a
 * resizable buffer (the runtime's refuses those with a TypeError); others
 * go to the runtime's class, which decides.
 */
function plainBytes(bytes: Uint8Array): boolean {
  if (bytes.byteLength === 0) return false;
  const buffer: ArrayBufferLike = bytes.buffer;
  return !(buffer instanceof SharedArrayBuffer) && (buffer as { resizable?: boolean }).resizable !== true;
}

/**
 * A copy of `init.headers` for the light path: from a plain object or
 * pairs of strings, every field valid (read once each, as the runtime's
 * `Headers` does; later changes to what was given are not seen, as by the
 * real one); undefined for anything else, which the runtime's class takes.
 */
function copyFields(h: unknown): LightState["headers"] {
  if (typeof h !== "object" || h === null) return undefined;
  if (Array.isArray(h)) {
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < h.length; i++) {
      const pair: unknown = h[i];
      if (!Array.isArray(pair) || pair.length !== 2) return undefined;
      const name: unknown = pair[0];
      const value: unknown = pair[1];
      if (typeof name !== "string" || typeof value !== "string" || !tokenOk(name) || !fieldValueOk(value)) return undefined;
      pairs.push([name, value]);
    }
    return pairs;
  }
  const proto: unknown = Object.getPrototypeOf(h);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const copy: Record<string, string> = {};
  for (const name in h) {
    const value: unknown = (h as Record<string, unknown>)[name];
    if (typeof value !== "string" || !tokenOk(name) || !fieldValueOk(value)) return undefined;
    copy[name] = value;
  }
  return copy;
}

/**
 * Replaces `globalThis.Response` with the light class (see the module
 * text); returns a function that puts the runtime's class back. Calling
 * it again while installed changes nothing (and returns a function that
 * does nothing).
 *
 * @example
 * ```ts
 * import { installLightResponse } from "./light_response.ts";
 * const uninstall = installLightResponse();
 * uninstall();
 * ```
 */
export function installLightResponse(): () => void {
  const current = globalThis.Response as unknown as { [STATE]?: ResponseClass };
  if (current[STATE] !== undefined) return () => {};
  const Native = globalThis.Response as ResponseClass;
  function LightResponse(this: Light, body?: unknown, init?: unknown): void {
    // Without `new`: the runtime's own refusal.
    if (new.target === undefined) return void Reflect.apply(Native, undefined, [body, init]);
    let status = 200;
    let statusText = "";
    let headers: LightState["headers"];
    let light = true;
    if (init !== undefined && init !== null) {
      if (typeof init !== "object" && typeof init !== "function") light = false;
      else {
        // Read once each, in the order WebIDL reads a dictionary's members.
        const i = init as { headers?: unknown; status?: unknown; statusText?: unknown };
        const h = i.headers;
        const s = i.status;
        const t = i.statusText;
        if (h !== undefined) {
          headers = copyFields(h);
          if (headers === undefined) light = false;
        }
        if (s !== undefined) {
          if (typeof s === "number" && s >= 200 && s <= 599 && Math.floor(s) === s) status = s;
          else light = false;
        }
        if (t !== undefined) {
          if (typeof t === "string" && statusTextOk(t)) statusText = t;
          else light = false;
        }
      }
    }
    if (body === undefined || body === null) body = null;
    else if (typeof body === "string" || (body instanceof Uint8Array && plainBytes(body))) {
      if (status === 204 || status === 205 || status === 304) light = false;
    } else light = false;
    const state: LightState = { body: null, status, statusText, headers, real: undefined, make: Native, owned: false };
    if (light) state.body = body as string | Uint8Array | null;
    // Anything else: the runtime's Response, now (its conversions, its errors).
    else state.real = new Native(body as BodyInit | null, init as ResponseInit);
    this[STATE] = state;
    (this as unknown as Record<string, unknown>)[CLONE_GUARD] = notCloneable;
  }
  const proto = LightResponse.prototype as Record<PropertyKey, unknown>;
  Object.setPrototypeOf(proto, Native.prototype);
  Object.defineProperty(proto, "constructor", { value: LightResponse, writable: true, configurable: true });
  /** Answers from the recorded state while the real response is not made. */
  const cheap: Record<string, (s: LightState) => unknown> = {
    status: (s) => s.status,
    statusText: (s) => s.statusText,
    ok: (s) => s.status >= 200 && s.status <= 299,
    type: () => "default",
    url: () => "",
    redirected: () => false,
    bodyUsed: () => false,
  };
  // Every accessor and method up the chain (the nearest of each name): the
  // class may be a subclass of the runtime's (Bun's, ffi/bun_response_type.ts),
  // whose own prototype holds few of them.
  const seen = new Set<PropertyKey>(["constructor"]);
  const members: Array<[PropertyKey, PropertyDescriptor]> = [];
  for (let p: object | null = Native.prototype; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const key of Reflect.ownKeys(p)) {
      if (seen.has(key)) continue;
      seen.add(key);
      members.push([key, Object.getOwnPropertyDescriptor(p, key)!]);
    }
  }
  for (const [key, d] of members) {
    if (typeof d.get === "function") {
      const get = d.get;
      const fromState = typeof key === "string" ? cheap[key] : undefined;
      Object.defineProperty(proto, key, {
        get(this: Partial<Light>) {
          const state = this[STATE];
          if (state === undefined) return get.call(this);
          if (fromState !== undefined && state.real === undefined) return fromState(state);
          return get.call(realOf(state));
        },
        enumerable: d.enumerable === true,
        configurable: true,
      });
    } else if (typeof d.value === "function") {
      const fn = d.value as (...args: unknown[]) => unknown;
      Object.defineProperty(proto, key, {
        value(this: Partial<Light>, ...args: unknown[]) {
          const state = this[STATE];
          return fn.apply(state === undefined ? this : realOf(state), args);
        },
        enumerable: d.enumerable === true,
        writable: true,
        configurable: true,
      });
    }
  }
  Object.defineProperty(LightResponse, STATE, { value: Native });
  Object.defineProperty(LightResponse, Symbol.hasInstance, {
    // Real responses are Responses too; a subclass's instanceof is the usual one.
    value: function (this: unknown, x: unknown): boolean {
      if (this === LightResponse) return x instanceof Native;
      return Function.prototype[Symbol.hasInstance].call(this, x);
    },
  });
  Object.defineProperty(LightResponse, "name", { value: "Response" });
  for (const key of ["redirect", "error"] as const) {
    Object.defineProperty(LightResponse, key, { value: (Native as unknown as Record<string, unknown>)[key], writable: true, configurable: true });
  }
  const nativeJson = (Native as unknown as { json(data: unknown, init?: unknown): Response }).json;
  // The runtime's own Content-Type of a JSON response ("application/json"; Bun adds ";charset=utf-8").
  const jsonType = nativeJson.call(Native, 0).headers.get("content-type") ?? "application/json";
  Object.defineProperty(LightResponse, "json", {
    // A light response of the JSON text with `Content-Type: application/json` unless the fields give one.
    value: function json(data: unknown, init?: unknown): Response {
      const text = JSON.stringify(data);
      // No JSON text (undefined, a function…): the runtime's refusal.
      if (typeof text !== "string") return nativeJson.call(Native, data, init);
      let r: Light;
      try {
        r = Reflect.construct(LightResponse, [text, init]) as Light;
      } catch {
        // Refused by the runtime's constructor: its own `json` decides (and may differ: Bun takes a number as the status).
        return nativeJson.call(Native, data, init);
      }
      const state = r[STATE];
      // What only the runtime's class takes: its own `json` decides.
      if (state.real !== undefined) return nativeJson.call(Native, data, init);
      const h = state.headers;
      if (h === undefined) state.headers = { "content-type": jsonType };
      else if (Array.isArray(h)) {
        if (!h.some((pair) => pair[0].toLowerCase() === "content-type")) (h as Array<[string, string]>).push(["content-type", jsonType]);
      } else if (!Object.keys(h).some((name) => name.toLowerCase() === "content-type")) (h as Record<string, string>)["content-type"] = jsonType;
      return r as unknown as Response;
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(globalThis, "Response", { value: LightResponse, writable: true, configurable: true });
  return () => {
    if (globalThis.Response === (LightResponse as unknown)) Object.defineProperty(globalThis, "Response", { value: Native, writable: true, configurable: true });
  };
}
