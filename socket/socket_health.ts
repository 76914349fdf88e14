/**
 * Health and information of {@link Socket}: the pending error, liveness
 * probe, readiness checks, TCP_INFO and the counters. Mixed into `Socket`
 * by socket.ts.
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
import { checkMs, coreOf } from "./socket_core.ts";
import { hasPeer } from "./socket_endpoints.ts";
import type { SocketStats } from "./stats.ts";
import { readCwnd, readRttUs, readTcpInfo, type TcpInfo } from "./tcp_info.ts";
import { pollOne, WAIT_READ, WAIT_TROUBLE, WAIT_WRITE } from "./wait.ts";

const PEEK_BYTE = new Uint8Array(1);

/**
 * Health checks, TCP_INFO and counters; these methods are `Socket`'s own
 * (see socket.ts), not used alone.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * using s = Socket.create("ipv4");
 * console.log(s.stats().bytesSent); // 0
 * ```
 */
export class SocketHealth {
  /**
   * The pending socket error (SO_ERROR, which reading clears), or null.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const err = s.getError(); if (err) console.log(err.code);
   * ```
   */
  getError(): Error | null {
    const c = coreOf(this);
    const errno = getIntOption(c.liveFd(), C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR");
    return errno === 0 ? null : sysError(errno, "SO_ERROR", c.peerText);
  }

  /**
   * Whether the connection still looks alive: no pending error, no hang-up,
   * and (if data or EOF is waiting) not at end of stream. Waits up to
   * `timeoutMs` for an event.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // if (!s.probe()) s.close();
   * ```
   */
  probe(timeoutMs = 0): boolean {
    const c = coreOf(this);
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
   * Whether data (or end of stream) can be read, waiting up to `timeoutMs`.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // if (s.isReadable(100)) s.recv(buf);
   * ```
   */
  isReadable(timeoutMs = 0): boolean {
    const c = coreOf(this);
    checkMs(timeoutMs);
    return pollOne(c.liveFd(), WAIT_READ, timeoutMs) !== 0;
  }

  /**
   * Whether a send would not block, waiting up to `timeoutMs`.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // if (s.isWritable()) s.send(buf);
   * ```
   */
  isWritable(timeoutMs = 0): boolean {
    const c = coreOf(this);
    checkMs(timeoutMs);
    return pollOne(c.liveFd(), WAIT_WRITE, timeoutMs) !== 0;
  }

  /**
   * TCP_INFO (Linux): RTT, congestion window, retransmissions, rates, ….
   *
   * @throws UnsupportedError off Linux
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // console.log(s.tcpInfo().rttUs);
   * ```
   */
  tcpInfo(): TcpInfo {
    const c = coreOf(this);
    const info = readTcpInfo(c.liveFd());
    c.stats.rttUs = info.rttUs;
    return info;
  }

  /** Smoothed RTT in microseconds (TCP_INFO). */
  getRtt(): number {
    const c = coreOf(this);
    const rtt = readRttUs(c.liveFd());
    c.stats.rttUs = rtt;
    return rtt;
  }

  /** Congestion window in segments (TCP_INFO). */
  getCwnd(): number {
    return readCwnd(coreOf(this).liveFd());
  }

  /**
   * A copy of this socket's counters.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // console.log(s.stats().bytesSent);
   * ```
   */
  stats(): SocketStats {
    return coreOf(this).stats.snapshot();
  }

  /** Zeroes the counters. */
  resetStats(): void {
    coreOf(this).stats.reset();
  }
}
