/**
 * A look at what a WHATWG `Response` was made from, so the server can
 * write a string, `Uint8Array` or `Blob` body (and the header list) without
 * reading it back through a `ReadableStream`.
 *
 * The runtimes keep a `Response`'s source private. Node's undici and
 * Deno keep it under a symbol-keyed property all the same, read by
 * ffi/undici_response_body.ts and ffi/deno_response_body.ts; on Bun a
 * string or Blob body is kept by ffinet's `Response` subclass until its stream is
 * asked for (ffi/bun_response_type.ts), and any other body held in memory
 * is taken with `response.bytes()` (ffi/bun_response_bytes.ts), which uses
 * the body as reading its stream would. Each is used only for a body nobody has touched (its stream
 * unlocked and undisturbed, `bodyUsed` false); anything else (a future
 * layout, a stream body, a used body) answers `undefined` and the caller
 * reads the body through its public stream, as before. What the user sees
 * never changes: the response's own stream is left unread (on Deno a byte
 * body, once written, is marked used as Deno's own server leaves it, and
 * its copy freed unless a clone shares it: {@link releaseTakenBody}).
 *
 * @example
 * ```ts
 * import { staticBody } from "./response_peek.ts";
 * const body = staticBody(new Response("hello"));
 * console.log(body === undefined || body === "hello" || body instanceof Uint8Array); // true ("hello" on Node, Deno and Bun)
 * ```
 *
 * @module
 */
import { bunBlobBytes, bunResponseBytes } from "../../ffi/bun_response_bytes.ts";
import { bunBlobBody, bunImpliedType, bunStringBody } from "../../ffi/bun_response_type.ts";
import { type DenoBodyRecord, denoResponseBody } from "../../ffi/deno_response_body.ts";
import { undiciResponseBody } from "../../ffi/undici_response_body.ts";
import { detachBuffer } from "../../ffi/detach.ts";
import { nativeResponse, realResponseOf } from "./light_response.ts";

/** See http/client/buffered_response.ts: a buffered response's unread bytes. */
const BUFFERED_BYTES = Symbol.for("ffinet.bufferedBytes");
/** Bun's in-memory bodies (undefined elsewhere). */
const bunBytes = bunResponseBytes;
/** Bun: the string a response of ffinet's `Response` subclass was made from, while untouched (undefined elsewhere). */
const bunString = bunStringBody;
/** Bun: the Blob a response of ffinet's `Response` subclass was made from, while untouched (undefined elsewhere). */
const bunBlob = bunBlobBody;
/** Bodies from this size on are freed by {@link releaseTakenBody}. */
const RELEASE_MIN = 16384;
/**
 * The bytes {@link staticBody} last took out of a Bun response, or out of
 * a Deno one whose body Deno copied: nobody but the response holds them.
 */
let taken: Uint8Array | undefined;
/** Deno: the static body record {@link taken} came from, marked used once it was sent. */
let takenFrom: DenoBodyRecord | undefined;
/** Deno's private response state (undefined elsewhere); also marks bodies as they are made and cloned, from load on. */
const deno = denoResponseBody(nativeResponse());
/** Node's (undici's) private response state (undefined elsewhere, and on Node 24: its state is in private fields). */
const undici = undiciResponseBody(nativeResponse());

/** The response has no body (`new Response(null)`, a redirect…). */
export const NO_BODY: unique symbol = Symbol("ffinet.noBody");

/**
 * A static body: the string, bytes or Blob it was made from, {@link NO_BODY},
 * or `undefined` when it must be read through `response.body`.
 *
 * @example
 * ```ts
 * import type { StaticBody } from "./response_peek.ts";
 * const b: StaticBody = "hi";
 * ```
 */
export type StaticBody = string | Uint8Array | Blob | typeof NO_BODY | undefined;

/**
 * The static body of `response` (see the module text), or `undefined`
 * when it has to be read through its stream.
 *
 * @example
 * ```ts
 * import { NO_BODY, staticBody } from "./response_peek.ts";
 * const b = staticBody(new Response(null, { status: 204 }));
 * console.log(b === NO_BODY || b === undefined); // true
 * ```
 */
