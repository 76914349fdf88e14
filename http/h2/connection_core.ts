/**
 * The private state of an {@link H2Connection} and the operations its
 * frame handlers (data_frames.ts, header_blocks.ts, control_frames.ts) and
 * send scheduler (send_scheduler.ts) share: queueing frames, crediting flow
 * control, stream and connection errors. I/O-free like the connection.
 *
 * @module
 */
import { monotonicMs } from "../../core/clock.ts";
import { HTTP2Error, HTTP2StreamError } from "../../core/errors.ts";
import { HPACK_LIMITS, HTTP2_LIMITS } from "../../core/limits.ts";
import { HPACKDecoder } from "../hpack/decoder.ts";
import { HPACKEncoder } from "../hpack/encoder.ts";
import { CLIENT_PREFACE, DEFAULT_WINDOW, ErrorCode, FrameType, MAX_WINDOW } from "./constants.ts";
import { DataCopies } from "./data_copies.ts";
import type { H2Event } from "./events.ts";
import { encodeGoaway, encodeRstStream, encodeSettings, encodeWindowUpdate, FrameReader, headerBlockWireLength, writeHeaderBlock } from "./frames.ts";
import { OutboundBuffer } from "./outbound.ts";
import { RateCounter } from "./rate_counter.ts";
import { type Settings, settingsToPairs } from "./settings.ts";
import { ClosedBy, type H2Stream } from "./stream.ts";
import { StreamTable } from "./stream_table.ts";
import type { H2ConnectionOptions, PendingBlock } from "./types.ts";
import { NoProgressBudget } from "./work_budget.ts";

/**
 * The flood protections of a connection: per-second counters (resets,
 * SETTINGS, PING; they need a clock) and the no-progress budget, which
 * useful work pays back.
 */
export interface FloodCounters {
  /** Resets sent by the peer and by us for the peer's errors. */
  resets: RateCounter;
  /** SETTINGS frames from the peer per second. */
  settings: RateCounter;
  /** PING frames from the peer per second. */
  pings: RateCounter;
  /** Frames that cost work without progress (see work_budget.ts). */
  noProgress: NoProgressBudget;
}

/**
 * The flood counters for `options`, limits defaulting to `HTTP2_LIMITS`.
 *
 * @example
 * ```ts
 * import { floodCounters } from "./connection_core.ts";
 * console.log(floodCounters({ maxPingsPerSecond: 5 }).pings.limit); // 5
 * ```
 */
export function floodCounters(options: Partial<H2ConnectionOptions>): FloodCounters {
  const L = HTTP2_LIMITS;
  return {
    resets: new RateCounter(options.maxResetsPerSecond ?? L.maxResetsPerSecond),
    settings: new RateCounter(options.maxSettingsPerSecond ?? L.maxSettingsPerSecond),
    pings: new RateCounter(options.maxPingsPerSecond ?? L.maxPingsPerSecond),
    noProgress: new NoProgressBudget(
      options.maxNoProgressFrames ?? L.maxNoProgressFrames,
      options.noProgressRefillPerSecond ?? L.noProgressRefillPerSecond,
    ),
  };
}

/** The public fields of the connection that its handlers read and write. */
export interface ConnectionStatus {
  readonly role: "client" | "server";
  readonly localSettings: Settings;
  readonly remoteSettings: Settings;
  dead: boolean;
  goawayReceived: number;
  goawaySent: number;
  readonly counters: FloodCounters;
}

/**
 * A connection error.
 *
 * @example
 * ```ts
 * import { connectionError } from "./connection_core.ts";
 * const err = connectionError("ERR_H2_PREFACE", "invalid connection preface", 1);
 * console.log(err.http2Code); // 1: PROTOCOL_ERROR, for the GOAWAY
 * ```
 */
export function connectionError(code: string, message: string, http2Code: number): HTTP2Error {
  return new HTTP2Error(code, message, http2Code);
}

/**
 * A stream error on stream `id`.
 *
 * @example
 * ```ts
 * import { streamError } from "./connection_core.ts";
 * const err = streamError("ERR_H2_MALFORMED", "malformed header section", 1, 3);
 * console.log(err.streamId); // 3: the stream to reset
 * ```
 */
export function streamError(code: string, message: string, http2Code: number, id: number): HTTP2StreamError {
  return new HTTP2StreamError(code, message, http2Code, id);
}

