/**
 * Header blocks received by an HTTP/2 connection (RFC 9113 §4.3, §6.2,
 * §6.6, §6.10, §8): HEADERS and PUSH_PROMISE frames with their
 * CONTINUATION frames are assembled, HPACK-decoded and checked, then open
 * streams, report responses, trailers and promises.
 *
 * @module
 */
import { HPACKError } from "../../core/errors.ts";
import { HPACK_LIST_TOO_LARGE } from "../hpack/decoder.ts";
import { ErrorCode, Flag, FrameType } from "./constants.ts";
import { connectionError as conn, type H2Core, streamError as streamErr } from "./connection_core.ts";
import type { H2Event } from "./events.ts";
import { checkRequest, checkResponse, checkTrailers, type SectionInfo } from "./field_checks.ts";
import { encodeRstStream, type Frame, readPriority, readU32 } from "./frames.ts";
import { parsePriority } from "./priority.ts";
import { ClosedBy, H2Stream, StreamState as S } from "./stream.ts";
import type { PendingBlock } from "./types.ts";
import { PROGRESS_FRAMES_PER_SECTION, SMALL_FRAME_BYTES } from "./work_budget.ts";

const EMPTY_PAIRS: readonly string[] = [];
/** The request checks' options, one record each instead of one per request. */
const EXTENDED_CONNECT = { extendedConnect: true } as const;
const PLAIN_CONNECT = { extendedConnect: false } as const;

/**
 * Handles a received HEADERS or PUSH_PROMISE frame: decodes the block at
 * once, or keeps it until CONTINUATION frames complete it.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.receive for each HEADERS and PUSH_PROMISE frame.
 * new H2Connection({ role: "server" });
 * ```
 */
export function onHeadersFrame(c: H2Core, f: Frame, payload: Uint8Array): void {
  let start = 0;
  let promisedId = 0;
  let selfDependent = false;
  if (f.type === FrameType.HEADERS && f.flags & Flag.PRIORITY) {
    selfDependent = readPriority(payload, 0).dependency === f.streamId;
    start = 5;
  }
  if (f.type === FrameType.PUSH_PROMISE) {
    if (c.conn.role === "server") throw conn("ERR_H2_PUSH_PROMISE", "PUSH_PROMISE sent to a server", ErrorCode.PROTOCOL_ERROR);
    if (!c.conn.localSettings.enablePush) throw conn("ERR_H2_PUSH_DISABLED", "PUSH_PROMISE with push disabled", ErrorCode.PROTOCOL_ERROR);
    promisedId = readU32(payload, 0) & 0x7fffffff;
    start = 4;
    if ((promisedId & 1) !== 0 || promisedId <= c.table.lastPeerId) {
      throw conn("ERR_H2_PROMISED_ID", `invalid promised stream id ${promisedId}`, ErrorCode.PROTOCOL_ERROR);
    }
    c.table.lastPeerId = promisedId;
  }
  const fragment = start === 0 ? payload : payload.subarray(start);
  const endStream = (f.flags & Flag.END_STREAM) !== 0 && f.type === FrameType.HEADERS;
  // A block in one frame (the usual case) is decoded from the frame's view
  // at once, with no record of it kept.
  if (f.flags & Flag.END_HEADERS) {
    c.block = null;
    applyBlock(c, f.type, f.streamId, endStream, selfDependent, promisedId, fragment);
    return;
  }
  // CONTINUATION frames follow: a copy is kept until they complete it.
  c.block = {
    type: f.type,
    streamId: f.streamId,
    endStream,
    selfDependent,
    promisedId,
    fragments: [fragment.slice()],
    bytes: fragment.length,
    frames: 1,
  };
}

/**
 * Handles a received CONTINUATION frame, bounding the frames and octets of
 * one header block (CONTINUATION flood); one of fewer than
 * `SMALL_FRAME_BYTES` octets that does not end the block costs one
 * no-progress frame (encoders fill all but the last).
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.receive for each CONTINUATION frame.
 * new H2Connection({ role: "client" });
 * ```
 */