export function staticBody(response: Response): StaticBody {
  // A light response (light_response.ts) is looked at as the runtime's own it holds.
  response = realResponseOf(response);
  // The HTTP client's buffered response (Node) says so itself; its private
  // runtime state has no body.
  const buffered = (response as unknown as Record<symbol, unknown>)[BUFFERED_BYTES];
  if (buffered !== undefined) return buffered as Uint8Array;
  if (deno !== undefined) {
    const body = deno.body(response);
    const record = deno.copiedRecord();
    if (record !== undefined) {
      taken = body as Uint8Array;
      takenFrom = record;
    }
    return body;
  }
  if (undici !== undefined) {
    const body = undici.body(response);
    return body === null ? NO_BODY : body;
  }
  if (bunBytes === undefined) return undefined;
  // Bun: a string or Blob body nobody has touched is written from what it was made of (ffi/bun_response_type.ts), else taken with bytes().
  const text = bunString?.(response);
  if (text !== undefined) return text;
  const blob = bunBlob?.(response);
  if (blob !== undefined) {
    // A copy of an in-memory Blob read at once, freed once sent; the response's own body is left unread.
    const bytes = bunBlobBytes?.(blob);
    if (bytes !== undefined) return (taken = bytes);
  }
  return (taken = bunBytes(response));
}

/**
 * Frees `body` at once when it is what {@link staticBody} last took out of
 * a response, which nobody else holds, and is 16 KiB or more: call it once
 * its bytes were sent or copied. On Bun that is the buffer `bytes()` gave.
 * On Deno the copy its `Response` constructor made is marked used (of any
 * size), as Deno's own server leaves it: reading it again throws "Body
 * already consumed", a second answer with it takes the stream path and
 * fails as there; it is freed too when no clone of the response shares it
 * (`clone()` gives the clone that very array: clones are noted as they are
 * made, see ffi/deno_response_body.ts; a response made before this module was loaded,
 * whose clones may not be known, is never freed). The runtime would otherwise keep each
 * such body until its next garbage collection, and the fresh memory of
 * the next one costs page faults and `brk` calls (a 64 KiB body per
 * request here: ~2 faults per request without this, 0.02–0.04 with).
 * Anything else (Node's bodies are still their responses') is left alone.
 *
 * @example
 * ```ts
 * import { releaseTakenBody, staticBody } from "./response_peek.ts";
 * const body = staticBody(new Response(new Uint8Array(4)));
 * if (body instanceof Uint8Array) releaseTakenBody(body);
 * ```
 */
export function releaseTakenBody(body: Uint8Array): void {
  if (body !== taken) return;
  const from = takenFrom;
  taken = undefined;
  takenFrom = undefined;
  release(body, from);
}

/**
 * A body {@link staticBody} took out of a response, handed over by
 * {@link claimTakenBody} to be released once its bytes are sent or copied
 * (later than the write that took it: the HTTP/2 writer queues them).
 *
 * @example
 * ```ts
 * import type { TakenBody } from "./response_peek.ts";
 * const claim: TakenBody | undefined = undefined;
 * console.log(claim === undefined); // true
 * ```
 */
export interface TakenBody {
  /** The bytes taken. */
  readonly bytes: Uint8Array;
  /** Deno: the static body record they came from. */
  readonly from: DenoBodyRecord | undefined;
}

/**
 * Takes over what {@link releaseTakenBody} would do for `body` now, to do
 * it later with {@link releaseClaimedBody}: undefined when `body` is not
 * what {@link staticBody} last took (then nothing is ever to be released).
 * Call it in the write that took `body`, as {@link releaseTakenBody}.
 *
 * @example
 * ```ts
 * import { claimTakenBody, releaseClaimedBody, staticBody } from "./response_peek.ts";
 * const body = staticBody(new Response(new Uint8Array(4)));
 * const claim = body instanceof Uint8Array ? claimTakenBody(body) : undefined;
 * // ... once the bytes were sent or copied:
 * if (claim !== undefined) releaseClaimedBody(claim);
 * ```
 */
export function claimTakenBody(body: Uint8Array): TakenBody | undefined {
  if (body !== taken) return undefined;
  const claim = { bytes: body, from: takenFrom };
  // Deno: used from now on (as Deno's own server leaves a body it took), so
  // that nothing reads the array out of the response (bytes(), its stream)
  // while the bytes wait to be sent and it may be freed after.
  if (takenFrom !== undefined) deno?.markUsed(takenFrom);
  taken = undefined;
  takenFrom = undefined;
  return claim;
}

