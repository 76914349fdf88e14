/**
 * Writing a WHATWG `Response` on an HTTP/1.1 connection: the head (status
 * line, the handler's fields, `Date`, framing, `Connection`), then the
 * body with `Content-Length` when its length is known before the first
 * byte goes out, else chunked (HTTP/1.0: read until close).
 *
 * A body whose bytes are all there at once (a string, `Uint8Array`, `Blob`
 * or a stream that is already closed) is read in the same turn and sent
 * with its head in one write; only a body that makes the reader wait is
 * streamed, chunk by chunk, each write waiting for the socket to drain
 * past its high-water mark. (The runtimes keep the source of a `Response`
 * body private, so "all there at once" is what the reader sees: every read
 * that settles within a few microtasks.)
 *
 * @example
 * ```ts
 * import { writeResponse } from "./respond.ts";
 * const sent: Uint8Array[] = [];
 * const sink = { send: (b: Uint8Array) => (sent.push(b.slice()), true), drained: () => Promise.resolve(), gone: false };
 * await writeResponse(sink, new Response("hello"), { head: false, http10: false, close: false });
 * console.log(new TextDecoder().decode(sent[0])); // "HTTP/1.1 200 OK\r\ncontent-type: …\r\nContent-Length: 5\r\n…hello"
 * ```
 *
 * @module
 */
import { formatHTTPDate } from "../core/date.ts";
import { reasonPhrase } from "../core/status.ts";
import { encodeChunk } from "../h1/chunked.ts";
import { writeResponseHead } from "../h1/serializer.ts";

/**
 * Where a response goes: `send` queues bytes (it copies what it cannot
 * send now) and returns false at the high-water mark; `drained` resolves
 * when more may be sent (or the connection is gone); `gone` tells that the
 * connection closed.
 *
 * @example
 * ```ts
 * import type { ResponseSink } from "./respond.ts";
 * const sink: ResponseSink = { send: () => true, drained: () => Promise.resolve(), gone: false };
 * ```
 */
export interface ResponseSink {
  send(bytes: Uint8Array): boolean;
  drained(): Promise<void>;
  readonly gone: boolean;
}

/**
 * What the request said about how to answer it.
 *
 * @example
 * ```ts
 * import type { ResponseContext } from "./respond.ts";
 * const ctx: ResponseContext = { head: true, http10: false, close: false };
 * ```
 */
export interface ResponseContext {
  /** A HEAD request: the head only (with the length a GET would get, when known at once). */
  head: boolean;
  /** The request was HTTP/1.0: no chunked coding; `Connection: keep-alive` when the connection persists. */
  http10: boolean;
  /** The connection closes after this response (`Connection: close` is sent). */
  close: boolean;
  /** Set by {@link writeResponse} once the head went out. */
  headSent?: boolean;
}

let dateSecond = -1;
let dateText = "";

/**
 * The `Date` field value, made at most once a second.
 *
 * @example
 * ```ts
 * import { httpDate } from "./respond.ts";
 * console.log(httpDate()); // e.g. "Sun, 06 Dec 2026 03:00:00 GMT"
 * ```
 */
export function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = formatHTTPDate(second * 1000);
  }
  return dateText;
}

const encoder = new TextEncoder();
const NOT_YET = Symbol("not yet");
/** Microtask hops a read may take and still count as "there at once". */
const SOON_HOPS = 16;
/** Most bytes gathered for a Content-Length response before streaming instead. */
const GATHER_MAX = 1 << 20;
const LAST_CHUNK = encoder.encode("0\r\n\r\n");
let scratch = new Uint8Array(16384);

async function settlesSoon<T>(promise: Promise<T>): Promise<T | typeof NOT_YET> {
  let state = 0;
  let value: T | undefined;
  let error: unknown;
  promise.then((v) => {
    state = 1;
    value = v;
  }, (e) => {
    state = 2;
    error = e;
  });
  for (let i = 0; i < SOON_HOPS && state === 0; i++) await undefined;
  if (state === 2) throw error;
  return state === 1 ? value as T : NOT_YET;
}

