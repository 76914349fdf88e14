/**
 * Per-socket statistics: bytes and calls in each direction, failures, the
 * monotonic time of the last transfer, the last RTT sample.
 *
 * @example
 * ```ts
 * import { SocketStatistics } from "./stats.ts";
 * const stats = new SocketStatistics();
 * stats.sent(100);
 * console.log(stats.snapshot().bytesSent); // 100
 * ```
 *
 * @module
 */
import { ffiClockMs } from "../core/ffi_clock.ts";

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

// Counter slots in one Float64Array: storing a number there never boxes it,
// so counting a transfer allocates nothing on V8 (an object field holding a
// fraction or a count past 2^31 would need a heap number per update).
const BYTES_SENT = 0;
const BYTES_RECEIVED = 1;
const PACKETS_SENT = 2;
const PACKETS_RECEIVED = 3;
const SEND_ERRORS = 4;
const RECV_ERRORS = 5;
const LAST_SEND = 6;
const LAST_RECV = 7;
const RTT = 8;
const SINCE = 9;

// The monotonic clock read without allocating: `performance.now()` returns
// a fresh heap number on V8 (16 bytes per call, two per round trip), so the
// hot path reads CLOCK_MONOTONIC into a reused timespec instead, shifted
// to `performance.now()`'s origin, which it then matches (core/ffi_clock.ts).

/** Writes the monotonic time (performance.now() origin) into cells[slot]. */
function stamp(cells: Float64Array, slot: number): void {
  const ms = ffiClockMs();
  cells[slot] = ms === ms ? ms : performance.now();
}

/**
 * Mutable counters kept by a socket. Updating them allocates nothing: the
 * counters live in a Float64Array and the time of a transfer is read from
 * CLOCK_MONOTONIC into reused memory (on the same origin as
 * `performance.now()`).
 *
 * @example
 * ```ts
 * import { SocketStatistics } from "./stats.ts";
 * const s = new SocketStatistics();
 * s.received(10);
 * s.reset();
 * console.log(s.snapshot().bytesReceived); // 0
 * ```
 */
export class SocketStatistics {
  readonly #cells = new Float64Array(10);

  /** Counters from zero since `nowMs` (on the clock of `SocketStats.sinceMs`; default: now). */
  constructor(nowMs?: number) {
    if (nowMs === undefined) stamp(this.#cells, SINCE);
    else this.#cells[SINCE] = nowMs;
  }

  /** Send calls that failed. */
  get sendErrors(): number {
    return this.#cells[SEND_ERRORS]!;
  }
  set sendErrors(n: number) {
    this.#cells[SEND_ERRORS] = n;
  }

  /** Receive calls that failed. */
  get recvErrors(): number {
    return this.#cells[RECV_ERRORS]!;
  }
  set recvErrors(n: number) {
    this.#cells[RECV_ERRORS] = n;
  }

  /** The last RTT sample, µs. */
  get rttUs(): number {
    return this.#cells[RTT]!;
  }
  set rttUs(us: number) {
    this.#cells[RTT] = us;
  }

  /** Counts one successful send, at `nowMs` (default: now). */
  sent(bytes: number, nowMs?: number): void {
    const c = this.#cells;
    c[BYTES_SENT] = c[BYTES_SENT]! + bytes;
    c[PACKETS_SENT] = c[PACKETS_SENT]! + 1;
    if (nowMs === undefined) stamp(c, LAST_SEND);
    else c[LAST_SEND] = nowMs;
  }

  /** Counts one successful receive, at `nowMs` (default: now). */
  received(bytes: number, nowMs?: number): void {
    const c = this.#cells;
    c[BYTES_RECEIVED] = c[BYTES_RECEIVED]! + bytes;
    c[PACKETS_RECEIVED] = c[PACKETS_RECEIVED]! + 1;
    if (nowMs === undefined) stamp(c, LAST_RECV);
    else c[LAST_RECV] = nowMs;
  }

  /** Zeroes every counter; the counters start again at `nowMs` (default: now). */
  reset(nowMs?: number): void {
    const c = this.#cells;
    c.fill(0);
    if (nowMs === undefined) stamp(c, SINCE);
    else c[SINCE] = nowMs;
  }

  /** A frozen copy. */
  snapshot(): SocketStats {
    const c = this.#cells;
    return Object.freeze({
      bytesSent: c[BYTES_SENT]!,
      bytesReceived: c[BYTES_RECEIVED]!,
      packetsSent: c[PACKETS_SENT]!,
      packetsReceived: c[PACKETS_RECEIVED]!,
      sendErrors: c[SEND_ERRORS]!,
      recvErrors: c[RECV_ERRORS]!,
      lastSendMs: c[LAST_SEND]!,
      lastRecvMs: c[LAST_RECV]!,
      rttUs: c[RTT]!,
      sinceMs: c[SINCE]!,
    });
  }
}