/**
 * Everything an {@link H2Connection} keeps besides its public fields.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // H2Core is made by the H2Connection constructor and never seen outside.
 * const c = new H2Connection({ role: "server" });
 * ```
 */
export class H2Core {
  readonly conn: ConnectionStatus;
  /** The clock (a constant 0 without one: see `timed`). */
  readonly now: () => number;
  /** A clock was given (or defaulted): per-second limits and timeouts apply. */
  readonly timed: boolean;
  readonly autoWindow: boolean;
  readonly reader: FrameReader;
  readonly encoder = new HPACKEncoder();
  readonly decoder: HPACKDecoder;
  readonly table: StreamTable;
  /** Events of the `receive()` or `tick()` in progress. */
  events: H2Event[] = [];
  readonly out = new OutboundBuffer();
  /**
   * While `pullParts()` runs: where DATA payloads go by reference (see
   * send_scheduler.ts `step`), with the offset in `out` where the segment
   * not yet in it starts, the octets referenced and the most parts.
   */
  gather: Uint8Array[] | undefined = undefined;
  gatherMark = 0;
  gathered = 0;
  gatherMax = 0;
  readonly dataCopies = new DataCopies();
  /** Client preface octets still expected (server). */
  prefaceLeft: number;
  /** No SETTINGS received yet: the first frame must be one. */
  awaitSettings = true;
  /** A header block waiting for CONTINUATION frames. */
  block: PendingBlock | null = null;
  /** The last request (server) or response (client) header section that passed its checks: checkRequest's and checkResponse's memo. */
  readonly passedSection: string[] = [];
  connSendWindow = DEFAULT_WINDOW;
  /** DATA octets we sent that the peer has not credited back (WINDOW_UPDATE on stream 0). */
  connSentUncredited = 0;
  connRecvWindow = DEFAULT_WINDOW;
  connRecvUnacked = 0;
  connRecvTarget = DEFAULT_WINDOW;
  /** Our acknowledged SETTINGS_INITIAL_WINDOW_SIZE. */
  recvInitialWindow = DEFAULT_WINDOW;
  /** Settings sent and not yet acknowledged, oldest first. */
  readonly pendingSettings: Settings[] = [];
  settingsDeadline = -1;
  readonly pings: { data: Uint8Array; sentAt: number }[] = [];
  readonly maxContinuation: number;
  readonly zeroWindowMs: number;
  readonly settingsAckMs: number;
  readonly maxOutbound: number;

  /** Queues the opening frames (preface, SETTINGS, window) of `conn`. */
  constructor(conn: ConnectionStatus, options: H2ConnectionOptions) {
    const L = HTTP2_LIMITS;
    this.conn = conn;
    this.timed = options.now !== null;
    this.now = options.now === null ? () => 0 : options.now ?? monotonicMs;
    this.autoWindow = options.autoWindowUpdate ?? true;
    this.maxContinuation = options.maxContinuationFrames ?? L.maxContinuationFrames;
    this.zeroWindowMs = options.zeroWindowTimeoutMs ?? L.zeroWindowTimeoutMs;
    this.settingsAckMs = options.settingsAckTimeoutMs ?? L.settingsAckTimeoutMs;
    this.maxOutbound = options.maxOutboundBytes ?? L.maxOutboundBytes;
    this.table = new StreamTable(conn.role, options.maxClosedStreams ?? L.maxClosedStreams);
    const local = conn.localSettings;
    this.reader = new FrameReader(Math.max(16384, local.maxFrameSize));
    this.decoder = new HPACKDecoder({
      maxTableSize: 4096,
      maxHeaderListSize: Number.isFinite(local.maxHeaderListSize) ? local.maxHeaderListSize : HPACK_LIMITS.maxHeaderListSize,
    });
    this.prefaceLeft = conn.role === "server" ? CLIENT_PREFACE.length : 0;
    if (conn.role === "client") this.queue(CLIENT_PREFACE);
    this.sendSettings(local, true);
    const win = options.connectionWindowSize ?? DEFAULT_WINDOW;
    if (win > DEFAULT_WINDOW) {
      if (win > MAX_WINDOW) throw new RangeError("connectionWindowSize above 2^31-1");
      this.queue(encodeWindowUpdate(0, win - DEFAULT_WINDOW));
      this.connRecvWindow = win;
      this.connRecvTarget = win;
    }
  }

