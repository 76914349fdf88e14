/**
 * Writing a WHATWG `Response` on an HTTP/1.1 connection: the head (status
 * line, the handler's fields, `Date`, framing, `Connection`), then the
 * body with `Content-Length` when its length is known before the first
 * byte goes out, else chunked (HTTP/1.0: read until close), with the
 * trailers of `ctx.trailers` after the last chunk.
 *
 * Fast paths: a body made from a string or `Uint8Array` (found by
 * response_peek.ts without touching its stream) is written with its head
 * in one `send`, synchronously: {@link writeResponse} then returns a
 * boolean, not a promise. A `Blob` (a file) gets its `Content-Length` from
 * its size. Any other body is read through its stream: what is there at
 * once (every read that settles within a few microtasks) still goes out
 * with the head in one write and a `Content-Length`; only a body that
 * makes the reader wait is streamed, chunk by chunk, each write waiting
 * for the socket to drain past its high-water mark.
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
import { HTTPError } from "../../core/errors.ts";
import { isProhibitedTrailer } from "../core/trailer_fields.ts";
import { reasonPhrase } from "../core/status.ts";
import { writeChunkHeader } from "../h1/chunked.ts";
import { PARTS_MAX } from "../../socket/send_pair.ts";
import { httpDate, OutBuffer } from "./out_buffer.ts";
import { forEachResponseField, NO_BODY, releaseTakenBody, staticBody } from "./response_peek.ts";
import { type LightParts, lightParts } from "./light_response.ts";
import { TOKEN } from "../h1/tables.ts";
import { normalizeFieldValue } from "../core/headers.ts";
import { chunkBytes, gatherSettled, nextRead } from "./body_chunks.ts";
import { type FileBody, fileBodyOf, openFileBody } from "./file_body.ts";
import { closeFile } from "../../ffi/file.ts";

export { httpDate } from "./out_buffer.ts";

/**
 * Where a response goes: `send` queues bytes (it copies what it cannot
 * send now: the bytes passed are only valid during the call) and returns
 * false at the high-water mark; `drained` resolves when more may be sent
 * (or the connection is gone); `gone` tells that the connection closed.
 *
 * @example
 * ```ts
 * import type { ResponseSink } from "./respond.ts";
 * const sink: ResponseSink = { send: () => true, drained: () => Promise.resolve(), gone: false };
 * ```
 */
export interface ResponseSink {
  /** `more`: more bytes follow at once (a head before its large body; see `Connection.send`). */
  send(bytes: Uint8Array, more?: boolean): boolean;
  /**
   * `send(head, true)` then `send(body, more)`, in one system call where
   * the connection can (the body sent from its own memory).
   */
  sendPair?(head: Uint8Array, body: Uint8Array, more?: boolean): boolean;
  /**
   * `parts` in order (after what was corked), in one system call where the
   * connection can (each part sent from its own memory, up to 16).
   */
  sendParts?(parts: readonly Uint8Array[], more?: boolean): boolean;
  drained(): Promise<void>;
  readonly gone: boolean;
  /**
   * Notes the reader of a response body being streamed (undefined once it
   * is done with): when the connection closes, the sink cancels it, so a
   * read that never settles (an event stream with nothing to say) does not
   * hold the stream's source after the client went away.
   */
  streaming?(reader: ReadableStreamDefaultReader<unknown> | undefined): void;
  /**
   * A buffer to append output to directly, instead of `send` (the session
   * collecting the responses of one read), or undefined.
   */
  corkBuffer?(): OutBuffer | undefined;
  /** Whether {@link ResponseSink.sendFile} can be used now (a plain connection). */
  canSendFile?(): boolean;
  /**
   * Sends `length` bytes of the open file `fd` from `position` on, straight
   * from the file, after what was sent; `done` runs once they went or the
   * connection failed (it closes `fd`). Returns false at the high-water mark.
   */
  sendFile?(fd: number, position: number, length: number, done: (error?: Error) => void): boolean;
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
  /** The connection closes after this response (`Connection: close` is sent); set too when the response has `Connection: close`. */
  close: boolean;
  /** Trailer fields to send after the body (the body is then chunked, HTTP/1.1 only). */
  trailers?: TrailersInit;
  /** Set by {@link writeResponse} once the head went out. */
  headSent?: boolean;
  /** A CONNECT request: a 2xx to it is a tunnel (RFC 9110 §9.3.6), sent as its head alone, then the close. */
  connect?: boolean;
}

