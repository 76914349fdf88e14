/**
 * The HTTP/2 connection core (RFC 9113), for the client and the server role,
 * I/O-free in the manner of nghttp2's session: `receive(bytes)` returns
 * events, `pull()` returns bytes to send. Time comes from `now()` (the
 * monotonic clock unless injected); `nextDeadline()` and `tick()` let the
 * glue arm its own timers for the SETTINGS ACK and zero-window timeouts.
 *
 * Flood protection: per-second limits on resets (those the peer sends and
 * those its errors make us send), PING and SETTINGS; a no-progress budget
 * (work_budget.ts) for frames that cost work without moving a request
 * forward, paid back by useful work; and a request stream reset while the
 * application answers it keeps counting against MAX_CONCURRENT_STREAMS
 * until the application writes to it or resets it.
 *
 * This file holds the public face: options, the frame dispatch and the
 * calls that open streams and queue frames. The rest is split by concern:
 * connection_core.ts (private state, flow-control credit, errors),
 * stream_table.ts (stream states, ids, closed-stream memory),
 * data_frames.ts, header_blocks.ts and control_frames.ts (received frames
 * by type, with the flood counters) and send_scheduler.ts (what `pull()`
 * sends).
 *
 * @module
 */
import { HPACKError, HTTP2Error, HTTP2StreamError } from "../../core/errors.ts";
import { HPACK_LIMITS, HTTP2_LIMITS } from "../../core/limits.ts";
import { checkOptions } from "../../core/options.ts";
import { CLIENT_PREFACE, ErrorCode, errorCodeName, Flag, FrameType, MAX_STREAM_ID } from "./constants.ts";
import { connectionError as conn, type FloodCounters, floodCounters, H2Core, streamError as streamErr } from "./connection_core.ts";
import { onGoaway, onPing, onPriority, onPriorityUpdate, onRst, onSettings, onWindowUpdate } from "./control_frames.ts";
import { consume, drop, onData } from "./data_frames.ts";
import type { H2Event } from "./events.ts";
import {
  encodeGoaway, encodePing, encodePriorityUpdate, encodeRstStream, type Frame, frameName, headerBlockWireLength, validateFrame, writeFrameHeader,
  writeHeaderBlock,
} from "./frames.ts";
import { onContinuation, onHeadersFrame } from "./header_blocks.ts";
import { formatPriority, type PrioritySignal } from "./priority.ts";
import { earliestDeadline, schedule } from "./send_scheduler.ts";
import { applySettingsPayload, checkLocalSettings, defaultSettings, type Settings } from "./settings.ts";
import { ClosedBy, H2Stream, StreamState as S } from "./stream.ts";
import { H2_CONNECTION_OPTION_KEYS, type H2ConnectionOptions } from "./types.ts";
import { isProhibitedTrailer } from "../core/trailer_fields.ts";

export type { H2ConnectionOptions } from "./types.ts";

/**
 * An HTTP/2 connection state machine.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * const client = new H2Connection({ role: "client" });
 * const server = new H2Connection({ role: "server" });
 * const id = client.request([":method", "GET", ":scheme", "https", ":path", "/", ":authority", "a.test"], true);
 * const events = server.receive(client.pull());
 * console.log(events.find((e) => e.type === "headers")); // { type: "headers", streamId: 1, … }
 * server.respond(id, [":status", "200"], false);
 * server.sendData(id, new TextEncoder().encode("hi"), true);
 * client.receive(server.pull()); // settings, settings-ack, headers, data
 * ```
 */
export class H2Connection {
  /** Which side of the connection this endpoint is. */
  readonly role: "client" | "server";
  /** Settings we announced (the last one acknowledged or not). */
  readonly localSettings: Settings;
  /** The peer's settings as received. */
  readonly remoteSettings: Settings = defaultSettings();
  /** True once a connection error ended the connection. */
  dead = false;
  /** GOAWAY received (lastStreamId) or -1. */
  goawayReceived: number = -1;
  /** GOAWAY sent (lastStreamId) or -1. */
  goawaySent: number = -1;
  /** Counters of the flood protections. */
  readonly counters: FloodCounters;

