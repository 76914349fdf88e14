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

/**
 * Writes DATA frames (and deferred trailers or END_STREAM) of the streams
 * with something queued into the outbound buffer, as the flow-control
 * windows and the peer's maximum frame size allow, until about `budget`
 * octets are queued; a stream stalled on a zero window records since when.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./connection.ts";
 * // Called by H2Connection.pull before it takes the outbound bytes.
 * new H2Connection({ role: "client" }).pull();
 * ```
 */
export function schedule(c: H2Core, budget: number): void {
  const table = c.table;
  const sendable = table.sendable;
  if (c.conn.dead) {
    sendable.clear();
    return;
  }
  const maxFrame = c.conn.remoteSettings.maxFrameSize;
  let progress = true;
  while (progress && c.out.length < budget && sendable.size > 0) {
    progress = false;
    for (const s of sendable) {
      if (c.out.length >= budget) break;
      if (s.queuedBytes > 0) {
        const n = Math.min(s.queuedBytes, s.sendWindow, c.connSendWindow, maxFrame);
        if (n <= 0) {
          if (s.blockedSince < 0) s.blockedSince = c.now();
          continue;
        }
        s.blockedSince = -1;
        const out = c.out;
        const buf = out.reserve(9 + n);
        s.takeInto(n, buf, out.length + 9);
        s.sendWindow -= n;
        c.connSendWindow -= n;
        const end = s.queuedBytes === 0 && s.endQueued && s.trailers === null;
        writeFrameHeader(buf, out.length, n, FrameType.DATA, end ? Flag.END_STREAM : 0, s.id);
        out.length += 9 + n;
        progress = true;
        if (end) {
          s.endQueued = false;
          sendable.delete(s);
          table.localEnded(s);
          continue;
        }
      }
      if (s.queuedBytes === 0) {
        if (s.trailers !== null) {
          const t = s.trailers;
          s.trailers = null;
          s.endQueued = false;
          sendable.delete(s);
          c.sendHeaderBlock(s, t, true);
          progress = true;
        } else if (s.endQueued) {
          s.endQueued = false;
          sendable.delete(s);
          const out = c.out;
          const buf = out.reserve(9);
          writeFrameHeader(buf, out.length, 0, FrameType.DATA, Flag.END_STREAM, s.id);
          out.length += 9;
          table.localEnded(s);
          progress = true;
        } else sendable.delete(s);
      }
    }
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
  let t = c.settingsDeadline;
  for (const s of c.table.sendable) {
    if (s.blockedSince >= 0) {
      const d = s.blockedSince + c.zeroWindowMs;
      if (t < 0 || d < t) t = d;
    }
  }
  return t;
}
