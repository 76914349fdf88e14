/**
 * Request bodies: every body `fetch` and `request` take, turned into one
 * shape the connection writes — bytes in memory (sent with the head, and
 * replayable for a redirect or a retry), or a stream of chunks with a known
 * length (Content-Length) or none (chunked).
 *
 * @example
 * ```ts
 * import { toRequestBody } from "./request_body.ts";
 * const body = await toRequestBody(new URLSearchParams({ q: "a b" }));
 * console.log(body?.length, body?.contentType); // 5 "application/x-www-form-urlencoded;charset=UTF-8"
 * ```
 *
 * @module
 */

/**
 * What a request body can be: a string, bytes, a Blob, FormData,
 * URLSearchParams, a ReadableStream or any (async) iterable of bytes.
 *
 * @example
 * ```ts
 * import type { RequestBodyInit } from "./request_body.ts";
 * const bodies: RequestBodyInit[] = ["text", new Uint8Array(2), new Blob(["x"]), null];
 * ```
 */
export type RequestBodyInit =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | FormData
  | URLSearchParams
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>
  | null
  | undefined;

/**
 * A body ready to write.
 *
 * @example
 * ```ts
 * import type { RequestBody } from "./request_body.ts";
 * const fixed: RequestBody = { length: 2, bytes: Uint8Array.of(104, 105), chunks: null, replayable: true, contentType: null };
 * ```
 */
export interface RequestBody {
  /** Bytes in all, or -1 when unknown (sent chunked). */
  length: number;
  /** The whole body, when it is in memory. */
  bytes: Uint8Array | null;
  /** Otherwise: makes the chunks (again, when `replayable`). */
  chunks: (() => AsyncIterable<Uint8Array>) | null;
  /** Whether it can be sent a second time (redirect 307/308, retry). */
  replayable: boolean;
  /** The Content-Type the body implies (FormData, URLSearchParams, a typed Blob), or null. */
  contentType: string | null;
}

const encoder = new TextEncoder();

/**
 * A body of bytes in memory (replayable, its length known).
 *
 * @example
 * ```ts
 * import { bytesBody } from "./request_body.ts";
 * const body = bytesBody(new TextEncoder().encode("hi"), "text/plain");
 * console.log(body.length, body.replayable); // 2 true
 * ```
 */
export function bytesBody(bytes: Uint8Array, contentType: string | null = null): RequestBody {
  return { length: bytes.length, bytes, chunks: null, replayable: true, contentType };
}

async function* readStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield toBytes(value);
    }
  } finally {
    reader.releaseLock();
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return encoder.encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`a request body chunk must be bytes or a string, got ${typeof value}`);
}

async function* fromIterable(source: AsyncIterable<unknown> | Iterable<unknown>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source as AsyncIterable<unknown>) yield toBytes(chunk);
}

/**
 * Turns a body into a {@link RequestBody}; null for no body. FormData is
 * encoded as multipart/form-data (by the runtime's own `Response`).
 *
 * @throws TypeError for a value that is not a body.
 * @example
 * ```ts
 * import { toRequestBody } from "./request_body.ts";
 * const body = await toRequestBody("héllo");
 * console.log(body?.length); // 6
 * ```
 */
export async function toRequestBody(init: RequestBodyInit): Promise<RequestBody | null> {
  const sync = toRequestBodySync(init);
  if (sync !== undefined) return sync;
  if (init instanceof FormData) {
    const encoded = new Response(init);
    // Read before the body: Bun drops the field once the body is consumed.
    const type = encoded.headers.get("content-type");
    return bytesBody(new Uint8Array(await encoded.arrayBuffer()), type);
  }
  throw new TypeError(`unsupported request body: ${Object.prototype.toString.call(init)}`);
}

/**
 * {@link toRequestBody} for every body that needs no waiting (all but
 * FormData); undefined for those. Bytes (a Uint8Array, an ArrayBuffer or
 * another view) are copied: what the caller does with its buffer after
 * the call (changes, a transfer that detaches it) does not reach the wire.
 *
 * @example
 * ```ts
 * import { toRequestBodySync } from "./request_body.ts";
 * console.log(toRequestBodySync("hi")?.length); // 2
 * ```
 */
export function toRequestBodySync(init: RequestBodyInit): RequestBody | null | undefined {
  if (init === null || init === undefined) return null;
  if (typeof init === "string") return bytesBody(encoder.encode(init), "text/plain;charset=UTF-8");
  // Bytes are copied now, as fetch's "extract a body" copies a BufferSource:
  // the caller may change, resize or detach (transfer) its buffer as soon as
  // the call returns, while the body is sent later (after the connection, a
  // 100-continue, or a window of HTTP/2 flow control) and again on a redirect
  // or retry. A buffer detached already is an empty body, as WebIDL reads it.
  // (A detached view or buffer has no bytes; slice() would throw on it.)
  if (init instanceof Uint8Array) return bytesBody(init.byteLength === 0 ? new Uint8Array(0) : init.slice());
  if (init instanceof ArrayBuffer) return bytesBody(init.byteLength === 0 ? new Uint8Array(0) : new Uint8Array(init.slice(0)));
  if (ArrayBuffer.isView(init)) {
    return bytesBody(init.byteLength === 0 ? new Uint8Array(0) : new Uint8Array(init.buffer.slice(init.byteOffset, init.byteOffset + init.byteLength)));
  }
  if (init instanceof URLSearchParams) {
    return bytesBody(encoder.encode(init.toString()), "application/x-www-form-urlencoded;charset=UTF-8");
  }
  if (typeof Blob !== "undefined" && init instanceof Blob) {
    const blob = init;
    return {
      length: blob.size,
      bytes: null,
      chunks: () => readStream(blob.stream() as ReadableStream<Uint8Array>),
      replayable: true,
      contentType: blob.type === "" ? null : blob.type,
    };
  }
  if (typeof FormData !== "undefined" && init instanceof FormData) return undefined;
  if (typeof ReadableStream !== "undefined" && init instanceof ReadableStream) {
    let taken = false;
    return {
      length: -1,
      bytes: null,
      chunks: () => {
        if (taken) throw new TypeError("a ReadableStream body can be sent once");
        taken = true;
        return readStream(init);
      },
      replayable: false,
      contentType: null,
    };
  }
  const it = init as { [Symbol.asyncIterator]?: unknown; [Symbol.iterator]?: unknown };
  if (typeof it[Symbol.asyncIterator] === "function" || typeof it[Symbol.iterator] === "function") {
    let taken = false;
    return {
      length: -1,
      bytes: null,
      chunks: () => {
        if (taken) throw new TypeError("an iterable body can be sent once");
        taken = true;
        return fromIterable(init as AsyncIterable<unknown>);
      },
      replayable: false,
      contentType: null,
    };
  }
  throw new TypeError(`unsupported request body: ${Object.prototype.toString.call(init)}`);
}
