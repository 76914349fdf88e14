/**
 * The streams of one HTTP/2 connection (RFC 9113 §5.1): the open and
 * reserved ones, a bounded memory of closed ones (how each closed decides
 * how late frames are treated), stream ids and the concurrency counts.
 *
 * @module
 */
import { HTTP2Error, HTTP2StreamError } from "../../core/errors.ts";
import { ErrorCode, FrameType } from "./constants.ts";
import { frameName } from "./frames.ts";
import type { PrioritySignal } from "./priority.ts";
import { ClosedBy, type H2Stream, StreamState as S } from "./stream.ts";

/**
 * The stream table of a connection, for one role.
 *
 * @example
 * ```ts
 * import { StreamTable } from "./stream_table.ts";
 * import { H2Stream, StreamState } from "./stream.ts";
 * const table = new StreamTable("client", 100);
 * const s = new H2Stream(1, StreamState.OPEN, 65535, 65535);
 * table.streams.set(1, s);
 * table.activeLocal++;
 * table.localEnded(s); // half-closed (local)
 * table.remoteEnded(s); // closed and remembered
 * console.log(table.streams.size, table.peerInitiated(2)); // 0 true
 * ```
 */
export class StreamTable {
  /** Streams with state: open, half-closed or reserved. */
  readonly streams = new Map<number, H2Stream>();
  /**
   * Recently reset stream ids and how (a `ClosedBy` value). Streams that
   * ended normally are only in the ring of remembered ids: a Map insertion
   * and deletion per stream was ~300 ns (3% of an h2 server's request), and
   * only a late frame that ends the connection anyway needs to know them.
   */
  readonly closed = new Map<number, number>();
  /** Streams with something queued that `pull()` should look at. */
  readonly sendable = new Set<H2Stream>();
  /** The id our next stream gets. */
  nextLocalId: number;
  /** The highest stream id the peer opened or promised. */
  lastPeerId = 0;
  /** Our open streams (counted against the peer's MAX_CONCURRENT_STREAMS). */
  activeLocal = 0;
  /**
   * The peer's open streams (counted against ours), and the streams reset
   * while the application still worked on them (see `held`).
   */
  activePeer = 0;
  /**
   * Peer streams reset (by the peer, or by us for its errors) while the
   * application was still answering them: they count against our
   * MAX_CONCURRENT_STREAMS until the application finishes with them
   * (`release`), so resets cannot start unbounded work (CVE-2023-44487,
   * CVE-2025-8671).
   */
  readonly held = new Set<number>();
  /** Reserved (pushed, not yet answered) streams. */
  reservedCount = 0;
  /**
   * PRIORITY_UPDATEs received for streams the peer has not opened yet
   * (RFC 9218 §7.1), bounded by the caller; taken when the stream opens.
   */
  readonly pendingPriority = new Map<number, PrioritySignal>();
  readonly #peerParity: number;
  readonly #maxClosed: number;
  /** The ids remembered (reset or ended), oldest at `#closedAt` once the ring is full, and how each closed. */
  readonly #closedOrder: number[] = [];
  readonly #closedHow: number[] = [];
  #closedAt = 0;

  constructor(role: "client" | "server", maxClosed: number) {
    this.nextLocalId = role === "client" ? 1 : 2;
    this.#peerParity = role === "server" ? 1 : 0;
    this.#maxClosed = maxClosed;
  }

  /** Whether `id` belongs to streams the peer opens. */
  peerInitiated(id: number): boolean {
    return (id & 1) === this.#peerParity;
  }

  /** Applies `p` to the stream `id` now, or keeps it (up to `bound` of them) until the peer opens it. */
  setPriority(id: number, p: PrioritySignal, bound: number): void {
    const s = this.streams.get(id);
    if (s !== undefined) {
      s.setPriority(p);
      return;
    }
    if (!this.peerInitiated(id) || id <= this.lastPeerId) return; // closed: nothing to do
    this.pendingPriority.delete(id);
    if (this.pendingPriority.size >= bound) {
      const oldest = this.pendingPriority.keys().next().value;
      if (oldest !== undefined) this.pendingPriority.delete(oldest);
    }
    this.pendingPriority.set(id, p);
  }

  /** The PRIORITY_UPDATE kept for the stream `id`, which the peer opens now (it is forgotten). */
  takePendingPriority(id: number): PrioritySignal | undefined {
    const p = this.pendingPriority.get(id);
    if (p !== undefined) this.pendingPriority.delete(id);
    return p;
  }

