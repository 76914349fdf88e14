/**
 * Waiting on one descriptor with poll(2), with deadlines on the monotonic
 * clock and EINTR handled.
 *
 * @example
 * ```ts
 * import { pollOne, WAIT_READ } from "./wait.ts";
 * console.log(pollOne(0, WAIT_READ, 0) >= 0); // stdin: ready or not, no wait
 * ```
 *
 * @module
 */
import { monotonicMs } from "../core/clock.ts";
import { sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E, LAYOUT } from "../ffi/platform.ts";

/**
 * poll events for "readable".
 *
 * @example
 * ```ts
 * import { WAIT_READ } from "./wait.ts";
 * console.log(WAIT_READ); // 1 (POLLIN)
 * ```
 */
export const WAIT_READ: number = C.POLLIN;
/**
 * poll events for "writable".
 *
 * @example
 * ```ts
 * import { WAIT_WRITE } from "./wait.ts";
 * console.log(WAIT_WRITE); // 4 (POLLOUT)
 * ```
 */
export const WAIT_WRITE: number = C.POLLOUT;
/**
 * revents bits that mean error or hang-up.
 *
 * @example
 * ```ts
 * import { WAIT_TROUBLE } from "./wait.ts";
 * import { WAIT_READ } from "./wait.ts";
 * const revents = WAIT_READ;
 * console.log((revents & WAIT_TROUBLE) !== 0); // false
 * ```
 */
export const WAIT_TROUBLE: number = C.POLLERR | C.POLLHUP | C.POLLNVAL;

// One pollfd reused by every call on this thread (poll is synchronous).
const pfd = new Uint8Array(LAYOUT.pollfd.size);
const pview = new DataView(pfd.buffer);

/**
 * Polls `fd` for `events` for up to `timeoutMs` (-1 or Infinity: forever;
 * fractions round up; longer than poll's int takes in one call: several
 * calls). Returns the revents (0 on timeout). EINTR restarts the wait with
 * the time left.
 *
 * @throws SocketError when poll fails
 *
 * @example
 * ```ts
 * import { pollOne, WAIT_WRITE } from "./wait.ts";
 * const revents = pollOne(1, WAIT_WRITE, 10); // stdout
 * ```
 */
export function pollOne(fd: number, events: number, timeoutMs: number): number {
  let wait = pollTimeoutArg(timeoutMs);
  const deadline = wait < 0 ? Infinity : monotonicMs() + timeoutMs;
  for (;;) {
    pview.setInt32(LAYOUT.pollfd.fd, fd, true);
    pview.setInt16(LAYOUT.pollfd.events, events, true);
    pview.setInt16(LAYOUT.pollfd.revents, 0, true);
    const n = libc().poll(pfd, 1, wait);
    if (n > 0) return pview.getUint16(LAYOUT.pollfd.revents, true);
    if (n < 0) {
      const errno = native.errno();
      if (errno !== E.EINTR) throw sysError(errno, "poll");
    } else if (wait < MAX_POLL_MS) return 0;
    // Interrupted, or a wait capped to a C int ended: wait for the time left.
    if (deadline !== Infinity) {
      const left = deadline - monotonicMs();
      if (n === 0 && left <= 0) return 0;
      wait = pollTimeoutArg(Math.max(0, left));
    }
  }
}

/** The longest wait poll(2) takes in one call (a C int of ms, ~24.8 days). */
const MAX_POLL_MS = 0x7fffffff;

/**
 * A timeout in ms as the C `int` that poll(2), epoll_wait and kevent take:
 * negative or Infinity is -1 (forever), fractions round up so a wait never
 * ends before its deadline, and a longer wait is capped (~24.8 days; the
 * caller waits again for the rest).
 *
 * @example
 * ```ts
 * import { pollTimeoutArg } from "./wait.ts";
 * console.log(pollTimeoutArg(1.2), pollTimeoutArg(-5), pollTimeoutArg(Infinity)); // 2 -1 -1
 * ```
 */
export function pollTimeoutArg(ms: number): number {
  return ms < 0 || ms === Infinity ? -1 : Math.min(Math.ceil(ms), MAX_POLL_MS);
}

/**
 * Milliseconds left until `deadline` for poll: -1 for no deadline, else a
 * whole number ≥ 0.
 *
 * @example
 * ```ts
 * import { remainingMs } from "./wait.ts";
 * console.log(remainingMs(Infinity)); // -1
 * ```
 */
export function remainingMs(deadline: number): number {
  if (deadline === Infinity) return -1;
  return Math.max(0, Math.ceil(deadline - monotonicMs()));
}

/**
 * The deadline for a timeout in ms, where 0 means none (Infinity).
 *
 * @example
 * ```ts
 * import { deadlineAfter } from "./wait.ts";
 * console.log(deadlineAfter(0)); // Infinity
 * ```
 */
export function deadlineAfter(timeoutMs: number): number {
  return timeoutMs > 0 ? monotonicMs() + timeoutMs : Infinity;
}