/**
 * Trailer fields for a response: fields, or a function called once the
 * body has been sent (so they can carry a checksum or timing of it).
 *
 * @example
 * ```ts
 * import type { TrailersInit } from "./respond.ts";
 * const t: TrailersInit = () => ({ "server-timing": "total;dur=12" });
 * ```
 */
export type TrailersInit = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

/** Most bytes gathered for a Content-Length response before streaming instead. */
const GATHER_MAX = 1 << 20;
/**
 * Bodies up to this size are copied beside their head (one send); larger
 * ones go with the head in one sendmsg from their own memory (two iovecs;
 * where the connection cannot, the head goes with `more` and the body in a
 * second send): that costs less than copying more than this.
 */
const INLINE_MAX = 32768;
/**
 * Strings up to this many code units are encoded straight into the head's
 * buffer (their bytes are made there either way), and a body read in
 * several chunks is copied beside its head up to this many bytes.
 */
const COPY_MAX = 65536;
/**
 * Strings up to this many code units are encoded into the reused output
 * buffer (at most 768 KiB of UTF-8: the buffer is kept up to 1 MiB), not
 * into a fresh array per response.
 */
const ENCODE_IN_PLACE_MAX = 262144;
const LAST_CHUNK = new TextEncoder().encode("0\r\n\r\n");
const CRLF = LAST_CHUNK.subarray(3);

const shared = new OutBuffer();
/** Where the bytes being built go: the shared buffer, or the sink's cork buffer from `base` on. */
let out = shared;
let base = 0;

function begin(sink: ResponseSink): void {
  const cork = sink.corkBuffer?.();
  if (cork !== undefined) {
    out = cork;
    base = cork.length;
  } else {
    out = shared;
    out.reset();
    base = 0;
  }
}

/** Sends what was built since {@link begin} (nothing to do when it went into the cork buffer); `more`: a body follows at once. */
function commit(sink: ResponseSink, more = false): boolean {
  if (out !== shared) return true;
  return sink.send(shared.view(), more);
}

/**
 * Sends what was built since {@link begin} and then `body` (large: not
 * copied beside it), both in one system call where the sink can (the
 * session pairs what it corked with a large body itself).
 */
function commitWith(sink: ResponseSink, body: Uint8Array, more = false): boolean {
  if (out !== shared) return sink.send(body, more);
  if (sink.sendPair !== undefined) return sink.sendPair(shared.view(), body, more);
  sink.send(shared.view(), true);
  return sink.send(body, more);
}
const chunkHead = new Uint8Array(16);

/**
 * What was built since {@link begin}, then `pieces`, with as few system
 * calls as the sink allows: `sendParts` (the head and up to 15 pieces a
 * call, each sent from its own memory) where it has it, else the head
 * with the first piece ({@link commitWith}) and a send per piece after.
 */
function commitPieces(sink: ResponseSink, pieces: readonly Uint8Array[], more = false): boolean {
  if (sink.sendParts === undefined) {
    let ok = commitWith(sink, pieces[0]!, more || pieces.length > 1);
    for (let i = 1; i < pieces.length; i++) ok = sink.send(pieces[i]!, more || i < pieces.length - 1);
    return ok;
  }
  // The first call carries the head too (built here, or corked in the sink).
  const first = pieces.slice(0, PARTS_MAX - 1);
  let i = first.length;
  let ok = sink.sendParts(out === shared ? [shared.view(), ...first] : first, more || i < pieces.length);
  for (; i < pieces.length; i += PARTS_MAX) {
    const group = pieces.slice(i, i + PARTS_MAX);
    ok = sink.sendParts(group, more || i + PARTS_MAX < pieces.length);
  }
  return ok;
}