  /** The peer sent END_STREAM on `s`. */
  remoteEnded(s: H2Stream): void {
    if (s.state === S.OPEN) s.state = S.HALF_CLOSED_REMOTE;
    else if (s.state === S.HALF_CLOSED_LOCAL) this.close(s, ClosedBy.END_STREAM);
  }

  /** We sent END_STREAM on `s`. */
  localEnded(s: H2Stream): void {
    if (s.state === S.OPEN) s.state = S.HALF_CLOSED_LOCAL;
    else if (s.state === S.HALF_CLOSED_REMOTE) this.close(s, ClosedBy.END_STREAM);
  }

  /**
   * Closes `s` (`how`: a `ClosedBy` value), dropping what it had queued. A
   * peer stream the application still holds stays counted in `activePeer`
   * until `release`.
   */
  close(s: H2Stream, how: number): void {
    if (s.active) {
      if (!this.peerInitiated(s.id)) this.activeLocal--;
      else if (s.appHolds) this.held.add(s.id);
      else this.activePeer--;
    } else if (s.state === S.RESERVED_LOCAL || s.state === S.RESERVED_REMOTE) this.reservedCount--;
    s.state = S.CLOSED;
    s.clearQueue();
    this.streams.delete(s.id);
    this.sendable.delete(s);
    this.remember(s.id, how);
  }

  /** The application finished with the closed stream `id`: it no longer counts against concurrency. */
  release(id: number): void {
    if (this.held.delete(id)) this.activePeer--;
  }

  /** Records how stream `id` closed, forgetting the oldest record beyond the bound. */
  remember(id: number, how: number): void {
    const closed = this.closed;
    if (how !== ClosedBy.END_STREAM) {
      if (closed.has(id)) {
        closed.set(id, how);
        return;
      }
      closed.set(id, how);
    }
    // In a ring: the oldest is found without a Map iterator (costly per stream on JavaScriptCore).
    const ring = this.#closedOrder;
    if (ring.length < this.#maxClosed) {
      ring.push(id);
      this.#closedHow.push(how);
      return;
    }
    if (ring.length === 0) {
      closed.delete(id);
      return;
    }
    const at = this.#closedAt;
    if (this.#closedHow[at] !== ClosedBy.END_STREAM) closed.delete(ring[at]!);
    ring[at] = id;
    this.#closedHow[at] = how;
    this.#closedAt = at + 1 === ring.length ? 0 : at + 1;
  }

  /** Whether stream `id` is remembered as ended normally (both END_STREAMs). */
  #endedNormally(id: number): boolean {
    const ring = this.#closedOrder;
    for (let i = 0; i < ring.length; i++) if (ring[i] === id && this.#closedHow[i] === ClosedBy.END_STREAM) return true;
    return false;
  }

  /**
   * Classifies a frame of `type` on stream `id`, of which there is no
   * record: throws the connection or stream error it deserves, or returns
   * true when it is to be ignored.
   */
  lateFrame(id: number, type: number): true {
    const peer = this.peerInitiated(id);
    const idle = peer ? id > this.lastPeerId : id >= this.nextLocalId;
    if (idle) throw new HTTP2Error("ERR_H2_IDLE_STREAM", `${frameName(type)} on idle stream ${id}`, ErrorCode.PROTOCOL_ERROR);
    if (type === FrameType.WINDOW_UPDATE || type === FrameType.RST_STREAM || type === FrameType.PRIORITY) return true;
    const how = this.closed.get(id);
    // Forgotten, or ended normally (a scan of the ring: the connection ends either way).
    if (how === undefined && type === FrameType.HEADERS && peer && !this.#endedNormally(id)) {
      throw new HTTP2Error("ERR_H2_STREAM_ID", `HEADERS on stream ${id}, below the last opened stream`, ErrorCode.PROTOCOL_ERROR);
    }
    if (how === ClosedBy.LOCAL_RESET) return true;
    if (how === ClosedBy.PEER_RESET) {
      throw new HTTP2StreamError("ERR_H2_STREAM_CLOSED", `${frameName(type)} on reset stream ${id}`, ErrorCode.STREAM_CLOSED, id);
    }
    throw new HTTP2Error("ERR_H2_STREAM_CLOSED", `${frameName(type)} on closed stream ${id}`, ErrorCode.STREAM_CLOSED);
  }
}