function bodyless(status: number): boolean {
  return status === 204 || status === 304 || status < 200;
}

/** The head's bytes, with `extra` appended (copied into a shared scratch buffer: `send` copies what it keeps). */
function encodeHead(response: Response, fields: Array<[string, string]>, extra: Uint8Array[]): Uint8Array {
  let extraBytes = 0;
  for (const part of extra) extraBytes += part.length;
  const head = { status: response.status, reason: response.statusText || reasonPhrase(response.status), headers: fields };
  for (;;) {
    const end = writeResponseHead(scratch, 0, head);
    if (end >= 0 && end + extraBytes <= scratch.length) {
      let at = end;
      for (const part of extra) {
        scratch.set(part, at);
        at += part.length;
      }
      return scratch.subarray(0, at);
    }
    const want = Math.max(scratch.length * 2, end + extraBytes + 1024);
    if (want > (4 << 20)) {
      // a large body: the head alone here, the body sent by the caller
      const out = new Uint8Array(end >= 0 ? end : scratch.length * 4);
      const e = writeResponseHead(out, 0, head);
      if (e >= 0) return out.subarray(0, e);
      scratch = new Uint8Array(scratch.length * 4);
      continue;
    }
    scratch = new Uint8Array(want);
  }
}

/**
 * The response's own fields, without those this layer decides (framing,
 * `Connection`); `Date` is added unless the handler set one. Returns the
 * handler's `Content-Length`, or -1.
 */
function copyFields(response: Response, fields: Array<[string, string]>): number {
  let length = -1;
  let date = false;
  for (const [name, value] of response.headers) {
    switch (name) {
      case "content-length": {
        const n = Number(value);
        if (value !== "" && Number.isSafeInteger(n) && n >= 0) length = n;
        continue;
      }
      case "transfer-encoding":
      case "connection":
      case "keep-alive":
        continue;
      case "date":
        date = true;
    }
    fields.push([name, value]);
  }
  if (!date) fields.push(["Date", httpDate()]);
  return length;
}

function connectionField(ctx: ResponseContext, fields: Array<[string, string]>): void {
  if (ctx.close) fields.push(["Connection", "close"]);
  else if (ctx.http10) fields.push(["Connection", "keep-alive"]);
}

function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`a response body stream must give Uint8Array chunks, got ${typeof value}`);
}

/**
 * Writes `response` to `sink`. Resolves true when the connection may carry
 * another response, false when it must close (`ctx.close`, an HTTP/1.0
 * body read until close, a body shorter or longer than its
 * `Content-Length`, or the connection went away). Throws when the
 * response cannot be written (an invalid field, a body stream that
 * errors); `ctx.headSent` tells whether anything went out.
 *
 * @example
 * ```ts
 * import { writeResponse } from "./respond.ts";
 * const sink = { send: (_b: Uint8Array) => true, drained: () => Promise.resolve(), gone: false };
 * console.log(await writeResponse(sink, new Response(null, { status: 204 }), { head: false, http10: false, close: false })); // true
 * ```
 */