  readonly #c: H2Core;

  /** Creates the connection state for `options.role`; throws TypeError for an unknown option or a bad role. */
  constructor(options: H2ConnectionOptions) {
    checkOptions(options, H2_CONNECTION_OPTION_KEYS, "H2Connection");
    if (options.role !== "client" && options.role !== "server") throw new TypeError('role must be "client" or "server"');
    this.role = options.role;
    this.counters = floodCounters(options);
    const L = HTTP2_LIMITS;
    this.localSettings = {
      ...defaultSettings(),
      headerTableSize: HPACK_LIMITS.headerTableSize,
      enablePush: false,
      maxConcurrentStreams: L.maxConcurrentStreams,
      initialWindowSize: L.initialWindowSize,
      maxFrameSize: L.maxFrameSize,
      maxHeaderListSize: HPACK_LIMITS.maxHeaderListSize,
      ...options.settings,
    };
    if (this.role === "server" && this.localSettings.enablePush) throw new RangeError("a server cannot enable push");
    checkLocalSettings(this.localSettings);
    this.#c = new H2Core(this, options);
  }

  // ------------------------------------------------------------------ input

  /** Feeds received bytes; returns the events they caused. */
  receive(bytes: Uint8Array): H2Event[] {
    const c = this.#c;
    const events = c.events;
    if (this.dead) return [];
    try {
      let chunk = bytes;
      if (c.prefaceLeft > 0) chunk = this.#checkPreface(chunk);
      if (chunk.length > 0) c.reader.push(chunk, this.#onFrame);
      if (c.out.length > c.maxOutbound) {
        throw conn("ERR_H2_OUTBOUND_FLOOD", "the peer does not read what it makes us send", ErrorCode.ENHANCE_YOUR_CALM);
      }
    } catch (e) {
      if (e instanceof HTTP2Error && !(e instanceof HTTP2StreamError)) c.failConnection(e);
      else if (e instanceof HPACKError) c.failConnection(conn(e.code, e.message, ErrorCode.COMPRESSION_ERROR));
      else throw e;
    }
    c.events = [];
    return events;
  }

  #checkPreface(chunk: Uint8Array): Uint8Array {
    const c = this.#c;
    const off = CLIENT_PREFACE.length - c.prefaceLeft;
    const n = Math.min(c.prefaceLeft, chunk.length);
    for (let i = 0; i < n; i++) {
      if (chunk[i] !== CLIENT_PREFACE[off + i]) throw conn("ERR_H2_PREFACE", "invalid connection preface", ErrorCode.PROTOCOL_ERROR);
    }
    c.prefaceLeft -= n;
    return chunk.subarray(n);
  }

