/**
 * Scatter/gather I/O of `Socket`: several buffers in one sendmsg or
 * recvmsg (socket/iovec.ts), as functions of the socket's core
 * (socket_core.ts); the `Socket` methods of the same names call them and
 * carry the documentation.
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
import { checkBytes, checkMs, type SocketCore } from "./socket_core.ts";
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


/**
 * `Socket.recvv`: one scattered receive, waiting for data until the
 * receive timeout; the byte count, 0 at end of stream, `null` when a
 * non-blocking socket would block.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { recvv } from "./socket_vectored.ts";
 * const [a, b] = Socket.pair();
 * a.sendAll(new Uint8Array([1, 2, 3]));
 * console.log(recvv(coreOf(b), [new Uint8Array(1), new Uint8Array(2)])); // 3
 * a.close(); b.close();
 * ```
 */
export function recvv(c: SocketCore, buffers: readonly Uint8Array[]): number | null {
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
 * `Socket.sendv`: one gathered send bounded by the send timeout; the bytes
 * sent (0 when a non-blocking socket would block).
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { sendv } from "./socket_vectored.ts";
 * const [a, b] = Socket.pair();
 * console.log(sendv(coreOf(a), [new Uint8Array(2), new Uint8Array(3)])); // 5
 * a.close(); b.close();
 * ```
 */
export function sendv(c: SocketCore, buffers: readonly Uint8Array[]): number {
  const sendMs = c.nonBlocking ? 0 : c.timeouts.get("sendMs");
  try {
    return sendvOnce(c, buffers, deadlineAfter(sendMs));
  } finally {
    c.sg?.trim(); // a large staging block is not kept
  }
}

/**
 * `Socket.sendvAll` and `Socket.sendvTimeout`: sends every byte of every
 * buffer, each wait bounded by the send timeout, or all of it by the
 * deadline `overall` (`Infinity`: none; the bytes sent by then).
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { sendvUntil } from "./socket_vectored.ts";
 * const [a, b] = Socket.pair();
 * console.log(sendvUntil(coreOf(a), [new Uint8Array(2), new Uint8Array(3)], Infinity)); // 5
 * a.close(); b.close();
 * ```
 */
export function sendvUntil(c: SocketCore, buffers: readonly Uint8Array[], overall: number): number {
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

/**
 * `Socket.sendvTimeout`: sends the buffers until done or until `timeoutMs`
 * passes (0: no limit); the bytes sent.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { sendvTimeout } from "./socket_vectored.ts";
 * const [a, b] = Socket.pair();
 * console.log(sendvTimeout(coreOf(a), [new Uint8Array(2)], 100)); // 2
 * a.close(); b.close();
 * ```
 */
export function sendvTimeout(c: SocketCore, buffers: readonly Uint8Array[], timeoutMs: number): number {
  checkMs(timeoutMs);
  return sendvUntil(c, buffers, deadlineAfter(timeoutMs || 0x7fffffff));
}
