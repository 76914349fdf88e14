/**
 * A WebSocket transport over one HTTP/2 stream opened by extended CONNECT
 * (RFC 8441): the frames of RFC 6455 travel in the stream's DATA, under
 * its flow control.
 *
 * - `send` queues DATA on the stream; it reports false once the stream's
 *   queued DATA (what the peer's windows or the socket have not taken)
 *   passes the high-water mark, and `drain` fires when it falls back.
 * - Input is credited back (WINDOW_UPDATE) as it is delivered; `pause()`
 *   holds it uncredited, so a paused reader holds the peer to one window.
 * - `close()` ends our side (END_STREAM, as TCP's FIN); the transport is
 *   gone once the peer ends too (or after a linger, then RST_STREAM
 *   CANCEL). `abort()` resets the stream (CANCEL).
 * - RST_STREAM from the peer before we ended is an abnormal close: `error`
 *   then `close` (the WebSocket reports 1006).
 *
 * The HTTP/2 session owning the stream (server: http/server/h2_session.ts;
 * client: h2_dial.ts) is its {@link H2StreamHost} and feeds it the
 * stream's events.
 *
 * @example
 * ```ts ignore
 * import { H2StreamTransport } from "./h2_stream.ts";
 * const transport = new H2StreamTransport(host, streamId);
 * host.onStreamData = (bytes, end) => transport.onData(bytes, end);
 * ```
 *
 * @module
 */
import { HTTP2StreamError } from "../core/errors.ts";
import { SOCKET_LIMITS } from "../core/limits.ts";
import type { Timer } from "../core/timer_heap.ts";
import type { SocketAddress } from "../socket/sockaddr.ts";
import type { TransportHandler, WebSocketTransport } from "./transport.ts";

/**
 * Request handlers that accept WebSockets (`serve`'s handler when it has
 * a `websocket` option): the HTTP/2 sessions running one announce
 * SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).
 *
 * @example
 * ```ts
 * import { EXTENDED_CONNECT_HANDLERS } from "./h2_stream.ts";
 * const handler = () => new Response("hi");
 * EXTENDED_CONNECT_HANDLERS.add(handler);
 * console.log(EXTENDED_CONNECT_HANDLERS.has(handler)); // true
 * ```
 */
export const EXTENDED_CONNECT_HANDLERS: WeakSet<object> = new WeakSet();

/** RST_STREAM codes used here (RFC 9113 §7). */
const NO_ERROR = 0x0;
const CANCEL = 0x8;
/** How long a closed side waits for the peer's END_STREAM before resetting the stream. */
const LINGER_MS = 2000;
const EMPTY = new Uint8Array(0);

/**
 * What an {@link H2StreamTransport} needs of the HTTP/2 session that owns
 * its stream.
 *
 * @example
 * ```ts ignore
 * import type { H2StreamHost } from "./h2_stream.ts";
 * const host: H2StreamHost = { loop, remoteAddress, write, queued, consume, reset, release };
 * ```
 */
export interface H2StreamHost {
  /** The loop of the HTTP/2 connection. */
  readonly loop: WebSocketTransport["loop"];
  /** The peer's address. */
  readonly remoteAddress: SocketAddress;
  /** Queues DATA (`endStream`: our side ends) and sees that it is flushed. Throws once the stream is reset. */
  write(streamId: number, bytes: Uint8Array, endStream: boolean): void;
  /** DATA of the stream queued and not yet sent. */
  queued(streamId: number): number;
  /** Credits `n` received octets of the stream back to the peer. */
  consume(streamId: number, n: number): void;
  /** Sends RST_STREAM `code` (or, on a stream the peer reset, only lets go of it). */
  reset(streamId: number, code: number): void;
  /** The transport is gone: the host forgets the stream. */
  release(streamId: number): void;
}

/**
 * One HTTP/2 stream as a {@link WebSocketTransport}. See the module
 * documentation.
 *
 * @example
 * ```ts ignore
 * import { H2StreamTransport } from "./h2_stream.ts";
 * import { WebSocketChannel } from "./channel.ts";
 * const ws = new WebSocketChannel(new H2StreamTransport(host, 1), new Uint8Array(0), { role: "server" }, events);
 * ```
 */
export class H2StreamTransport implements WebSocketTransport {
  /** The HTTP/2 stream the WebSocket runs on. */
  readonly streamId: number;
  readonly #host: H2StreamHost;
  #handler: TransportHandler | undefined;
  #closed = false;
  #localEnded = false;
  #remoteEnded = false;
  #paused = false;
  #held: Uint8Array[] = [];
  #heldEnd = false;
  #wantDrain = false;
  #linger: Timer | undefined;
  readonly #whenClosed: Promise<void>;
  #resolveClosed!: () => void;

