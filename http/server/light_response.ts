/**
 * An opt-in light `Response` for servers whose runtime makes the real one
 * costly (Node's undici builds a `ReadableStream` for every body at
 * construction, and copies `Uint8Array` bodies; Bun reads its own bodies
 * back only through a stream reader): {@link installLightResponse}
 * replaces `globalThis.Response` with a class that records
 * `(body, init)` and makes the runtime's real `Response` only when
 * something asks for more than `serve` needs (`body`, the body methods,
 * `clone()`, …). `serve` writes a light response with a string, bytes or
 * no body and plain header fields straight from what was recorded. This is
 * what `@hono/node-server` does by default on Node; here it is opt-in, as
 * it changes a global.
 *
 * `instanceof Response` holds for light and real responses alike, static
 * `Response.json()`, `Response.redirect()` and `Response.error()` return
 * real ones. Differences from the real class: a header field or status
 * the runtime would refuse is refused when the response is written or
 * first read (a TypeError/RangeError then, not in the constructor).
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

const STATE = Symbol.for("ffinet.lightResponse");

interface LightState {
  body: unknown;
  init: ResponseInit | undefined;
  real: Response | undefined;
  /** The runtime's Response class the real one is made with. */
  make: new (body?: BodyInit | null, init?: ResponseInit) => Response;
}

interface Light {
  [STATE]: LightState;
}

/**
 * What `serve` writes from a light response without making the real one:
 * the status, the header fields of `init` (a plain object or pairs, not
 * validated yet) and a string, bytes or null body.
 *
 * @example
 * ```ts
 * import { lightParts } from "./light_response.ts";
 * console.log(lightParts(new Response("x"))); // undefined: a real Response
 * ```
 */
export interface LightParts {
  status: number;
  headers: Record<string, string> | ReadonlyArray<readonly [string, string]> | undefined;
  body: string | Uint8Array | null;
}

/**
 * The recorded parts of a light response not made real yet, when `serve`
 * can write them directly; undefined otherwise.
 *
 * @example
 * ```ts
 * import { lightParts } from "./light_response.ts";
 * console.log(lightParts(Response.error())); // undefined
 * ```
 */
export function lightParts(response: Response): LightParts | undefined {
  const state = (response as unknown as Partial<Light>)[STATE];
  if (state === undefined || state.real !== undefined) return undefined;
  const body = state.body;
  if (!(body === null || body === undefined || typeof body === "string" || body instanceof Uint8Array)) return undefined;
  const init = state.init;
  let status = 200;
  let headers: LightParts["headers"];
  if (init !== undefined && init !== null) {
    for (const key in init) if (key !== "status" && key !== "headers") return undefined;
    if (init.status !== undefined) status = init.status;
    const h = init.headers;
    if (h !== undefined) {
      if (Array.isArray(h)) headers = h as ReadonlyArray<readonly [string, string]>;
      else if (typeof h === "object" && h !== null && Object.getPrototypeOf(h) === Object.prototype) headers = h as Record<string, string>;
      else return undefined;
    }
  }
  if (!Number.isInteger(status) || status < 200 || status > 599) return undefined;
  return { status, headers, body: body ?? null };
}

function realOf(self: Light): Response {
  const state = self[STATE];
  if (state.real === undefined) state.real = new state.make(state.body as BodyInit | null | undefined, state.init);
  return state.real;
}

/**
 * Replaces `globalThis.Response` with the light class (see the module
 * text); returns a function that puts the runtime's class back. Calling
 * it again while installed changes nothing.
 *
 * @example
 * ```ts
 * import { installLightResponse } from "./light_response.ts";
 * const uninstall = installLightResponse();
 * uninstall();
 * ```
 */
export function installLightResponse(): () => void {
  const current = globalThis.Response as unknown as { [STATE]?: true };
  if (current[STATE] === true) return () => {};
  const Native = globalThis.Response;
  function LightResponse(this: Light, body?: BodyInit | null, init?: ResponseInit): void {
    if (new.target === undefined) throw new TypeError("Response constructor: 'new' is required");
    this[STATE] = { body, init, real: undefined, make: Native };
  }
  const proto = LightResponse.prototype as Record<PropertyKey, unknown>;
  Object.setPrototypeOf(proto, Native.prototype);
  Object.defineProperty(proto, "constructor", { value: LightResponse, writable: true, configurable: true });
  for (const key of Reflect.ownKeys(Native.prototype)) {
    if (key === "constructor") continue;
    const d = Object.getOwnPropertyDescriptor(Native.prototype, key)!;
    if (typeof d.get === "function") {
      const get = d.get;
      Object.defineProperty(proto, key, {
        get(this: Light) {
          if (key === "status" && this[STATE].real === undefined) {
            const parts = lightParts(this as unknown as Response);
            if (parts !== undefined) return parts.status;
          }
          return get.call(realOf(this));
        },
        configurable: true,
      });
    } else if (typeof d.value === "function") {
      const fn = d.value as (...args: unknown[]) => unknown;
      Object.defineProperty(proto, key, {
        value(this: Light, ...args: unknown[]) {
          return fn.apply(realOf(this), args);
        },
        writable: true,
        configurable: true,
      });
    }
  }
  Object.defineProperty(LightResponse, STATE, { value: true });
  Object.defineProperty(LightResponse, Symbol.hasInstance, {
    value: (x: unknown) => x instanceof Native,
  });
  for (const key of ["json", "redirect", "error"] as const) {
    Object.defineProperty(LightResponse, key, { value: (Native as unknown as Record<string, unknown>)[key], writable: true, configurable: true });
  }
  Object.defineProperty(globalThis, "Response", { value: LightResponse, writable: true, configurable: true });
  return () => {
    if (globalThis.Response === (LightResponse as unknown)) Object.defineProperty(globalThis, "Response", { value: Native, writable: true, configurable: true });
  };
}
