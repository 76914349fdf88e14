/**
 * Types shared by the HTTP/2 connection's files: the connection's options
 * and a header block being assembled. A leaf module: it imports only the
 * settings type, so connection.ts, connection_core.ts and header_blocks.ts
 * can all use these without importing one another in a circle.
 *
 * @module
 */
import type { Settings } from "./settings.ts";

/**
 * Options of an `H2Connection`; limits default to `HTTP2_LIMITS` and
 * `HPACK_LIMITS`.
 *
 * @example
 * ```ts
 * import type { H2ConnectionOptions } from "./types.ts";
 * const options: H2ConnectionOptions = { role: "server", now: () => performance.now(), maxPingsPerSecond: 20 };
 * console.log(options.role); // "server"
 * ```
 */
export interface H2ConnectionOptions {
  /** Which side of the connection this endpoint is. */
  role: "client" | "server";
  /**
   * Milliseconds clock (monotonic); default `monotonicMs` of core/clock.ts.
   * `null`: no clock — the per-second limits (resets, PING, SETTINGS) and
   * the timeouts are off, and the no-progress budget is paid back by useful
   * work only. Pass `null`, not a function that never advances (such as
   * `() => 0`): with a stuck clock a per-second limit counts for the whole
   * life of the connection.
   */
  now?: (() => number) | null;
  /** Settings we announce (merged over our defaults). */
  settings?: Partial<Settings>;
  /** Credit received DATA back to the peer at once (default true); otherwise call `consume()`. */
  autoWindowUpdate?: boolean;
  /** Connection receive window to open at the start (default: the protocol's 65535). */
  connectionWindowSize?: number;
  /** CONTINUATION frames in one header block. */
  maxContinuationFrames?: number;
  /** Resets per second, sent by the peer or by us for the peer's errors (needs the clock). */
  maxResetsPerSecond?: number;
  /** SETTINGS frames per second (needs the clock). */
  maxSettingsPerSecond?: number;
  /** PING frames per second (needs the clock). */
  maxPingsPerSecond?: number;
  /** Unpaid no-progress frames before ENHANCE_YOUR_CALM (see `HTTP2_LIMITS.maxNoProgressFrames`). */
  maxNoProgressFrames?: number;
  /** No-progress frames paid back per second of the clock. */
  noProgressRefillPerSecond?: number;
  /** Milliseconds a stream may stay blocked on a zero window before it is reset (default HTTP2_LIMITS.zeroWindowTimeoutMs, 30 s). */
  zeroWindowTimeoutMs?: number;
  /** Milliseconds to wait for the peer's SETTINGS ACK (default HTTP2_LIMITS.settingsAckTimeoutMs, 10 s). */
  settingsAckTimeoutMs?: number;
  /** Closed streams remembered to classify late frames (default HTTP2_LIMITS.maxClosedStreams, 1024). */
  maxClosedStreams?: number;
  /** Bytes queued for sending before the connection stops accepting input (default HTTP2_LIMITS.maxOutboundBytes, 4 MiB). */
  maxOutboundBytes?: number;
}

/**
 * A header block being assembled from HEADERS/PUSH_PROMISE and
 * CONTINUATION frames (internal to the connection).
 *
 * @example
 * ```ts
 * import type { PendingBlock } from "./types.ts";
 * const block: PendingBlock = {
 *   type: 0x1, streamId: 1, endStream: false, selfDependent: false, promisedId: 0,
 *   fragments: [new Uint8Array([0x82])], bytes: 1, frames: 1,
 * };
 * console.log(block.bytes); // 1
 * ```
 */
export interface PendingBlock {
  type: number;
  streamId: number;
  endStream: boolean;
  selfDependent: boolean;
  promisedId: number;
  fragments: Uint8Array[];
  bytes: number;
  frames: number;
}

/**
 * Every key of {@link H2ConnectionOptions} (`satisfies` keeps the list and
 * the type equal), for the run-time check of the constructor's options.
 *
 * @example
 * ```ts
 * import { H2_CONNECTION_OPTION_KEYS } from "./types.ts";
 * console.log(H2_CONNECTION_OPTION_KEYS.has("maxNoProgressFrames")); // true
 * ```
 */
export const H2_CONNECTION_OPTION_KEYS: ReadonlySet<string> = new Set(Object.keys({
  role: true,
  now: true,
  settings: true,
  autoWindowUpdate: true,
  connectionWindowSize: true,
  maxContinuationFrames: true,
  maxResetsPerSecond: true,
  maxSettingsPerSecond: true,
  maxPingsPerSecond: true,
  maxNoProgressFrames: true,
  noProgressRefillPerSecond: true,
  zeroWindowTimeoutMs: true,
  settingsAckTimeoutMs: true,
  maxClosedStreams: true,
  maxOutboundBytes: true,
} satisfies Record<keyof H2ConnectionOptions, true>));
