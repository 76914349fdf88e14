/**
 * Unix-only methods of `Socket`: passing descriptors (SCM_RIGHTS) and
 * reading the peer's credentials (socket/unix_fds.ts), as functions of the
 * socket's core (socket_core.ts); the `Socket` methods of the same names
 * call them and carry the documentation.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * a.sendFd(0);
 * const fd = b.recvFd();
 * if (fd !== null && fd >= 0) b.closeReceivedFd(fd);
 * a.close(); b.close();
 * ```
 *
 * @module
 */
import { SocketClosedError, SocketError } from "../core/errors.ts";
import { check } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import { checkBytes, type SocketCore } from "./socket_core.ts";
import {
  peerCredentials as peerCredentialsOf,
  type PeerCredentials,
  type ReceivedFds,
  type RecvFdsOptions,
  recvFds as recvFdsOn,
  sendFds as sendFdsOn,
} from "./unix_fds.ts";
import { deadlineAfter, WAIT_READ, WAIT_WRITE } from "./wait.ts";

/** The descriptor of a Unix socket; TypeError for another family. */
function unixOnly(c: SocketCore, what: string): number {
  const fd = c.liveFd();
  if (c.family !== "unix") throw new TypeError(`${what} needs a Unix-domain socket, this one is ${c.family}`);
  return fd;
}

/**
 * `Socket.sendFds` (and `Socket.sendFd`): passes descriptors to the peer
 * in one SCM_RIGHTS message; the data bytes sent, 0 when a non-blocking
 * socket would block.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { sendFds } from "./socket_fd_passing.ts";
 * const [a, b] = Socket.pair();
 * console.log(sendFds(coreOf(a), [0], undefined)); // 1: the one zero byte
 * const fd = b.recvFd();
 * if (fd !== null && fd >= 0) b.closeReceivedFd(fd);
 * a.close(); b.close();
 * ```
 */
export function sendFds(c: SocketCore, fds: readonly number[], data: Uint8Array | undefined): number {
  const fd = unixOnly(c, "sendFds");
  if (data !== undefined) checkBytes(data);
  // With a send timeout a blocking socket never sleeps in sendmsg: it waits in poll.
  const deadline = deadlineAfter(c.nonBlocking ? 0 : c.timeouts.get("sendMs"));
  const flags = deadline === Infinity ? 0 : C.MSG_DONTWAIT;
  let n = -1;
  while (n < 0) {
    try {
      n = sendFdsOn(fd, fds, data, flags);
    } catch (err) {
      if (err instanceof SocketError && err.code === "EAGAIN") {
        // Non-blocking: report it like send() does, not as a failed send.
        if (c.nonBlocking) return 0;
        if (flags !== 0) {
          c.waitOrTimeout(WAIT_WRITE, deadline, "sendmsg");
          continue;
        }
      }
      if (!(err instanceof TypeError || err instanceof RangeError)) c.stats.sendErrors++;
      throw err;
    }
  }
  c.stats.sent(n);
  // A blocking sendmsg sends the whole payload; finish what MSG_DONTWAIT left.
  while (flags !== 0 && data !== undefined && n < data.byteLength) n += c.sendOnce(data.subarray(n), 0, deadline);
  return n;
}

/**
 * `Socket.recvFds`: receives one message and the descriptors passed with
 * it; `null` when a non-blocking socket has nothing.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { recvFds } from "./socket_fd_passing.ts";
 * const [a, b] = Socket.pair();
 * a.sendFds([0]);
 * const msg = recvFds(coreOf(b), { maxFds: 1 });
 * for (const fd of msg?.fds ?? []) b.closeReceivedFd(fd);
 * a.close(); b.close();
 * ```
 */
export function recvFds(c: SocketCore, options: RecvFdsOptions): ReceivedFds | null {
  const fd = unixOnly(c, "recvFds");
  // With a receive timeout a blocking socket never sleeps in recvmsg: it waits in poll.
  const deadline = deadlineAfter(c.nonBlocking ? 0 : c.timeouts.get("recvMs"));
  const flags = deadline === Infinity ? 0 : C.MSG_DONTWAIT;
  let msg: ReceivedFds | null;
  for (;;) {
    try {
      msg = recvFdsOn(fd, options, flags);
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) c.stats.recvErrors++;
      throw err;
    }
    if (msg !== null || flags === 0) break;
    c.waitOrTimeout(WAIT_READ, deadline, "recvmsg");
  }
  if (msg !== null && msg.bytes > 0) c.stats.received(msg.bytes);
  if (msg !== null && msg.fds.length > 0) {
    const received = (c.received ??= new Set());
    for (const got of msg.fds) received.add(got);
  }
  return msg;
}

/**
 * `Socket.recvFd`: receives one descriptor; `-1` when the message carried
 * none, `null` when a non-blocking socket has nothing.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { recvFd } from "./socket_fd_passing.ts";
 * const [a, b] = Socket.pair();
 * a.sendFd(0);
 * const fd = recvFd(coreOf(b), undefined);
 * if (fd !== null && fd >= 0) b.closeReceivedFd(fd);
 * a.close(); b.close();
 * ```
 */
export function recvFd(c: SocketCore, buffer: Uint8Array | undefined): number | null {
  const msg = recvFds(c, buffer === undefined ? { maxFds: 1 } : { maxFds: 1, buffer });
  if (msg === null) return null;
  if (msg.bytes === 0 && msg.fds.length === 0) {
    throw new SocketClosedError("EOF", "recvmsg: the peer closed before sending a descriptor", {
      syscall: "recvmsg",
      ...(c.peerText === undefined ? {} : { address: c.peerText }),
    });
  }
  return msg.fds[0] ?? -1;
}

/**
 * `Socket.closeReceivedFd`: closes a descriptor this socket received and
 * that was not closed here yet: never the socket's own, nor any other of
 * the process's (stdout, or a number the kernel gave to something else
 * after a first close). Throws `UseAfterCloseError` once the socket is
 * closed, a RangeError for any other descriptor.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { closeReceivedFd } from "./socket_fd_passing.ts";
 * const [a, b] = Socket.pair();
 * a.sendFd(0);
 * const fd = b.recvFd();
 * if (fd !== null && fd >= 0) closeReceivedFd(coreOf(b), fd);
 * a.close(); b.close();
 * ```
 */
export function closeReceivedFd(c: SocketCore, fd: number): void {
  const own = c.liveFd();
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new RangeError(`invalid file descriptor: ${fd}`);
  if (fd === own) throw new RangeError(`descriptor ${fd} is this socket's own`);
  if (c.received?.delete(fd) !== true) throw new RangeError(`descriptor ${fd} was not received on this socket, or was closed already`);
  check(libc().close(fd), "close");
}

/**
 * `Socket.peerCredentials`: the peer's pid, uid and gid (SO_PEERCRED).
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { peerCredentials } from "./socket_fd_passing.ts";
 * const [a, b] = Socket.pair();
 * console.log(peerCredentials(coreOf(a)).uid >= 0); // true
 * a.close(); b.close();
 * ```
 */
export function peerCredentials(c: SocketCore): PeerCredentials {
  return peerCredentialsOf(unixOnly(c, "peerCredentials"));
}
