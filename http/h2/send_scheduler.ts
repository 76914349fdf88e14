/**
 * The send side of an HTTP/2 connection: the scheduler that turns queued
 * stream data into DATA frames as flow control allows (what `pull()`
 * sends), and the zero-window deadline it leaves for `tick()`.
 *
 * @module
 */
import { Flag, FrameType } from "./constants.ts";
import type { H2Core } from "./connection_core.ts";
import { writeFrameHeader } from "./frames.ts";
import type { H2Stream } from "./stream.ts";

/**
 * Writes DATA frames (and deferred trailers or END_STREAM) of the streams
 * with something queued into the outbound buffer, as the flow-control
 * windows and the peer's maximum frame size allow, until about `budget`
 * octets are queued; a stream stalled on a zero window records since when.
 *
 * Order follows RFC 9218: the lowest urgency with a stream that can send
 * goes first; at that urgency, non-incremental streams are served one at a
 * time, lowest id first, then incremental streams one frame each in turn.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.pull before it takes the outbound bytes.
 * new H2Connection({ role: "client" }).pull();
 * ```
 */
export function schedule(c: H2Core, budget: number): void {
  const sendable = c.table.sendable;
  if (c.conn.dead) {
    sendable.clear();
    return;
  }
  const maxFrame = c.conn.remoteSettings.maxFrameSize;
  // One allocation for what this pull can send (see OutboundBuffer.reserve):
  // when gathering, the frame headers only (the payloads go by reference).
  if (sendable.size > 0 && c.connSendWindow > 0) {
    let queued = 0;
    for (const s of sendable) queued += s.queuedBytes;
    const room = Math.min(queued, c.connSendWindow, budget - c.out.length);
    const headers = (Math.ceil(room / maxFrame) + 1) * 9;
    if (room > 0) c.out.reserve(c.gather === undefined ? room + maxFrame + headers : headers + GATHER_MIN);
  }
  while (more(c, budget) && sendable.size > 0) {
    if (sendable.size === 1) {
      // The common case: no order to decide.
      const only = sendable.values().next().value!;
      while (more(c, budget) && sendable.has(only) && canSend(c, only)) step(c, only, maxFrame);
      return;
    }
    let urgency = 8;
    for (const s of sendable) if (canSend(c, s) && s.urgency < urgency) urgency = s.urgency;
    if (urgency === 8) return; // every stream waits for a window
    // Non-incremental streams of this urgency, one at a time by id.
    const queue = picked;
    queue.length = 0;
    let sorted = true;
    for (const s of sendable) {
      if (s.urgency !== urgency || s.incremental) continue;
      if (queue.length > 0 && queue[queue.length - 1]!.id > s.id) sorted = false;
      queue.push(s);
    }
    if (!sorted) queue.sort(byId);
    for (let k = 0; k < queue.length; k++) {
      const s = queue[k]!;
      while (more(c, budget) && sendable.has(s) && canSend(c, s)) step(c, s, maxFrame);
    }
    queue.length = 0;
    // Then the incremental ones, a frame each in turn.
    let progress = true;
    while (progress && more(c, budget)) {
      progress = false;
      for (const s of sendable) {
        if (!more(c, budget)) return;
        if (s.urgency === urgency && s.incremental && canSend(c, s)) {
          step(c, s, maxFrame);
          progress = true;
        }
      }
    }
  }
}

/**
 * DATA payloads of this many octets or more go by reference while
 * gathering (`pullParts`); smaller ones are copied beside the frame
 * headers (an iovec of their own would cost more than the copy).
 */
const GATHER_MIN = 4096;

/** Whether this pull may add a frame: under its octet budget and, when gathering, with room for a referenced payload and the last segment. */
function more(c: H2Core, budget: number): boolean {
  const parts = c.gather;
  if (parts === undefined) return c.out.length < budget;
  return c.out.length + c.gathered < budget && parts.length + 3 <= c.gatherMax;
}

/** Scratch list of the streams served in id order (schedule() runs to completion, so one list serves every connection). */
const picked: H2Stream[] = [];

function byId(a: H2Stream, b: H2Stream): number {
  return a.id - b.id;
}

/** Whether `step` can make progress on `s`; records when it stalled on a window. */
function canSend(c: H2Core, s: H2Stream): boolean {
  if (s.queuedBytes === 0 || (s.sendWindow > 0 && c.connSendWindow > 0)) return true;
  if (s.blockedSince < 0) s.blockedSince = c.now();
  return false;
}

/** One DATA frame of `s`, or what ends it (trailers, an empty END_STREAM), or its removal from the sendable set. */
function step(c: H2Core, s: H2Stream, maxFrame: number): void {
  const table = c.table;
  const out = c.out;
  if (s.queuedBytes > 0) {
    const n = Math.min(s.queuedBytes, s.sendWindow, c.connSendWindow, maxFrame);
    s.blockedSince = -1;
    const parts = c.gather;
    const end = s.queuedBytes === n && s.endQueued && s.trailers === null;
    if (parts !== undefined && n >= GATHER_MIN && s.queue[0]!.length - s.queueOffset >= n) {
      // The frame header ends the segment of `out` so far; the payload goes from the queued array itself.
      const buf = out.reserve(9);
      writeFrameHeader(buf, out.length, n, FrameType.DATA, end ? Flag.END_STREAM : 0, s.id);
      out.length += 9;
      parts.push(out.view(c.gatherMark, out.length), s.takeView(n));
      c.gatherMark = out.length;
      c.gathered += n;
    } else {
      const buf = out.reserve(9 + n);
      s.takeInto(n, buf, out.length + 9);
      writeFrameHeader(buf, out.length, n, FrameType.DATA, end ? Flag.END_STREAM : 0, s.id);
      out.length += 9 + n;
    }
    s.sendWindow -= n;
    c.connSendWindow -= n;
    // What the peer may credit back without cost, and useful work done.
    s.sentUncredited += n;
    c.connSentUncredited += n;
    c.conn.counters.noProgress.progressBytes(n);
    if (end) {
      s.endQueued = false;
      table.sendable.delete(s);
      table.localEnded(s);
    }
    return;
  }
  table.sendable.delete(s);
  if (s.trailers !== null) {
    const t = s.trailers;
    s.trailers = null;
    s.endQueued = false;
    c.sendHeaderBlock(s, t, true);
  } else if (s.endQueued) {
    s.endQueued = false;
    const buf = out.reserve(9);
    writeFrameHeader(buf, out.length, 0, FrameType.DATA, Flag.END_STREAM, s.id);
    out.length += 9;
    table.localEnded(s);
  }
}

/**
 * The earliest time `tick()` has something to check (the SETTINGS ACK
 * deadline, a stream stalled on a zero window), or -1.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * const c = new H2Connection({ role: "client", now: () => 0 });
 * console.log(c.nextDeadline() > 0); // true: our SETTINGS await their ACK
 * ```
 */
export function earliestDeadline(c: H2Core): number {
  if (!c.timed) return -1;
  let t = c.settingsDeadline;
  for (const s of c.table.sendable) {
    if (s.blockedSince >= 0) {
      const d = s.blockedSince + c.zeroWindowMs;
      if (t < 0 || d < t) t = d;
    }
  }
  return t;
}
