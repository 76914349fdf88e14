/**
 * DATA frames received by an HTTP/2 connection (RFC 9113 §6.1): flow
 * control accounting, content-length checks, the no-progress charge of
 * tiny frames and crediting consumed octets back to the peer.
 *
 * @module
 */
import { ErrorCode, Flag } from "./constants.ts";
import { connectionError as conn, type H2Core, streamError as streamErr } from "./connection_core.ts";
import type { Frame } from "./frames.ts";
import { StreamState as S } from "./stream.ts";
import { SMALL_DATA_FRAME_COST, SMALL_FRAME_BYTES } from "./work_budget.ts";

/**
 * Handles one received DATA frame (`payload` without padding). A frame
 * that ends nothing and that the flow-control windows did not force costs
 * one no-progress frame when empty, and `SMALL_DATA_FRAME_COST` of one
 * (with a clock) when it carries fewer than `SMALL_FRAME_BYTES` octets;
 * the octets delivered pay the budget back.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.receive for each DATA frame.
 * new H2Connection({ role: "server" });
 * ```
 */
export function onData(c: H2Core, f: Frame, payload: Uint8Array): void {
  const id = f.streamId;
  if (f.length > c.connRecvWindow) {
    throw conn("ERR_H2_FLOW_CONTROL", "DATA exceeds the connection window", ErrorCode.FLOW_CONTROL_ERROR);
  }
  c.connRecvWindow -= f.length;
  const stream = c.table.streams.get(id);
  if (payload.length < SMALL_FRAME_BYTES && (f.flags & Flag.END_STREAM) === 0) {
    // A sender with less window than this frame's octets could not send more.
    const forced = f.length > 0 && (c.connRecvWindow === 0 || (stream !== undefined && f.length >= stream.recvWindow));
    // Empty DATA delivers nothing; a tiny one delivers bytes and costs a
    // fraction, and nothing without a clock (see SMALL_DATA_FRAME_COST).
    if (payload.length === 0) {
      if (!forced) c.noProgress();
    } else if (!forced && c.timed) {
      c.noProgress(SMALL_DATA_FRAME_COST);
    }
  }
  if (stream === undefined || stream.state === S.HALF_CLOSED_REMOTE || stream.state === S.CLOSED) {
    c.creditConnection(f.length);
    if (stream === undefined) {
      c.table.lateFrame(id, f.type);
      return;
    }
    throw streamErr("ERR_H2_STREAM_CLOSED", `DATA on half-closed stream ${id}`, ErrorCode.STREAM_CLOSED, id);
  }
  if (stream.state === S.RESERVED_LOCAL || stream.state === S.RESERVED_REMOTE) {
    throw conn("ERR_H2_RESERVED_STREAM", `DATA on reserved stream ${id}`, ErrorCode.PROTOCOL_ERROR);
  }
  if (f.length > stream.recvWindow) {
    c.creditConnection(f.length);
    throw streamErr("ERR_H2_FLOW_CONTROL", `DATA exceeds the window of stream ${id}`, ErrorCode.FLOW_CONTROL_ERROR, id);
  }
  stream.recvWindow -= f.length;
  const endStream = (f.flags & Flag.END_STREAM) !== 0;
  if (!stream.headersReceived) {
    c.creditConnection(f.length);
    throw streamErr("ERR_H2_DATA_BEFORE_HEADERS", `DATA before HEADERS on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
  }
  stream.dataReceived += payload.length;
  if (stream.contentLength >= 0 && (stream.dataReceived > stream.contentLength || (endStream && stream.dataReceived !== stream.contentLength))) {
    c.creditConnection(f.length);
    throw streamErr("ERR_H2_CONTENT_LENGTH", `DATA does not match content-length on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
  }
  c.conn.counters.noProgress.progressBytes(payload.length);
  // A body in one frame gets a buffer of its own: its reader usually wants it whole (arrayBuffer(), text()), which a
  // view into a shared slab would cost a second copy and allocation (~8% of an HTTP/2 request's CPU on Bun).
  const whole = endStream && stream.dataReceived === payload.length;
  c.events.push({ type: "data", streamId: id, data: whole ? payload.slice() : c.dataCopies.copy(payload), endStream });
  if (endStream) c.table.remoteEnded(stream);
  if (c.autoWindow) {
    c.creditConnection(f.length);
    if (!endStream) c.creditStream(stream, f.length);
  } else if (f.length > payload.length) {
    // The application credits what it consumes (`consume()`): the padding and
    // the Pad Length octet, which it never sees, are credited here.
    const pad = f.length - payload.length;
    c.creditConnection(pad);
    if (!endStream) c.creditStream(stream, pad);
  }
}

/**
 * Credits `n` consumed octets of a stream back to the peer (the work of
 * `H2Connection.consume`).
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * const server = new H2Connection({ role: "server", autoWindowUpdate: false });
 * server.consume(1, 0);
 * ```
 */
export function consume(c: H2Core, streamId: number, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError("n must be a non-negative integer");
  c.creditConnection(n);
  const s = c.table.streams.get(streamId);
  if (s && (s.state === S.OPEN || s.state === S.HALF_CLOSED_LOCAL)) c.creditStream(s, n);
}

/**
 * Credits `n` octets of a stream that the application drops (nobody reads
 * them) to the connection window only (the work of `H2Connection.drop`):
 * the stream's own window is not reopened, so a peer that goes on sending
 * on it stops at that window, while the connection's other streams keep
 * theirs.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * const server = new H2Connection({ role: "server", autoWindowUpdate: false });
 * server.drop(0);
 * ```
 */
export function drop(c: H2Core, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError("n must be a non-negative integer");
  c.creditConnection(n);
}
