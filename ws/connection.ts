/**
 * One WebSocket endpoint after the handshake, I/O-free: bytes from the peer
 * go in with `push`, events come out through a handler, and the bytes to
 * write pile up until `takeOutput()`. It ties the receiver, the sender,
 * permessage-deflate and the closing handshake together: pings are
 * answered, a Close is answered, and a protocol violation fails the
 * connection with the right close code (1002, 1007, 1009).
 *
 * @example
 * ```ts
 * import { WebSocketProtocol } from "./connection.ts";
 * const ws = new WebSocketProtocol({
 *   role: "server",
 *   handler: { onMessage: (data, binary) => ws.send(data, { binary }) }, // echo
 * });
 * ws.push(new Uint8Array([0x81, 0x82, 1, 2, 3, 4, 0x69, 0x6b])); // masked "hi"
 * console.log(ws.takeOutput()); // [ Uint8Array [ 129, 2, 104, 105 ] ]
 * ```
 *
 * @module
 */
import { UseAfterCloseError, WebSocketError } from "../core/errors.ts";
import { CloseHandshake, type CloseState } from "./close.ts";
import type { PerMessageDeflate } from "./deflate.ts";
import { CloseCode } from "./frame.ts";
import { Receiver } from "./receiver.ts";
import { type MessageOptions, Sender } from "./sender.ts";

/** Events of a {@link WebSocketProtocol}; all optional except messages. */
export interface ProtocolHandler {
  /** A whole message arrived (`binary`: false for text, which is valid UTF-8). */
  onMessage(data: Uint8Array, binary: boolean): void;
  /** A Ping frame arrived (answered automatically unless `autoPong` is false). */
  onPing?(data: Uint8Array): void;
  /** A Pong frame arrived. */
  onPong?(data: Uint8Array): void;
  /** The peer's Close frame arrived (the answer is already queued when due). */
  onCloseFrame?(code: number, reason: string): void;
  /** The peer broke the protocol; a Close frame with `error.closeCode` is queued. */
  onError?(error: WebSocketError): void;
}

/** Options of a {@link WebSocketProtocol}. */
export interface ProtocolOptions {
  /** Which side this endpoint is: servers read masked frames, clients send them. */
  role: "server" | "client";
  /** Receives messages, control frames and errors. */
  handler: ProtocolHandler;
  /** The permessage-deflate state agreed in the handshake. */
  deflate?: PerMessageDeflate | undefined;
  /** Payload bytes of one frame (1009 above; default WEBSOCKET_LIMITS.maxFrameBytes). */
  maxFrameBytes?: number;
  /** Bytes of one message after decompression (1009 above; default WEBSOCKET_LIMITS.maxMessageBytes). */
  maxMessageBytes?: number;
  /** Bytes kept between pushes for an unfinished message (1009 above; default WEBSOCKET_LIMITS.maxBufferedBytes). */
  maxBufferedBytes?: number;
  /** Messages shorter than this many bytes are sent uncompressed (default from WEBSOCKET_LIMITS). */
  compressionThreshold?: number;
  /** Frames are split to at most this many payload bytes (0: never). */
  autoFragmentSize?: number;
  /** Answer pings with pongs (default true). */
  autoPong?: boolean;
  /** Replaces the random masking keys; tests only. */
  maskSource?: (key: Uint8Array) => void;
}

// The options of messageFrames, made once rather than per message.
const BINARY: MessageOptions = Object.freeze({ binary: true });
const TEXT: MessageOptions = Object.freeze({ binary: false });

/**
 * A WebSocket endpoint without I/O. See the module documentation.
 *
 * @example
 * ```ts
 * import { WebSocketProtocol } from "./connection.ts";
 * const ws = new WebSocketProtocol({ role: "client", handler: { onMessage() {} } });
 * ws.send("hello");
 * ws.close(1000);
 * console.log(ws.takeOutput().length, ws.closeState); // 2 "closing"
 * ```
 */
export class WebSocketProtocol {
  readonly #receiver: Receiver;
  readonly #sender: Sender;
  readonly #close: CloseHandshake;
  readonly #handler: ProtocolHandler;
  readonly #autoPong: boolean;
  readonly #deflate: PerMessageDeflate | undefined;
  #output: Uint8Array[] = [];
  #outputBytes = 0;
  #error: WebSocketError | undefined;