/**
 * Releases a body claimed with {@link claimTakenBody}, as
 * {@link releaseTakenBody} would have: call it once its bytes were sent or
 * copied, and once only.
 *
 * @example
 * ```ts
 * import { claimTakenBody, releaseClaimedBody, staticBody } from "./response_peek.ts";
 * const body = staticBody(new Response(new Uint8Array(4)));
 * const claim = body instanceof Uint8Array ? claimTakenBody(body) : undefined;
 * if (claim !== undefined) releaseClaimedBody(claim);
 * ```
 */
export function releaseClaimedBody(claim: TakenBody): void {
  release(claim.bytes, claim.from);
}

function release(body: Uint8Array, from: DenoBodyRecord | undefined): void {
  if (from !== undefined) {
    // Deno: marked used, and freed only when no clone shares the array. A
    // clone (Response.clone(): a cache's copy, a logger's) holds this very
    // array: freeing it would leave the clone's body detached (an empty
    // body when served, a TypeError when read). Clones are noted as they
    // are made (ffi/deno_response_body.ts), so only a record made since can be freed;
    // where they cannot be noted, nothing is.
    if (deno === undefined) return;
    deno.markUsed(from);
    if (!deno.mayFree(from, body)) return;
  }
  // A small one is left to the collector: detaching costs more than it saves (~0.5 µs for 1 KiB here).
  if (body.byteLength >= RELEASE_MIN && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength) detachBuffer(body.buffer as ArrayBuffer);
}

/**
 * Calls `fn` with every header field of `response` (lower-case name,
 * value; each `Set-Cookie` on its own), as iterating `response.headers`
 * does, but without sorting (and without its iterator on Node and Deno).
 *
 * @example
 * ```ts
 * import { forEachResponseField } from "./response_peek.ts";
 * forEachResponseField(new Response("x", { headers: { "X-A": "1" } }), (name, value) => console.log(name, value));
 * ```
 */
export function forEachResponseField(response: Response, fn: (name: string, value: string) => void): void {
  response = realResponseOf(response);
  if (deno !== undefined) {
    if (deno.forEachField(response, fn)) return;
  } else if (undici !== undefined && undici.forEachField(response, fn)) return;
  // forEach, not the iterator: the same fields in the same order (Set-Cookie
  // lines apart), without an entry array per field (Bun: 0.6-0.8 against
  // 1.2-1.3 µs for a response with one field), nor a closure.
  publicFieldFn = fn;
  const implied = impliedType === undefined ? undefined : impliedType(response);
  if (implied === undefined) {
    response.headers.forEach(publicField);
    return;
  }
  // Bun: a body's type its headers do not hold, sent as Node's and Deno's
  // headers would hold it (ffi/bun_response_type.ts), unless a field gives one.
  sawType = false;
  response.headers.forEach(publicFieldSeeingType);
  if (!sawType) fn("content-type", implied);
}

/**
 * The Content-Type `response` is sent with: its header field, or on Bun the
 * one its body implies that Bun keeps out of `headers` (a string body's,
 * as Node's and Deno's `headers` hold it; see ffi/bun_response_type.ts);
 * null when it has none. For code that looks at or copies a response's
 * fields (compression) and must see what {@link forEachResponseField} gives.
 *
 * @example
 * ```ts
 * import { responseContentType } from "./response_peek.ts";
 * console.log(responseContentType(new Response("hi"))); // "text/plain;charset=UTF-8"
 * console.log(responseContentType(new Response(new Uint8Array(1)))); // null
 * ```
 */
export function responseContentType(response: Response): string | null {
  const type = response.headers.get("content-type");
  if (type !== null || impliedType === undefined) return type;
  return impliedType(realResponseOf(response)) ?? null;
}

/** Bun: the Content-Type a body implies that its headers do not hold (undefined elsewhere). */
const impliedType = bunImpliedType;
/** Whether {@link publicFieldSeeingType} met a Content-Type. */
let sawType = false;

function publicFieldSeeingType(value: string, name: string): void {
  if (name === "content-type") sawType = true;
  publicFieldFn(name, value);
}

/** What {@link forEachResponseField} calls for each field it reads through `headers.forEach`. */
let publicFieldFn: (name: string, value: string) => void = ignoreField;

function ignoreField(_name: string, _value: string): void {}

function publicField(value: string, name: string): void {
  publicFieldFn(name, value);
}