function bodyless(status: number): boolean {
  return status === 204 || status === 304 || status < 200;
}

/**
 * A status whose response carries no content: the bodyless ones, and
 * `205 Reset Content`, which RFC 9110 §15.3.6 forbids content in while
 * RFC 9112 §6.3 still frames it by its fields (so it goes out with
 * `Content-Length: 0`). A body a handler gave such a response is cancelled
 * unread.
 */
function noContent(status: number): boolean {
  return status === 205 || bodyless(status);
}

/** The handler's `Content-Length` (-1: none) and whether it set `Date`, filled by {@link writeFields}. */
let declaredLength = -1;
let sawDate = false;

/** The handler's `Connection` field has the `close` option (the connection closes after this response). */
let askedClose = false;
/** The handler's response has an `Upgrade` field (it then goes with the `upgrade` connection option). */
let sawUpgrade = false;

function fieldWriter(name: string, value: string): void {
  // Names come lower-case from every runtime's Headers; the length test keeps the common case cheap.
  switch (name.length) {
    case 4:
      if (name === "date" || name.toLowerCase() === "date") sawDate = true;
      break;
    case 7:
      if (name === "upgrade" || name.toLowerCase() === "upgrade") sawUpgrade = true;
      break;
    case 10:
      // Connection is this layer's: `close` is taken, `upgrade` follows the Upgrade field (see endFields), the rest dropped.
      if (name === "connection" || name.toLowerCase() === "connection") {
        if (hasCloseOption(value)) askedClose = true;
        return;
      }
      if (name === "keep-alive" || name.toLowerCase() === "keep-alive") return;
      break;
    case 14:
      if (name === "content-length" || name.toLowerCase() === "content-length") {
        const n = Number(value);
        if (value !== "" && Number.isSafeInteger(n) && n >= 0) declaredLength = n;
        return;
      }
      break;
    case 17:
      if (name === "transfer-encoding" || name.toLowerCase() === "transfer-encoding") return;
  }
  out.field(name, value);
}

/**
 * Starts the head in the shared buffer: status line and the response's own
 * fields, without those this layer decides (framing, `Connection`); `Date`
 * is added unless the handler set one.
 */
function writeFields(sink: ResponseSink, response: Response, ctx: ResponseContext): void {
  begin(sink);
  out.statusLine(response.status, response.statusText);
  declaredLength = -1;
  sawDate = false;
  askedClose = false;
  sawUpgrade = false;
  try {
    forEachResponseField(response, fieldWriter);
  } catch (err) {
    dropHead();
    throw err;
  }
  endFields(ctx);
}

/** Takes back what was built since {@link begin}: a field refused half-way leaves no part of the head to go out before the error's answer. */
function dropHead(): void {
  out.length = base;
}

/**
 * After the handler's fields: its `close` option taken, and `Connection:
 * upgrade` exactly when an Upgrade field went out. RFC 9110 §7.8: a sender of
 * Upgrade MUST also send the `upgrade` connection option (a server may
 * advertise a protocol in a 200, and a 426 MUST send Upgrade, §15.5.22), so
 * intermediaries drop the hop-by-hop field; the option without the field
 * names nothing and is not sent.
 */
function endFields(ctx: ResponseContext): void {
  if (askedClose) ctx.close = true;
  if (sawUpgrade) out.latin1("Connection: upgrade\r\n");
  if (!sawDate) out.dateField();
}

/** Whether a `Connection` field value lists `close` (RFC 9112 §9.6; options are case-insensitive tokens). */
function hasCloseOption(value: string): boolean {
  if (value.length === 5) return value.toLowerCase() === "close";
  for (const option of value.split(",")) if (option.trim().toLowerCase() === "close") return true;
  return false;
}

let sawContentType = false;

/**
 * A light response's field, checked and normalised as `Headers` would (the
 * runtime's class never saw it): only HTTP whitespace (SP, HTAB, CR, LF) is
 * stripped from the value's ends, not `String.prototype.trim`'s wider set
 * (VT, FF, NBSP), which the runtime's `Headers` keeps and sends.
 */
