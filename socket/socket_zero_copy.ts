/**
 * Zero-copy methods of `Socket`: sendfile, splice between sockets and
 * descriptor duplication (socket/zero_copy.ts), as functions of the
 * socket's core (socket_core.ts); the `Socket` methods of the same names
 * call them and carry the documentation.
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
import { SocketCore } from "./socket_core.ts";
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
 * `Socket.sendfile`: one sendfile(2) from the open file `fileFd`; the
 * bytes sent, 0 at end of file, `null` when a non-blocking socket has no
 * room.
 *
 * @example
 * ```ts
 * import { closeSync, openSync } from "node:fs";
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { sendfile } from "./socket_zero_copy.ts";
 * const [a, b] = Socket.pair();
 * const file = openSync("/etc/hosts", "r");
 * console.log(sendfile(coreOf(a), file, 0, 1)); // 1
 * closeSync(file);
 * a.close(); b.close();
 * ```
 */
export function sendfile(c: SocketCore, fileFd: number, offset: number, count: number): number | null {
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
 * `Socket.sendfileAll`: sends a whole file (descriptor or path) or a slice
 * of it; the bytes sent.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { sendfileAll } from "./socket_zero_copy.ts";
 * const [a, b] = Socket.pair();
 * console.log(sendfileAll(coreOf(a), "/etc/hosts", { count: 1 })); // 1
 * a.close(); b.close();
 * ```
 */
export function sendfileAll(c: SocketCore, source: number | string, options: SendfileOptions): number {
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
 * `Socket.spliceTo`: moves bytes from the socket of `c` to the socket of
 * `d` inside the kernel (Linux) until `count` bytes have moved or `c`
 * reaches end of stream; the bytes moved.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { spliceTo } from "./socket_zero_copy.ts";
 * const [a, b] = Socket.pair();
 * const [c, d] = Socket.pair();
 * a.sendAll(new Uint8Array(3));
 * console.log(spliceTo(coreOf(b), coreOf(c), 3, undefined)); // 3
 * for (const s of [a, b, c, d]) s.close();
 * ```
 */
export function spliceTo(c: SocketCore, d: SocketCore, count: number, timeoutMs: number | undefined): number {
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
 * `Socket.dup`: the core of a second socket on a duplicate of the
 * descriptor (close-on-exec), with the same mode and peer.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { dup } from "./socket_zero_copy.ts";
 * using s = Socket.create("ipv4");
 * const copy = dup(coreOf(s));
 * console.log(copy.fd !== s.fd); // true
 * ```
 */
export function dup(c: SocketCore): SocketCore {
  const copy = new SocketCore(dupFd(c.liveFd()), c.family, c.type, c.nonBlocking);
  copy.peerText = c.peerText;
  return copy;
}
