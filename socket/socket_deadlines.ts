/**
 * The deadline side of {@link Socket}: its send/receive/connect timeouts
 * and the transfers bounded by an overall time. Mixed into `Socket` by
 * socket.ts.
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
import { checkBytes, checkMs, coreOf, SocketCore } from "./socket_core.ts";
import type { SocketTimeouts } from "./timeouts.ts";
import { deadlineAfter } from "./wait.ts";

/**
 * Timeouts and time-bounded transfers; these methods are `Socket`'s own
 * (see socket.ts), not used alone.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * using s = Socket.create("ipv4");
 * s.setTimeouts({ connectMs: 500 });
 * console.log(s.getTimeouts().connectMs); // 500
 * ```
 */
export class SocketDeadlines {
  /**
   * Sends as much of `data` as fits in `timeoutMs` (0: no limit).
   *
   * @returns the bytes sent; less than `data.byteLength` when time ran out
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.sendAllTimeout(payload, 1000);
   * ```
   */
  sendAllTimeout(data: Uint8Array, timeoutMs: number, flags = 0): number {
    const c = coreOf(this);
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
   * Receives into `buffer` until it is full or `timeoutMs` passes (0: no
   * limit).
   *
   * @returns the bytes received; fewer than `buffer.byteLength` on timeout
   * @throws SocketClosedError when the stream ends first
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.recvAllTimeout(buf, 500);
   * ```
   */
  recvAllTimeout(buffer: Uint8Array, timeoutMs: number, flags = 0): number {
    const c = coreOf(this);
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

  /**
   * The timeouts in force (this socket's overrides over the defaults).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // console.log(s.getTimeouts().recvMs);
   * ```
   */
  getTimeouts(): SocketTimeouts {
    return coreOf(this).timeouts.effective();
  }

  /**
   * Overrides some timeouts for this socket (ms; 0 = no timeout).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.setTimeouts({ recvMs: 500, sendMs: 500 });
   * ```
   */
  setTimeouts(patch: Partial<SocketTimeouts>): void {
    coreOf(this).timeouts.set(patch);
  }

  /** Drops this socket's overrides: the process-wide defaults apply again. */
  clearTimeouts(): void {
    coreOf(this).timeouts.clear();
  }
}
