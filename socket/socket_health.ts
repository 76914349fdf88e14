/**
 * Health and information of `Socket`: the pending error, liveness probe,
 * readiness checks and TCP_INFO, as functions of the socket's core
 * (socket_core.ts); the `Socket` methods of the same names call them and
 * carry the documentation.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * console.log(a.probe(), a.isWritable()); // true true
 * a.close(); b.close();
 * ```
 *
 * @module
 */
import { sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import { getIntOption } from "./options.ts";
import { checkMs, type SocketCore } from "./socket_core.ts";
import { hasPeer } from "./socket_endpoints.ts";
import { readRttUs, readTcpInfo, type TcpInfo } from "./tcp_info.ts";
import { pollOne, WAIT_READ, WAIT_TROUBLE, WAIT_WRITE } from "./wait.ts";

const PEEK_BYTE = new Uint8Array(1);

/**
 * `Socket.getError`: the pending socket error (SO_ERROR, which reading
 * clears), or null.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { getError } from "./socket_health.ts";
 * using s = Socket.create("ipv4");
 * console.log(getError(coreOf(s))); // null
 * ```
 */
export function getError(c: SocketCore): Error | null {
  const errno = getIntOption(c.liveFd(), C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR");
  return errno === 0 ? null : sysError(errno, "SO_ERROR", c.peerText);
}

/**
 * `Socket.probe`: whether the connection still looks alive, waiting up to
 * `timeoutMs` for an event.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { probe } from "./socket_health.ts";
 * const [a, b] = Socket.pair();
 * console.log(probe(coreOf(a), 0)); // true
 * b.close();
 * console.log(probe(coreOf(a), 0)); // false: the peer is gone
 * a.close();
 * ```
 */
export function probe(c: SocketCore, timeoutMs: number): boolean {
  checkMs(timeoutMs);
  const fd = c.liveFd();
  const revents = pollOne(fd, WAIT_READ | C.POLLRDHUP, timeoutMs);
  if ((revents & WAIT_TROUBLE) !== 0) return false;
  if (getIntOption(fd, C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR") !== 0) return false;
  if ((revents & (WAIT_READ | C.POLLRDHUP)) === 0) return hasPeer(fd);
  for (;;) {
    const n = libc().recv(fd, PEEK_BYTE, 1, C.MSG_PEEK | C.MSG_DONTWAIT);
    if (n > 0) return true;
    if (n === 0) return false;
    const errno = native.errno();
    if (errno === E.EINTR) continue;
    return errno === E.EAGAIN;
  }
}

/**
 * `Socket.isReadable` and `Socket.isWritable`: whether `events` (`WAIT_READ`
 * or `WAIT_WRITE`) are ready, waiting up to `timeoutMs`.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { isReady } from "./socket_health.ts";
 * import { WAIT_WRITE } from "./wait.ts";
 * const [a, b] = Socket.pair();
 * console.log(isReady(coreOf(a), WAIT_WRITE, 0)); // true
 * a.close(); b.close();
 * ```
 */
export function isReady(c: SocketCore, events: number, timeoutMs: number): boolean {
  checkMs(timeoutMs);
  return pollOne(c.liveFd(), events, timeoutMs) !== 0;
}

/**
 * `Socket.tcpInfo`: TCP_INFO (Linux), remembering the RTT in the counters.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { tcpInfo } from "./socket_health.ts";
 * using s = Socket.create("ipv4");
 * console.log(tcpInfo(coreOf(s)).state); // 7: TCP_CLOSE, never connected
 * ```
 */
export function tcpInfo(c: SocketCore): TcpInfo {
  const info = readTcpInfo(c.liveFd());
  c.stats.rttUs = info.rttUs;
  return info;
}

/**
 * `Socket.getRtt`: the smoothed RTT in microseconds (TCP_INFO), remembered
 * in the counters.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { getRtt } from "./socket_health.ts";
 * using s = Socket.create("ipv4");
 * console.log(getRtt(coreOf(s))); // 0: never connected
 * ```
 */
export function getRtt(c: SocketCore): number {
  const rtt = readRttUs(c.liveFd());
  c.stats.rttUs = rtt;
  return rtt;
}