  /** Creates the protocol state of one endpoint; throws for bad options. */
  constructor(options: ProtocolOptions) {
    this.#handler = options.handler;
    this.#autoPong = options.autoPong ?? true;
    this.#deflate = options.deflate;
    this.#close = new CloseHandshake(options.role);
    this.#sender = new Sender({
      role: options.role,
      compressor: options.deflate ?? null,
      ...(options.compressionThreshold !== undefined ? { compressionThreshold: options.compressionThreshold } : {}),
      ...(options.autoFragmentSize !== undefined ? { autoFragmentSize: options.autoFragmentSize } : {}),
      ...(options.maskSource !== undefined ? { maskSource: options.maskSource } : {}),
    });
    this.#receiver = new Receiver({
      role: options.role,
      decompressor: options.deflate ?? null,
      ...(options.maxFrameBytes !== undefined ? { maxFrameBytes: options.maxFrameBytes } : {}),
      ...(options.maxMessageBytes !== undefined ? { maxMessageBytes: options.maxMessageBytes } : {}),
      ...(options.maxBufferedBytes !== undefined ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
      handler: {
        onMessage: (data, binary) => this.#handler.onMessage(data, binary),
        onPing: (data) => {
          if (this.#autoPong && this.#close.canSend) this.#queue(this.#sender.pong(data));
          this.#handler.onPing?.(data);
        },
        onPong: (data) => this.#handler.onPong?.(data),
        onClose: (code, reason) => {
          if (this.#close.receive(code, reason)) {
            // Echo the peer's code (1005 means its Close had no payload).
            const echo = code === CloseCode.NoStatus ? undefined : code;
            this.#queue(this.#sender.close(echo));
            this.#close.sent(echo, "");
          }
          this.#handler.onCloseFrame?.(code, reason);
        },
      },
    });
  }

  /** Where the closing handshake stands. */
  get closeState(): CloseState {
    return this.#close.state;
  }

  /** The closing handshake, for codes and cleanliness. */
  get closeHandshake(): CloseHandshake {
    return this.#close;
  }

  /** The protocol error that failed the connection, if any. */
  get error(): WebSocketError | undefined {
    return this.#error;
  }

  /** Bytes queued for writing. */
  get bufferedAmount(): number {
    return this.#outputBytes;
  }

  /** True when this end should now close the transport. */
  get shouldCloseTransport(): boolean {
    return this.#close.shouldCloseTransport || (this.#error !== undefined && !this.#close.canSend);
  }

  /**
   * Feeds bytes from the peer: takes ownership of `chunk`, or with
   * `borrowed` leaves it the caller's (see `Receiver.push`: the handler's
   * views are then valid during its call only).
   */
  push(chunk: Uint8Array, borrowed = false): void {
    // After a failure, a Close, or a handler that threw inside a read (the receiver stopped mid-read): ignore.
    if (this.#error !== undefined || this.#receiver.closed || this.#receiver.failed) return;
    try {
      this.#receiver.push(chunk, borrowed);
    } catch (err) {
      if (!(err instanceof WebSocketError)) throw err;
      this.#error = err;
      if (this.#close.canSend) {
        this.#queue(this.#sender.close(err.closeCode));
        this.#close.sent(err.closeCode, "");
      }
      this.#handler.onError?.(err);
    }
  }

  /** Queues a data message (strings are text unless `options.binary`). */
  send(data: Uint8Array | string, options: MessageOptions = {}): void {
    this.#checkOpen();
    for (const frame of this.#sender.message(data, options)) this.#queue(frame);
  }

  /**
   * During a handler call from `push`: the bytes of the pushed chunk after
   * the frame being delivered (0 when it was the chunk's last; 0 outside
   * `push`). A caller that gathers what handlers send can send at once
   * when nothing more is coming in this push.
   */
  get inputLeft(): number {
    return this.#receiver.inputLeft;
  }

  /**
   * A data message's frames for a caller that writes them at once, when
   * nothing is queued ahead of them (`bufferedAmount` 0): a view into a
   * buffer shared by every endpoint, valid until the next call, so the
   * transport must copy what it keeps (`Sender.messageFrames`). Throws as
   * `send` does once closing.
   *
   * @example
   * ```ts
   * import { WebSocketProtocol } from "./connection.ts";
   * const ws = new WebSocketProtocol({ role: "server", handler: { onMessage() {} } });
   * console.log(ws.messageFrames("hi", false)); // Uint8Array [ 129, 2, 104, 105 ]
   * ```
   */
  messageFrames(data: Uint8Array | string, binary: boolean): Uint8Array {
    this.#checkOpen();
    return this.#sender.messageFrames(data, binary ? BINARY : TEXT);
  }

  /** Queues a ping. */
  ping(data: Uint8Array | string = new Uint8Array(0)): void {
    this.#checkOpen();
    this.#queue(this.#sender.ping(data));
  }

  /** Queues a pong (unsolicited pongs are heartbeats). */
  pong(data: Uint8Array | string = new Uint8Array(0)): void {
    this.#checkOpen();
    this.#queue(this.#sender.pong(data));
  }

  /**
   * Starts the closing handshake; does nothing when a Close was already sent.
   * No code and no reason send an empty Close; a reason without a code is
   * sent with 1000 (Normal Closure), as the WebSockets Standard's close()
   * does, never dropped.
   */
  close(code?: number, reason = ""): void {
    if (!this.#close.canSend) return;
    if (code === undefined && reason !== "") code = CloseCode.Normal;
    this.#queue(this.#sender.close(code, reason));
    this.#close.sent(code, reason);
  }

  /** Removes and returns the bytes to write, in order. */
  takeOutput(): Uint8Array[] {
    const out = this.#output;
    this.#output = [];
    this.#outputBytes = 0;
    return out;
  }

  /** The transport ended; frees the zlib streams. */
  transportClosed(): void {
    this.#close.transportClosed();
    this.#deflate?.close();
  }

  #checkOpen(): void {
    if (!this.#close.canSend) throw new UseAfterCloseError("WebSocket (closing)");
  }

  #queue(frame: Uint8Array): void {
    this.#output.push(frame);
    this.#outputBytes += frame.length;
  }
}
