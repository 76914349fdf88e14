/**
 * The bandwidth limit of {@link Socket}: a token bucket that paces
 * `sendLimited`. Mixed into `Socket` by socket.ts.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * a.setBandwidth(1024);
 * console.log(a.sendLimited(new Uint8Array(4096))); // at most 1024: one second's worth
 * a.close(); b.close();
 * ```
 *
 * @module
 */
import { TokenBucket } from "../core/rate_limit.ts";
import { checkBytes, coreOf } from "./socket_core.ts";

/**
 * Bandwidth limiting; these members are `Socket`'s own (see socket.ts),
 * not used alone.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * using s = Socket.create("ipv4");
 * s.setBandwidth(1_000_000);
 * console.log(s.bandwidth); // 1000000
 * ```
 */
export class SocketBandwidth {
  /**
   * Limits {@link Socket.sendLimited} to `bytesPerSec` (burst: one second's
   * worth unless given). 0 removes the limit.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // s.setBandwidth(1_000_000); // 1 MB/s
   * ```
   */
  setBandwidth(bytesPerSec: number, burstBytes?: number): void {
    const c = coreOf(this);
    c.liveFd();
    if (typeof bytesPerSec !== "number" || !(bytesPerSec >= 0) || !Number.isFinite(bytesPerSec)) {
      throw new RangeError(`bytesPerSec must be a finite number ≥ 0, got ${bytesPerSec}`);
    }
    if (bytesPerSec === 0) {
      c.bucket = undefined;
      return;
    }
    if (c.bucket === undefined) {
      c.bucket = new TokenBucket(burstBytes === undefined ? { rate: bytesPerSec } : { rate: bytesPerSec, burst: burstBytes });
    } else {
      c.bucket.configure(bytesPerSec, burstBytes);
    }
  }

  /** The bandwidth limit in bytes per second, 0 when none. */
  get bandwidth(): number {
    return coreOf(this).bucket?.rate ?? 0;
  }

  /**
   * Sends as much of `data` as the bandwidth limit allows now; 0 when the
   * limit (or a full non-blocking socket) allows nothing.
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // const n = s.sendLimited(chunk); if (n === 0) wait(s.bandwidthWaitMs(chunk.length));
   * ```
   */
  sendLimited(data: Uint8Array, flags = 0): number {
    const c = coreOf(this);
    checkBytes(data);
    const bucket = c.bucket;
    if (bucket === undefined) return c.send(data, flags);
    const allowed = bucket.acquireUpTo(data.byteLength);
    if (allowed === 0) return 0;
    let sent = 0;
    try {
      sent = c.send(allowed === data.byteLength ? data : data.subarray(0, allowed), flags);
    } finally {
      // Tokens pay only for the bytes the kernel took.
      if (sent < allowed) bucket.refund(allowed - sent);
    }
    return sent;
  }

  /**
   * Milliseconds until `length` bytes may be sent under the limit (0: now;
   * Infinity when `length` exceeds the burst).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * // console.log(s.bandwidthWaitMs(65536));
   * ```
   */
  bandwidthWaitMs(length: number): number {
    const c = coreOf(this);
    c.liveFd();
    return c.bucket === undefined ? 0 : c.bucket.waitTimeMs(length);
  }
}
