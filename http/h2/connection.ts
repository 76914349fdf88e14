/**
 * The HTTP/2 connection core (RFC 9113), for the client and the server role,
 * I/O-free in the manner of nghttp2's session: `receive(bytes)` returns
 * events, `pull()` returns bytes to send. Time comes from an injected
 * `now()`; `nextDeadline()` and `tick()` let the glue arm its own timers for
 * the SETTINGS ACK and zero-window timeouts.
 *
 * @module
 */
import { HPACKError, HTTP2Error, HTTP2StreamError } from "../../core/errors.ts";
import { HPACK_LIMITS, HTTP2_LIMITS } from "../../core/limits.ts";
import { HPACK_LIST_TOO_LARGE, HPACKDecoder } from "../hpack/decoder.ts";
import { HPACKEncoder } from "../hpack/encoder.ts";
import { latin1Decode } from "../hpack/latin1.ts";
import {
  CLIENT_PREFACE, DEFAULT_WINDOW, ErrorCode, errorCodeName, Flag, FrameType, MAX_STREAM_ID, MAX_WINDOW,
} from "./constants.ts";
import type { H2Event } from "./events.ts";
import { checkRequest, checkResponse, checkTrailers, type SectionInfo } from "./field_checks.ts";
import {
  encodeGoaway, encodePing, encodeRstStream, encodeSettings, encodeWindowUpdate, type Frame, FrameReader, frameName,
  headerBlockWireLength, readPriority, readU32, validateFrame, writeFrameHeader, writeHeaderBlock,
} from "./frames.ts";
import { DataCopies } from "./data_copies.ts";
import { OutboundBuffer } from "./outbound.ts";
import { parsePriority } from "./priority.ts";
import { RateCounter } from "./rate_counter.ts";
import { applySettingsPayload, checkLocalSettings, defaultSettings, type Settings, settingsToPairs } from "./settings.ts";
import { ClosedBy, H2Stream, StreamState as S } from "./stream.ts";

/** Options of an {@link H2Connection}; limits default to `HTTP2_LIMITS` and `HPACK_LIMITS`. */
export interface H2ConnectionOptions {
  role: "client" | "server";
  /** Milliseconds clock (monotonic); default `() => 0`, which disables rates and timeouts. */
  now?: () => number;
  /** Settings we announce (merged over our defaults). */
  settings?: Partial<Settings>;
  /** Credit received DATA back to the peer at once (default true); otherwise call `consume()`. */
  autoWindowUpdate?: boolean;
  /** Connection receive window to open at the start (default: the protocol's 65535). */
  connectionWindowSize?: number;
  maxContinuationFrames?: number;
  maxResetsPerSecond?: number;
  maxSettingsPerSecond?: number;
  maxPingsPerSecond?: number;
  maxEmptyDataPerSecond?: number;
  maxWindowUpdatesPerSecond?: number;
  zeroWindowTimeoutMs?: number;
  settingsAckTimeoutMs?: number;
  maxClosedStreams?: number;
  maxOutboundBytes?: number;
}

interface PendingBlock {
  type: number;
  streamId: number;
  endStream: boolean;
  selfDependent: boolean;
  promisedId: number;
  fragments: Uint8Array[];
  bytes: number;
  frames: number;
}

const EMPTY_PAIRS: readonly string[] = [];

function conn(code: string, message: string, http2Code: number): HTTP2Error {
  return new HTTP2Error(code, message, http2Code);
}