export function onContinuation(c: H2Core, f: Frame, payload: Uint8Array): void {
  const block = c.block;
  if (block === null) throw conn("ERR_H2_CONTINUATION", "CONTINUATION without a header block", ErrorCode.PROTOCOL_ERROR);
  if (f.streamId !== block.streamId) {
    throw conn("ERR_H2_CONTINUATION", "CONTINUATION on another stream", ErrorCode.PROTOCOL_ERROR);
  }
  if (++block.frames > c.maxContinuation + 1) {
    throw conn("ERR_H2_CONTINUATION_FLOOD", "too many CONTINUATION frames", ErrorCode.ENHANCE_YOUR_CALM);
  }
  if (payload.length < SMALL_FRAME_BYTES && (f.flags & Flag.END_HEADERS) === 0) c.noProgress();
  block.bytes += payload.length;
  if (block.bytes > c.decoder.maxHeaderListSize * 2 + 16384) {
    throw conn("ERR_H2_CONTINUATION_FLOOD", "header block too large", ErrorCode.ENHANCE_YOUR_CALM);
  }
  if (payload.length > 0) block.fragments.push(payload.slice());
  if (f.flags & Flag.END_HEADERS) {
    c.block = null;
    completeBlock(c, block);
  }
}

/** Joins the fragments of a block that CONTINUATION frames completed, then applies it. */
function completeBlock(c: H2Core, block: PendingBlock): void {
  c.block = null;
  let bytes: Uint8Array;
  if (block.fragments.length === 1) bytes = block.fragments[0]!;
  else {
    bytes = new Uint8Array(block.bytes);
    let o = 0;
    for (const frag of block.fragments) {
      bytes.set(frag, o);
      o += frag.length;
    }
  }
  applyBlock(c, block.type, block.streamId, block.endStream, block.selfDependent, block.promisedId, bytes);
}

/** The answer to a request header list above our SETTINGS_MAX_HEADER_LIST_SIZE. */
const HEADER_LIST_TOO_LARGE_RESPONSE: readonly string[] = [":status", "431", "content-length", "0"];

/**
 * A request whose header list is above our SETTINGS_MAX_HEADER_LIST_SIZE
 * while its block was decoded whole within the decoder's bounds (HPACK
 * stays in step): answered 431 Request Header Fields Too Large (RFC 6585
 * §5) on its stream, as HTTP/1.1 answers a head too large, and the
 * connection goes on (it was RST_STREAM ENHANCE_YOUR_CALM, which clients
 * report as a protocol failure, not as the request's fault). A request
 * still sending its body is then reset with NO_ERROR (RFC 9113 §8.1). It
 * never reaches the application, and counts as a reset the peer caused
 * (the rapid-reset limits). Trailers too large, and blocks that cannot be
 * decoded safely (CONTINUATION floods, HPACK errors), keep their RST_STREAM
 * or GOAWAY.
 */
function refuseLargeHeaderList(c: H2Core, stream: H2Stream, endStream: boolean): void {
  c.sendHeaderBlock(stream, HEADER_LIST_TOO_LARGE_RESPONSE, true);
  if (endStream) c.table.remoteEnded(stream);
  else {
    c.table.close(stream, ClosedBy.LOCAL_RESET);
    c.queue(encodeRstStream(stream.id, ErrorCode.NO_ERROR));
  }
  c.countReset();
}

/**
 * What a response's or request's checks found: one record for every
 * section (filled and read before the next section is checked).
 */
const sectionInfo: SectionInfo = { method: "", status: 0, contentLength: -1 };

