/**
 * Bun only: the Content-Type the fetch standard's "extract a body" gives a
 * `Response`'s body, where Bun keeps it out of `response.headers`.
 *
 * The standard's `Response` constructor adds that type to the header list
 * when the init's headers have none: `text/plain;charset=UTF-8` for a
 * string, `application/x-www-form-urlencoded;charset=UTF-8` for
 * `URLSearchParams`, `multipart/form-data; boundary=…` for `FormData`, a
 * Blob's (or File's) non-empty `type`; none for bytes, an `ArrayBuffer` or
 * a stream. Node's and Deno's constructors do; Bun 1.x (1.4.5 here) keeps
 * it beside the body instead, where its own server finds it but a server
 * of JavaScript that writes `response.headers` does not:
 *
 * - a string body's type is never in `headers` (`new Response("x")
 *   .headers.get("content-type")` is null), and nothing public tells a
 *   string body from a byte body afterwards (`bytes()`, `blob()`'s type,
 *   the memory estimate, `clone()` answer alike);
 * - a Blob's, `FormData`'s or `URLSearchParams`'s type is put into the
 *   list when `headers` is first read, but only if the body was not read
 *   first: after `response.body` or `bytes()` it is gone for good.
 *
 * So on Bun, from this module's load on, `globalThis.Response` is a
 * subclass of Bun's (instances are Bun's own responses: Bun's server and
 * APIs take them; `instanceof Response` holds for Bun's responses from
 * `fetch` too; subclasses made of it work). Its constructor marks a
 * response with a string body (an own symbol-keyed property: ~10 ns a
 * response here against ~100 for the construction) and reads `headers` at
 * once for a Blob, `FormData` or `URLSearchParams` body, so that Bun's type
 * is in the list before anyone reads the body: the list then is what
 * Node's and Deno's hold, and deleting the field there removes it as on
 * Node and Deno. {@link bunImpliedType} answers a string body's type for
 * the server to add when the list has none. `clone()` of a marked
 * response is marked too.
 *
 * The constructor also keeps the string itself, and the subclass's `body`
 * getter forgets it once the body's stream is asked for: while the string
 * is kept and `bodyUsed` is false, nobody has read, locked or disturbed
 * the body, and {@link bunStringBody} hands the string to the server, which
 * writes it as it does on Node and Deno (their responses keep the source
 * too), without `bytes()`, its promise and its UTF-8 buffer
 * (ffi/bun_response_bytes.ts). The response's body is then left unread, as
 * on Node and Deno. Clones are not Bun's instances of the subclass: their
 * strings are not kept, and they go the `bytes()` way. A `Blob` (or
 * `File`) body is kept alike until the stream is asked for
 * ({@link bunBlobBody}): the server reads a Blob Bun holds in memory
 * itself (the response shares the Blob, which cannot change; see
 * ffi/bun_response_bytes.ts `bunBlobBytes`) instead of the response's
 * stream, and leaves the response's body unread, as on Node and Deno.
 *
 * What stays different on Bun: a string body's type cannot be deleted
 * (`response.headers.delete("content-type")` finds nothing to delete, and
 * the type is still sent, as Bun's own server sends it); responses made
 * before this module loaded, or by a subclass of Bun's class declared
 * before it, are not known, so a string body among them goes out without
 * a type (as before). Where Bun puts a string body's type into `headers`
 * itself (checked at load), nothing is installed and
 * {@link bunImpliedType} is undefined.
 *
 * @example
 * ```ts
 * import { bunImpliedType } from "./bun_response_type.ts";
 * const type = bunImpliedType?.(new Response("hi"));
 * console.log(type === undefined || type === "text/plain;charset=UTF-8"); // true
 * ```
 *
 * @module
 */
// First: its load-time check of Bun's memory estimate must meet Bun's own class.
import "./bun_response_bytes.ts";
import { detectRuntime } from "./runtime.ts";

/** The type of a string body (the fetch standard's spelling, as Node and Deno send it). */
const TEXT_TYPE = "text/plain;charset=UTF-8";

type ResponseClass = typeof Response;

/**
 * The mark of a response with a string body (an own property: ~8 ns a
 * response here; a private field would cost ~20 and change every
 * response's memory estimate, which ffi/bun_response_bytes.ts reads).
 */
const TEXT = Symbol("ffinet.textBody");
/** The string body of a response of the subclass, until its `body` getter is used (then undefined). */
const STRING = Symbol("ffinet.stringBody");
/** The Blob (or File) body of a response of the subclass, until its `body` getter is used (then undefined). */
const BLOB = Symbol("ffinet.blobBody");

function isText(response: object): boolean {
  return (response as Record<symbol, unknown>)[TEXT] === true;
}

/** A body whose type Bun gives only through `headers`, read before the body: not a string, bytes or a stream. */
function typedBody(body: unknown): boolean {
  if (typeof body !== "object" || body === null) return false;
  if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer || body instanceof ReadableStream) return false;
  return (typeof Blob === "function" && body instanceof Blob) ||
    (typeof FormData === "function" && body instanceof FormData) ||
    (typeof URLSearchParams === "function" && body instanceof URLSearchParams);
}

interface Installed {
  implied: (response: Response) => string | undefined;
  stringBody: (response: Response) => string | undefined;
  blobBody: (response: Response) => Blob | undefined;
}