function streamErr(code: string, message: string, http2Code: number, id: number): HTTP2StreamError {
  return new HTTP2StreamError(code, message, http2Code, id);
}

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
  readonly role: "client" | "server";
  /** Settings we announced (the last one acknowledged or not). */
  readonly localSettings: Settings;
  /** The peer's settings as received. */
  readonly remoteSettings: Settings = defaultSettings();
  /** True once a connection error ended the connection. */
  dead = false;
  /** GOAWAY received (lastStreamId) or -1. */
  goawayReceived = -1;
  /** GOAWAY sent (lastStreamId) or -1. */
  goawaySent = -1;
  /** Counters of the flood protections. */
  readonly counters: { resets: RateCounter; settings: RateCounter; pings: RateCounter; emptyData: RateCounter; windowUpdates: RateCounter };

  #now: () => number;
  #autoWindow: boolean;
  #reader: FrameReader;
  #encoder: HPACKEncoder;
  #decoder: HPACKDecoder;
  #streams = new Map<number, H2Stream>();
  #closed = new Map<number, number>();
  #maxClosed: number;
  #sendable = new Set<H2Stream>();
  #events: H2Event[] = [];
  #out = new OutboundBuffer();
  #dataCopies = new DataCopies();
  #prefaceLeft: number;
  #awaitSettings = true;
  #block: PendingBlock | null = null;
  #nextLocalId: number;
  #lastPeerId = 0;
  #activeLocal = 0;
  #activePeer = 0;
  #reservedCount = 0;
  #connSendWindow = DEFAULT_WINDOW;
  #connRecvWindow = DEFAULT_WINDOW;
  #connRecvUnacked = 0;
  #connRecvTarget = DEFAULT_WINDOW;
  #recvInitialWindow = DEFAULT_WINDOW;
  #pendingSettings: Settings[] = [];
  #settingsDeadline = -1;
  #pings: { data: Uint8Array; sentAt: number }[] = [];
  #maxContinuation: number;
  #zeroWindowMs: number;
  #settingsAckMs: number;
  #maxOutbound: number;

  constructor(options: H2ConnectionOptions) {
    if (options.role !== "client" && options.role !== "server") throw new TypeError('role must be "client" or "server"');
    this.role = options.role;
    this.#now = options.now ?? (() => 0);
    this.#autoWindow = options.autoWindowUpdate ?? true;
    const L = HTTP2_LIMITS;
    this.counters = {
      resets: new RateCounter(options.maxResetsPerSecond ?? L.maxResetsPerSecond),
      settings: new RateCounter(options.maxSettingsPerSecond ?? L.maxSettingsPerSecond),
      pings: new RateCounter(options.maxPingsPerSecond ?? L.maxPingsPerSecond),
      emptyData: new RateCounter(options.maxEmptyDataPerSecond ?? L.maxEmptyDataPerSecond),
      windowUpdates: new RateCounter(options.maxWindowUpdatesPerSecond ?? L.maxWindowUpdatesPerSecond),
    };
    this.#maxContinuation = options.maxContinuationFrames ?? L.maxContinuationFrames;
    this.#zeroWindowMs = options.zeroWindowTimeoutMs ?? L.zeroWindowTimeoutMs;
    this.#settingsAckMs = options.settingsAckTimeoutMs ?? L.settingsAckTimeoutMs;
    this.#maxClosed = options.maxClosedStreams ?? L.maxClosedStreams;
    this.#maxOutbound = options.maxOutboundBytes ?? L.maxOutboundBytes;
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
    this.#reader = new FrameReader(Math.max(16384, this.localSettings.maxFrameSize));
    this.#encoder = new HPACKEncoder();
    this.#decoder = new HPACKDecoder({
      maxTableSize: 4096,
      maxHeaderListSize: Number.isFinite(this.localSettings.maxHeaderListSize) ? this.localSettings.maxHeaderListSize : HPACK_LIMITS.maxHeaderListSize,
    });
    this.#nextLocalId = this.role === "client" ? 1 : 2;
    this.#prefaceLeft = this.role === "server" ? CLIENT_PREFACE.length : 0;
    if (this.role === "client") this.#queue(CLIENT_PREFACE);
    this.#sendSettings(this.localSettings, true);
    const win = options.connectionWindowSize ?? DEFAULT_WINDOW;
    if (win > DEFAULT_WINDOW) {
      if (win > MAX_WINDOW) throw new RangeError("connectionWindowSize above 2^31-1");
      this.#queue(encodeWindowUpdate(0, win - DEFAULT_WINDOW));
      this.#connRecvWindow = win;
      this.#connRecvTarget = win;
    }
  }

  // ------------------------------------------------------------------ input

  /** Feeds received bytes; returns the events they caused. */
  receive(bytes: Uint8Array): H2Event[] {
    const events = this.#events;
    if (this.dead) return [];
    try {
      let chunk = bytes;
      if (this.#prefaceLeft > 0) chunk = this.#checkPreface(chunk);
      if (chunk.length > 0) this.#reader.push(chunk, this.#onFrame);
      if (this.#out.length > this.#maxOutbound) {
        throw conn("ERR_H2_OUTBOUND_FLOOD", "the peer does not read what it makes us send", ErrorCode.ENHANCE_YOUR_CALM);
      }
    } catch (e) {
      if (e instanceof HTTP2Error && !(e instanceof HTTP2StreamError)) this.#connectionError(e);
      else if (e instanceof HPACKError) this.#connectionError(conn(e.code, e.message, ErrorCode.COMPRESSION_ERROR));
      else throw e;
    }
    this.#events = [];
    return events;
  }

  #checkPreface(chunk: Uint8Array): Uint8Array {
    const off = CLIENT_PREFACE.length - this.#prefaceLeft;
    const n = Math.min(this.#prefaceLeft, chunk.length);
    for (let i = 0; i < n; i++) {
      if (chunk[i] !== CLIENT_PREFACE[off + i]) throw conn("ERR_H2_PREFACE", "invalid connection preface", ErrorCode.PROTOCOL_ERROR);
    }
    this.#prefaceLeft -= n;
    return chunk.subarray(n);
  }

  #onFrame = (f: Frame): void => {
    if (this.dead) return;
    if (this.#awaitSettings && (f.type !== FrameType.SETTINGS || (f.flags & Flag.ACK) !== 0)) {
      throw conn("ERR_H2_PREFACE", "the first frame is not SETTINGS", ErrorCode.PROTOCOL_ERROR);
    }
    if (this.#block !== null && f.type !== FrameType.CONTINUATION) {
      throw conn("ERR_H2_CONTINUATION", `${frameName(f.type)} inside a header block`, ErrorCode.PROTOCOL_ERROR);
    }
    try {
      const payload = validateFrame(f);
      switch (f.type) {
        case FrameType.DATA: return this.#onData(f, payload);
        case FrameType.HEADERS:
        case FrameType.PUSH_PROMISE: return this.#onHeadersFrame(f, payload);
        case FrameType.CONTINUATION: return this.#onContinuation(f, payload);
        case FrameType.PRIORITY: return this.#onPriority(f, payload);
        case FrameType.RST_STREAM: return this.#onRst(f, payload);
        case FrameType.SETTINGS: return this.#onSettings(f, payload);
        case FrameType.PING: return this.#onPing(f, payload);
        case FrameType.GOAWAY: return this.#onGoaway(payload);
        case FrameType.WINDOW_UPDATE: return this.#onWindowUpdate(f, payload);
        case FrameType.PRIORITY_UPDATE: return this.#onPriorityUpdate(payload);
        default: return; // unknown frame types are ignored (§4.1, §5.5)
      }
    } catch (e) {
      if (e instanceof HTTP2StreamError) this.#streamError(e);
      else throw e;
    }
  };

  /** Whether `id` belongs to streams the peer opens. */
  #peerInitiated(id: number): boolean {
    return (id & 1) === (this.role === "server" ? 1 : 0);
  }

  /** Classifies a frame on a stream we have no record of; returns true to ignore it. */
  #lateFrame(id: number, type: number): true {
    const peer = this.#peerInitiated(id);
    const idle = peer ? id > this.#lastPeerId : id >= this.#nextLocalId;
    if (idle) throw conn("ERR_H2_IDLE_STREAM", `${frameName(type)} on idle stream ${id}`, ErrorCode.PROTOCOL_ERROR);
    if (type === FrameType.WINDOW_UPDATE || type === FrameType.RST_STREAM || type === FrameType.PRIORITY) return true;
    const how = this.#closed.get(id);
    if (how === undefined && type === FrameType.HEADERS && peer) {
      throw conn("ERR_H2_STREAM_ID", `HEADERS on stream ${id}, below the last opened stream`, ErrorCode.PROTOCOL_ERROR);
    }
    if (how === ClosedBy.LOCAL_RESET) return true;
    if (how === ClosedBy.PEER_RESET) {
      throw streamErr("ERR_H2_STREAM_CLOSED", `${frameName(type)} on reset stream ${id}`, ErrorCode.STREAM_CLOSED, id);
    }
    throw conn("ERR_H2_STREAM_CLOSED", `${frameName(type)} on closed stream ${id}`, ErrorCode.STREAM_CLOSED);
  }

  #onData(f: Frame, payload: Uint8Array): void {
    const id = f.streamId;
    if (f.length > this.#connRecvWindow) {
      throw conn("ERR_H2_FLOW_CONTROL", "DATA exceeds the connection window", ErrorCode.FLOW_CONTROL_ERROR);
    }
    this.#connRecvWindow -= f.length;
    const stream = this.#streams.get(id);
    if (stream === undefined || stream.state === S.HALF_CLOSED_REMOTE || stream.state === S.CLOSED) {
      this.#creditConnection(f.length);
      if (stream === undefined) {
        this.#lateFrame(id, f.type);
        return;
      }
      throw streamErr("ERR_H2_STREAM_CLOSED", `DATA on half-closed stream ${id}`, ErrorCode.STREAM_CLOSED, id);
    }
    if (stream.state === S.RESERVED_LOCAL || stream.state === S.RESERVED_REMOTE) {
      throw conn("ERR_H2_RESERVED_STREAM", `DATA on reserved stream ${id}`, ErrorCode.PROTOCOL_ERROR);
    }
    if (f.length > stream.recvWindow) {
      this.#creditConnection(f.length);
      throw streamErr("ERR_H2_FLOW_CONTROL", `DATA exceeds the window of stream ${id}`, ErrorCode.FLOW_CONTROL_ERROR, id);
    }
    stream.recvWindow -= f.length;
    const endStream = (f.flags & Flag.END_STREAM) !== 0;
    if (!stream.headersReceived) {
      this.#creditConnection(f.length);
      throw streamErr("ERR_H2_DATA_BEFORE_HEADERS", `DATA before HEADERS on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
    }
    stream.dataReceived += payload.length;
    if (stream.contentLength >= 0 && (stream.dataReceived > stream.contentLength || (endStream && stream.dataReceived !== stream.contentLength))) {
      this.#creditConnection(f.length);
      throw streamErr("ERR_H2_CONTENT_LENGTH", `DATA does not match content-length on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
    }
    if (payload.length === 0 && !endStream && this.counters.emptyData.hit(this.#now())) {
      throw conn("ERR_H2_EMPTY_DATA_FLOOD", "too many empty DATA frames", ErrorCode.ENHANCE_YOUR_CALM);
    }
    this.#events.push({ type: "data", streamId: id, data: this.#dataCopies.copy(payload), endStream });
    if (endStream) this.#remoteEnded(stream);
    if (this.#autoWindow) {
      this.#creditConnection(f.length);
      if (!endStream) this.#creditStream(stream, f.length);
    }
  }

  #creditConnection(n: number): void {
    this.#connRecvUnacked += n;
    if (this.#connRecvUnacked >= this.#connRecvTarget / 2) {
      this.#queue(encodeWindowUpdate(0, this.#connRecvUnacked));
      this.#connRecvWindow += this.#connRecvUnacked;
      this.#connRecvUnacked = 0;
    }
  }

  #creditStream(stream: H2Stream, n: number): void {
    stream.recvUnacked += n;
    if (stream.recvUnacked >= this.#recvInitialWindow / 2 && stream.recvUnacked > 0) {
      this.#queue(encodeWindowUpdate(stream.id, stream.recvUnacked));
      stream.recvWindow += stream.recvUnacked;
      stream.recvUnacked = 0;
    }
  }

  /**
   * Credits `n` consumed octets of a stream back to the peer (only needed
   * with `autoWindowUpdate: false`).
   */
  consume(streamId: number, n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError("n must be a non-negative integer");
    this.#connRecvUnacked += n;
    if (this.#connRecvUnacked >= this.#connRecvTarget / 2) {
      this.#queue(encodeWindowUpdate(0, this.#connRecvUnacked));
      this.#connRecvWindow += this.#connRecvUnacked;
      this.#connRecvUnacked = 0;
    }
    const s = this.#streams.get(streamId);
    if (s && (s.state === S.OPEN || s.state === S.HALF_CLOSED_LOCAL)) this.#creditStream(s, n);
  }

  #onHeadersFrame(f: Frame, payload: Uint8Array): void {
    let start = 0;
    let promisedId = 0;
    let selfDependent = false;
    if (f.type === FrameType.HEADERS && f.flags & Flag.PRIORITY) {
      selfDependent = readPriority(payload, 0).dependency === f.streamId;
      start = 5;
    }
    if (f.type === FrameType.PUSH_PROMISE) {
      if (this.role === "server") throw conn("ERR_H2_PUSH_PROMISE", "PUSH_PROMISE sent to a server", ErrorCode.PROTOCOL_ERROR);
      if (!this.localSettings.enablePush) throw conn("ERR_H2_PUSH_DISABLED", "PUSH_PROMISE with push disabled", ErrorCode.PROTOCOL_ERROR);
      promisedId = readU32(payload, 0) & 0x7fffffff;
      start = 4;
      if ((promisedId & 1) !== 0 || promisedId <= this.#lastPeerId) {
        throw conn("ERR_H2_PROMISED_ID", `invalid promised stream id ${promisedId}`, ErrorCode.PROTOCOL_ERROR);
      }
      this.#lastPeerId = promisedId;
    }
    const fragment = payload.subarray(start);
    const block: PendingBlock = {
      type: f.type,
      streamId: f.streamId,
      endStream: (f.flags & Flag.END_STREAM) !== 0 && f.type === FrameType.HEADERS,
      selfDependent,
      promisedId,
      // The view is decoded before this frame's callback returns unless
      // CONTINUATION frames follow: only then is a copy kept.
      fragments: [f.flags & Flag.END_HEADERS ? fragment : fragment.slice()],
      bytes: fragment.length,
      frames: 1,
    };
    if (f.flags & Flag.END_HEADERS) this.#completeBlock(block);
    else this.#block = block;
  }

  #onContinuation(f: Frame, payload: Uint8Array): void {
    const block = this.#block;
    if (block === null) throw conn("ERR_H2_CONTINUATION", "CONTINUATION without a header block", ErrorCode.PROTOCOL_ERROR);
    if (f.streamId !== block.streamId) {
      throw conn("ERR_H2_CONTINUATION", "CONTINUATION on another stream", ErrorCode.PROTOCOL_ERROR);
    }
    if (++block.frames > this.#maxContinuation + 1) {
      throw conn("ERR_H2_CONTINUATION_FLOOD", "too many CONTINUATION frames", ErrorCode.ENHANCE_YOUR_CALM);
    }
    block.bytes += payload.length;
    if (block.bytes > this.#decoder.maxHeaderListSize * 2 + 16384) {
      throw conn("ERR_H2_CONTINUATION_FLOOD", "header block too large", ErrorCode.ENHANCE_YOUR_CALM);
    }
    if (payload.length > 0) block.fragments.push(payload.slice());
    if (f.flags & Flag.END_HEADERS) {
      this.#block = null;
      this.#completeBlock(block);
    }
  }

  #completeBlock(block: PendingBlock): void {
    this.#block = null;
    const selfDependent = block.selfDependent;
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
    let fields: string[] = EMPTY_PAIRS as string[];
    let tooLarge = false;
    try {
      fields = this.#decoder.decode(bytes);
    } catch (e) {
      if (e instanceof HPACKError && e.code === HPACK_LIST_TOO_LARGE) tooLarge = true;
      else throw e;
    }
    if (block.type === FrameType.PUSH_PROMISE) return this.#onPushPromise(block, fields, tooLarge);
    const id = block.streamId;
    let stream = this.#streams.get(id);
    if (stream === undefined) {
      if (!this.#peerInitiated(id) || id <= this.#lastPeerId) {
        this.#lateFrame(id, FrameType.HEADERS);
        return;
      }
      if (this.role === "client") throw conn("ERR_H2_IDLE_STREAM", `HEADERS on idle stream ${id}`, ErrorCode.PROTOCOL_ERROR);
      this.#lastPeerId = id;
      if (this.goawaySent >= 0 && id > this.goawaySent) return; // after GOAWAY: ignored
      stream = new H2Stream(id, S.OPEN, this.remoteSettings.initialWindowSize, this.#recvInitialWindow);
      if (this.#activePeer >= this.localSettings.maxConcurrentStreams) {
        this.#remember(id, ClosedBy.LOCAL_RESET);
        throw streamErr("ERR_H2_REFUSED_STREAM", "too many concurrent streams", ErrorCode.REFUSED_STREAM, id);
      }
      this.#streams.set(id, stream);
      this.#activePeer++;
    }
    if (selfDependent) throw streamErr("ERR_H2_PRIORITY_SELF", `stream ${id} depends on itself`, ErrorCode.PROTOCOL_ERROR, id);
    switch (stream.state) {
      case S.HALF_CLOSED_REMOTE:
        throw streamErr("ERR_H2_STREAM_CLOSED", `HEADERS on half-closed stream ${id}`, ErrorCode.STREAM_CLOSED, id);
      case S.RESERVED_LOCAL:
        throw conn("ERR_H2_RESERVED_STREAM", `HEADERS on reserved stream ${id}`, ErrorCode.PROTOCOL_ERROR);
      case S.RESERVED_REMOTE:
        stream.state = S.HALF_CLOSED_LOCAL;
        this.#reservedCount--;
        this.#activePeer++;
        break;
    }
    if (tooLarge) {
      throw streamErr("ERR_H2_HEADER_LIST_TOO_LARGE", `header list of stream ${id} exceeds ${this.#decoder.maxHeaderListSize}`, ErrorCode.ENHANCE_YOUR_CALM, id);
    }
    if (stream.headersReceived) return this.#onTrailers(stream, fields, block.endStream);
    const info: SectionInfo = { method: "", status: 0, contentLength: -1 };
    let reason: string;
    if (this.role === "server") {
      reason = checkRequest(fields, info, { extendedConnect: this.localSettings.enableConnectProtocol });
    } else {
      reason = checkResponse(fields, info);
      if (!reason && info.status < 200 && block.endStream) reason = "informational response with END_STREAM";
      if (!reason && info.status === 101) reason = "101 is not allowed in HTTP/2";
    }
    if (reason) throw streamErr("ERR_H2_MALFORMED", `malformed header section: ${reason}`, ErrorCode.PROTOCOL_ERROR, id);
    const informational = this.role === "client" && info.status < 200;
    if (!informational) {
      stream.headersReceived = true;
      if (this.role === "server") stream.method = info.method;
      stream.status = info.status;
      const noBody = stream.method === "HEAD" || info.status === 204 || info.status === 304;
      stream.contentLength = noBody ? -1 : info.contentLength;
      if (block.endStream && stream.contentLength > 0) {
        throw streamErr("ERR_H2_CONTENT_LENGTH", `content-length without DATA on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
      }
    }
    const event: H2Event = { type: "headers", streamId: id, headers: fields, endStream: block.endStream };
    if (this.role === "server") {
      for (let i = 0; i < fields.length; i += 2) {
        if (fields[i] === "priority") event.priority = parsePriority(fields[i + 1]!);
      }
    }
    this.#events.push(event);
    if (block.endStream) this.#remoteEnded(stream);
  }

  #onTrailers(stream: H2Stream, fields: string[], endStream: boolean): void {
    const id = stream.id;
    if (!endStream) throw streamErr("ERR_H2_TRAILERS", `trailers without END_STREAM on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
    const reason = checkTrailers(fields);
    if (reason) throw streamErr("ERR_H2_MALFORMED", `malformed trailers: ${reason}`, ErrorCode.PROTOCOL_ERROR, id);
    if (stream.contentLength >= 0 && stream.dataReceived !== stream.contentLength) {
      throw streamErr("ERR_H2_CONTENT_LENGTH", `DATA does not match content-length on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
    }
    this.#events.push({ type: "trailers", streamId: id, headers: fields });
    this.#remoteEnded(stream);
  }

  #onPushPromise(block: PendingBlock, fields: string[], tooLarge: boolean): void {
    const parent = this.#streams.get(block.streamId);
    const promised = block.promisedId;
    if (parent === undefined) {
      if (this.#lateFrame(block.streamId, FrameType.PUSH_PROMISE)) {
        this.#remember(promised, ClosedBy.LOCAL_RESET);
        this.#queue(encodeRstStream(promised, ErrorCode.CANCEL));
      }
      return;
    }
    if (parent.state !== S.OPEN && parent.state !== S.HALF_CLOSED_LOCAL) {
      throw conn("ERR_H2_PUSH_PROMISE", `PUSH_PROMISE on stream ${block.streamId} in the wrong state`, ErrorCode.PROTOCOL_ERROR);
    }
    const stream = new H2Stream(promised, S.RESERVED_REMOTE, this.remoteSettings.initialWindowSize, this.#recvInitialWindow);
    const info: SectionInfo = { method: "", status: 0, contentLength: -1 };
    let reason = tooLarge ? "header list too large" : checkRequest(fields, info);
    if (!reason && info.method !== "GET" && info.method !== "HEAD") reason = `method ${info.method} cannot be pushed`;
    if (!reason && info.contentLength > 0) reason = "pushed request with content";
    if (reason) {
      this.#remember(promised, ClosedBy.LOCAL_RESET);
      throw streamErr("ERR_H2_MALFORMED", `malformed pushed request: ${reason}`, ErrorCode.PROTOCOL_ERROR, promised);
    }
    if (this.#reservedCount >= this.localSettings.maxConcurrentStreams) {
      this.#remember(promised, ClosedBy.LOCAL_RESET);
      throw streamErr("ERR_H2_REFUSED_STREAM", "too many reserved streams", ErrorCode.REFUSED_STREAM, promised);
    }
    stream.method = info.method;
    this.#streams.set(promised, stream);
    this.#reservedCount++;
    this.#events.push({ type: "push-promise", streamId: block.streamId, promisedId: promised, headers: fields });
  }

  #onPriority(f: Frame, payload: Uint8Array): void {
    const p = readPriority(payload, 0);
    if (p.dependency === f.streamId) {
      throw streamErr("ERR_H2_PRIORITY_SELF", `stream ${f.streamId} depends on itself`, ErrorCode.PROTOCOL_ERROR, f.streamId);
    }
    this.#events.push({ type: "priority", streamId: f.streamId, priority: p });
  }

  #onPriorityUpdate(payload: Uint8Array): void {
    if (this.role === "client") throw conn("ERR_H2_PRIORITY_UPDATE", "PRIORITY_UPDATE sent to a client", ErrorCode.PROTOCOL_ERROR);
    const id = readU32(payload, 0) & 0x7fffffff;
    if (id === 0 || !this.#peerInitiated(id)) {
      throw conn("ERR_H2_PRIORITY_UPDATE", `PRIORITY_UPDATE for stream ${id}`, ErrorCode.PROTOCOL_ERROR);
    }
    const value = latin1Decode(payload, 4, payload.length);
    this.#events.push({ type: "priority-update", streamId: id, priority: parsePriority(value) });
  }

  #onRst(f: Frame, payload: Uint8Array): void {
    const id = f.streamId;
    const stream = this.#streams.get(id);
    if (stream === undefined) {
      this.#lateFrame(id, f.type);
      return;
    }
    const code = readU32(payload, 0);
    this.#close(stream, ClosedBy.PEER_RESET);
    this.#events.push({ type: "rst", streamId: id, code, refused: false });
    if (this.counters.resets.hit(this.#now())) {
      throw conn("ERR_H2_RAPID_RESET", "too many streams reset by the peer", ErrorCode.ENHANCE_YOUR_CALM);
    }
  }

  #onSettings(f: Frame, payload: Uint8Array): void {
    if (f.flags & Flag.ACK) {
      const acked = this.#pendingSettings.shift();
      if (acked === undefined) throw conn("ERR_H2_SETTINGS_ACK", "unexpected SETTINGS ACK", ErrorCode.PROTOCOL_ERROR);
      this.#applyLocal(acked);
      this.#settingsDeadline = this.#pendingSettings.length > 0 ? this.#now() + this.#settingsAckMs : -1;
      this.#events.push({ type: "settings-ack" });
      return;
    }
    this.#awaitSettings = false;
    if (this.counters.settings.hit(this.#now())) {
      throw conn("ERR_H2_SETTINGS_FLOOD", "too many SETTINGS frames", ErrorCode.ENHANCE_YOUR_CALM);
    }
    const r = this.remoteSettings;
    const oldWindow = r.initialWindowSize;
    const oldTable = r.headerTableSize;
    applySettingsPayload(r, payload, this.role === "client");
    if (r.initialWindowSize !== oldWindow) {
      const delta = r.initialWindowSize - oldWindow;
      for (const s of this.#streams.values()) {
        s.sendWindow += delta;
        if (s.sendWindow > MAX_WINDOW) {
          throw conn("ERR_H2_FLOW_CONTROL", `SETTINGS_INITIAL_WINDOW_SIZE overflows stream ${s.id}`, ErrorCode.FLOW_CONTROL_ERROR);
        }
        if (delta > 0 && s.pending) this.#sendable.add(s);
      }
    }
    if (r.headerTableSize !== oldTable) this.#encoder.setMaxTableSize(r.headerTableSize);
    this.#queue(encodeSettings(null));
    this.#events.push({ type: "settings", settings: { ...r } });
  }

  #applyLocal(s: Settings): void {
    this.#decoder.setMaxTableSize(s.headerTableSize);
    if (Number.isFinite(s.maxHeaderListSize)) this.#decoder.maxHeaderListSize = s.maxHeaderListSize;
    this.#reader.maxFrameSize = s.maxFrameSize;
    const delta = s.initialWindowSize - this.#recvInitialWindow;
    this.#recvInitialWindow = s.initialWindowSize;
    if (delta !== 0) for (const st of this.#streams.values()) st.recvWindow += delta;
  }

  #onPing(f: Frame, payload: Uint8Array): void {
    if (f.flags & Flag.ACK) {
      const i = this.#pings.findIndex((p) => p.data.every((b, k) => b === payload[k]));
      if (i < 0) return;
      const p = this.#pings.splice(i, 1)[0]!;
      this.#events.push({ type: "ping-ack", data: p.data, rtt: this.#now() - p.sentAt });
      return;
    }
    if (this.counters.pings.hit(this.#now())) throw conn("ERR_H2_PING_FLOOD", "too many PING frames", ErrorCode.ENHANCE_YOUR_CALM);
    const data = payload.slice();
    this.#queue(encodePing(data, true));
    this.#events.push({ type: "ping", data });
  }

  #onGoaway(payload: Uint8Array): void {
    const last = readU32(payload, 0) & 0x7fffffff;
    const code = readU32(payload, 4);
    if (this.goawayReceived >= 0 && last > this.goawayReceived) {
      throw conn("ERR_H2_GOAWAY", "GOAWAY raised the last stream id", ErrorCode.PROTOCOL_ERROR);
    }
    this.goawayReceived = last;
    this.#events.push({ type: "goaway", lastStreamId: last, code, debug: payload.slice(8) });
    for (const s of [...this.#streams.values()]) {
      if (!this.#peerInitiated(s.id) && s.id > last) {
        this.#close(s, ClosedBy.PEER_RESET);
        this.#events.push({ type: "rst", streamId: s.id, code: ErrorCode.REFUSED_STREAM, refused: true });
      }
    }
  }

  #onWindowUpdate(f: Frame, payload: Uint8Array): void {
    const inc = readU32(payload, 0) & 0x7fffffff;
    const id = f.streamId;
    if (this.counters.windowUpdates.hit(this.#now())) {
      throw conn("ERR_H2_WINDOW_UPDATE_FLOOD", "too many WINDOW_UPDATE frames", ErrorCode.ENHANCE_YOUR_CALM);
    }
    if (id === 0) {
      if (inc === 0) throw conn("ERR_H2_WINDOW_UPDATE", "WINDOW_UPDATE of 0 on the connection", ErrorCode.PROTOCOL_ERROR);
      this.#connSendWindow += inc;
      if (this.#connSendWindow > MAX_WINDOW) {
        throw conn("ERR_H2_FLOW_CONTROL", "connection window above 2^31-1", ErrorCode.FLOW_CONTROL_ERROR);
      }
      for (const s of this.#streams.values()) if (s.pending) this.#sendable.add(s);
    } else {
      const stream = this.#streams.get(id);
      if (stream === undefined) {
        this.#lateFrame(id, f.type);
        return;
      }
      if (stream.state === S.RESERVED_REMOTE) {
        throw conn("ERR_H2_RESERVED_STREAM", `WINDOW_UPDATE on reserved stream ${id}`, ErrorCode.PROTOCOL_ERROR);
      }
      if (inc === 0) throw streamErr("ERR_H2_WINDOW_UPDATE", `WINDOW_UPDATE of 0 on stream ${id}`, ErrorCode.PROTOCOL_ERROR, id);
      stream.sendWindow += inc;
      if (stream.sendWindow > MAX_WINDOW) {
        throw streamErr("ERR_H2_FLOW_CONTROL", `window of stream ${id} above 2^31-1`, ErrorCode.FLOW_CONTROL_ERROR, id);
      }
      if (stream.pending) this.#sendable.add(stream);
    }
    this.#events.push({ type: "window-update", streamId: id, increment: inc });
  }

  // ----------------------------------------------------------- state changes

  #remoteEnded(s: H2Stream): void {
    if (s.state === S.OPEN) s.state = S.HALF_CLOSED_REMOTE;
    else if (s.state === S.HALF_CLOSED_LOCAL) this.#close(s, ClosedBy.END_STREAM);
  }

  #localEnded(s: H2Stream): void {
    if (s.state === S.OPEN) s.state = S.HALF_CLOSED_LOCAL;
    else if (s.state === S.HALF_CLOSED_REMOTE) this.#close(s, ClosedBy.END_STREAM);
  }

  #close(s: H2Stream, how: number): void {
    if (s.active) {
      if (this.#peerInitiated(s.id)) this.#activePeer--;
      else this.#activeLocal--;
    } else if (s.state === S.RESERVED_LOCAL || s.state === S.RESERVED_REMOTE) this.#reservedCount--;
    s.state = S.CLOSED;
    s.clearQueue();
    this.#streams.delete(s.id);
    this.#sendable.delete(s);
    this.#remember(s.id, how);
  }

  #remember(id: number, how: number): void {
    this.#closed.set(id, how);
    if (this.#closed.size > this.#maxClosed) {
      const oldest = this.#closed.keys().next().value;
      if (oldest !== undefined) this.#closed.delete(oldest);
    }
  }

  #streamError(e: HTTP2StreamError): void {
    const s = this.#streams.get(e.streamId);
    if (s !== undefined) this.#close(s, ClosedBy.LOCAL_RESET);
    else this.#remember(e.streamId, ClosedBy.LOCAL_RESET);
    this.#queue(encodeRstStream(e.streamId, e.http2Code));
    this.#events.push({ type: "stream-error", streamId: e.streamId, error: e });
  }

  #connectionError(e: HTTP2Error): void {
    if (this.dead) return;
    this.#queue(encodeGoaway(this.#lastPeerId, e.http2Code, new TextEncoder().encode(e.message.slice(0, 256))));
    this.goawaySent = this.#lastPeerId;
    this.dead = true;
    this.#events.push({ type: "error", error: e });
  }

  // ----------------------------------------------------------------- output

  #queue(frame: Uint8Array): void {
    this.#out.push(frame);
  }

  #sendSettings(s: Settings, all: boolean): void {
    this.#queue(encodeSettings(settingsToPairs(s, all)));
    this.#pendingSettings.push({ ...s });
    this.#settingsDeadline = this.#now() + this.#settingsAckMs;
  }

  /** Announces new settings; they apply to received frames once acknowledged. */
  updateSettings(changes: Partial<Settings>): void {
    this.#assertAlive();
    const next = { ...this.localSettings, ...changes };
    if (this.role === "server" && next.enablePush) throw new RangeError("a server cannot enable push");
    checkLocalSettings(next);
    Object.assign(this.localSettings, next);
    if (next.maxFrameSize > this.#reader.maxFrameSize) this.#reader.maxFrameSize = next.maxFrameSize;
    this.#sendSettings(next, false);
  }

  #assertAlive(): void {
    if (this.dead) throw conn("ERR_H2_CONNECTION_CLOSED", "the connection has failed", ErrorCode.PROTOCOL_ERROR);
  }

  #writable(id: number): H2Stream {
    this.#assertAlive();
    const s = this.#streams.get(id);
    if (s === undefined || s.state === S.HALF_CLOSED_LOCAL || s.state === S.CLOSED || s.state === S.RESERVED_REMOTE) {
      throw streamErr("ERR_H2_STREAM_CLOSED", `stream ${id} is not writable`, ErrorCode.STREAM_CLOSED, id);
    }
    return s;
  }

  /** Whether a new stream may be opened now (peer's MAX_CONCURRENT_STREAMS, GOAWAY, ids left). */
  canOpenStream(): boolean {
    return !this.dead && this.goawayReceived < 0 && this.#nextLocalId <= MAX_STREAM_ID &&
      this.#activeLocal < this.remoteSettings.maxConcurrentStreams;
  }

  /** Client: opens a stream with a request header section; returns its id. */
  request(headers: readonly string[], endStream: boolean): number {
    if (this.role !== "client") throw new TypeError("only a client sends requests");
    this.#assertAlive();
    if (!this.canOpenStream()) {
      throw new HTTP2Error("ERR_H2_STREAMS_EXHAUSTED", "no stream can be opened now", ErrorCode.REFUSED_STREAM);
    }
    const id = this.#nextLocalId;
    this.#nextLocalId += 2;
    const s = new H2Stream(id, S.OPEN, this.remoteSettings.initialWindowSize, this.#recvInitialWindow);
    for (let i = 0; i < headers.length; i += 2) if (headers[i] === ":method") s.method = headers[i + 1]!;
    this.#streams.set(id, s);
    this.#activeLocal++;
    this.#sendHeaderBlock(s, headers, endStream);
    return id;
  }

  /** Sends a response (server) or another header section on an open stream. */
  respond(streamId: number, headers: readonly string[], endStream: boolean): void {
    const s = this.#writable(streamId);
    if (s.state === S.RESERVED_LOCAL) {
      s.state = S.HALF_CLOSED_REMOTE;
      this.#reservedCount--;
      this.#activeLocal++;
    }
    this.#sendHeaderBlock(s, headers, endStream);
  }

  #sendHeaderBlock(s: H2Stream, headers: readonly string[], endStream: boolean): void {
    const block = this.#encoder.encodeView(headers);
    const maxFrame = this.remoteSettings.maxFrameSize;
    const out = this.#out;
    const buf = out.reserve(headerBlockWireLength(FrameType.HEADERS, block.length, maxFrame));
    out.length = writeHeaderBlock(buf, out.length, FrameType.HEADERS, s.id, block, endStream, maxFrame);
    s.headersSent = true;
    if (endStream) this.#localEnded(s);
  }

  /** Queues body bytes (sent by `pull()` as flow control allows). */
  sendData(streamId: number, data: Uint8Array, endStream: boolean): void {
    const s = this.#writable(streamId);
    if (s.endQueued || s.trailers !== null) throw streamErr("ERR_H2_STREAM_ENDED", `stream ${streamId} already ended`, ErrorCode.STREAM_CLOSED, streamId);
    if (data.length > 0) {
      s.queue.push(data);
      s.queuedBytes += data.length;
    }
    if (endStream) s.endQueued = true;
    this.#sendable.add(s);
  }

  /** Queues trailers, sent after the queued data; ends the stream. */
  sendTrailers(streamId: number, headers: readonly string[]): void {
    const s = this.#writable(streamId);
    if (s.endQueued || s.trailers !== null) throw streamErr("ERR_H2_STREAM_ENDED", `stream ${streamId} already ended`, ErrorCode.STREAM_CLOSED, streamId);
    s.trailers = headers.slice();
    this.#sendable.add(s);
  }

  /** Server: promises a pushed response on `parentId`; returns the promised stream id. */
  push(parentId: number, requestHeaders: readonly string[]): number {
    if (this.role !== "server") throw new TypeError("only a server pushes");
    const parent = this.#writable(parentId);
    if (!this.remoteSettings.enablePush) {
      throw new HTTP2Error("ERR_H2_PUSH_DISABLED", "the client disabled push", ErrorCode.REFUSED_STREAM);
    }
    if (!this.#peerInitiated(parentId) || parent.state === S.RESERVED_LOCAL) throw new TypeError("push on a request stream only");
    if (this.#nextLocalId > MAX_STREAM_ID || this.goawayReceived >= 0) {
      throw new HTTP2Error("ERR_H2_STREAMS_EXHAUSTED", "no stream can be opened now", ErrorCode.REFUSED_STREAM);
    }
    const id = this.#nextLocalId;
    this.#nextLocalId += 2;
    const s = new H2Stream(id, S.RESERVED_LOCAL, this.remoteSettings.initialWindowSize, this.#recvInitialWindow);
    this.#streams.set(id, s);
    this.#reservedCount++;
    const block = this.#encoder.encodeView(requestHeaders);
    const maxFrame = this.remoteSettings.maxFrameSize;
    const out = this.#out;
    const buf = out.reserve(headerBlockWireLength(FrameType.PUSH_PROMISE, block.length, maxFrame));
    out.length = writeHeaderBlock(buf, out.length, FrameType.PUSH_PROMISE, parentId, block, false, maxFrame, id);
    return id;
  }

  /** Resets a stream (RST_STREAM with `code`, default CANCEL). */
  reset(streamId: number, code: number = ErrorCode.CANCEL): void {
    this.#assertAlive();
    const s = this.#streams.get(streamId);
    if (s === undefined) return;
    this.#close(s, ClosedBy.LOCAL_RESET);
    this.#queue(encodeRstStream(streamId, code));
  }

  /** Sends a PING; the `ping-ack` event reports the round-trip time. */
  ping(data: Uint8Array = new Uint8Array(8)): void {
    this.#assertAlive();
    const copy = data.slice();
    this.#queue(encodePing(copy, false));
    this.#pings.push({ data: copy, sentAt: this.#now() });
  }

  /**
   * Sends GOAWAY: with NO_ERROR a graceful shutdown (streams up to the last
   * peer stream finish, newer ones are ignored); with an error code the
   * connection is finished.
   */
  goaway(code: number = ErrorCode.NO_ERROR, debug = ""): void {
    this.#assertAlive();
    this.goawaySent = this.#lastPeerId;
    this.#queue(encodeGoaway(this.#lastPeerId, code, new TextEncoder().encode(debug)));
    if (code !== ErrorCode.NO_ERROR) this.dead = true;
  }

  /** Whether the connection has nothing left to do and may be closed. */
  get finished(): boolean {
    return this.dead || ((this.goawaySent >= 0 || this.goawayReceived >= 0) && this.#streams.size === 0);
  }

  /** Number of streams with state (open, half-closed or reserved). */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Bytes waiting in `pull()` (control frames; DATA is produced on demand). */
  get queuedBytes(): number {
    return this.#out.length;
  }

  /** Whether `pull()` may return something. */
  get wantsWrite(): boolean {
    return this.#out.length > 0 || this.#sendable.size > 0;
  }

  /**
   * Returns the bytes to send now (control frames, then DATA as the flow
   * control windows allow, up to about `maxBytes`), or an empty array.
   */
  pull(maxBytes = 1 << 20): Uint8Array {
    this.#schedule(maxBytes);
    return this.#out.take();
  }

  #schedule(budget: number): void {
    if (this.dead) {
      this.#sendable.clear();
      return;
    }
    const maxFrame = this.remoteSettings.maxFrameSize;
    let progress = true;
    while (progress && this.#out.length < budget && this.#sendable.size > 0) {
      progress = false;
      for (const s of this.#sendable) {
        if (this.#out.length >= budget) break;
        if (s.queuedBytes > 0) {
          const n = Math.min(s.queuedBytes, s.sendWindow, this.#connSendWindow, maxFrame);
          if (n <= 0) {
            if (s.blockedSince < 0) s.blockedSince = this.#now();
            continue;
          }
          s.blockedSince = -1;
          const out = this.#out;
          const buf = out.reserve(9 + n);
          s.takeInto(n, buf, out.length + 9);
          s.sendWindow -= n;
          this.#connSendWindow -= n;
          const end = s.queuedBytes === 0 && s.endQueued && s.trailers === null;
          writeFrameHeader(buf, out.length, n, FrameType.DATA, end ? Flag.END_STREAM : 0, s.id);
          out.length += 9 + n;
          progress = true;
          if (end) {
            s.endQueued = false;
            this.#sendable.delete(s);
            this.#localEnded(s);
            continue;
          }
        }
        if (s.queuedBytes === 0) {
          if (s.trailers !== null) {
            const t = s.trailers;
            s.trailers = null;
            s.endQueued = false;
            this.#sendable.delete(s);
            this.#sendHeaderBlock(s, t, true);
            progress = true;
          } else if (s.endQueued) {
            s.endQueued = false;
            this.#sendable.delete(s);
            const out = this.#out;
            const buf = out.reserve(9);
            writeFrameHeader(buf, out.length, 0, FrameType.DATA, Flag.END_STREAM, s.id);
            out.length += 9;
            this.#localEnded(s);
            progress = true;
          } else this.#sendable.delete(s);
        }
      }
    }
  }

  // ------------------------------------------------------------------ time

  /** The earliest time `tick()` has something to check, or -1. */
  nextDeadline(): number {
    let t = this.#settingsDeadline;
    for (const s of this.#sendable) {
      if (s.blockedSince >= 0) {
        const d = s.blockedSince + this.#zeroWindowMs;
        if (t < 0 || d < t) t = d;
      }
    }
    return t;
  }

  /**
   * Checks the timeouts against `now()`: a missing SETTINGS ACK ends the
   * connection (SETTINGS_TIMEOUT); a stream stalled on a zero window longer
   * than `zeroWindowTimeoutMs` is reset (CANCEL).
   */
  tick(): H2Event[] {
    if (this.dead) return [];
    const now = this.#now();
    if (this.#settingsDeadline >= 0 && now >= this.#settingsDeadline) {
      this.#events.push({ type: "timeout", what: "settings-ack", streamId: 0 });
      this.#connectionError(conn("ERR_H2_SETTINGS_TIMEOUT", "no SETTINGS ACK in time", ErrorCode.SETTINGS_TIMEOUT));
    } else {
      for (const s of [...this.#sendable]) {
        if (s.blockedSince >= 0 && now - s.blockedSince >= this.#zeroWindowMs) {
          this.#events.push({ type: "timeout", what: "zero-window", streamId: s.id });
          this.reset(s.id, ErrorCode.CANCEL);
        }
      }
    }
    const events = this.#events;
    this.#events = [];
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
