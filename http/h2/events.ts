/**
 * The events an HTTP/2 connection core reports from `receive()` and
 * `tick()`. Header fields are flat arrays `[name0, value0, …]`.
 *
 * @module
 */
import type { HTTP2Error, HTTP2StreamError } from "../../core/errors.ts";
import type { PriorityFields } from "./frames.ts";
import type { PrioritySignal } from "./priority.ts";
import type { Settings } from "./settings.ts";

/**
 * One event. `type` tells which:
 *
 * - `headers`: a request (server) or response (client), informational
 *   responses included; `priority` when the request carries RFC 9218's field.
 * - `trailers`: a trailer section (always ends the stream).
 * - `data`: body bytes (a copy; flow control is credited back automatically
 *   unless `autoWindowUpdate` is off). Small payloads share slabs (up to 64 KiB):
 *   `data.buffer` may hold other events' bytes, so never transfer or detach
 *   it, and copy a small body you keep for long.
 * - `rst`: the peer reset a stream, or a GOAWAY refused it (`refused`).
 * - `stream-error`: we reset a stream because the peer broke a rule.
 *   After either on a request the server application was answering, the
 *   stream keeps its place among our MAX_CONCURRENT_STREAMS until the
 *   application lets go: `reset(id)` (which sends nothing more), or any
 *   write to it (which throws STREAM_CLOSED). So a peer cannot start
 *   unbounded work by resetting requests (CVE-2023-44487, CVE-2025-8671).
 * - `error`: a connection error; GOAWAY was queued and the connection is dead.
 * - `goaway`, `ping`, `ping-ack` (with `rtt` in ms), `settings` (the peer's,
 *   applied and acknowledged), `settings-ack`, `window-update`,
 *   `push-promise`, `priority` (RFC 7540 scheme), `priority-update` (RFC 9218).
 *
 * @example
 * ```ts
 * import type { H2Event } from "./events.ts";
 * function log(e: H2Event): void {
 *   if (e.type === "headers") console.log(e.streamId, e.headers);
 * }
 * ```
 */
export type H2Event =
  | { type: "headers"; streamId: number; headers: string[]; endStream: boolean; priority?: PrioritySignal }
  | { type: "trailers"; streamId: number; headers: string[] }
  | { type: "data"; streamId: number; data: Uint8Array; endStream: boolean }
  | { type: "rst"; streamId: number; code: number; refused: boolean }
  | { type: "stream-error"; streamId: number; error: HTTP2StreamError }
  | { type: "error"; error: HTTP2Error }
  | { type: "goaway"; lastStreamId: number; code: number; debug: Uint8Array }
  | { type: "ping"; data: Uint8Array }
  | { type: "ping-ack"; data: Uint8Array; rtt: number }
  | { type: "settings"; settings: Readonly<Settings> }
  | { type: "settings-ack" }
  | { type: "window-update"; streamId: number; increment: number }
  | { type: "push-promise"; streamId: number; promisedId: number; headers: string[] }
  | { type: "priority"; streamId: number; priority: PriorityFields }
  | { type: "priority-update"; streamId: number; priority: PrioritySignal }
  | { type: "timeout"; what: "settings-ack" | "zero-window"; streamId: number };
