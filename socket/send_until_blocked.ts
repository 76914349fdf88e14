/**
 * The non-blocking send loop every byte-stream writer shares: `send(2)`
 * until the bytes are gone or the kernel's buffer is full.
 *
 * @module
 */
import { sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { E } from "../ffi/platform.ts";
import { sendPair, sendParts } from "./send_pair.ts";

/**
 * Sends `data[0, length)` on `fd` with `flags` until it is all gone or the
 * kernel answers EAGAIN (EINTR retries): the count sent, or the error of
 * any other failure (a `SocketError` with the errno's code). The caller's
 * flags decide blocking (`MSG_DONTWAIT` on a blocking socket), `SIGPIPE`
 * (`MSG_NOSIGNAL`) and corking (`MSG_MORE`).
 *
 * @example
 * ```ts
 * import { sendUntilBlocked } from "./send_until_blocked.ts";
 * import { Socket } from "./socket.ts";
 * import { C } from "../ffi/platform.ts";
 * const [a, b] = Socket.pair();
 * console.log(sendUntilBlocked(a.fd, new Uint8Array(3), 3, C.MSG_NOSIGNAL)); // 3
 * a.close(); b.close();
 * ```
 */
export function sendUntilBlocked(fd: number, data: Uint8Array, length: number, flags: number): number | Error {
  const c = libc();
  let offset = 0;
  while (offset < length) {
    const chunk = offset === 0 && length === data.length ? data : data.subarray(offset, length);
    const n = c.send(fd, chunk, chunk.length, flags);
    if (n >= 0) {
      offset += n;
      continue;
    }
    const errno = native.errno();
    if (errno === E.EAGAIN) break;
    if (errno === E.EINTR) continue;
    return sysError(errno, "send");
  }
  return offset;
}

/**
 * `head` then `body` in one `sendmsg` ({@link sendPair}) on `fd` with
 * `flags`, EINTR retried: the count sent (0 when the kernel answers
 * EAGAIN), or the error of any other failure.
 *
 * @example
 * ```ts
 * import { sendPairUntilBlocked } from "./send_until_blocked.ts";
 * import { Socket } from "./socket.ts";
 * import { C } from "../ffi/platform.ts";
 * const [a, b] = Socket.pair();
 * console.log(sendPairUntilBlocked(a.fd, new Uint8Array(2), new Uint8Array(3), C.MSG_NOSIGNAL)); // 5
 * a.close(); b.close();
 * ```
 */
export function sendPairUntilBlocked(fd: number, head: Uint8Array, body: Uint8Array, flags: number): number | Error {
  for (;;) {
    const n = sendPair(fd, head, body, flags);
    if (n >= 0) return n;
    const errno = native.errno();
    if (errno === E.EAGAIN) return 0;
    if (errno !== E.EINTR) return sysError(errno, "sendmsg");
  }
}

/**
 * `parts` in one `sendmsg` ({@link sendParts}) on `fd` with `flags`,
 * EINTR retried: the count sent (0 when the kernel answers EAGAIN; less
 * than the whole when it took less or there were more than `PARTS_MAX`
 * parts), or the error of any other failure.
 *
 * @example
 * ```ts
 * import { sendPartsUntilBlocked } from "./send_until_blocked.ts";
 * import { Socket } from "./socket.ts";
 * import { C } from "../ffi/platform.ts";
 * const [a, b] = Socket.pair();
 * console.log(sendPartsUntilBlocked(a.fd, [new Uint8Array(2), new Uint8Array(300), new Uint8Array(2)], C.MSG_NOSIGNAL)); // 304
 * a.close(); b.close();
 * ```
 */
export function sendPartsUntilBlocked(fd: number, parts: readonly Uint8Array[], flags: number): number | Error {
  for (;;) {
    const n = sendParts(fd, parts, flags);
    if (n >= 0) return n;
    const errno = native.errno();
    if (errno === E.EAGAIN) return 0;
    if (errno !== E.EINTR) return sysError(errno, "sendmsg");
  }
}