/** Decodes a complete header block (`bytes`) and applies it to its stream. */
function applyBlock(c: H2Core, type: number, id: number, endStream: boolean, selfDependent: boolean, promisedId: number, bytes: Uint8Array): void {
  let fields: string[] = EMPTY_PAIRS as string[];
  let tooLarge = false;
  try {
    fields = c.decoder.decode(bytes);
  } catch (e) {
    if (e instanceof HPACKError && e.code === HPACK_LIST_TOO_LARGE) tooLarge = true;
    else throw e;
  }
  if (type === FrameType.PUSH_PROMISE) return onPushPromise(c, id, promisedId, fields, tooLarge);
  let stream = c.table.streams.get(id);
  if (stream === undefined) {
    if (!c.table.peerInitiated(id) || id <= c.table.lastPeerId) {
      c.table.lateFrame(id, FrameType.HEADERS);
      return c.noProgress();
    }
    if (c.conn.role === "client") throw conn("ERR_H2_IDLE_STREAM", `HEADERS on idle stream ${id}`, ErrorCode.PROTOCOL_ERROR);
    c.table.lastPeerId = id;
    if (c.conn.goawaySent >= 0 && id > c.conn.goawaySent) return c.noProgress(); // after GOAWAY: ignored
    stream = new H2Stream(id, S.OPEN, c.conn.remoteSettings.initialWindowSize, c.recvInitialWindow);
    if (c.table.activePeer >= c.conn.localSettings.maxConcurrentStreams) {
      c.table.remember(id, ClosedBy.LOCAL_RESET);
      throw streamErr("ERR_H2_REFUSED_STREAM", "too many concurrent streams", ErrorCode.REFUSED_STREAM, id);
    }
    c.table.streams.set(id, stream);
    c.table.activePeer++;
  }
  if (selfDependent) throw streamErr("ERR_H2_PRIORITY_SELF", `stream ${id} depends on itself`, ErrorCode.PROTOCOL_ERROR, id);
  switch (stream.state) {
    case S.HALF_CLOSED_REMOTE:
      throw streamErr("ERR_H2_STREAM_CLOSED", `HEADERS on half-closed stream ${id}`, ErrorCode.STREAM_CLOSED, id);
    case S.RESERVED_LOCAL:
      throw conn("ERR_H2_RESERVED_STREAM", `HEADERS on reserved stream ${id}`, ErrorCode.PROTOCOL_ERROR);
    case S.RESERVED_REMOTE:
      stream.state = S.HALF_CLOSED_LOCAL;
      c.table.reservedCount--;
      c.table.activePeer++;
      break;
  }
  if (tooLarge) {
    if (c.conn.role === "server" && !stream.headersReceived) return refuseLargeHeaderList(c, stream, endStream);
    throw streamErr("ERR_H2_HEADER_LIST_TOO_LARGE", `header list of stream ${id} exceeds ${c.decoder.maxHeaderListSize}`, ErrorCode.ENHANCE_YOUR_CALM, id);
  }
  if (stream.headersReceived) return onTrailers(c, stream, fields, endStream);
  const info = sectionInfo;
  info.method = "";
  info.status = 0;
  info.contentLength = -1;
  let reason: string;
  if (c.conn.role === "server") {
    reason = checkRequest(fields, info, c.conn.localSettings.enableConnectProtocol ? EXTENDED_CONNECT : PLAIN_CONNECT, c.passedSection);
  } else {
    reason = checkResponse(fields, info, c.passedSection);
    if (!reason && info.status < 200 && endStream) reason = "informational response with END_STREAM";
    if (!reason && info.status === 101) reason = "101 is not allowed in HTTP/2";
  }
  if (reason) throw streamErr("ERR_H2_MALFORMED", `malformed header section: ${reason}`, ErrorCode.PROTOCOL_ERROR, id);
  const informational = c.conn.role === "client" && info.status < 200;
  if (informational) c.noProgress(); // 1xx: legitimate in ones and twos, not by the thousand
  else {
    c.conn.counters.noProgress.progress(PROGRESS_FRAMES_PER_SECTION);
    stream.headersReceived = true;
    if (c.conn.role === "server") stream.method = info.method;
    stream.status = info.status;
    // A response that cannot have content (to HEAD, a 204, a 304): its
    // content-length tells of the resource, not of DATA to come, and DATA
    // with any octets is malformed (RFC 9113 §8.1.1, RFC 9110 §6.4.1): held
    // to 0 (DATA on a 204 reached the caller as its body). A HEAD request's
    // content-length is not checked.
    const noContent = c.conn.role === "client" && (stream.method === "HEAD" || info.status === 204 || info.status === 304);
    stream.contentLength = noContent ? 0 : stream.method === "HEAD" ? -1 : info.contentLength;
    if (endStream && stream.contentLength > 0) {
      throw streamErr("ERR_H2_CONTENT_LENGTH", `content-length without DATA on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
    }
  }
  const event: H2Event = { type: "headers", streamId: id, headers: fields, endStream };
  if (c.conn.role === "server") {
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === "priority") event.priority = parsePriority(fields[i + 1]!);
    }
    // RFC 9218 §7.1: a PRIORITY_UPDATE that came first wins over the field.
    const p = c.table.takePendingPriority(id) ?? event.priority;
    if (p !== undefined) stream.setPriority(p);
  }
  // The application now works on the request until it answers or resets it.
  if (c.conn.role === "server") stream.appHolds = true;
  c.events.push(event);
  if (endStream) c.table.remoteEnded(stream);
}

/** A trailer section: it must end the stream. */
function onTrailers(c: H2Core, stream: H2Stream, fields: string[], endStream: boolean): void {
  const id = stream.id;
  if (!endStream) throw streamErr("ERR_H2_TRAILERS", `trailers without END_STREAM on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
  const reason = checkTrailers(fields);
  if (reason) throw streamErr("ERR_H2_MALFORMED", `malformed trailers: ${reason}`, ErrorCode.PROTOCOL_ERROR, id);
  if (stream.contentLength >= 0 && stream.dataReceived !== stream.contentLength) {
    throw streamErr("ERR_H2_CONTENT_LENGTH", `DATA does not match content-length on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
  }
  c.events.push({ type: "trailers", streamId: id, headers: fields });
  c.table.remoteEnded(stream);
}

/** A promised request (client): reserves the promised stream. */
function onPushPromise(c: H2Core, parentId: number, promised: number, fields: string[], tooLarge: boolean): void {
  const parent = c.table.streams.get(parentId);
  if (parent === undefined) {
    if (c.table.lateFrame(parentId, FrameType.PUSH_PROMISE)) {
      c.table.remember(promised, ClosedBy.LOCAL_RESET);
      c.queue(encodeRstStream(promised, ErrorCode.CANCEL));
    }
    return;
  }
  if (parent.state !== S.OPEN && parent.state !== S.HALF_CLOSED_LOCAL) {
    throw conn("ERR_H2_PUSH_PROMISE", `PUSH_PROMISE on stream ${parentId} in the wrong state`, ErrorCode.PROTOCOL_ERROR);
  }
  const stream = new H2Stream(promised, S.RESERVED_REMOTE, c.conn.remoteSettings.initialWindowSize, c.recvInitialWindow);
  const info: SectionInfo = { method: "", status: 0, contentLength: -1 };
  let reason = tooLarge ? "header list too large" : checkRequest(fields, info);
  if (!reason && info.method !== "GET" && info.method !== "HEAD") reason = `method ${info.method} cannot be pushed`;
  if (!reason && info.contentLength > 0) reason = "pushed request with content";
  if (reason) {
    c.table.remember(promised, ClosedBy.LOCAL_RESET);
    throw streamErr("ERR_H2_MALFORMED", `malformed pushed request: ${reason}`, ErrorCode.PROTOCOL_ERROR, promised);
  }
  if (c.table.reservedCount >= c.conn.localSettings.maxConcurrentStreams) {
    c.table.remember(promised, ClosedBy.LOCAL_RESET);
    throw streamErr("ERR_H2_REFUSED_STREAM", "too many reserved streams", ErrorCode.REFUSED_STREAM, promised);
  }
  stream.method = info.method;
  c.table.streams.set(promised, stream);
  c.table.reservedCount++;
  c.events.push({ type: "push-promise", streamId: parentId, promisedId: promised, headers: fields });
}
