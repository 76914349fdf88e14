/**
 * The transfers of `Socket` bounded by an overall time, as functions of
 * the socket's core (socket_core.ts); the `Socket` methods of the same
 * names call them and carry the documentation. (The timeouts themselves are
 * the core's `TimeoutOverrides`.)
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * console.log(a.recvAllTimeout(new Uint8Array(4), 10)); // 0: nothing came in 10 ms
 * a.close(); b.close();
 * ```
 *
 * @module
 */
import { SocketTimeoutError } from "../core/errors.ts";
import { checkBytes, checkMs, SocketCore } from "./socket_core.ts";
import { deadlineAfter } from "./wait.ts";

/**
 * `Socket.sendAllTimeout`: sends as much of `data` as fits in `timeoutMs`
 * (0: no limit); the bytes sent.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { sendAllTimeout } from "./socket_deadlines.ts";
 * const [a, b] = Socket.pair();
 * console.log(sendAllTimeout(coreOf(a), new Uint8Array(3), 100, 0)); // 3
 * a.close(); b.close();
 * ```
 */
export function sendAllTimeout(c: SocketCore, data: Uint8Array, timeoutMs: number, flags: number): number {
  checkBytes(data);
  checkMs(timeoutMs);
  const deadline = deadlineAfter(timeoutMs || 0x7fffffff);
  let sent = 0;
  try {
    while (sent < data.byteLength) {
      sent += c.sendOnce(sent === 0 ? data : data.subarray(sent), SocketCore.waiting(flags), deadline);
    }
  } catch (err) {
    if (err instanceof SocketTimeoutError && err.syscall === "send") return sent;
    throw err;
  }
  return sent;
}

/**
 * `Socket.recvAllTimeout`: receives into `buffer` until it is full or
 * `timeoutMs` passes (0: no limit); the bytes received.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { recvAllTimeout } from "./socket_deadlines.ts";
 * const [a, b] = Socket.pair();
 * console.log(recvAllTimeout(coreOf(b), new Uint8Array(4), 10, 0)); // 0: nothing came in 10 ms
 * a.close(); b.close();
 * ```
 */
export function recvAllTimeout(c: SocketCore, buffer: Uint8Array, timeoutMs: number, flags: number): number {
  checkBytes(buffer);
  checkMs(timeoutMs);
  const deadline = deadlineAfter(timeoutMs || 0x7fffffff);
  let got = 0;
  try {
    while (got < buffer.byteLength) {
      const n = c.recvOnce(got === 0 ? buffer : buffer.subarray(got), SocketCore.waiting(flags), deadline);
      if (n === 0) throw c.eof(got, buffer.byteLength);
      got += n;
    }
  } catch (err) {
    if (err instanceof SocketTimeoutError && err.syscall === "recv") return got;
    throw err;
  }
  return got;
}
