/**
 * `bufferedResponse(bytes, init)`: the runtime's `Response` for a body that
 * had fully arrived when the head was handed over, without the body stream
 * the runtime would build for it. On Node, undici's `Response` turns any
 * body into a `ReadableStream` at once, and `arrayBuffer()` reads it back
 * through a reader: ~15–20 µs of a 1 KiB response (against ~3 µs for the
 * same Response without a body), the largest part of `fetch` over HTTP/2
 * there. The object is a real `Response` (`instanceof`, status, headers,
 * `clone()`), made with no body; `arrayBuffer`, `text`, `json`, `blob`,
 * `bytes` hand over the kept bytes, and `body` (a stream), `formData` or a
 * `clone()` after use make the runtime's own Response of them then.
 *
 * Only where the runtime's Response is plain JavaScript that reads its body
 * through these methods (Node): a server of Bun or Deno handed a Response
 * reads its internal body, which this one leaves empty.
 *
 * @example
 * ```ts
 * import { bufferedResponse } from "./buffered_response.ts";
 * const r = bufferedResponse(new TextEncoder().encode("hi"), { status: 200 });
 * console.log(r instanceof Response, await r.text()); // true "hi"
 * ```
 *
 * @module
 */
import { runtimeCapabilities } from "../../ffi/runtime.ts";

const decoder = new TextDecoder();

/**
 * The key under which a buffered response hands its unread bytes to a
 * server that writes it (`serve`'s response peek), without relying on the
 * runtime's private fields: `response[BUFFERED_BYTES]` is the bytes while
 * unread and the runtime's body not made, undefined otherwise.
 */
const BUFFERED_BYTES: unique symbol = Symbol.for("ffinet.bufferedBytes") as never;

function usedError(): TypeError {
  return new TypeError("Body is unusable: Body has already been read");
}

/**
 * A `Response` keeping its whole body as bytes until something needs the
 * runtime's body. See the module documentation.
 */
class BufferedResponse extends Response {
  #bytes: Uint8Array<ArrayBuffer> | null;
  /** The runtime's Response of the same body, once made (`body`, `formData`, a use after a use). */
  #real: Response | undefined;

  constructor(bytes: Uint8Array<ArrayBuffer>, init: ResponseInit) {
    super(null, init);
    this.#bytes = bytes;
  }

  /** The runtime's Response of the body; a used body gives a used one. */
  #materialize(): Response {
    if (this.#real === undefined) {
      const real = new Response(this.#bytes ?? new Uint8Array(0), { status: this.status, statusText: this.statusText, headers: this.headers });
      if (this.#bytes === null) void real.arrayBuffer().catch(() => {});
      this.#real = real;
    }
    return this.#real;
  }

  /** The bytes, once: null after a use. */
  #take(): Uint8Array<ArrayBuffer> | null {
    const b = this.#bytes;
    this.#bytes = null;
    return b;
  }

  /** The bytes while unread and the runtime's body not made (what `serve` writes directly). */
  get [BUFFERED_BYTES](): Uint8Array<ArrayBuffer> | undefined {
    return this.#real === undefined && this.#bytes !== null ? this.#bytes : undefined;
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#materialize().body;
  }

  override get bodyUsed(): boolean {
    return this.#real !== undefined ? this.#real.bodyUsed : this.#bytes === null;
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#real !== undefined) return this.#real.arrayBuffer();
    const b = this.#take();
    if (b === null) return Promise.reject(usedError());
    return Promise.resolve(b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer : b.slice().buffer);
  }

  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    const real = this.#real;
    if (real !== undefined) return typeof real.bytes === "function" ? real.bytes() : real.arrayBuffer().then((a) => new Uint8Array(a));
    const b = this.#take();
    return b === null ? Promise.reject(usedError()) : Promise.resolve(b);
  }

  override text(): Promise<string> {
    if (this.#real !== undefined) return this.#real.text();
    const b = this.#take();
    return b === null ? Promise.reject(usedError()) : Promise.resolve(decoder.decode(b));
  }

  override json(): Promise<unknown> {
    if (this.#real !== undefined) return this.#real.json();
    const b = this.#take();
    if (b === null) return Promise.reject(usedError());
    try {
      return Promise.resolve(JSON.parse(decoder.decode(b)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override blob(): Promise<Blob> {
    if (this.#real !== undefined) return this.#real.blob();
    const b = this.#take();
    if (b === null) return Promise.reject(usedError());
    const type = this.headers.get("content-type");
    return Promise.resolve(new Blob([b], type === null ? {} : { type }));
  }

  override formData(): Promise<FormData> {
    return this.#materialize().formData();
  }

  override clone(): Response {
    if (this.#real !== undefined || this.#bytes === null) return this.#materialize().clone();
    const copy = new BufferedResponse(this.#bytes.slice(), { status: this.status, statusText: this.statusText, headers: this.headers });
    Object.defineProperty(copy, "url", { value: this.url, configurable: true, enumerable: true });
    if (this.redirected) Object.defineProperty(copy, "redirected", { value: true, configurable: true, enumerable: true });
    return copy;
  }
}

/** Whether the runtime's Response builds a stream for every body (Node's undici), so keeping the bytes pays. */
export const BUFFERED_RESPONSES_PAY: boolean = runtimeCapabilities.responseBodiesAreStreams;

/**
 * A `Response` of `bytes` that makes no body stream unless one is asked for.
 * See the module documentation.
 *
 * @example
 * ```ts
 * import { bufferedResponse } from "./buffered_response.ts";
 * const r = bufferedResponse(new TextEncoder().encode('{"a":1}'), { status: 200, headers: [["content-type", "application/json"]] });
 * console.log((await r.clone().json() as { a: number }).a, r.bodyUsed); // 1 false
 * ```
 */
export function bufferedResponse(bytes: Uint8Array<ArrayBuffer>, init: ResponseInit): Response {
  return new BufferedResponse(bytes, init);
}
