/**
 * Zero-copy methods of {@link Socket}: sendfile, splice between sockets
 * and descriptor duplication (socket/zero_copy.ts). Mixed into `Socket` by
 * socket.ts.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * using s = Socket.create("ipv4");
 * using copy = s.dup();
 * console.log(copy.fd !== s.fd); // true
 * ```
 *
 * @module
 */
import { SocketError } from "../core/errors.ts";
import { setNonBlocking } from "./options.ts";
import type { Socket } from "./socket.ts";
import { adoptSocket, coreOf, isSocket, type SocketCore } from "./socket_core.ts";
import { dup as dupFd, type SendfileOptions, sendfile as sendfileOn, sendfileAll as sendfileAllOn, spliceAll } from "./zero_copy.ts";
import { deadlineAfter, WAIT_WRITE } from "./wait.ts";

/** A socket timeout (0: none) as a zero_copy.ts wait limit (-1: none). */
function waitLimit(socketMs: number): number {
  return socketMs > 0 ? socketMs : -1;
}

/** The bytes a failed looping transfer moved first (SocketError.transferred), else 0. */
function transferredBy(err: unknown): number {
  return err instanceof SocketError ? err.transferred ?? 0 : 0;
}

/** Whether `ms` is a wait limit (a finite number ≥ 0) rather than "none". */
function isLimit(ms: unknown): boolean {
  return typeof ms === "number" && ms >= 0 && ms !== Infinity;
}

/**
 * Runs `transfer` with O_NONBLOCK on the blocking ones of `cores`, restored
 * afterwards: sendfile and splice take no MSG_DONTWAIT, and on a blocking
 * descriptor they would sleep in the kernel past any timeout.
 */
function nonBlockingDuring<T>(cores: readonly SocketCore[], transfer: () => T): T {
  const switched: number[] = [];
  try {
    for (const c of cores) {
      if (c.nonBlocking || switched.includes(c.fd)) continue;
      setNonBlocking(c.fd, true);
      switched.push(c.fd);
    }
    return transfer();
  } finally {
    for (const fd of switched) setNonBlocking(fd, false);
  }
}

/**
 * One sendfile on a socket made non-blocking, waiting for room until
 * `deadline` (SocketTimeoutError after it).
 */
function sendfileWithin(c: SocketCore, fd: number, fileFd: number, offset: number, count: number, deadline: number): number {
  for (;;) {
    const n = sendfileOn(fd, fileFd, offset, count);
    if (n !== null) return n;
    c.waitOrTimeout(WAIT_WRITE, deadline, "sendfile");
  }
}

/**
 * sendfile, splice and dup; these methods are `Socket`'s own (see
 * socket.ts), not used alone.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * // const moved = client.spliceTo(upstream);
 * ```
 */
export class SocketZeroCopy {
  /**
   * One sendfile(2): up to `count` bytes of the open file `fileFd` from
   * `offset` (the file's own position is not moved); the bytes sent, 0 at
   * end of file, `null` when a non-blocking socket has no room.
   *
   * On a blocking socket with a send timeout (`getTimeouts().sendMs` > 0),
   * the call is like `send`: it waits up to that long for room, then sends
   * what fits at once (possibly fewer than `count` bytes) without waiting
   * for more. The socket is non-blocking meanwhile, since sendfile takes no
   * MSG_DONTWAIT. Without a send timeout the kernel blocks as it would.
   *
   * @throws SocketTimeoutError when no room came within the send timeout
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.sendfile(fileFd, 0, 1 << 20);
   * ```
   */
  sendfile(fileFd: number, offset: number, count: number): number | null {
    const c = coreOf(this);
    const fd = c.liveFd();
    const sendMs = c.nonBlocking ? 0 : c.timeouts.get("sendMs");
    try {
      const n = sendMs > 0
        ? nonBlockingDuring([c], () => sendfileWithin(c, fd, fileFd, offset, count, deadlineAfter(sendMs)))
        : sendfileOn(fd, fileFd, offset, count);
      if (n !== null && n > 0) c.stats.sent(n);
      return n;
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) c.stats.sendErrors++;
      throw err;
    }
  }

  /**
   * Sends a whole file (an open descriptor or a path) or a slice of it,
   * waiting for room as needed; returns the bytes sent (fewer only when the
   * file ended early). Each wait is bounded by `options.timeoutMs`, by
   * default this socket's send timeout (none when 0); a blocking socket is
   * non-blocking while a bounded transfer runs.
   *
   * @throws SocketTimeoutError, SocketClosedError, SocketError (ENOENT, …);
   *   a failure after bytes went out carries their count in `transferred`
   *   (and the statistics count them)
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.sendfileAll("/var/www/index.html");
   * ```
   */
  sendfileAll(source: number | string, options: SendfileOptions = {}): number {
    const c = coreOf(this);
    const fd = c.liveFd();
    const timeoutMs = options.timeoutMs ?? waitLimit(c.timeouts.get("sendMs"));
    const send = (): number => sendfileAllOn(fd, source, { ...options, timeoutMs });
    try {
      const n = isLimit(timeoutMs) ? nonBlockingDuring([c], send) : send();
      if (n > 0) c.stats.sent(n);
      return n;
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) c.stats.sendErrors++;
      const moved = transferredBy(err);
      if (moved > 0) c.stats.sent(moved);
      throw err;
    }
  }

  /**
   * Moves bytes from this socket to `destination` inside the kernel
   * (splice through a pipe; Linux), until `count` bytes have moved or this
   * socket reaches end of stream. Returns the bytes moved.
   *
   * Each wait is bounded: by `timeoutMs` when given (-1: no limit), else
   * like `recvAll` and `sendAll`, a wait for data by this socket's receive
   * timeout and a wait for room by the destination's send timeout (either
   * unlimited when 0). Blocking sockets are non-blocking while a bounded
   * transfer runs.
   *
   * @throws UnsupportedError off Linux; SocketTimeoutError (with the bytes
   *   moved before it in `transferred`, counted in both sockets' statistics)
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const moved = client.spliceTo(upstream); // proxy until client EOF
   * ```
   */
  spliceTo(destination: Socket, count = Infinity, timeoutMs?: number): number {
    const c = coreOf(this);
    if (!isSocket(destination)) throw new TypeError("destination must be a Socket");
    const d = coreOf(destination);
    const from = c.liveFd();
    const to = d.liveFd();
    const readMs = timeoutMs ?? waitLimit(c.timeouts.get("recvMs"));
    const writeMs = timeoutMs ?? waitLimit(d.timeouts.get("sendMs"));
    const move = (): number => spliceAll(from, to, count, readMs, writeMs);
    const counted = (n: number): void => {
      if (n <= 0) return;
      c.stats.received(n);
      d.stats.sent(n);
    };
    let n: number;
    try {
      n = isLimit(readMs) || isLimit(writeMs) ? nonBlockingDuring([c, d], move) : move();
    } catch (err) {
      counted(transferredBy(err));
      throw err;
    }
    counted(n);
    return n;
  }

  /**
   * A second Socket on a duplicate of this descriptor (close-on-exec),
   * sharing the connection, options and blocking mode; each Socket closes
   * its own descriptor.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using s = Socket.create("ipv4");
   * using copy = s.dup();
   * console.log(copy.fd !== s.fd); // true
   * ```
   */
  dup(): Socket {
    const c = coreOf(this);
    const copy = dupFd(c.liveFd());
    return adoptSocket(copy, c.family, c.type, c.nonBlocking, c.peerText);
  }
}
