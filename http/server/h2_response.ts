/**
 * Writing a WHATWG `Response` on an HTTP/2 stream: the header section
 * (`:status`, the handler's fields without the connection-specific ones
 * HTTP/2 forbids, `date`), then the body: one DATA run with
 * `content-length` when the bytes are all there at once (a string,
 * `Uint8Array`, `Blob`, a closed stream), else streamed chunk by chunk,
 * each waiting for room (the stream's queued DATA under a mark and the
 * socket writable: the flow-control window decides when DATA leaves), and
 * the trailers set with `info.setTrailers`.
 *
 * A large file from `serveStatic` (a body marked by file_body.ts) streams
 * from its first chunk with the file's `content-length`: sendfile(2)
 * cannot be used here (each piece has to be framed as DATA, and over TLS
 * encrypted), so its bytes are read chunk by chunk, never more than a
 * chunk ahead of what the stream's queue and window take.
 *
 * @example
 * ```ts ignore
 * import { writeH2Response } from "./h2_response.ts";
 * // called by H2Session for each response
 * ```
 *
 * @module
 */
import { HTTP2StreamError } from "../../core/errors.ts";
import { httpDate } from "./respond.ts";
import { claimTakenBody, forEachResponseField, NO_BODY, releaseClaimedBody, staticBody, type TakenBody } from "./response_peek.ts";
import { chunkBytes, gatherSettled, nextRead } from "./body_chunks.ts";
import { fileBodyOf } from "./file_body.ts";
import { type LightParts, lightParts } from "./light_response.ts";
import { isToken, normalizeFieldValue } from "../core/headers.ts";
import type { H2Exchange, H2Session } from "./h2_session.ts";

/** Most bytes gathered for a `content-length` response before streaming instead. */
const GATHER_MAX = 1 << 20;
const EMPTY = new Uint8Array(0);

/**
 * Fields HTTP/2 forbids in a response's header section (RFC 9113 §8.2.2):
 * TE too, whose exception (`te: trailers`) is for requests only.
 */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"]);

let fieldsOut: string[] = [];
let declaredLength = -1;
let sawDate = false;

function addField(name: string, value: string): void {
  if (CONNECTION_SPECIFIC.has(name)) return;
  if (name === "content-length") {
    const n = Number(value);
    if (value !== "" && Number.isSafeInteger(n) && n >= 0) declaredLength = n;
    return;
  }
  if (name === "date") sawDate = true;
  fieldsOut.push(name, value);
}

/** The header section of `response`; returns the handler's content-length or -1. */
function responseFields(response: Response, fields: string[]): number {
  fieldsOut = fields;
  declaredLength = -1;
  sawDate = false;
  forEachResponseField(response, addField);
  if (!sawDate) fields.push("date", httpDate());
  fieldsOut = [];
  return declaredLength;
}

const encoder = new TextEncoder();

/** The bytes of a static body (a string or bytes), or undefined (a Blob or a stream: read through `response.body`). */
function staticBytes(response: Response): Uint8Array | typeof NO_BODY | undefined {
  const body = staticBody(response);
  if (body === undefined || body === NO_BODY) return body;
  if (typeof body === "string") return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  return undefined;
}

/** A static body as the response holds it (a string or bytes), or undefined (a Blob or a stream). */
function staticSource(response: Response): string | Uint8Array | typeof NO_BODY | undefined {
  const body = staticBody(response);
  return typeof body === "string" || body instanceof Uint8Array || body === NO_BODY ? body : undefined;
}

/** Where short string bodies are encoded when they go out at once (copied into the frame before the next use). */
const scratch = new Uint8Array(16384);

/** Fields of a light response remembered by place (see below); past this many, each is checked as it comes. */
const LIGHT_MEMO_FIELDS = 16;
/**
 * The last light response's field names and string values by place, as
 * given and as written (lower-cased; normalized): a handler that makes its
 * headers from the same strings each time (an object literal) has each
 * checked once, not once per response. Strings are immutable, so an equal
 * one gives the same answer.
 */
const lightNamesIn: string[] = [];
const lightNamesOut: string[] = [];
const lightValuesIn: string[] = [];
const lightValuesOut: string[] = [];

