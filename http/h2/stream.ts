/**
 * One HTTP/2 stream's state (RFC 9113 §5.1) and flow-control windows.
 *
 * @module
 */
import type { PrioritySignal } from "./priority.ts";

/**
 * Stream states of RFC 9113 §5.1 (idle streams are not materialized).
 *
 * @example
 * ```ts
 * import { StreamState } from "./stream.ts";
 * console.log(StreamState.OPEN, StreamState.CLOSED); // 3 6
 * ```
 */
export const StreamState: {
  readonly RESERVED_LOCAL: 1;
  readonly RESERVED_REMOTE: 2;
  readonly OPEN: 3;
  readonly HALF_CLOSED_LOCAL: 4;
  readonly HALF_CLOSED_REMOTE: 5;
  readonly CLOSED: 6;
} = Object.freeze({
  RESERVED_LOCAL: 1,
  RESERVED_REMOTE: 2,
  OPEN: 3,
  HALF_CLOSED_LOCAL: 4,
  HALF_CLOSED_REMOTE: 5,
  CLOSED: 6,
});

/**
 * Why a stream closed: decides how late frames on it are treated.
 *
 * @example
 * ```ts
 * import { ClosedBy } from "./stream.ts";
 * console.log(ClosedBy.PEER_RESET); // 2
 * ```
 */
export const ClosedBy: {
  /** Both sides sent END_STREAM (late DATA/HEADERS: connection STREAM_CLOSED). */
  readonly END_STREAM: 0;
  /** We sent RST_STREAM (late frames are ignored). */
  readonly LOCAL_RESET: 1;
  /** The peer sent RST_STREAM (late frames: stream error STREAM_CLOSED). */
  readonly PEER_RESET: 2;
} = Object.freeze({
  /** Both sides sent END_STREAM (late DATA/HEADERS: connection STREAM_CLOSED). */
  END_STREAM: 0,
  /** We sent RST_STREAM (late frames are ignored). */
  LOCAL_RESET: 1,
  /** The peer sent RST_STREAM (late frames: stream error STREAM_CLOSED). */
  PEER_RESET: 2,
});

/**
 * The connection's record of one stream.
 *
 * @example
 * ```ts
 * import { H2Stream, StreamState } from "./stream.ts";
 * const s = new H2Stream(1, StreamState.OPEN, 65535, 65535);
 * console.log(s.sendWindow); // 65535
 * ```
 */
export class H2Stream {
  /** The stream identifier. */
  readonly id: number;
  /** The state (see `StreamState`). */
  state: number;
  /** Octets we may still send (may go negative after a SETTINGS change). */
  sendWindow: number;
  /** Octets the peer may still send. */
  recvWindow: number;
  /** Received octets not yet credited back with WINDOW_UPDATE. */
  recvUnacked = 0;
  /** A header section (not informational) was received. */
  headersReceived = false;
  /** A header section (not informational) was sent. */
  headersSent = false;
  /** content-length of the received section, -1 if none. */
  contentLength: number = -1;
  /** DATA octets received (without padding). */
  dataReceived = 0;
  /** DATA octets we sent on this stream that the peer has not credited back. */
  sentUncredited = 0;
  /** A request on it was reported to the application (server), which has not finished with it yet. */
  appHolds = false;
  /** Request method (client: sent; server: received). */
  method = "";
  /** Status of the received response (client). */
  status = 0;
  /** Data queued for sending. */
  queue: Uint8Array[] = [];
  /** Octets of `queue[0]` already taken. */
  queueOffset = 0;
  /** Octets queued for sending. */
  queuedBytes = 0;
  /** END_STREAM is to be sent once the queue drains. */
  endQueued = false;
  /** Trailers to send (encoded at send time) once the queue drains. */
  trailers: string[] | null = null;
  /** Time the stream became blocked on a zero window, -1 if not blocked. */
  blockedSince: number = -1;
  /** RFC 9218 urgency of what we send on this stream: 0 (first) to 7 (last). */
  urgency = 3;
  /** RFC 9218: our data on this stream may be interleaved with others of the same urgency. */
  incremental = false;

  /** Takes an RFC 9218 signal for the order of our DATA on this stream. */
  setPriority(p: PrioritySignal): void {
    this.urgency = p.urgency;
    this.incremental = p.incremental;
  }

  /** Creates stream `id` in `state` with the given send and receive windows in octets. */
  constructor(id: number, state: number, sendWindow: number, recvWindow: number) {
    this.id = id;
    this.state = state;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** Whether the stream counts against MAX_CONCURRENT_STREAMS. */
  get active(): boolean {
    return this.state >= StreamState.OPEN && this.state <= StreamState.HALF_CLOSED_REMOTE;
  }

  /** Whether anything waits to be sent. */
  get pending(): boolean {
    return this.queuedBytes > 0 || this.endQueued || this.trailers !== null;
  }

  /** Removes `n` queued octets, copying them into `out` at `offset`. */
  takeInto(n: number, out: Uint8Array, offset: number): void {
    let o = offset;
    const stop = offset + n;
    while (o < stop) {
      const c = this.queue[0]!;
      const from = this.queueOffset;
      const k = Math.min(stop - o, c.length - from);
      out.set(from === 0 && k === c.length ? c : c.subarray(from, from + k), o);
      o += k;
      this.queueOffset = from + k;
      if (this.queueOffset === c.length) {
        this.queue.shift();
        this.queueOffset = 0;
      }
    }
    this.queuedBytes -= n;
  }

  /**
   * Takes `n` queued octets that the first queued array holds (from
   * `queueOffset` on) as a view of it, without a copy.
   */
  takeView(n: number): Uint8Array {
    const c = this.queue[0]!;
    const from = this.queueOffset;
    const view = from === 0 && n === c.length ? c : c.subarray(from, from + n);
    this.queueOffset = from + n;
    if (this.queueOffset === c.length) {
      this.queue.shift();
      this.queueOffset = 0;
    }
    this.queuedBytes -= n;
    return view;
  }

  /** The queued octets become one array of their own (a copy): the arrays they were queued from may change after. */
  ownQueue(): void {
    const n = this.queuedBytes;
    if (n === 0) return;
    const copy = new Uint8Array(n);
    this.takeInto(n, copy, 0);
    this.queue = [copy];
    this.queueOffset = 0;
    this.queuedBytes = n;
  }

  /** Drops everything queued. */
  clearQueue(): void {
    if (this.queue.length !== 0) this.queue = [];
    this.queueOffset = 0;
    this.queuedBytes = 0;
    this.endQueued = false;
    this.trailers = null;
  }
}
