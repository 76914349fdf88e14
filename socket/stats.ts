/**
 * Per-socket statistics: bytes and calls in each direction, failures, the
 * monotonic time of the last transfer, the last RTT sample.
 *
 * @example
 * ```ts
 * import { SocketStatistics } from "./stats.ts";
 * const stats = new SocketStatistics();
 * stats.sent(100, 1);
 * console.log(stats.snapshot().bytesSent); // 100
 * ```
 *
 * @module
 */

/** A copy of a socket's counters. */
export interface SocketStats {
  /** Bytes sent (accepted by the kernel). */
  readonly bytesSent: number;
  /** Bytes received. */
  readonly bytesReceived: number;
  /** Send calls that moved at least one byte. */
  readonly packetsSent: number;
  /** Receive calls that moved at least one byte. */
  readonly packetsReceived: number;
  /** Send calls that failed (would-block excluded). */
  readonly sendErrors: number;
  /** Receive calls that failed (would-block excluded). */
  readonly recvErrors: number;
  /** Monotonic ms of the last send, or 0 when none. */
  readonly lastSendMs: number;
  /** Monotonic ms of the last receive, or 0 when none. */
  readonly lastRecvMs: number;
  /** Last smoothed RTT read from TCP_INFO, µs (0 until read). */
  readonly rttUs: number;
  /** Monotonic ms when the counters started (creation or reset). */
  readonly sinceMs: number;
}

/**
 * Mutable counters kept by a socket. Updating them allocates nothing.
 *
 * @example
 * ```ts
 * import { SocketStatistics } from "./stats.ts";
 * const s = new SocketStatistics();
 * s.received(10, 1);
 * s.reset(2);
 * console.log(s.snapshot().bytesReceived); // 0
 * ```
 */
export class SocketStatistics {
  bytesSent = 0;
  bytesReceived = 0;
  packetsSent = 0;
  packetsReceived = 0;
  sendErrors = 0;
  recvErrors = 0;
  lastSendMs = 0;
  lastRecvMs = 0;
  rttUs = 0;
  sinceMs: number;

  constructor(nowMs = performance.now()) {
    this.sinceMs = nowMs;
  }

  /** Counts one successful send. */
  sent(bytes: number, nowMs: number): void {
    this.bytesSent += bytes;
    this.packetsSent++;
    this.lastSendMs = nowMs;
  }

  /** Counts one successful receive. */
  received(bytes: number, nowMs: number): void {
    this.bytesReceived += bytes;
    this.packetsReceived++;
    this.lastRecvMs = nowMs;
  }

  /** Zeroes every counter. */
  reset(nowMs = performance.now()): void {
    this.bytesSent = this.bytesReceived = this.packetsSent = this.packetsReceived = 0;
    this.sendErrors = this.recvErrors = 0;
    this.lastSendMs = this.lastRecvMs = this.rttUs = 0;
    this.sinceMs = nowMs;
  }

  /** A frozen copy. */
  snapshot(): SocketStats {
    return Object.freeze({
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      packetsSent: this.packetsSent,
      packetsReceived: this.packetsReceived,
      sendErrors: this.sendErrors,
      recvErrors: this.recvErrors,
      lastSendMs: this.lastSendMs,
      lastRecvMs: this.lastRecvMs,
      rttUs: this.rttUs,
      sinceMs: this.sinceMs,
    });
  }
}
