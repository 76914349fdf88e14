/**
 * Unix-only methods of {@link Socket}: passing descriptors (SCM_RIGHTS)
 * and reading the peer's credentials (socket/unix_fds.ts). Mixed into
 * `Socket` by socket.ts.
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
import { checkBytes, coreOf, type SocketCore } from "./socket_core.ts";
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
 * Descriptor passing and peer credentials; these methods are `Socket`'s
 * own (see socket.ts), not used alone.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * console.log(b.peerCredentials().uid >= 0); // true
 * a.close(); b.close();
 * ```
 */
export class SocketFdPassing {
  /**
   * Passes descriptors to the peer in one SCM_RIGHTS message (with `data`,
   * one zero byte by default); returns the data bytes sent, or 0 when a
   * non-blocking socket would block (nothing was sent, descriptors
   * included). The caller keeps its own copies of the descriptors. A
   * blocking socket honours its send timeout.
   *
   * @throws TypeError on a non-Unix socket; RangeError for 0 or more than
   *   {@link MAX_FDS_PER_MESSAGE} descriptors; SocketClosedError when the
   *   peer is gone; SocketTimeoutError
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendFds([0, 1]);
   * const msg = b.recvFds({ maxFds: 2 });
   * for (const fd of msg?.fds ?? []) b.closeReceivedFd(fd);
   * a.close(); b.close();
   * ```
   */
  sendFds(fds: readonly number[], data?: Uint8Array): number {
    const c = coreOf(this);
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
   * Passes one descriptor; see {@link Socket.sendFds}.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendFd(0); // our stdin
   * const fd = b.recvFd();
   * if (fd !== null && fd >= 0) b.closeReceivedFd(fd);
   * a.close(); b.close();
   * ```
   */
  sendFd(fd: number, data?: Uint8Array): number {
    return this.sendFds([fd], data);
  }

  /**
   * Receives one message and the descriptors passed with it (close-on-exec,
   * owned by the caller); `null` when a non-blocking socket has nothing.
   * Descriptors beyond `maxFds` (default `SOCKET_LIMITS.maxReceivedFds`), or
   * carried by a truncated control message, are closed at once and
   * `fdsTruncated` is set. A blocking socket honours its receive timeout.
   *
   * @throws TypeError on a non-Unix socket; SocketTimeoutError
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * a.sendFds([0], new TextEncoder().encode("stdin"));
   * const msg = b.recvFds({ maxFds: 4, buffer: new Uint8Array(16) });
   * console.log(msg?.bytes, msg?.fds.length); // 5 1
   * for (const fd of msg?.fds ?? []) b.closeReceivedFd(fd);
   * a.close(); b.close();
   * ```
   */
  recvFds(options: RecvFdsOptions = {}): ReceivedFds | null {
    const c = coreOf(this);
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
    return msg;
  }

  /**
   * Receives one descriptor: the descriptor, `-1` when the message carried
   * none, `null` when a non-blocking socket has nothing. Extra descriptors
   * are closed.
   *
   * @throws SocketClosedError when the peer closed first
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
   */
  recvFd(buffer?: Uint8Array): number | null {
    const c = coreOf(this);
    const msg = this.recvFds(buffer === undefined ? { maxFds: 1 } : { maxFds: 1, buffer });
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
   * Closes a descriptor received with {@link Socket.recvFd} or
   * {@link Socket.recvFds} (a convenience: any descriptor may be closed).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const fd = s.recvFd(); if (fd !== null && fd >= 0) s.closeReceivedFd(fd);
   * ```
   */
  closeReceivedFd(fd: number): void {
    const c = coreOf(this);
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new RangeError(`invalid file descriptor: ${fd}`);
    if (fd === c.fd) throw new RangeError(`descriptor ${fd} is this socket's own`);
    check(libc().close(fd), "close");
  }

  /**
   * The credentials (pid, uid, gid) the kernel recorded for the peer of a
   * connected Unix socket at connect or socketpair time (SO_PEERCRED).
   *
   * @throws TypeError on a non-Unix socket; UnsupportedError off Linux
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * const [a, b] = Socket.pair();
   * console.log(a.peerCredentials().pid); // this process
   * a.close(); b.close();
   * ```
   */
  peerCredentials(): PeerCredentials {
    return peerCredentialsOf(unixOnly(coreOf(this), "peerCredentials"));
  }
}