  /** Queues an encoded frame. */
  queue(frame: Uint8Array): void {
    this.out.push(frame);
  }

  /** Announces settings `s` (all of them, or those that differ from the protocol defaults). */
  sendSettings(s: Settings, all: boolean): void {
    this.queue(encodeSettings(settingsToPairs(s, all)));
    this.pendingSettings.push({ ...s });
    if (this.timed) this.settingsDeadline = this.now() + this.settingsAckMs;
  }

  /** Encodes and queues a HEADERS block (with CONTINUATION frames as needed) on `s`. */
  sendHeaderBlock(s: H2Stream, headers: readonly string[], endStream: boolean): void {
    const block = this.encoder.encodeView(headers);
    const maxFrame = this.conn.remoteSettings.maxFrameSize;
    const out = this.out;
    const buf = out.reserve(headerBlockWireLength(FrameType.HEADERS, block.length, maxFrame));
    out.length = writeHeaderBlock(buf, out.length, FrameType.HEADERS, s.id, block, endStream, maxFrame);
    s.headersSent = true;
    if (endStream) this.table.localEnded(s);
  }

  /** Counts `n` received octets against the connection window; WINDOW_UPDATE once half is used. */
  creditConnection(n: number): void {
    this.connRecvUnacked += n;
    if (this.connRecvUnacked >= this.connRecvTarget / 2) {
      this.queue(encodeWindowUpdate(0, this.connRecvUnacked));
      this.connRecvWindow += this.connRecvUnacked;
      this.connRecvUnacked = 0;
    }
  }

  /** Counts `n` consumed octets of `stream`; WINDOW_UPDATE once half its window is used. */
  creditStream(stream: H2Stream, n: number): void {
    stream.recvUnacked += n;
    if (stream.recvUnacked >= this.recvInitialWindow / 2 && stream.recvUnacked > 0) {
      this.queue(encodeWindowUpdate(stream.id, stream.recvUnacked));
      stream.recvWindow += stream.recvUnacked;
      stream.recvUnacked = 0;
    }
  }

  /**
   * Resets the stream of `e` (RST_STREAM) and reports it. The peer caused
   * it, so it counts like a reset the peer sent (MadeYouReset,
   * CVE-2025-8671): throws ENHANCE_YOUR_CALM past the limits.
   */
  failStream(e: HTTP2StreamError): void {
    const table = this.table;
    const s = table.streams.get(e.streamId);
    if (s !== undefined) table.close(s, ClosedBy.LOCAL_RESET);
    else table.remember(e.streamId, ClosedBy.LOCAL_RESET);
    this.queue(encodeRstStream(e.streamId, e.http2Code));
    this.events.push({ type: "stream-error", streamId: e.streamId, error: e });
    this.countReset();
  }

  /** Counts a reset sent by the peer or caused by it; throws ENHANCE_YOUR_CALM past the limits. */
  countReset(): void {
    if (this.overRate(this.conn.counters.resets)) {
      throw connectionError("ERR_H2_RAPID_RESET", "too many streams reset by or because of the peer", ErrorCode.ENHANCE_YOUR_CALM);
    }
    this.noProgress();
  }

  /** Records an event on a per-second counter: true when over its limit (never without a clock). */
  overRate(counter: RateCounter): boolean {
    return counter.hit(this.now()) && this.timed;
  }

  /** Charges one frame that cost work without progress (`cost` of a whole one); throws ENHANCE_YOUR_CALM past the budget. */
  noProgress(cost = 1): void {
    if (this.conn.counters.noProgress.charge(this.timed ? this.now() : NaN, cost)) {
      throw connectionError("ERR_H2_NO_PROGRESS_FLOOD", "too many frames without progress", ErrorCode.ENHANCE_YOUR_CALM);
    }
  }

  /** Ends the connection with GOAWAY for `e` and reports it. */
  failConnection(e: HTTP2Error): void {
    const conn = this.conn;
    if (conn.dead) return;
    const last = this.table.lastPeerId;
    this.queue(encodeGoaway(last, e.http2Code, new TextEncoder().encode(e.message.slice(0, 256))));
    conn.goawaySent = last;
    conn.dead = true;
    this.events.push({ type: "error", error: e });
  }
}