  /** Wraps stream `streamId` of `host` as a WebSocket transport. */
  constructor(host: H2StreamHost, streamId: number) {
    this.#host = host;
    this.streamId = streamId;
    this.#whenClosed = new Promise((r) => (this.#resolveClosed = r));
  }

  get loop(): WebSocketTransport["loop"] {
    return this.#host.loop;
  }

  /** The peer's address (the HTTP/2 connection's). */
  get remoteAddress(): SocketAddress {
    return this.#host.remoteAddress;
  }

  /** True once the stream is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  get bufferedAmount(): number {
    return this.#closed ? 0 : this.#host.queued(this.streamId);
  }

  /** Sets the callbacks; input that came before the first handler is delivered in a microtask. */
  setHandler(handler: TransportHandler): void {
    const first = this.#handler === undefined;
    this.#handler = handler;
    if (first && (this.#held.length > 0 || this.#heldEnd)) {
      this.#paused = true;
      queueMicrotask(() => this.resume());
    }
  }

  send(bytes: Uint8Array): boolean {
    if (this.#closed || this.#localEnded) throw new HTTP2StreamError("ERR_H2_STREAM_ENDED", "the WebSocket's stream is closed for writing", CANCEL, this.streamId);
    this.#host.write(this.streamId, bytes, false);
    if (this.#host.queued(this.streamId) < SOCKET_LIMITS.writeHighWaterMark) return true;
    this.#wantDrain = true;
    return false;
  }

  close(): Promise<void> {
    if (this.#closed) return this.#whenClosed;
    if (!this.#localEnded) {
      this.#localEnded = true;
      try {
        this.#host.write(this.streamId, EMPTY, true);
      } catch {
        this.#finish(undefined);
        return this.#whenClosed;
      }
    }
    if (this.#remoteEnded) this.#finish(undefined);
    else this.#linger ??= this.#host.loop.timers.once(LINGER_MS, () => this.abort()).unref();
    return this.#whenClosed;
  }

  abort(): void {
    if (this.#closed) return;
    this.#host.reset(this.streamId, CANCEL);
    this.#finish(undefined);
  }

  pause(): void {
    this.#paused = true;
  }

  /** Starts delivering input again after `pause()`. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    while (!this.#paused && !this.#closed && this.#held.length > 0) this.#deliver(this.#held.shift()!);
    if (!this.#paused && this.#heldEnd) {
      this.#heldEnd = false;
      this.#ended();
    }
  }

  // ---- fed by the host

  /** DATA arrived on the stream (`endStream`: the peer ended its side). */
  onData(bytes: Uint8Array, endStream: boolean): void {
    if (this.#closed) {
      if (bytes.length > 0) this.#host.consume(this.streamId, bytes.length);
      return;
    }
    const hold = this.#paused || this.#handler === undefined;
    if (bytes.length > 0) {
      if (hold) this.#held.push(bytes.slice());
      else this.#deliver(bytes);
    }
    if (endStream) {
      if (hold) this.#heldEnd = true;
      else this.#ended();
    }
  }

  /** The peer reset the stream (or broke the protocol on it). */
  onReset(code: number): void {
    if (this.#closed) return;
    this.#host.reset(this.streamId, code); // lets go of it in the core
    // After our END_STREAM a reset only says "stop": not a failure.
    if (!(this.#localEnded && (code === NO_ERROR || code === CANCEL))) {
      this.#handler?.error?.(this as never, new HTTP2StreamError("ERR_H2_STREAM_RESET", `the peer reset the WebSocket's stream (HTTP/2 error ${code})`, code, this.streamId));
    }
    this.#finish(undefined);
  }

  /** The connection carrying the stream is gone. */
  onConnectionClosed(error: Error | undefined): void {
    if (this.#closed) return;
    if (error !== undefined) this.#handler?.error?.(this as never, error);
    this.#finish(error);
  }

  /** The host flushed: `drain` when the queue fell back below the mark. */
  onFlushed(): void {
    if (!this.#wantDrain || this.#closed) return;
    if (this.#host.queued(this.streamId) >= SOCKET_LIMITS.writeHighWaterMark) return;
    this.#wantDrain = false;
    this.#handler?.drain?.(this as never);
  }

  #deliver(bytes: Uint8Array): void {
    this.#handler?.data?.(this as never, bytes);
    if (!this.#closed) this.#host.consume(this.streamId, bytes.length);
  }

  #ended(): void {
    this.#remoteEnded = true;
    if (this.#localEnded) this.#finish(undefined);
    else this.#handler?.end?.(this as never);
  }

  #finish(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#linger?.cancel();
    // What the peer sent and nobody will read still counts against the connection window.
    let held = 0;
    for (const chunk of this.#held) held += chunk.length;
    this.#held = [];
    if (held > 0) this.#host.consume(this.streamId, held);
    this.#host.release(this.streamId);
    this.#handler?.close?.(this as never, error);
    this.#resolveClosed();
  }
}
