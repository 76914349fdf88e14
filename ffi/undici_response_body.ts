/**
 * Node only (undici, Node 20–22): what a `Response` was made from (its
 * string, bytes or Blob body, its header list), read from undici's private
 * state without its stream.
 *
 * undici keeps a response's state under a symbol-keyed property
 * (description "state": `body` with `stream`, `source` and `length`, and
 * `headersList`). {@link undiciResponseBody} finds it once by its shape on
 * a response it makes; where it is not found (Node 24 keeps the state in
 * private fields, Deno and Bun keep none such) it answers undefined and the
 * server reads every body and header through the public API. Nothing
 * outside `ffi/` knows these internals (http/server/response_peek.ts calls
 * this interface, as it calls ffi/deno_response_body.ts and
 * ffi/bun_response_bytes.ts).
 *
 * @example
 * ```ts
 * import { undiciResponseBody } from "./undici_response_body.ts";
 * const undici = undiciResponseBody(Response);
 * const body = undici?.body(new Response("hi"));
 * console.log(body === undefined || body === "hi"); // true
 * ```
 *
 * @module
 */
import { bodySource, type ResponseClass, responseStateReader } from "./response_state.ts";

/**
 * What undici's private response state gives the server; each method
 * answers for a `Response` of the runtime's own class.
 *
 * @example
 * ```ts
 * import { undiciResponseBody } from "./undici_response_body.ts";
 * const undici = undiciResponseBody(Response);
 * if (undici !== undefined) undici.forEachField(new Response("x"), (name, value) => console.log(name, value));
 * ```
 */
export interface UndiciResponseBody {
  /**
   * The string, bytes or Blob `response` was made from when nobody has
   * touched its body (stream unlocked, `bodyUsed` false); null when it has
   * no body; undefined otherwise (read it through `response.body`).
   */
  body(response: Response): string | Uint8Array | Blob | null | undefined;
  /**
   * Calls `fn` with every header field (lower-case name, value; each
   * Set-Cookie apart) and returns true; false (having called nothing) when
   * the list cannot be read so: then read `response.headers`.
   */
  forEachField(response: Response, fn: (name: string, value: string) => void): boolean;
}


interface UndiciState {
  body: { stream: ReadableStream | null; source: unknown; length?: number | null } | null;
  headersList: Iterable<[string, string]> & { cookies: string[] | null };
}

/** Finds the state's key on a response of `R` made here (not on one the server was given: a subclass, a stream body). */
function open(R: ResponseClass): UndiciResponseBody | undefined {
  const probe = new R("probe", { headers: { "x-probe": "1" } });
  const key = Object.getOwnPropertySymbols(probe).find((s) => {
    const v = (probe as unknown as Record<symbol, unknown>)[s];
    return s.description === "state" && v !== null && typeof v === "object" && "body" in v && "headersList" in v;
  });
  if (key === undefined) return undefined;
  const state = (r: Response) => (r as unknown as Record<symbol, UndiciState | null | undefined>)[key];
  return {
    body(response) {
      const inner = state(response);
      if (inner === undefined || inner === null) return undefined;
      const body = inner.body;
      if (body === null) return null;
      if (typeof body !== "object" || body.stream === null || body.stream === undefined || body.stream.locked || response.bodyUsed) return undefined;
      const src = body.source;
      // Once a clone of the response was read, undici's byte stream has
      // handed the source's buffer over (detached): the bytes are then only
      // in the stream's tee (a view of length 0 here would be sent empty, or
      // throw). The body's recorded length tells.
      if (src instanceof Uint8Array && typeof body.length === "number" && src.byteLength !== body.length) return undefined;
      return bodySource(src);
    },
    forEachField(response, fn) {
      const list = state(response)?.headersList;
      if (list === undefined || list === null || typeof (list as Partial<Iterable<unknown>>)[Symbol.iterator] !== "function") return false;
      for (const pair of list) {
        const name = pair[0];
        if (name === "set-cookie" && Array.isArray(list.cookies)) for (const c of list.cookies) fn(name, c);
        else fn(name, pair[1]);
      }
      return true;
    },
  };
}

const reader = responseStateReader("node", open);

/**
 * On Node, the interface to undici's responses' private state (see the
 * module text), found on a response of `R` (the runtime's own `Response`
 * class, not a replacement installed on `globalThis`); undefined elsewhere,
 * or where the state is not kept so. Found on the first call, the same
 * object after.
 *
 * @example
 * ```ts
 * import { undiciResponseBody } from "./undici_response_body.ts";
 * console.log(undiciResponseBody(Response)?.body(new Response("hi"))); // "hi" on Node 20-22, else undefined
 * ```
 */
export function undiciResponseBody(R: ResponseClass): UndiciResponseBody | undefined {
  return reader(R);
}