function install(): Installed | undefined {
  if (detectRuntime() !== "bun") return undefined;
  const Native = globalThis.Response as ResponseClass;
  if (typeof Native !== "function") return undefined;
  // A Bun that follows the standard here needs nothing.
  if (new Native("probe").headers.get("content-type") !== null) return undefined;
  const nativeClone = Native.prototype.clone;
  const nativeBody = Object.getOwnPropertyDescriptor(Native.prototype, "body")?.get;
  if (typeof nativeBody !== "function") return undefined;
  class TypedResponse extends Native {
    constructor(body?: BodyInit | null, init?: ResponseInit) {
      super(body, init);
      if (typeof body === "string") {
        (this as unknown as Record<symbol, unknown>)[TEXT] = true;
        (this as unknown as Record<symbol, unknown>)[STRING] = body;
      } else if (typedBody(body)) {
        void this.headers;
        if (body instanceof Blob) (this as unknown as Record<symbol, unknown>)[BLOB] = body;
      }
    }
    override clone(): Response {
      const copy = nativeClone.call(this);
      if ((this as unknown as Record<symbol, unknown>)[TEXT] === true) (copy as unknown as Record<symbol, boolean>)[TEXT] = true;
      return copy;
    }
  }
  Object.defineProperty(TypedResponse.prototype, "body", {
    // The stream is asked for: the string may be read, locked or cancelled from now on.
    get(this: Response): ReadableStream<Uint8Array> | null {
      const self = this as unknown as Record<symbol, unknown>;
      if (self[STRING] !== undefined) self[STRING] = undefined;
      if (self[BLOB] !== undefined) self[BLOB] = undefined;
      return nativeBody.call(this);
    },
    configurable: true,
    enumerable: true,
  });
  Object.defineProperty(TypedResponse, "name", { value: "Response" });
  Object.defineProperty(TypedResponse, Symbol.hasInstance, {
    // Bun's own responses (fetch's, Response.json's) are Responses too; a subclass's instanceof is the usual one.
    value: function (this: unknown, x: unknown): boolean {
      if (this === TypedResponse) return x instanceof Native;
      return Function.prototype[Symbol.hasInstance].call(this, x);
    },
  });
  // Checked on responses made now; else the runtime's class stays.
  try {
    const made = new TypedResponse("x");
    const bytes = new TypedResponse(new Uint8Array(1));
    if (!isText(made) || isText(bytes) || !isText(made.clone()) || !(made instanceof Native)) return undefined;
    const read = new TypedResponse("y");
    if (stringOf(read) !== "y" || read.body === null || stringOf(read) !== undefined) return undefined;
    const blob = new Blob(["z"]);
    const fromBlob = new TypedResponse(blob);
    if (blobOf(fromBlob) !== blob || blobOf(bytes) !== undefined || fromBlob.body === null || blobOf(fromBlob) !== undefined) return undefined;
  } catch {
    return undefined;
  }
  Object.defineProperty(globalThis, "Response", { value: TypedResponse, writable: true, configurable: true });
  return { implied: (response) => isText(response) ? TEXT_TYPE : undefined, stringBody: stringOf, blobBody: blobOf };
}

/** The kept string of a response nobody has read, locked or disturbed the body of (see the module text). */
function stringOf(response: Response): string | undefined {
  const s = (response as unknown as Record<symbol, unknown>)[STRING];
  return typeof s === "string" && !response.bodyUsed ? s : undefined;
}

/** The kept Blob of a response nobody has read, locked or disturbed the body of (see {@link bunBlobBody}). */
function blobOf(response: Response): Blob | undefined {
  const b = (response as unknown as Record<symbol, unknown>)[BLOB];
  return b !== undefined && !response.bodyUsed ? b as Blob : undefined;
}

const installed = install();

/**
 * On Bun, the Content-Type `response`'s body implies that Bun keeps out of
 * its `headers` (a string body's, `text/plain;charset=UTF-8`), for the
 * server to send when the header list has no Content-Type; undefined for
 * any other response. Undefined itself on Node and Deno, whose `headers`
 * hold it (see the module text).
 *
 * @example
 * ```ts
 * import { bunImpliedType } from "./bun_response_type.ts";
 * console.log(bunImpliedType?.(new Response(new Uint8Array(1)))); // undefined
 * ```
 */
export const bunImpliedType: ((response: Response) => string | undefined) | undefined = installed?.implied;

/**
 * On Bun, the string a `Response` was made from while nobody has read,
 * locked or disturbed its body (its `body` getter never used, `bodyUsed`
 * false), for the server to write as it is; undefined for any other
 * response (bytes, a stream, a clone, a response made before this module
 * loaded, a used body). Undefined itself on Node and Deno, whose
 * responses keep their source where ffi/undici_response_body.ts and
 * ffi/deno_response_body.ts find it (see the module text).
 *
 * @example
 * ```ts
 * import { bunStringBody } from "./bun_response_type.ts";
 * const response = new Response("hi");
 * console.log(bunStringBody === undefined || bunStringBody(response) === "hi"); // true
 * void response.body;
 * console.log(bunStringBody?.(response)); // undefined
 * ```
 */
export const bunStringBody: ((response: Response) => string | undefined) | undefined = installed?.stringBody;

/**
 * On Bun, the `Blob` (or `File`) a `Response` was made from while nobody
 * has read, locked or disturbed its body (its `body` getter never used,
 * `bodyUsed` false), for the server to read instead of the response's
 * stream (an in-memory one at once: `bunBlobBytes` in
 * ffi/bun_response_bytes.ts), as Node's and Deno's responses keep theirs;
 * undefined for any other response (a clone, a response made before this
 * module loaded, a used body). A Blob cannot change, and the response
 * shares it rather than copying it, so what is read is the response's
 * body. Undefined itself on Node and Deno.
 *
 * @example
 * ```ts
 * import { bunBlobBody } from "./bun_response_type.ts";
 * const blob = new Blob(["hi"]);
 * console.log(bunBlobBody === undefined || bunBlobBody(new Response(blob)) === blob); // true
 * ```
 */
export const bunBlobBody: ((response: Response) => Blob | undefined) | undefined = installed?.blobBody;
