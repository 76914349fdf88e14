/**
 * The bandwidth limit of `Socket`: a token bucket that paces
 * `sendLimited`, as functions of the socket's core (socket_core.ts); the
 * `Socket` methods of the same names call them and carry the
 * documentation.
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
import { checkBytes, type SocketCore } from "./socket_core.ts";

/**
 * `Socket.setBandwidth`: limits `sendLimited` to `bytesPerSec` (0: no
 * limit).
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { setBandwidth } from "./socket_bandwidth.ts";
 * using s = Socket.create("ipv4");
 * setBandwidth(coreOf(s), 1_000_000);
 * console.log(s.bandwidth); // 1000000
 * ```
 */
export function setBandwidth(c: SocketCore, bytesPerSec: number, burstBytes?: number): void {
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

/**
 * `Socket.sendLimited`: sends as much of `data` as the limit allows now.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { sendLimited } from "./socket_bandwidth.ts";
 * const [a, b] = Socket.pair();
 * a.setBandwidth(1024);
 * console.log(sendLimited(coreOf(a), new Uint8Array(4096), 0)); // at most 1024
 * a.close(); b.close();
 * ```
 */
export function sendLimited(c: SocketCore, data: Uint8Array, flags: number): number {
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
 * `Socket.bandwidthWaitMs`: milliseconds until `length` bytes may be sent
 * under the limit.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * import { bandwidthWaitMs } from "./socket_bandwidth.ts";
 * using s = Socket.create("ipv4");
 * console.log(bandwidthWaitMs(coreOf(s), 65536)); // 0: no limit
 * ```
 */
export function bandwidthWaitMs(c: SocketCore, length: number): number {
  c.liveFd();
  return c.bucket === undefined ? 0 : c.bucket.waitTimeMs(length);
}