function lightField(name: string, value: unknown): void {
  const v = normalizeFieldValue(typeof value === "string" ? value : String(value));
  if (name.length === 0) throw new TypeError("invalid header name: empty");
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7f || TOKEN[c] !== 1) throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
  }
  const lower = name.toLowerCase();
  if (lower === "content-type") sawContentType = true;
  fieldWriter(lower, v);
}

/** Like {@link writeFields}, for the recorded parts of a light response. */
function writeLightFields(sink: ResponseSink, parts: LightParts, ctx: ResponseContext): void {
  begin(sink);
  out.statusLine(parts.status, "");
  declaredLength = -1;
  sawDate = false;
  sawContentType = false;
  askedClose = false;
  sawUpgrade = false;
  const h = parts.headers;
  try {
    if (Array.isArray(h)) for (const pair of h) lightField(String(pair[0]), pair[1]);
    else if (h !== undefined) for (const name in h) lightField(name, (h as Record<string, string>)[name]);
  } catch (err) {
    dropHead();
    throw err;
  }
  if (!sawContentType && typeof parts.body === "string") out.latin1("content-type: text/plain;charset=UTF-8\r\n");
  endFields(ctx);
}

function endHead(ctx: ResponseContext, close: boolean): void {
  if (close) out.latin1("Connection: close\r\n\r\n");
  else if (ctx.http10) out.latin1("Connection: keep-alive\r\n\r\n");
  else out.crlf();
  ctx.headSent = true;
}

/**
 * Writes `response` to `sink`. Returns (or resolves to) true when the
 * connection may carry another response, false when it must close
 * (`ctx.close`, an HTTP/1.0 body read until close, a body shorter or
 * longer than its `Content-Length`, or the connection went away). A
 * response whose body is a string, bytes or nothing is written at once and
 * the result is a boolean; otherwise a promise. Throws (or rejects) when
 * the response cannot be written (an invalid field, a body stream that
 * errors); `ctx.headSent` tells whether anything went out.
 *
 * @example
 * ```ts
 * import { writeResponse } from "./respond.ts";
 * const sink = { send: (_b: Uint8Array) => true, drained: () => Promise.resolve(), gone: false };
 * console.log(await writeResponse(sink, new Response(null, { status: 204 }), { head: false, http10: false, close: false })); // true
 * ```
 */
export function writeResponse(sink: ResponseSink, response: Response, ctx: ResponseContext): boolean | Promise<boolean> {
  const light = ctx.trailers === undefined ? lightParts(response) : undefined;
  if (ctx.connect === true && response.status >= 200 && response.status < 300) return writeTunnelHead(sink, response, light, ctx);
  if (light !== undefined) return writeLight(sink, light, ctx);
  const status = response.status;
  // 101 too: only `upgrade()` switches a connection (a bare 101 would leave the client reading another protocol).
  if (status < 200) throw new RangeError(`a handler may not answer with an interim status (${status})`);
  const trailers = ctx.trailers;
  let body = trailers === undefined ? staticBody(response) : undefined;
  if (body === undefined && response.body === null) body = NO_BODY;
  if (body === NO_BODY || noContent(status)) {
    if (body !== NO_BODY) void response.body?.cancel().catch(() => {});
    writeFields(sink, response, ctx);
    if (!bodyless(status)) out.latin1("Content-Length: 0\r\n");
    endHead(ctx, ctx.close);
    commit(sink);
    return !ctx.close;
  }
  if (typeof body === "string") {
    writeFields(sink, response, ctx);
    return sendString(sink, body, ctx);
  }
  if (body instanceof Uint8Array) {
    writeFields(sink, response, ctx);
    const keepAlive = sendBytes(sink, body, ctx);
    // Sent or copied (a sink keeps no view of what it was given): a body
    // staticBody took out of this response (Bun's bytes(), Deno's copy) is
    // freed now; only here, for the body it gave in this call, never for
    // bytes of another origin (a light response's are the caller's).
    releaseTakenBody(body);
    return keepAlive;
  }
  if (body !== undefined) return sendBlob(sink, response, body, ctx);
  const stream = response.body!;
  if (trailers === undefined && !ctx.head && sink.canSendFile?.() === true) {
    const file = fileBodyOf(stream);
    if (file !== undefined) {
      const sent = sendFileBody(sink, response, file, ctx);
      if (sent !== undefined) return sent;
    }
  }
  return sendStream(sink, response, stream, trailers, ctx);
}