  /** Dispatches one frame by type; a stream error resets that stream only. */
  #onFrame = (f: Frame): void => {
    if (this.dead) return;
    const c = this.#c;
    if (c.awaitSettings && (f.type !== FrameType.SETTINGS || (f.flags & Flag.ACK) !== 0)) {
      throw conn("ERR_H2_PREFACE", "the first frame is not SETTINGS", ErrorCode.PROTOCOL_ERROR);
    }
    if (c.block !== null && f.type !== FrameType.CONTINUATION) {
      throw conn("ERR_H2_CONTINUATION", `${frameName(f.type)} inside a header block`, ErrorCode.PROTOCOL_ERROR);
    }
    try {
      const payload = validateFrame(f);
      switch (f.type) {
        case FrameType.DATA: return onData(c, f, payload);
        case FrameType.HEADERS:
        case FrameType.PUSH_PROMISE: return onHeadersFrame(c, f, payload);
        case FrameType.CONTINUATION: return onContinuation(c, f, payload);
        case FrameType.PRIORITY: return onPriority(c, f, payload);
        case FrameType.RST_STREAM: return onRst(c, f, payload);
        case FrameType.SETTINGS: return onSettings(c, f, payload);
        case FrameType.PING: return onPing(c, f, payload);
        case FrameType.GOAWAY: return onGoaway(c, payload);
        case FrameType.WINDOW_UPDATE: return onWindowUpdate(c, f, payload);
        case FrameType.PRIORITY_UPDATE: return onPriorityUpdate(c, payload);
        default: return c.noProgress(); // unknown frame types are ignored (§4.1, §5.5), at a cost
      }
    } catch (e) {
      if (e instanceof HTTP2StreamError) c.failStream(e);
      else throw e;
    }
  };

  /**
   * Credits `n` consumed octets of a stream back to the peer (only needed
   * with `autoWindowUpdate: false`).
   */
  consume(streamId: number, n: number): void {
    consume(this.#c, streamId, n);
  }

  /**
   * Credits `n` received octets that the application drops (nobody reads
   * them) to the connection window only: their stream's window stays shut,
   * so a peer still sending on it stops there (only needed with
   * `autoWindowUpdate: false`).
   */
  drop(n: number): void {
    drop(this.#c, n);
  }

  // ----------------------------------------------------------------- output

  /** Announces new settings; they apply to received frames once acknowledged. */
  updateSettings(changes: Partial<Settings>): void {
    const c = this.#c;
    this.#assertAlive();
    const next = { ...this.localSettings, ...changes };
    if (this.role === "server" && next.enablePush) throw new RangeError("a server cannot enable push");
    checkLocalSettings(next);
    Object.assign(this.localSettings, next);
    if (next.maxFrameSize > c.reader.maxFrameSize) c.reader.maxFrameSize = next.maxFrameSize;
    c.sendSettings(next, false);
  }

  #assertAlive(): void {
    if (this.dead) throw conn("ERR_H2_CONNECTION_CLOSED", "the connection has failed", ErrorCode.PROTOCOL_ERROR);
  }

  /**
   * A header section the peer said it will not take (above its
   * SETTINGS_MAX_HEADER_LIST_SIZE, counted as RFC 9113 §6.5.2 does: each
   * field's name and value octets plus 32) is refused before anything goes
   * out, as Go's client and server do: the peer would only reset the stream
   * or drop the connection over it. The setting is advisory and unlimited
   * unless the peer sends it.
   */
  #checkListSize(headers: readonly string[], streamId: number): void {
    const max = this.remoteSettings.maxHeaderListSize;
    if (max === Infinity) return;
    let size = 0;
    for (let i = 0; i < headers.length; i++) size += headers[i]!.length + (i & 1 ? 0 : 32);
    if (size <= max) return;
    const message = `a header section of ${size} octets is above the peer's SETTINGS_MAX_HEADER_LIST_SIZE (${max})`;
    if (streamId === 0) throw new HTTP2Error("ERR_H2_HEADER_LIST_TOO_LARGE", message, ErrorCode.INTERNAL_ERROR);
    throw streamErr("ERR_H2_HEADER_LIST_TOO_LARGE", message, ErrorCode.INTERNAL_ERROR, streamId);
  }

  #writable(id: number): H2Stream {
    const c = this.#c;
    this.#assertAlive();
    const s = c.table.streams.get(id);
    // Writing to a stream reset under the application's feet is how it learns it is done.
    if (s === undefined) c.table.release(id);
    if (s === undefined || s.state === S.HALF_CLOSED_LOCAL || s.state === S.CLOSED || s.state === S.RESERVED_REMOTE) {
      throw streamErr("ERR_H2_STREAM_CLOSED", `stream ${id} is not writable`, ErrorCode.STREAM_CLOSED, id);
    }
    return s;
  }

  /** Whether a new stream may be opened now (peer's MAX_CONCURRENT_STREAMS, GOAWAY, ids left). */
  canOpenStream(): boolean {
    const c = this.#c;
    return !this.dead && this.goawayReceived < 0 && c.table.nextLocalId <= MAX_STREAM_ID &&
      c.table.activeLocal < this.remoteSettings.maxConcurrentStreams;
  }

  /** Client: opens a stream with a request header section; returns its id. */
  request(headers: readonly string[], endStream: boolean): number {
    const c = this.#c;
    if (this.role !== "client") throw new TypeError("only a client sends requests");
    this.#assertAlive();
    if (!this.canOpenStream()) {
      throw new HTTP2Error("ERR_H2_STREAMS_EXHAUSTED", "no stream can be opened now", ErrorCode.REFUSED_STREAM);
    }
    this.#checkListSize(headers, 0);
    const id = c.table.nextLocalId;
    c.table.nextLocalId += 2;
    const s = new H2Stream(id, S.OPEN, this.remoteSettings.initialWindowSize, c.recvInitialWindow);
    for (let i = 0; i < headers.length; i += 2) if (headers[i] === ":method") s.method = headers[i + 1]!;
    c.table.streams.set(id, s);
    c.table.activeLocal++;
    c.sendHeaderBlock(s, headers, endStream);
    return id;
  }

  /**
   * Sends a response (server) or another header section on an open stream.
   * On a stream that was reset (an `rst` or `stream-error` event) it throws
   * STREAM_CLOSED and releases the stream's place among the concurrent
   * streams, as `sendData`, `sendTrailers` and `reset` do.
   */
  respond(streamId: number, headers: readonly string[], endStream: boolean): void {
    const c = this.#c;
    const s = this.#writable(streamId);
    this.#checkListSize(headers, streamId);
    if (endStream) s.appHolds = false;
    if (s.state === S.RESERVED_LOCAL) {
      s.state = S.HALF_CLOSED_REMOTE;
      c.table.reservedCount--;
      c.table.activeLocal++;
    }
    c.sendHeaderBlock(s, headers, endStream);
  }

  /**
   * Queues body bytes (sent by `pull()` as flow control allows). `data` is
   * borrowed, not copied: it is read when its frames are made, which may be
   * many `pull()`s later, so the caller must not change it or transfer its
   * buffer until the stream has sent it (pass a copy otherwise, as
   * `respondWithData`'s example does).
   */
  sendData(streamId: number, data: Uint8Array, endStream: boolean): void {
    const c = this.#c;
    const s = this.#writable(streamId);
    if (s.endQueued || s.trailers !== null) throw streamErr("ERR_H2_STREAM_ENDED", `stream ${streamId} already ended`, ErrorCode.STREAM_CLOSED, streamId);
    if (data.length > 0) {
      s.queue.push(data);
      s.queuedBytes += data.length;
    }
    if (endStream) {
      s.endQueued = true;
      s.appHolds = false;
    }
    c.table.sendable.add(s);
  }

  /**
   * Server: sends a whole response at once, a header section and `data` (1
   * octet or more) in one DATA frame with END_STREAM, written straight into
   * the outbound bytes (`data` is copied before this returns) when that is
   * what `respond` and `sendData` would send anyway: nothing else waits for
   * a window on the connection, `data` fits the stream's and the
   * connection's windows and the peer's frame size, and the outbound bytes
   * are not piling up. Returns false, having sent nothing, otherwise: then
   * use `respond` and `sendData`. Throws as `respond` does.
   *
   * @example
   * ```ts
   * import { H2Connection } from "./connection.ts";
   * const client = new H2Connection({ role: "client" });
   * const server = new H2Connection({ role: "server" });
   * const id = client.request([":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a.test"], true);
   * server.receive(client.pull());
   * const body = new TextEncoder().encode("hi");
   * if (!server.respondWithData(id, [":status", "200"], body)) {
   *   server.respond(id, [":status", "200"], false);
   *   server.sendData(id, body.slice(), true);
   * }
   * ```
   */
  respondWithData(streamId: number, headers: readonly string[], data: Uint8Array): boolean {
    const c = this.#c;
    const s = this.#writable(streamId);
    this.#checkListSize(headers, streamId);
    const n = data.length;
    if (
      this.role !== "server" || s.state === S.RESERVED_LOCAL || s.pending || c.table.sendable.size > 0 || n === 0 ||
      n > s.sendWindow || n > c.connSendWindow || n > this.remoteSettings.maxFrameSize || c.out.length + n > c.maxOutbound / 4
    ) return false;
    s.appHolds = false;
    c.sendHeaderBlock(s, headers, false);
    const out = c.out;
    const buf = out.reserve(9 + n);
    buf.set(data, out.length + 9);
    writeFrameHeader(buf, out.length, n, FrameType.DATA, Flag.END_STREAM, streamId);
    out.length += 9 + n;
    // As the scheduler's step() accounts a DATA frame.
    s.sendWindow -= n;
    c.connSendWindow -= n;
    s.sentUncredited += n;
    c.connSentUncredited += n;
    this.counters.noProgress.progressBytes(n);
    c.table.localEnded(s);
    return true;
  }

  /** Queues trailers, sent after the queued data; ends the stream. */
  sendTrailers(streamId: number, headers: readonly string[]): void {
    const c = this.#c;
    const s = this.#writable(streamId);
    if (s.endQueued || s.trailers !== null) throw streamErr("ERR_H2_STREAM_ENDED", `stream ${streamId} already ended`, ErrorCode.STREAM_CLOSED, streamId);
    this.#checkListSize(headers, streamId);
    // The same rule as for received trailers and HTTP/1.1's serializer.
    for (let i = 0; i < headers.length; i += 2) {
      if (isProhibitedTrailer(headers[i]!)) throw new TypeError(`${headers[i]} is not allowed in trailers`);
    }
    s.trailers = headers.slice();
    s.appHolds = false;
    c.table.sendable.add(s);
  }

  /**
   * Server, for an HTTP/1.1 request with `Upgrade: h2c` (RFC 7540 §3.2):
   * applies the client's `HTTP2-Settings` (the decoded SETTINGS payload; no
   * ACK is sent, the 101 response acknowledges them) and opens stream 1,
   * half-closed (remote), for the upgraded request with `method`. Call it
   * once, before the first `receive()`: the client's preface and SETTINGS
   * still follow. Stream 1 is then answered as any request. Throws an
   * `HTTP2Error` for a payload that is no valid SETTINGS payload (nothing
   * changed: the caller may ignore the upgrade and answer over HTTP/1.1).
   *
   * @example
   * ```ts
   * import { H2Connection } from "./connection.ts";
   * const server = new H2Connection({ role: "server" });
   * server.upgrade(new Uint8Array([0, 3, 0, 0, 0, 100]), "GET"); // MAX_CONCURRENT_STREAMS 100
   * server.respond(1, [":status", "200"], true);
   * ```
   */
  upgrade(settingsPayload: Uint8Array, method: string): void {
    const c = this.#c;
    if (this.role !== "server") throw new TypeError("only a server accepts an upgrade");
    if (c.table.lastPeerId !== 0 || c.prefaceLeft !== CLIENT_PREFACE.length) throw new TypeError("upgrade() comes before any input");
    this.#assertAlive();
    if (settingsPayload.length % 6 !== 0) throw conn("ERR_H2_SETTINGS", "HTTP2-Settings is not a SETTINGS payload", ErrorCode.FRAME_SIZE_ERROR);
    const next = { ...this.remoteSettings };
    applySettingsPayload(next, settingsPayload, false);
    const oldTable = this.remoteSettings.headerTableSize;
    Object.assign(this.remoteSettings, next);
    if (next.headerTableSize !== oldTable) c.encoder.setMaxTableSize(next.headerTableSize);
    const s = new H2Stream(1, S.HALF_CLOSED_REMOTE, next.initialWindowSize, c.recvInitialWindow);
    s.method = method;
    s.headersReceived = true;
    s.appHolds = true;
    c.table.streams.set(1, s);
    c.table.lastPeerId = 1;
    c.table.activePeer++;
  }

  /**
   * Copies the body octets queued on a stream (and not yet taken by a
   * pull): the arrays given to `sendData` for it may change or be reused
   * from now on. Does nothing for an unknown stream or an empty queue.
   *
   * @example
   * ```ts
   * import { H2Connection } from "./connection.ts";
   * const client = new H2Connection({ role: "client" });
   * const body = new Uint8Array(100_000);
   * const id = client.request([":method", "POST", ":scheme", "http", ":path", "/", ":authority", "a.test"], false);
   * client.sendData(id, body, true);
   * client.pull(); // the first 65,535 octets (the peer's window)
   * client.copyQueuedData(id);
   * body.fill(1); // the rest queued is a copy: what goes later is still zeros
   * ```
   */
  copyQueuedData(streamId: number): void {
    this.#c.table.streams.get(streamId)?.ownQueue();
  }

  /** Octets of body queued on a stream and not yet taken by `pull()` (0 for an unknown stream). */
  queuedData(streamId: number): number {
    return this.#c.table.streams.get(streamId)?.queuedBytes ?? 0;
  }

  /** Server: promises a pushed response on `parentId`; returns the promised stream id. */
  push(parentId: number, requestHeaders: readonly string[]): number {
    const c = this.#c;
    if (this.role !== "server") throw new TypeError("only a server pushes");
    const parent = this.#writable(parentId);
    if (!this.remoteSettings.enablePush) {
      throw new HTTP2Error("ERR_H2_PUSH_DISABLED", "the client disabled push", ErrorCode.REFUSED_STREAM);
    }
    if (!c.table.peerInitiated(parentId) || parent.state === S.RESERVED_LOCAL) throw new TypeError("push on a request stream only");
    if (c.table.nextLocalId > MAX_STREAM_ID || this.goawayReceived >= 0) {
      throw new HTTP2Error("ERR_H2_STREAMS_EXHAUSTED", "no stream can be opened now", ErrorCode.REFUSED_STREAM);
    }
    const id = c.table.nextLocalId;
    c.table.nextLocalId += 2;
    const s = new H2Stream(id, S.RESERVED_LOCAL, this.remoteSettings.initialWindowSize, c.recvInitialWindow);
    c.table.streams.set(id, s);
    c.table.reservedCount++;
    const block = c.encoder.encodeView(requestHeaders);
    const maxFrame = this.remoteSettings.maxFrameSize;
    const out = c.out;
    const buf = out.reserve(headerBlockWireLength(FrameType.PUSH_PROMISE, block.length, maxFrame));
    out.length = writeHeaderBlock(buf, out.length, FrameType.PUSH_PROMISE, parentId, block, false, maxFrame, id);
    return id;
  }

  /**
   * Resets a stream (RST_STREAM with `code`, default CANCEL). On a stream
   * already reset by the peer or for its errors, it only tells the
   * connection that the application has finished with it: a request stream
   * counts against MAX_CONCURRENT_STREAMS until then.
   */
  reset(streamId: number, code: number = ErrorCode.CANCEL): void {
    const c = this.#c;
    this.#assertAlive();
    const s = c.table.streams.get(streamId);
    if (s === undefined) {
      c.table.release(streamId);
      return;
    }
    s.appHolds = false;
    c.table.close(s, ClosedBy.LOCAL_RESET);
    c.queue(encodeRstStream(streamId, code));
  }

  /**
   * Sets how `pull()` orders our DATA on a stream (RFC 9218): lower urgency
   * first; at one urgency, non-incremental streams one at a time in stream
   * id order, then incremental ones interleaved frame by frame. A server
   * starts from the client's `priority` field and PRIORITY_UPDATEs and may
   * override them here; a client orders its uploads. Unknown or closed
   * streams are ignored.
   *
   * @example
   * ```ts
   * import { H2Connection } from "./connection.ts";
   * const c = new H2Connection({ role: "client" });
   * const id = c.request([":method", "POST", ":scheme", "https", ":authority", "a", ":path", "/"], false);
   * c.setSendPriority(id, { urgency: 1, incremental: false });
   * ```
   */
  setSendPriority(streamId: number, priority: PrioritySignal): void {
    checkPriority(priority);
    this.#c.table.streams.get(streamId)?.setPriority(priority);
  }

  /**
   * Client: asks the server to reprioritize a request's response with a
   * PRIORITY_UPDATE frame (RFC 9218 §7.1).
   *
   * @example
   * ```ts
   * import { H2Connection } from "./connection.ts";
   * const c = new H2Connection({ role: "client" });
   * const id = c.request([":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/"], true);
   * c.sendPriorityUpdate(id, { urgency: 0, incremental: true });
   * ```
   */
  sendPriorityUpdate(streamId: number, priority: PrioritySignal): void {
    if (this.role !== "client") throw new TypeError("only a client sends PRIORITY_UPDATE");
    checkPriority(priority);
    if (!Number.isInteger(streamId) || streamId <= 0 || streamId > MAX_STREAM_ID || (streamId & 1) !== 1) {
      throw new RangeError(`PRIORITY_UPDATE needs a client stream id, got ${streamId}`);
    }
    this.#assertAlive();
    this.#c.queue(encodePriorityUpdate(streamId, formatPriority(priority)));
  }

  /** Sends a PING; the `ping-ack` event reports the round-trip time. */
  ping(data: Uint8Array = new Uint8Array(8)): void {
    const c = this.#c;
    this.#assertAlive();
    const copy = data.slice();
    c.queue(encodePing(copy, false));
    c.pings.push({ data: copy, sentAt: c.now() });
  }

  /**
   * Sends GOAWAY: with NO_ERROR a graceful shutdown (streams up to the last
   * peer stream finish, newer ones are ignored); with an error code the
   * connection is finished.
   */
  goaway(code: number = ErrorCode.NO_ERROR, debug = ""): void {
    const c = this.#c;
    this.#assertAlive();
    this.goawaySent = c.table.lastPeerId;
    c.queue(encodeGoaway(c.table.lastPeerId, code, new TextEncoder().encode(debug)));
    if (code !== ErrorCode.NO_ERROR) this.dead = true;
  }

  /** Whether the connection has nothing left to do and may be closed. */
  get finished(): boolean {
    const c = this.#c;
    return this.dead || ((this.goawaySent >= 0 || this.goawayReceived >= 0) && c.table.streams.size === 0);
  }

  /** Number of streams with state (open, half-closed or reserved). */
  get streamCount(): number {
    return this.#c.table.streams.size;
  }

  /** Bytes waiting in `pull()` (control frames; DATA is produced on demand). */
  get queuedBytes(): number {
    return this.#c.out.length;
  }

  /** Whether `pull()` may return something. */
  get wantsWrite(): boolean {
    const c = this.#c;
    return c.out.length > 0 || c.table.sendable.size > 0;
  }

  /**
   * Returns the bytes to send now (control frames, then DATA as the flow
   * control windows allow, up to about `maxBytes`), or an empty array.
   */
  pull(maxBytes = 1 << 20): Uint8Array {
    const c = this.#c;
    schedule(c, maxBytes);
    return c.out.take();
  }

  /**
   * Like {@link pull}, but the bytes are a view of the connection's own
   * buffer, valid only until the next call on the connection: for a caller
   * that sends them at once (a socket's `send()`, which sends or copies
   * what it is given). Saves an allocation per call.
   *
   * @example
   * ```ts
   * import { H2Connection } from "./connection.ts";
   * const c = new H2Connection({ role: "client" });
   * const bytes = c.pullView();
   * console.log(bytes.length > 0); // true: the preface and SETTINGS, to send before the next call
   * ```
   */
  pullView(maxBytes = 1 << 20): Uint8Array {
    const c = this.#c;
    schedule(c, maxBytes);
    return c.out.takeView();
  }

  /**
   * Like {@link pullView}, but in pieces for a gathering send (sendmsg with
   * an iovec per piece): appends to `parts`, in order, views of the
   * connection's own buffer (control frames, frame headers, small DATA
   * payloads) and views of the arrays given to `sendData` (payloads of
   * 4 KiB or more, not copied), at most `maxParts` pieces and about
   * `maxBytes` octets; returns the octets appended. Every view is valid
   * only until the next call on the connection, and the caller's arrays
   * are read then, not now: send them at once (a connection's `sendParts`
   * sends or copies them).
   *
   * @example
   * ```ts
   * import { H2Connection } from "./connection.ts";
   * const client = new H2Connection({ role: "client" });
   * const id = client.request([":method", "POST", ":scheme", "http", ":path", "/", ":authority", "a.test"], false);
   * client.sendData(id, new Uint8Array(20_000), true);
   * const parts: Uint8Array[] = [];
   * const n = client.pullParts(parts, 16);
   * console.log(parts.length, n); // 3 20105: the preface, SETTINGS, HEADERS and a frame header; 16,384 octets of the body; a frame header and the 3,616 left (copied)
   * ```
   */
  pullParts(parts: Uint8Array[], maxParts: number, maxBytes = 1 << 20): number {
    const c = this.#c;
    if (!Number.isInteger(maxParts) || maxParts < 3) throw new RangeError("maxParts must be an integer of 3 or more");
    const first = parts.length;
    c.gather = parts;
    c.gatherMark = 0;
    c.gathered = 0;
    c.gatherMax = first + maxParts;
    try {
      schedule(c, maxBytes);
    } finally {
      c.gather = undefined;
    }
    const out = c.out;
    const tail = out.length - c.gatherMark;
    if (tail > 0) parts.push(out.view(c.gatherMark, out.length));
    const total = out.length + c.gathered;
    out.takeView();
    return total;
  }

  // ------------------------------------------------------------------ time

  /** The earliest time `tick()` has something to check, or -1. */
  nextDeadline(): number {
    return earliestDeadline(this.#c);
  }

  /**
   * Checks the timeouts against `now()`: a missing SETTINGS ACK ends the
   * connection (SETTINGS_TIMEOUT); a stream stalled on a zero window longer
   * than `zeroWindowTimeoutMs` is reset (CANCEL).
   */
  tick(): H2Event[] {
    const c = this.#c;
    if (this.dead || !c.timed) return [];
    const now = c.now();
    if (c.settingsDeadline >= 0 && now >= c.settingsDeadline) {
      c.events.push({ type: "timeout", what: "settings-ack", streamId: 0 });
      c.failConnection(conn("ERR_H2_SETTINGS_TIMEOUT", "no SETTINGS ACK in time", ErrorCode.SETTINGS_TIMEOUT));
    } else {
      for (const s of [...c.table.sendable]) {
        if (s.blockedSince >= 0 && now - s.blockedSince >= c.zeroWindowMs) {
          c.events.push({ type: "timeout", what: "zero-window", streamId: s.id });
          this.reset(s.id, ErrorCode.CANCEL);
        }
      }
    }
    const events = c.events;
    c.events = [];
    return events;
  }
}


/**
 * The RFC name of an error's HTTP/2 code, for logs.
 *
 * @example
 * ```ts
 * import { describeHttp2Error } from "./connection.ts";
 * import { HTTP2Error } from "../../core/errors.ts";
 * describeHttp2Error(new HTTP2Error("ERR_X", "bad", 1)); // "PROTOCOL_ERROR: bad"
 * ```
 */
export function describeHttp2Error(e: HTTP2Error): string {
  return `${errorCodeName(e.http2Code)}: ${e.message}`;
}

function checkPriority(p: PrioritySignal): void {
  if (!Number.isInteger(p.urgency) || p.urgency < 0 || p.urgency > 7) {
    throw new RangeError(`urgency must be an integer 0..7, got ${p.urgency}`);
  }
  if (typeof p.incremental !== "boolean") throw new TypeError("incremental must be a boolean");
}