/** A light response's field at place `k`, checked as `Headers` would (the runtime's class never saw it). */
function addLightField(k: number, name: string, value: unknown): void {
  let lower: string;
  if (k < LIGHT_MEMO_FIELDS && name === lightNamesIn[k]) lower = lightNamesOut[k]!;
  else {
    if (!isToken(name)) throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
    lower = name.toLowerCase();
    if (k < LIGHT_MEMO_FIELDS) {
      lightNamesIn[k] = name;
      lightNamesOut[k] = lower;
    }
  }
  let written: string;
  if (typeof value !== "string") written = normalizeFieldValue(String(value));
  else if (k < LIGHT_MEMO_FIELDS && value === lightValuesIn[k]) written = lightValuesOut[k]!;
  else {
    written = normalizeFieldValue(value);
    if (k < LIGHT_MEMO_FIELDS) {
      lightValuesIn[k] = value;
      lightValuesOut[k] = written;
    }
  }
  addField(lower, written);
}

/** The header section of a light response (light_response.ts) from its recorded parts. */
function lightFields(parts: LightParts, fields: string[]): void {
  fieldsOut = fields;
  declaredLength = -1;
  sawDate = false;
  let sawType = false;
  const h = parts.headers;
  try {
    let k = 0;
    if (Array.isArray(h)) {
      for (const pair of h) addLightField(k++, String(pair[0]), pair[1]);
    } else if (h !== undefined) {
      for (const name in h) addLightField(k++, name, (h as Record<string, string>)[name]);
    }
  } finally {
    fieldsOut = [];
  }
  for (let i = 2; i < fields.length; i += 2) if (fields[i] === "content-type") sawType = true;
  if (!sawType && typeof parts.body === "string") fields.push("content-type", "text/plain;charset=UTF-8");
  if (!sawDate) fields.push("date", httpDate());
}

function bodyless(status: number): boolean {
  return status === 204 || status === 304;
}