/** Head (fields written) with `Content-Length`, then the UTF-8 of `body`, encoded in place beside the head when small. */
function sendString(sink: ResponseSink, body: string, ctx: ResponseContext): boolean {
  if (body.length < 64 && !ctx.head && asciiOnly(body)) {
    // A short ASCII string's length is its byte count: the Content-Length line, then the body, in order (no line built as a string).
    contentLength(body.length);
    endHead(ctx, ctx.close);
    out.latin1(body);
    commit(sink);
    return !ctx.close;
  }
  if (body.length <= ENCODE_IN_PLACE_MAX && !ctx.head) {
    // Encoded after the head, then the Content-Length line slotted in before it.
    const fieldsEnd = out.length;
    out.reserve(64);
    const bodyAt = out.length + 64;
    out.length = bodyAt;
    const n = out.utf8(body);
    const lengthLine = `Content-Length: ${n}\r\n${ctx.close ? "Connection: close\r\n" : ctx.http10 ? "Connection: keep-alive\r\n" : ""}\r\n`;
    const start = bodyAt - lengthLine.length;
    const b = out.buf;
    const shift = start - fieldsEnd; // the head moves right by this much, next to its Content-Length line
    b.copyWithin(base + shift, base, fieldsEnd);
    for (let i = 0; i < lengthLine.length; i++) b[start + i] = lengthLine.charCodeAt(i);
    ctx.headSent = true;
    if (out === shared) sink.send(b.subarray(shift, out.length));
    else {
      // in the cork buffer: close the gap left before the head
      b.copyWithin(base, base + shift, out.length);
      out.length -= shift;
    }
    return !ctx.close;
  }
  return sendBytes(sink, new TextEncoder().encode(body), ctx);
}