export async function writeResponse(sink: ResponseSink, response: Response, ctx: ResponseContext): Promise<boolean> {
  const status = response.status;
  if (status < 200 && status !== 101) throw new RangeError(`a handler may not answer with an interim status (${status})`);
  const fields: Array<[string, string]> = [];
  const declared = copyFields(response, fields);
  const body = response.body;
  if (bodyless(status) || body === null) {
    if (body !== null) void body.cancel().catch(() => {});
    if (!bodyless(status)) fields.push(["Content-Length", "0"]);
    connectionField(ctx, fields);
    ctx.headSent = true;
    sink.send(encodeHead(response, fields, []));
    return !ctx.close;
  }
  const reader = body.getReader();
  try {
    // Gather what is there at once.
    const chunks: Uint8Array[] = [];
    let total = 0;
    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined = reader.read();
    let streaming = false;
    for (;;) {
      const result = await settlesSoon(pending);
      if (result === NOT_YET) {
        streaming = true;
        break;
      }
      if (result.done) {
        pending = undefined;
        break;
      }
      const bytes = asBytes(result.value);
      if (bytes.length > 0) {
        chunks.push(bytes);
        total += bytes.length;
      }
      pending = reader.read();
      if (total > GATHER_MAX) {
        streaming = true;
        break;
      }
    }
    if (ctx.head) {
      if (!streaming) fields.push(["Content-Length", String(total)]);
      else if (declared >= 0) fields.push(["Content-Length", String(declared)]);
      connectionField(ctx, fields);
      ctx.headSent = true;
      sink.send(encodeHead(response, fields, []));
      return !ctx.close;
    }
    if (!streaming) {
      // Everything is here: one write, Content-Length.
      fields.push(["Content-Length", String(total)]);
      connectionField(ctx, fields);
      ctx.headSent = true;
      const headBytes = encodeHead(response, fields, total <= 65536 ? chunks : []);
      sink.send(headBytes);
      if (total > 65536) for (const chunk of chunks) sink.send(chunk);
      return !ctx.close;
    }
    // Streaming: the handler's Content-Length, else chunked (HTTP/1.0: until close).
    let mode: "length" | "chunked" | "close";
    if (declared >= 0) mode = "length";
    else if (ctx.http10) mode = "close";
    else mode = "chunked";
    if (mode === "length") fields.push(["Content-Length", String(declared)]);
    else if (mode === "chunked") fields.push(["Transfer-Encoding", "chunked"]);
    const close = ctx.close || mode === "close";
    if (close) fields.push(["Connection", "close"]);
    else if (ctx.http10) fields.push(["Connection", "keep-alive"]);
    ctx.headSent = true;
    let sentBytes = 0;
    const put = (bytes: Uint8Array): boolean => {
      sentBytes += bytes.length;
      if (mode !== "chunked") return sink.send(bytes);
      const parts = encodeChunk(bytes);
      if (bytes.length <= 8192) {
        const one = new Uint8Array(parts[0]!.length + bytes.length + 2);
        one.set(parts[0]!, 0);
        one.set(bytes, parts[0]!.length);
        one[one.length - 2] = 0x0d;
        one[one.length - 1] = 0x0a;
        return sink.send(one);
      }
      sink.send(parts[0]!);
      sink.send(bytes);
      return sink.send(parts[2]!);
    };
    let ok = sink.send(encodeHead(response, fields, []));
    for (const chunk of chunks) ok = put(chunk);
    for (;;) {
      if (!ok) {
        await sink.drained();
        if (sink.gone) return false;
      }
      const result = await pending!;
      if (sink.gone) return false;
      if (result.done) break;
      const bytes = asBytes(result.value);
      pending = reader.read();
      if (bytes.length > 0) ok = put(bytes);
      else ok = true;
    }
    pending = undefined;
    if (mode === "chunked") sink.send(LAST_CHUNK);
    if (mode === "length" && sentBytes !== declared) return false;
    return !close;
  } finally {
    // A body not read to its end (HEAD, a connection gone, an error) is cancelled.
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * The bytes of a plain error response that closes the connection (for a
 * request the parser refused, or a handler failure before anything was sent).
 *
 * @example
 * ```ts
 * import { errorResponseBytes } from "./respond.ts";
 * console.log(new TextDecoder().decode(errorResponseBytes(400)).split("\r\n")[0]); // "HTTP/1.1 400 Bad Request"
 * ```
 */
export function errorResponseBytes(status: number, close = true): Uint8Array {
  const text = reasonPhrase(status) || "Error";
  const fields: Array<[string, string]> = [
    ["Content-Type", "text/plain; charset=utf-8"],
    ["Content-Length", String(text.length)],
    ["Date", httpDate()],
  ];
  if (close) fields.push(["Connection", "close"]);
  const out = new Uint8Array(256 + text.length);
  const end = writeResponseHead(out, 0, { status, headers: fields });
  out.set(encoder.encode(text), end);
  return out.slice(0, end + text.length);
}