/** No content: the bodyless statuses and `205 Reset Content` (RFC 9110 §15.3.6), which says so with `content-length: 0`; a handler's body for one is cancelled unread. */
function noContent(status: number): boolean {
  return status === 205 || bodyless(status);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

async function trailerFields(ex: H2Exchange): Promise<string[] | undefined> {
  const t = ex.responseTrailers;
  if (t === undefined) return undefined;
  const init = typeof t === "function" ? await t() : t;
  const fields: string[] = [];
  for (const [name, value] of new Headers(init)) fields.push(name, value);
  return fields;
}

/** Ends the stream: trailers when set, else an empty DATA with END_STREAM. */
async function endStream(session: H2Session, ex: H2Exchange): Promise<void> {
  const trailers = await trailerFields(ex);
  if (ex.reset) return;
  if (trailers !== undefined && trailers.length > 0) session.h2.sendTrailers(ex.streamId, trailers);
  else session.h2.sendData(ex.streamId, EMPTY, true);
  session.scheduleFlush();
}

/**
 * Writes `response` on `ex`'s stream at once when that needs no waiting: a
 * body the response was made from as a string or bytes (its stream left
 * unread; see response_peek.ts), no body, or a 204/304, and no trailers.
 * Returns false (having written nothing) otherwise: then use
 * {@link writeH2Response}. Throws as that does.
 *
 * @example
 * ```ts ignore
 * import { writeStaticH2Response } from "./h2_response.ts";
 * declare const session: import("./h2_session.ts").H2Session;
 * declare const ex: import("./h2_session.ts").H2Exchange;
 * if (!writeStaticH2Response(session, ex, new Response("hi"))) console.log("stream it");
 * ```
 */
export function writeStaticH2Response(session: H2Session, ex: H2Exchange, response: Response): boolean {
  if (ex.responseTrailers !== undefined) return false;
  // A light response (installLightResponse) is written from what it recorded, never made real.
  const light = lightParts(response);
  let status: number;
  let body: string | Uint8Array | typeof NO_BODY | undefined;
  const fields: string[] = [];
  if (light !== undefined) {
    status = light.status;
    body = light.body ?? NO_BODY;
    fields.push(":status", String(status));
    lightFields(light, fields);
  } else {
    status = response.status;
    if (status < 200) return false;
    body = noContent(status) ? NO_BODY : staticSource(response);
    if (body === undefined) return false;
    fields.push(":status", String(status));
    responseFields(response, fields);
  }
  const id = ex.streamId;
  const h2 = session.h2;
  try {
    if (noContent(status)) {
      if (light === undefined && response.body !== null) void response.body.cancel().catch(() => {});
      if (!bodyless(status)) fields.push("content-length", "0");
      h2.respond(id, fields, true);
    } else if (body === NO_BODY || body.length === 0) {
      fields.push("content-length", "0");
      h2.respond(id, fields, true);
    } else {
      // A short string is encoded where it is copied from at once (no array per response); a longer one gets its own.
      let bytes: Uint8Array;
      let transient = false;
      // A light response's bytes are the handler's own array (not copied at
      // construction, as the runtime's Response does): what the window holds
      // back is queued as a copy, as over HTTP/1.1.
      if (typeof body !== "string") {
        bytes = body;
        transient = light !== undefined;
      } else if (body.length * 3 <= scratch.length) {
        bytes = scratch.subarray(0, encoder.encodeInto(body, scratch).written);
        transient = true;
      } else bytes = encoder.encode(body);
      // A body taken out of this very response (Bun's bytes(), Deno's copy;
      // never a light response's, the caller's array) is released once
      // copied: at once when it went out with the head, else when the
      // core has framed it (HTTP/1.1 does the same in writeResponse).
      const claim = light === undefined && typeof body !== "string" ? claimTakenBody(bytes) : undefined;
      fields.push("content-length", String(bytes.length));
      if (ex.method === "HEAD") h2.respond(id, fields, true);
      else if (!h2.respondWithData(id, fields, bytes)) {
        h2.respond(id, fields, false);
        if (!transient) h2.sendData(id, bytes, true);
        else if (session.conn.gathersParts) {
          // Borrowed bytes on a plain socket: what the windows and the
          // socket take goes now, from them; what waits is copied.
          h2.sendData(id, bytes, true);
          session.sendQueued();
          h2.copyQueuedData(id);
        } else {
          // TLS: a copy, framed with the turn's other responses (a TLS
          // write per response cost more: see the README's h2_server section).
          h2.sendData(id, bytes.slice(), true);
        }
        if (claim !== undefined) session.releaseWhenSent(id, claim);
        session.scheduleFlush();
        return true;
      }
      if (claim !== undefined) releaseClaimedBody(claim);
    }
  } catch (err) {
    if (err instanceof HTTP2StreamError && (ex.reset || err.code === "ERR_H2_STREAM_CLOSED")) return true;
    throw err;
  }
  session.scheduleFlush();
  return true;
}

/**
 * Writes `response` on `ex`'s stream. Throws when it cannot be written (an
 * interim status, a body stream that errors, bad trailers); `sent.head`
 * tells the caller whether the header section went out (else it may still
 * answer 500, as HTTP/1.1 does; after it, it resets the stream). A stream the client reset ends the writing quietly.
 *
 * @example
 * ```ts ignore
 * import { writeH2Response } from "./h2_response.ts";
 * declare const session: import("./h2_session.ts").H2Session;
 * declare const ex: import("./h2_session.ts").H2Exchange;
 * await writeH2Response(session, ex, new Response("hi"));
 * ```
 */
export async function writeH2Response(session: H2Session, ex: H2Exchange, response: Response, sent: { head: boolean } = { head: false }): Promise<void> {
  try {
    await write(session, ex, response, sent);
  } catch (err) {
    // A write to a stream the client reset: the reset told the handler already.
    if (err instanceof HTTP2StreamError && ex.reset) return;
    if (err instanceof HTTP2StreamError && err.code === "ERR_H2_STREAM_CLOSED") return;
    throw err;
  }
}

/** Sends the response's header section and notes that it went out (`sent.head`). */
function respondHead(h2: H2Session["h2"], id: number, fields: string[], endStream: boolean, headOut: { head: boolean }): void {
  h2.respond(id, fields, endStream);
  headOut.head = true;
}

async function write(session: H2Session, ex: H2Exchange, response: Response, headOut: { head: boolean }): Promise<void> {
  const h2 = session.h2;
  const id = ex.streamId;
  const status = response.status;
  if (status < 200) throw new RangeError(`a handler may not answer with an interim status (${status})`);
  const fields = [":status", String(status)];
  let declared = responseFields(response, fields);
  const head = ex.method === "HEAD";
  const hasTrailers = ex.responseTrailers !== undefined;
  const fixed = noContent(status) ? undefined : staticBytes(response);
  if (fixed !== undefined) {
    // A string or bytes the response was made from (its stream left unread), or no body at all.
    const bytes = fixed === NO_BODY ? EMPTY : fixed;
    // Taken out of this response (not an encoded string): released once copied, as in writeStaticH2Response.
    const claim: TakenBody | undefined = fixed === NO_BODY ? undefined : claimTakenBody(bytes);
    fields.push("content-length", String(bytes.length));
    if (head || bytes.length === 0) {
      respondHead(h2, id, fields, !hasTrailers, headOut);
      if (claim !== undefined) releaseClaimedBody(claim);
    } else {
      respondHead(h2, id, fields, false, headOut);
      h2.sendData(id, bytes, !hasTrailers);
      if (claim !== undefined) session.releaseWhenSent(id, claim);
    }
    if (hasTrailers) await endStream(session, ex);
    session.scheduleFlush();
    return;
  }
  const body = response.body;
  if (noContent(status) || body === null) {
    if (body !== null) void body.cancel().catch(() => {});
    if (!bodyless(status)) fields.push("content-length", "0");
    respondHead(h2, id, fields, !hasTrailers, headOut);
    if (hasTrailers) await endStream(session, ex);
    session.scheduleFlush();
    return;
  }
  // A large file (serveStatic's marked stream): its length is known and
  // sendfile cannot apply inside DATA frames, so it streams from the first
  // chunk, each read waiting for room in the flow-control window.
  const file = head ? undefined : fileBodyOf(body);
  const reader = body.getReader();
  /** The stream was read to its end: nothing to cancel or release. */
  let ended = false;
  ex.bodyReader = reader;
  try {
    const gathered = await gatherSettled(reader, GATHER_MAX, file !== undefined);
    const { chunks, total, streaming } = gathered;
    ended = !streaming;
    let pending = gathered.pending;
    if (ex.reset) return;
    if (head) {
      if (!streaming) fields.push("content-length", String(total));
      else if (declared >= 0) fields.push("content-length", String(declared));
      respondHead(h2, id, fields, !hasTrailers, headOut);
      if (hasTrailers) await endStream(session, ex);
      session.scheduleFlush();
      return;
    }
    if (!streaming) {
      fields.push("content-length", String(total));
      if (total === 0) {
        respondHead(h2, id, fields, !hasTrailers, headOut);
        if (hasTrailers) await endStream(session, ex);
      } else {
        respondHead(h2, id, fields, false, headOut);
        h2.sendData(id, concat(chunks, total), !hasTrailers);
        if (hasTrailers) await endStream(session, ex);
      }
      session.scheduleFlush();
      return;
    }
    // Streaming: the handler's content-length (checked at the end), else the file's, else none.
    if (declared < 0 && file !== undefined) declared = file.length;
    if (declared >= 0) fields.push("content-length", String(declared));
    respondHead(h2, id, fields, false, headOut);
    let sent = 0;
    // No DATA past the content-length (a client takes such a response as
    // malformed): the excess is not sent, the stream is reset as for a body
    // that ends short.
    const over = (n: number) => {
      if (declared >= 0 && sent + n > declared) throw new RangeError(`the response body has more than the ${declared} bytes its content-length says`);
    };
    for (const chunk of chunks) {
      over(chunk.length);
      h2.sendData(id, chunk, false);
      sent += chunk.length;
    }
    session.flush();
    for (;;) {
      if (!session.hasRoom(ex)) await session.room(ex);
      if (ex.reset || session.gone) return;
      const result = await pending!;
      if (result.done) ended = true;
      if (ex.reset || session.gone) return;
      if (result.done) break;
      const bytes = chunkBytes(result.value);
      pending = nextRead(reader);
      if (bytes.length > 0) {
        over(bytes.length);
        h2.sendData(id, bytes, false);
        sent += bytes.length;
        session.flush();
      }
    }
    pending = undefined;
    if (declared >= 0 && sent !== declared) {
      throw new RangeError(`the response body has ${sent} bytes, its content-length says ${declared}`);
    }
    await endStream(session, ex);
    session.flush();
  } finally {
    // A body not read to its end (HEAD, a reset, an error) is cancelled; one read to its end is left as it is.
    ex.bodyReader = undefined;
    if (!ended) {
      reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }
}
