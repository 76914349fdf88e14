/**
 * Waiting for one descriptor to become readable or writable with poll(2),
 * on the calling thread, with a deadline on the monotonic clock.
 *
 * @module
 */
import { monotonicMs } from "../core/clock.ts";
import { sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { E, LAYOUT } from "../ffi/platform.ts";

const pollfd = new Uint8Array(LAYOUT.pollfd.size);
const pollView = new DataView(pollfd.buffer);

/**
 * Blocks until `fd` reports one of `events` (POLLIN, POLLOUT …), an error or
 * a hang-up, or until `timeoutMs` passes (negative or Infinity: no limit).
 * Returns the reported events, or 0 on timeout. EINTR is retried with the
 * time that is left.
 *
 * @param fd the descriptor to watch
 * @param events poll event bits to wait for
 * @param timeoutMs how long to wait at most
 * @returns `revents`, or 0 when the time ran out
 *
 * @example
 * ```ts
 * import { waitFd } from "./fd_wait.ts";
 * import { C } from "../ffi/platform.ts";
 * declare const fd: number;
 * if (waitFd(fd, C.POLLOUT, 1000) === 0) console.log("still not writable");
 * ```
 */
export function waitFd(fd: number, events: number, timeoutMs: number): number {
  const forever = timeoutMs < 0 || timeoutMs === Infinity;
  const deadline = forever ? 0 : monotonicMs() + timeoutMs;
  for (;;) {
    const left = forever ? -1 : Math.max(0, Math.ceil(deadline - monotonicMs()));
    pollView.setInt32(LAYOUT.pollfd.fd, fd, true);
    pollView.setInt16(LAYOUT.pollfd.events, events, true);
    pollView.setInt16(LAYOUT.pollfd.revents, 0, true);
    const n = libc().poll(pollfd, 1, Math.min(left, 0x7fffffff));
    if (n > 0) return pollView.getUint16(LAYOUT.pollfd.revents, true);
    if (n === 0) return 0;
    const errno = native.errno();
    if (errno !== E.EINTR) throw sysError(errno, "poll");
  }
}