function asciiOnly(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

const CONTENT_LENGTH = new TextEncoder().encode("Content-Length: ");

/** `Content-Length: n\r\n`, its digits written in place. */
function contentLength(n: number): void {
  out.reserve(CONTENT_LENGTH.length + 18);
  out.bytes(CONTENT_LENGTH);
  const b = out.buf;
  let at = out.length;
  let digits = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
  for (let i = at + digits - 1, v = n; i >= at; i--, v = Math.floor(v / 10)) b[i] = 0x30 + (v % 10);
  at += digits;
  b[at++] = 0x0d;
  b[at++] = 0x0a;
  out.length = at;
}

/**
 * A 2xx to CONNECT: the head without Content-Length or Transfer-Encoding
 * (RFC 9110 §8.6, RFC 9112 §6.1; what would follow it is the tunnel's) and
 * no content; serve opens no tunnel, so the connection closes after it.
 */
function writeTunnelHead(sink: ResponseSink, response: Response, light: LightParts | undefined, ctx: ResponseContext): boolean {
  if (light !== undefined) writeLightFields(sink, light, ctx);
  else {
    void response.body?.cancel().catch(() => {});
    writeFields(sink, response, ctx);
  }
  ctx.close = true;
  endHead(ctx, true);
  commit(sink);
  return false;
}

/** A light response (light_response.ts) from its recorded parts. */
function writeLight(sink: ResponseSink, parts: LightParts, ctx: ResponseContext): boolean {
  writeLightFields(sink, parts, ctx);
  const body = parts.body;
  if (body === null || noContent(parts.status)) {
    if (!bodyless(parts.status)) out.latin1("Content-Length: 0\r\n");
    endHead(ctx, ctx.close);
    commit(sink);
    return !ctx.close;
  }
  return typeof body === "string" ? sendString(sink, body, ctx) : sendBytes(sink, body, ctx);
}

/** Head (fields written) with `Content-Length`, then `bytes` (beside it when small). */
function sendBytes(sink: ResponseSink, bytes: Uint8Array, ctx: ResponseContext): boolean {
  contentLength(bytes.length);
  endHead(ctx, ctx.close);
  if (ctx.head) commit(sink);
  else if (bytes.length <= INLINE_MAX) {
    out.bytes(bytes);
    commit(sink);
  } else commitWith(sink, bytes);
  return !ctx.close;
}

async function sendBlob(sink: ResponseSink, response: Response, blob: Blob, ctx: ResponseContext): Promise<boolean> {
  const size = blob.size;
  if (ctx.head || size <= GATHER_MAX) {
    const bytes = ctx.head ? new Uint8Array(0) : new Uint8Array(await blob.arrayBuffer());
    writeFields(sink, response, ctx);
    if (bytes.length !== size && !ctx.head) throw new HTTPError("ERR_HTTP_BODY_CHANGED", "the response's Blob changed size while it was read");
    out.latin1(`Content-Length: ${size}\r\n`);
    endHead(ctx, ctx.close);
    if (ctx.head) commit(sink);
    else if (bytes.length <= INLINE_MAX) {
      out.bytes(bytes);
      commit(sink);
    } else commitWith(sink, bytes);
    return !ctx.close;
  }
  // A large file: its length is known, its bytes stream with backpressure.
  writeFields(sink, response, ctx);
  out.latin1(`Content-Length: ${size}\r\n`);
  endHead(ctx, ctx.close);
  let ok = commit(sink);
  let sent = 0;
  const reader = blob.stream().getReader();
  try {
    for (;;) {
      if (!ok) {
        await sink.drained();
        if (sink.gone) return false;
      }
      const result = await reader.read();
      if (sink.gone) return false;
      if (result.done) break;
      const bytes = chunkBytes(result.value);
      sent += bytes.length;
      ok = sink.send(bytes);
    }
  } finally {
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return sent === size && !ctx.close;
}

/** A body marked as a file's range (file_body.ts): the head, then the range by sendfile; undefined when the file is not the one it was. */
function sendFileBody(sink: ResponseSink, response: Response, file: FileBody, ctx: ResponseContext): boolean | undefined {
  const fd = openFileBody(file);
  if (fd === null) return undefined;
  void response.body?.cancel().catch(() => {});
  writeFields(sink, response, ctx);
  out.latin1(`Content-Length: ${file.length}\r\n`);
  endHead(ctx, ctx.close);
  commit(sink, true);
  sink.sendFile!(fd, file.start, file.length, () => closeFile(fd));
  return !ctx.close;
}

async function trailerBytes(trailers: TrailersInit): Promise<Uint8Array> {
  const init = typeof trailers === "function" ? await trailers() : trailers;
  const fields = new Headers(init);
  const t = new OutBuffer(256);
  t.latin1("0\r\n");
  for (const [name, value] of fields) {
    if (isProhibitedTrailer(name)) throw new TypeError(`${name} is not allowed in trailers`);
    t.field(name, value);
  }
  t.crlf();
  return t.view();
}

async function sendStream(
  sink: ResponseSink,
  response: Response,
  body: ReadableStream<Uint8Array>,
  trailers: TrailersInit | undefined,
  ctx: ResponseContext,
): Promise<boolean> {
  const reader = body.getReader();
  /** The stream was read to its end: nothing to cancel or release. */
  let ended = false;
  sink.streaming?.(reader);
  try {
    // Gather what is there at once (with trailers: nothing, they need chunked).
    const gathered = await gatherSettled(reader, GATHER_MAX, trailers !== undefined && !ctx.http10 && !ctx.head);
    const { chunks, total, streaming } = gathered;
    ended = !streaming;
    let pending = gathered.pending;
    writeFields(sink, response, ctx);
    const declared = declaredLength;
    if (ctx.head) {
      if (!streaming) out.latin1(`Content-Length: ${total}\r\n`);
      else if (declared >= 0) out.latin1(`Content-Length: ${declared}\r\n`);
      endHead(ctx, ctx.close);
      commit(sink);
      return !ctx.close;
    }
    if (!streaming) {
      // Everything is here: one write, Content-Length.
      out.latin1(`Content-Length: ${total}\r\n`);
      endHead(ctx, ctx.close);
      // Up to 32 KiB the chunks are copied beside the head (one send);
      // more go with it from their own memory, in one sendmsg where the
      // sink can (else several are still copied up to 64 KiB).
      const apart = total > INLINE_MAX && (chunks.length === 1 || total > COPY_MAX || sink.sendParts !== undefined);
      if (!apart) {
        for (const chunk of chunks) out.bytes(chunk);
        commit(sink);
      } else if (chunks.length === 1) commitWith(sink, chunks[0]!);
      else commitPieces(sink, chunks);
      return !ctx.close;
    }
    // Streaming: the handler's Content-Length, else chunked (HTTP/1.0: until close).
    const mode = trailers !== undefined && !ctx.http10 ? "chunked" : declared >= 0 ? "length" : ctx.http10 ? "close" : "chunked";
    if (mode === "length") out.latin1(`Content-Length: ${declared}\r\n`);
    else if (mode === "chunked") out.latin1("Transfer-Encoding: chunked\r\n");
    const close = ctx.close || mode === "close";
    endHead(ctx, close);
    let ok = commit(sink);
    let sentBytes = 0;
    // A body longer than the handler's Content-Length: the bytes past it
    // would be read as the start of the next response (a split response on
    // a kept-alive connection). Only the declared length goes out, then the
    // connection closes (as one shorter than declared does).
    let overflow = false;
    const put = (bytes: Uint8Array): boolean => {
      if (mode === "length" && sentBytes + bytes.length > declared) {
        overflow = true;
        bytes = bytes.subarray(0, declared - sentBytes);
        if (bytes.length === 0) return true;
      }
      sentBytes += bytes.length;
      if (mode !== "chunked") return sink.send(bytes);
      const end = writeChunkHeader(chunkHead, 0, bytes.length);
      if (bytes.length <= 8192) {
        begin(sink);
        out.bytes(chunkHead.subarray(0, end));
        out.bytes(bytes);
        out.crlf();
        return commit(sink);
      }
      // The chunk's size line, its bytes and its CRLF in one system call where the sink can.
      if (sink.sendParts !== undefined) return sink.sendParts([chunkHead.subarray(0, end), bytes, CRLF]);
      if (sink.sendPair !== undefined) sink.sendPair(chunkHead.subarray(0, end), bytes, true);
      else {
        sink.send(chunkHead.subarray(0, end), true);
        sink.send(bytes, true);
      }
      return sink.send(LAST_CHUNK.subarray(3));
    };
    for (const chunk of chunks) {
      ok = put(chunk);
      if (overflow) return false;
    }
    for (;;) {
      if (!ok) {
        await sink.drained();
        if (sink.gone) return false;
      }
      const result = await pending!;
      if (result.done) ended = true;
      if (sink.gone) return false;
      if (result.done) break;
      const bytes = chunkBytes(result.value);
      pending = nextRead(reader);
      if (bytes.length > 0) ok = put(bytes);
      else ok = true;
      if (overflow) return false;
    }
    pending = undefined;
    if (mode === "chunked") sink.send(trailers === undefined ? LAST_CHUNK : await trailerBytes(trailers));
    if (mode === "length" && sentBytes !== declared) return false;
    return !close;
  } finally {
    // A body not read to its end (HEAD, a connection gone, an error) is
    // cancelled; one read to its end is left as it is (releasing the lock
    // of a finished stream costs ~0.5 µs on Bun, and nobody reads it again).
    sink.streaming?.(undefined);
    if (!ended) {
      reader.cancel().catch(() => {});
      reader.releaseLock();
    }
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
  const b = new OutBuffer(256);
  b.statusLine(status, "");
  b.field("Content-Type", "text/plain; charset=utf-8");
  b.field("Content-Length", String(text.length));
  b.field("Date", httpDate());
  if (close) b.field("Connection", "close");
  b.crlf();
  b.latin1(text);
  return b.view().slice();
}
