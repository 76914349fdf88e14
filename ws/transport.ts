/**
 * What a WebSocket runs on: a byte stream with backpressure, timers and a
 * close. A poll/ `Connection` is one (WebSocket over TCP or TLS, RFC 6455);
 * an HTTP/2 stream opened by extended CONNECT is another (RFC 8441, see
 * h2_stream.ts). {@link WebSocketChannel} drives either.
 *
 * @example
 * ```ts ignore
 * import type { WebSocketTransport } from "./transport.ts";
 * function echo(t: WebSocketTransport): void {
 *   t.setHandler({ data: (_t, bytes) => void t.send(bytes.slice()) });
 * }
 * ```
 *
 * @module
 */
import type { Timer } from "../core/timer_heap.ts";
import type { SocketAddress } from "../socket/sockaddr.ts";

/**
 * The callbacks a {@link WebSocketTransport} makes (the shape of
 * poll/'s `ConnectionHandler`; the first argument is the transport).
 *
 * @example
 * ```ts
 * import type { TransportHandler } from "./transport.ts";
 * const handler: TransportHandler = { data: (_t, bytes) => console.log(bytes.length) };
 * ```
 */
export interface TransportHandler {
  /** Bytes arrived (the view may be reused after the call). */
  data?(transport: never, bytes: Uint8Array): void;
  /** The peer sends nothing more. */
  end?(transport: never): void;
  /** Queued output fell back below the high-water mark after `send` returned false. */
  drain?(transport: never): void;
  /** The transport failed; `close` follows. */
  error?(transport: never, error: Error): void;
  /** The transport is gone (called once). */
  close?(transport: never, error: Error | undefined): void;
}

/**
 * A byte stream a WebSocket can run on (see the module documentation).
 *
 * @example
 * ```ts ignore
 * import type { WebSocketTransport } from "./transport.ts";
 * declare const t: WebSocketTransport;
 * if (!t.send(new Uint8Array([0x81, 0]))) t.setHandler({ drain: () => console.log("room again") });
 * ```
 */
export interface WebSocketTransport {
  /** The loop whose timers drive heartbeats and close timeouts. */
  readonly loop: { readonly timers: { once(delayMs: number, callback: () => void): Timer; every(intervalMs: number, callback: () => void): Timer } };
  /** True once the transport is gone. */
  readonly closed: boolean;
  /** Bytes queued, not yet taken by the peer's window or the kernel. */
  readonly bufferedAmount: number;
  /** The peer's address. */
  readonly remoteAddress: SocketAddress;
  /** Sets who receives input, drain and close events. */
  setHandler(handler: TransportHandler): void;
  /** Queues bytes; false once past the high-water mark (wait for `drain`). Throws once closed for writing. */
  send(bytes: Uint8Array): boolean;
  /** Sends what is queued, then ends; `close` is called once gone. */
  close(): Promise<void>;
  /** Drops the transport now. */
  abort(): void;
  /** Stops delivering input (the peer is held back by flow control). */
  pause(): void;
  /** Starts delivering input again after `pause()`. */
  resume(): void;
}
