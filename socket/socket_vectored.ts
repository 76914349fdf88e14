/**
 * Scatter/gather I/O of {@link Socket}: several buffers in one sendmsg or
 * recvmsg (socket/iovec.ts). Mixed into `Socket` by socket.ts.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * a.sendvAll([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * const head = new Uint8Array(1), rest = new Uint8Array(2);
 * console.log(b.recvv([head, rest])); // 3
 * a.close(); b.close();
 * ```
 *
 * @module
 */
import { SocketTimeoutError } from "../core/errors.ts";
import { sysError } from "../core/sys_error.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import { SEND_FLAGS } from "./descriptor.ts";
import { ScatterGather } from "./iovec.ts";
import { checkBytes, checkMs, coreOf, type SocketCore } from "./socket_core.ts";
import { deadlineAfter, WAIT_READ, WAIT_WRITE } from "./wait.ts";

function gather(c: SocketCore): ScatterGather {
  return (c.sg ??= new ScatterGather());
}

/**
 * One gathered send (waiting for room until `deadline`). With `offset` ≥ 0,
 * sends the bytes staged by the previous call from that offset on, without
 * gathering them again.
 */
function sendvOnce(c: SocketCore, buffers: readonly Uint8Array[], deadline: number, offset = -1): number {
  const fd = c.liveFd();
  const sg = gather(c);
  const dontWait = c.nonBlocking || deadline !== Infinity ? C.MSG_DONTWAIT : 0;
  for (;;) {
    const n = offset < 0 ? sg.send(fd, buffers, SEND_FLAGS | dontWait) : sg.sendRest(fd, offset, SEND_FLAGS | dontWait);
    if (n >= 0) {
      if (n > 0) c.stats.sent(n);
      return n;
    }
    const errno = native.errno();
    if (errno === E.EINTR) continue;
    if (errno === E.EAGAIN) {
      if (c.nonBlocking && deadline === Infinity) return 0;
      c.waitOrTimeout(WAIT_WRITE, deadline, "sendmsg");
      continue;
    }
    c.stats.sendErrors++;
    throw sysError(errno, "sendmsg", c.peerText);
  }
}

function sendvUntil(c: SocketCore, buffers: readonly Uint8Array[], overall: number): number {
  if (!Array.isArray(buffers)) throw new TypeError("buffers must be an array of Uint8Array");
  let total = 0;
  for (const b of buffers) total += checkBytes(b).byteLength;
  const sendMs = c.timeouts.get("sendMs");
  let sent = 0;
  try {
    while (sent < total) {
      const deadline = overall !== Infinity ? overall : c.nonBlocking || sendMs > 0 ? deadlineAfter(sendMs || 0x7fffffff) : Infinity;
      // The first call gathers every buffer into native memory once; after a
      // partial send the rest goes from there (no copy of what is left).
      sent += sendvOnce(c, buffers, deadline, sent === 0 ? -1 : sent);
    }
  } catch (err) {
    if (overall !== Infinity && err instanceof SocketTimeoutError && err.syscall === "sendmsg") return sent;
    throw err;
  } finally {
    c.sg?.trim(); // the block staged for every sendRest above; not kept when large
  }
  return sent;
}

/** One scattered receive, waiting for data until the receive timeout. */
function recvvWithin(c: SocketCore, buffers: readonly Uint8Array[]): number | null {
  const fd = c.liveFd();
  const sg = gather(c);
  const recvMs = c.nonBlocking ? 0 : c.timeouts.get("recvMs");
  const deadline = deadlineAfter(recvMs);
  const dontWait = c.nonBlocking || deadline !== Infinity ? C.MSG_DONTWAIT : 0;
  try {
    for (;;) {
      const n = sg.recv(fd, buffers, dontWait);
      if (n >= 0) {
        if (n > 0) c.stats.received(n);
        return n;
      }
      const errno = native.errno();
      if (errno === E.EINTR) continue;
      if (errno === E.EAGAIN) {
        if (c.nonBlocking) return null;
        c.waitOrTimeout(WAIT_READ, deadline, "recvmsg");
        continue;
      }
      c.stats.recvErrors++;
      throw sysError(errno, "recvmsg", c.peerText);
    }
  } finally {
    sg.trim(); // a large staging block is not kept
  }
}

/**
 * Gathered sends and scattered receives; these methods are `Socket`'s own
 * (see socket.ts), not used alone.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * console.log(a.sendv([new Uint8Array(2), new Uint8Array(3)])); // 5
 * a.close(); b.close();
 * ```
 */
export class SocketVectoredIO {
  /**
   * Sends several buffers in one sendmsg (gather); returns the bytes sent
   * (0 when a non-blocking socket would block).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.sendv([header, body]);
   * ```
   */
  sendv(buffers: readonly Uint8Array[]): number {
    const c = coreOf(this);
    const sendMs = c.nonBlocking ? 0 : c.timeouts.get("sendMs");
    try {
      return sendvOnce(c, buffers, deadlineAfter(sendMs));
    } finally {
      c.sg?.trim(); // a large staging block is not kept
    }
  }

  /**
   * Sends every byte of every buffer, in order.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.sendvAll([header, body]);
   * ```
   */
  sendvAll(buffers: readonly Uint8Array[]): number {
    return sendvUntil(coreOf(this), buffers, Infinity);
  }

  /**
   * Sends the buffers until done or until `timeoutMs` passes (0: no limit).
   *
   * @returns the bytes sent; fewer than the total when time ran out
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.sendvTimeout([a, b], 1000);
   * ```
   */
  sendvTimeout(buffers: readonly Uint8Array[], timeoutMs: number): number {
    checkMs(timeoutMs);
    return sendvUntil(coreOf(this), buffers, deadlineAfter(timeoutMs || 0x7fffffff));
  }

  /**
   * Receives into several buffers in one recvmsg (scatter): the byte count,
   * 0 at end of stream, `null` when a non-blocking socket would block.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.recvv([header, body]);
   * ```
   */
  recvv(buffers: readonly Uint8Array[]): number | null {
    return recvvWithin(coreOf(this), buffers);
  }
}
