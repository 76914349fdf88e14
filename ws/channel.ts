/**
 * A WebSocket over a live connection: the I/O-free {@link WebSocketProtocol}
 * driven by a poll/ `Connection` or an HTTP/2 stream (any
 * {@link WebSocketTransport}). Both the server (`serve`'s upgrades) and
 * the client (`connectWebSocket`, `WebSocket`) run on it. It adds what
 * needs I/O and time:
 *
 * - **backpressure**: `send` returns false once the connection's queued
 *   output passes its high-water mark, `drain` fires when it empties, and
 *   past `maxBufferedBytes` (a peer that never reads) the connection is
 *   failed with 1008 instead of buffering without bound;
 * - **heartbeat**: with `heartbeatMs`, a ping every interval; a peer that
 *   sent nothing by the next one (not a byte: a pong, a frame, or part of
 *   a long frame still arriving all count) is dead: the transport is
 *   dropped and the close is reported as 1006;
 * - **close timeout**: once a Close was sent, the peer has `closeTimeoutMs`
 *   to answer before the transport is dropped (1006).
 *
 * @example
 * ```ts ignore
 * import { WebSocketChannel } from "./channel.ts";
 * const ws = new WebSocketChannel(conn, new Uint8Array(0), { role: "server" }, {
 *   message: (data, binary) => ws.send(data, binary), // echo
 *   close: (code, reason) => console.log("closed", code, reason),
 * });
 * ```
 *
 * @module
 */
import { WebSocketError } from "../core/errors.ts";
import type { Timer } from "../core/timer_heap.ts";
import { WebSocketProtocol } from "./connection.ts";
import type { PerMessageDeflate } from "./deflate.ts";
import { CloseCode } from "./frame.ts";
import { dropHold, holdFrames } from "./sender.ts";
import type { WebSocketTransport } from "./transport.ts";
import { Connection } from "../poll/connection.ts";
import { countClose, type WebSocketRoleStats, WS_STATS } from "./ws_stats.ts";

/** What a {@link WebSocketChannel} reports. */
export interface ChannelEvents {
  /**
   * A whole message (text messages are valid UTF-8 bytes). `data` may be
   * a view into the transport's read buffer: valid during the call only,
   * copy it to keep it (as for `ping` and `pong`).
   */
  message(data: Uint8Array, binary: boolean): void;
  /** A Ping frame arrived (`data` valid during the call only). */
  ping?: ((data: Uint8Array) => void) | undefined;
  /** A Pong frame arrived (`data` valid during the call only). */
  pong?: ((data: Uint8Array) => void) | undefined;
  /** The queued output was written after `send` returned false. */
  drain?(): void;
  /** The peer broke the protocol or the transport failed (`close` follows). */
  error?(error: Error): void;
  /**
   * Called once, when the transport is gone. `code` is the peer's Close
   * code, or the code our side failed the connection with (1002, 1007,
   * 1008, 1009, …), or 1006 when the transport went without either.
   * `peerCode` is the code of the Close frame the peer sent (1005 when it
   * had none), undefined when none was received: RFC 6455 §7.1.5's "close
   * code", which the WHATWG WebSocket reports (1006 then).
   */
  close(code: number, reason: string, wasClean: boolean, peerCode: number | undefined): void;
}

/** Options of a {@link WebSocketChannel}. */
export interface ChannelOptions {
  /** Which side this endpoint is: servers read masked frames, clients send them. */
  role: "server" | "client";
  /** The permessage-deflate state agreed in the handshake, if any. */
  deflate?: PerMessageDeflate | undefined;
  /** Largest message accepted, in bytes (default 64 MiB); larger fails with 1009. */
  maxPayload?: number;
  /** Ping every this many ms, and drop a peer silent for a whole interval (default 0: off). */
  heartbeatMs?: number;
  /** How long the peer has to answer our Close (default 5000 ms). */
  closeTimeoutMs?: number;
  /** Queued output past which a peer that does not read is dropped with 1008 (default 16 MiB). */
  maxBufferedBytes?: number;
  /**
   * Where an exception thrown by an event callback goes, once the
   * connection was failed for it (Close 1011, RFC 6455 §7.4.1: an
   * unexpected condition; the close event reports 1011). Default: rethrown
   * to the caller of the callback (the loop).
   */
  onHandlerError?: ((error: unknown) => void) | undefined;
}

/**
 * Default of {@link ChannelOptions.maxPayload}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_PAYLOAD } from "./channel.ts";
 * console.log(DEFAULT_MAX_PAYLOAD === 64 * 1024 * 1024); // true
 * ```
 */
export const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;
/**
 * Default of {@link ChannelOptions.maxBufferedBytes}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_BUFFERED } from "./channel.ts";
 * console.log(DEFAULT_MAX_BUFFERED === 16 * 1024 * 1024); // true
 * ```
 */
export const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;
/**
 * The echoes of one read are gathered up to this many bytes and sent
 * together; a larger message goes on its own (after what was gathered).
 */
const CORK_MAX_BYTES = 16 * 1024;
/**
 * Default of {@link ChannelOptions.closeTimeoutMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_CLOSE_TIMEOUT_MS } from "./channel.ts";
 * console.log(DEFAULT_CLOSE_TIMEOUT_MS); // 5000
 * ```
 */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5000;

/**
 * Checks a WebSocket limit or interval option where it is given, so that a
 * bad value is an error of the call that took it, not of each connection
 * later (a server's every upgrade failing after its `101`, a NaN bound
 * that never bounds). `finite`: a time in milliseconds (`heartbeatMs`,
 * `closeTimeoutMs`; 0 is off or at once); otherwise a byte count that may
 * be `Infinity` (`maxPayloadLength`, `maxBufferedBytes`).
 *
 * @param value the option's value (`undefined`: not given, nothing checked).
 * @param name the option's name, for the message.
 * @param finite whether `Infinity` is refused.
 * @throws {TypeError} for a value that is not a number.
 * @throws {RangeError} for a negative number or NaN (or Infinity when `finite`).
 *
 * @example
 * ```ts
 * import { checkWebSocketLimit } from "./channel.ts";
 * checkWebSocketLimit(30_000, "heartbeatMs", true);
 * try {
 *   checkWebSocketLimit(-1, "maxPayloadLength", false);
 * } catch (err) {
 *   console.log((err as Error).name); // RangeError
 * }
 * ```
 */
export function checkWebSocketLimit(value: unknown, name: string, finite: boolean): void {
  if (value === undefined) return;
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${value === null ? "null" : typeof value}`);
  if (!(value >= 0) || (finite && value === Infinity)) throw new RangeError(`${name} must be a ${finite ? "finite " : ""}number ≥ 0, got ${value}`);
}

/**
 * {@link checkWebSocketLimit} over the four limits a channel, a client and
 * a WHATWG WebSocket take by the same names.
 *
 * @example
 * ```ts
 * import { checkChannelLimits } from "./channel.ts";
 * checkChannelLimits({ heartbeatMs: 30_000, maxPayload: 1 << 20 });
 * ```
 */
export function checkChannelLimits(options: { heartbeatMs?: unknown; closeTimeoutMs?: unknown; maxBufferedBytes?: unknown; maxPayload?: unknown }): void {
  checkWebSocketLimit(options.heartbeatMs, "heartbeatMs", true);
  checkWebSocketLimit(options.closeTimeoutMs, "closeTimeoutMs", true);
  checkWebSocketLimit(options.maxBufferedBytes, "maxBufferedBytes", false);
  checkWebSocketLimit(options.maxPayload, "maxPayload", false);
}

/**
 * One WebSocket on one connection. See the module documentation.
 *
 * @example
 * ```ts ignore
 * import { WebSocketChannel } from "./channel.ts";
 * const ws = new WebSocketChannel(conn, head, { role: "client", heartbeatMs: 30_000 }, {
 *   message: (data) => console.log(new TextDecoder().decode(data)),
 *   close: (code) => console.log("closed", code),
 * });
 * ws.send("hello");
 * ```
 */
export class WebSocketChannel {
  /** The transport the frames go over. */
  readonly conn: WebSocketTransport;
  readonly #ws: WebSocketProtocol;
  readonly #stats: WebSocketRoleStats;
  readonly #events: ChannelEvents;
  readonly #maxBuffered: number;
  readonly #closeTimeoutMs: number;
  readonly #role: "server" | "client";
  readonly #onHandlerError: ((error: unknown) => void) | undefined;
  #heartbeat: Timer | undefined;
  #closeTimer: Timer | undefined;
  #heard = true;
  /** Reading is paused by the owner ({@link WebSocketChannel.pause}): the peer's silence is ours. */
  #paused = false;
  #ended = false;
  #wantDrain = false;
  #closeCode = CloseCode.Abnormal as number;
  #closeReason = "";
  #gotClose = false;
  /** The code of the Close frame the peer sent, when one came (not set by our own failures). */
  #peerCode: number | undefined;
  #failure: Error | undefined;
  /** The transport copies what it queues (a Connection): frames can be sent from a shared buffer. */
  readonly #direct: boolean;
  /**
   * Messages sent while a read is processed are gathered (corked) and sent
   * with one `send` after it: several messages in one read cost one system
   * call, not one each. Inside the loop's dispatch the send waits further,
   * until every ready connection was read (`Loop.afterDispatch`).
   */
  #corking = false;
  /** The gathered messages go out when the loop's dispatch ends ({@link WebSocketChannel.#sendGathered}). */
  #afterDispatch = false;
  readonly #sendGathered = (): void => {
    this.#afterDispatch = false;
    this.#flush();
  };
  /** The first gathered message: still the senders' shared buffer, held with `holdFrames`. */
  #held: Uint8Array | null = null;
  /** Gathered messages copied out of the shared buffer (a second one came, or someone wrote there). */
  #cork: Uint8Array | null = null;
  #corkBytes = 0;
  /**
   * The last view of #cork's first bytes that went to `send` (the
   * connection copies what it keeps): an echo server sends the same
   * number of bytes every time, so the view is made once, not per send
   * (a `subarray` per send was 3.5% of a 64 B echo's samples on Bun).
   */
  #corkView: Uint8Array | null = null;
  /** Copies the held message into #cork before the shared buffer is written again. */
  readonly #release = (): void => {
    const held = this.#held!;
    this.#held = null;
    this.#gather(held);
  };

  /** Starts a WebSocket over `conn` in the open state; `head` holds bytes already read after the handshake, and `events` receives messages and the close. */
  constructor(conn: WebSocketTransport, head: Uint8Array, options: ChannelOptions, events: ChannelEvents) {
    checkChannelLimits(options);
    this.conn = conn;
    this.#direct = conn instanceof Connection;
    const stats = this.#stats = WS_STATS[options.role];
    stats.open++;
    stats.opened++;
    this.#events = events;
    this.#role = options.role;
    this.#onHandlerError = options.onHandlerError;
    this.#maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.#ws = new WebSocketProtocol({
      role: options.role,
      deflate: options.deflate,
      maxMessageBytes: maxPayload,
      maxFrameBytes: maxPayload,
      handler: {
        onMessage: (data, binary) => {
          stats.messagesIn++;
          this.#events.message(data, binary);
        },
        onPing: (data) => {
          this.#events.ping?.(data);
        },
        onPong: (data) => {
          this.#events.pong?.(data);
        },
        onCloseFrame: (code, reason) => {
          this.#gotClose = true;
          this.#closeCode = code;
          this.#peerCode = code;
          this.#closeReason = reason;
        },
        onError: (error) => {
          this.#failure = error;
          this.#events.error?.(error);
        },
      },
    });
    const heartbeatMs = options.heartbeatMs ?? 0;
    if (heartbeatMs > 0) {
      this.#heartbeat = conn.loop.timers.every(heartbeatMs, () => this.#beat()).unref();
    }
    conn.setHandler({
      data: (_c, bytes) => this.#receive(bytes),
      drain: () => {
        if (this.#wantDrain && !this.#ended) {
          this.#wantDrain = false;
          try {
            this.#events.drain?.();
          } catch (err) {
            this.#handlerThrew(err);
          }
        }
      },
      end: () => {
        // The peer sent FIN: what was gathered for it still goes first.
        this.#flush();
        if (!this.conn.closed) void this.conn.close();
      },
      error: (_c, error) => {
        this.#failure ??= error;
      },
      close: () => this.#finish(),
    });
    if (head.length > 0) this.#receive(head);
  }

  /** "open", "closing" (a Close sent or received) or "closed". */
  get readyState(): "open" | "closing" | "closed" {
    if (this.#ended) return "closed";
    return this.#ws.closeState === "open" ? "open" : "closing";
  }

  /** A send went past the high-water mark and its `drain` event has not come yet. */
  get awaitingDrain(): boolean {
    return this.#wantDrain && !this.#ended;
  }

  /**
   * Stops reading from the peer (flow control: the owner holds messages
   * nobody took yet) until {@link WebSocketChannel.resume}. The heartbeat
   * rests meanwhile: the peer's pongs wait unread behind what it sent, so
   * its silence is ours, not a dead peer's.
   */
  pause(): void {
    if (this.#paused || this.#ended) return;
    this.#paused = true;
    this.conn.pause();
  }

  /** Starts reading again after {@link WebSocketChannel.pause}; the heartbeat gives the peer a whole interval from here. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#heard = true;
    if (!this.conn.closed) this.conn.resume();
  }

  /** Bytes queued on the connection, not yet taken by the kernel. */
  get bufferedAmount(): number {
    return this.conn.closed ? 0 : this.conn.bufferedAmount + this.#corkBytes + (this.#held?.length ?? 0);
  }

  /**
   * Sends a message (a string is text unless `binary`). Returns false when
   * the output is past the high-water mark (wait for `drain`); throws
   * `UseAfterCloseError` once closing.
   */
  send(data: Uint8Array | string, binary = typeof data !== "string"): boolean {
    this.#stats.messagesOut++;
    if (this.#direct && this.#ws.bufferedAmount === 0 && !this.#ended && !this.conn.closed) {
      // Nothing queued ahead: the frames go from the senders' shared buffer
      // straight to the connection (which copies what the kernel does not
      // take), one send for all of them and no frame allocated.
      const frames = this.#ws.messageFrames(data, binary);
      this.#stats.bytesOut += frames.length;
      if (
        this.#corking && this.#corkBytes + frames.length <= CORK_MAX_BYTES && this.conn.bufferedAmount === 0
      ) {
        // Inside a read, with nothing queued on the connection: kept for
        // the one send after the read, or after the loop's dispatch (the
        // first as it is, the rest copied).
        if (this.#held === null && this.#corkBytes === 0) {
          this.#held = frames;
          holdFrames(this.#release);
        } else this.#gather(frames);
        return true;
      }
      let below: boolean;
      try {
        if (this.#held !== null || this.#corkBytes > 0) this.#uncork();
        below = this.conn.send(frames);
      } catch {
        return false; // closed for writing: the close callback reports it
      }
      return below || this.#backpressure();
    }
    this.#ws.send(data, { binary });
    return this.#flush();
  }

  /** Sends a ping. */
  ping(data: Uint8Array | string = new Uint8Array(0)): boolean {
    this.#ws.ping(data);
    return this.#flush();
  }

  /** Sends a pong. */
  pong(data: Uint8Array | string = new Uint8Array(0)): boolean {
    this.#ws.pong(data);
    return this.#flush();
  }

  /** Starts the closing handshake (the peer has `closeTimeoutMs` to answer). */
  close(code?: number, reason = ""): void {
    if (this.#ended) return;
    this.#ws.close(code, reason);
    this.#flush();
    this.#armCloseTimer();
  }

  /** Drops the transport now (reported as 1006). */
  terminate(): void {
    if (this.#ended) return;
    this.conn.abort();
  }

  /** Processes bytes that arrived before the channel existed (after the handshake head). */
  feed(bytes: Uint8Array): void {
    this.#receive(bytes);
  }

  #receive(bytes: Uint8Array): void {
    if (this.#ended) return;
    // Any byte proves the peer alive: a message of one frame long in coming
    // holds back the pong of our ping until its end (RFC 6455 §5.4: a
    // control frame goes between frames, never inside one).
    this.#heard = true;
    this.#stats.bytesIn += bytes.length;
    this.#corking = this.#direct;
    try {
      this.#ws.push(bytes, true);
    } catch (err) {
      // A handler threw (protocol errors are handled inside push): what it
      // sent before still goes, as it would have uncorked.
      this.#corking = false;
      this.#handlerThrew(err);
      return;
    }
    this.#corking = false;
    // Only gathered messages wait for the dispatch's end: a Close, a pong
    // or anything the protocol queued goes now, after them.
    if (!this.#afterDispatch || this.#ws.bufferedAmount > 0) {
      if (this.#ws.bufferedAmount === 0 && (this.#held !== null || this.#corkBytes > 0) && (this.conn as Connection).loop.afterDispatch(this.#sendGathered)) {
        this.#afterDispatch = true;
      } else this.#flush();
    }
    if (this.#ws.closeState !== "open") this.#armCloseTimer();
  }

  /** Appends a message's frames to the gathered ones. */
  #gather(frames: Uint8Array): void {
    const need = this.#corkBytes + frames.length;
    let cork = this.#cork;
    if (cork === null || cork.length < need) {
      const grown = new Uint8Array(Math.max(need, Math.min(CORK_MAX_BYTES, 2 * (cork?.length ?? 128))));
      if (cork !== null) grown.set(cork.subarray(0, this.#corkBytes));
      cork = this.#cork = grown;
      this.#corkView = null;
    }
    cork.set(frames, this.#corkBytes);
    this.#corkBytes = need;
  }

  /** Sends the gathered messages (one `send`); throws as `conn.send` does. */
  #uncork(): boolean {
    const held = this.#held;
    if (held !== null) {
      this.#held = null;
      dropHold(this.#release);
      return this.conn.send(held);
    }
    const n = this.#corkBytes;
    if (n === 0) return true;
    this.#corkBytes = 0;
    const cork = this.#cork!;
    let view = this.#corkView;
    if (view === null || view.length !== n) view = this.#corkView = cork.subarray(0, n);
    return this.conn.send(view);
  }

  #flush(): boolean {
    if (this.#ended || this.conn.closed) {
      this.#dropCork();
      return false;
    }
    let below = true;
    if (this.#held !== null || this.#corkBytes > 0) {
      try {
        below = this.#uncork();
      } catch {
        return false; // closed for writing: the close callback reports it
      }
    }
    // Nothing queued (the usual case after a read: an echo went out
    // directly): no output array to take and replace.
    if (this.#ws.bufferedAmount > 0) {
      try {
        for (const frame of this.#ws.takeOutput()) {
          this.#stats.bytesOut += frame.length;
          below = this.conn.send(frame);
        }
      } catch {
        return false; // closed for writing: the close callback reports it
      }
    }
    if (this.#ws.shouldCloseTransport) {
      // After a clean closing handshake a client waits for the server to
      // close TCP (RFC 6455 §7.1.1), bounded by the close timer; a server,
      // or a client failing the connection, closes now.
      if (this.#role === "client" && this.#failure === undefined && this.#ws.closeState === "closed") this.#armCloseTimer();
      else void this.conn.close();
      return false;
    }
    return below || this.#backpressure();
  }

  /** Output went past the high-water mark: wait for drain, or drop a peer past maxBufferedBytes. Returns false. */
  /**
   * An event callback threw. The receiver stopped inside a read (the rest
   * of it is lost), so the connection cannot go on: it is failed with
   * Close 1011 and the transport closed; then the error goes to
   * `onHandlerError`, or is rethrown.
   */
  #handlerThrew(err: unknown): void {
    if (!this.#ended) {
      this.#failure ??= new WebSocketError("ERR_WS_HANDLER", `a WebSocket event handler threw: ${err instanceof Error ? err.message : String(err)}`, CloseCode.InternalError, { cause: err });
      this.#ws.close(CloseCode.InternalError);
      this.#flush();
      if (!this.conn.closed) void this.conn.close();
    }
    if (this.#onHandlerError === undefined) throw err;
    this.#onHandlerError(err);
  }

  #backpressure(): boolean {
    this.#wantDrain = true;
    if (this.conn.bufferedAmount > this.#maxBuffered) {
      this.#failure ??= new WebSocketError("ERR_WS_BACKPRESSURE", `the peer reads too slowly: ${this.conn.bufferedAmount} bytes queued`, CloseCode.PolicyViolation);
      this.#closeCode = CloseCode.PolicyViolation;
      this.#closeReason = "output buffer limit";
      this.#gotClose = true; // report 1008, not 1006
      this.conn.abort();
    }
    return false;
  }

  #armCloseTimer(): void {
    if (this.#closeTimer !== undefined || this.#ended) return;
    this.#closeTimer = this.conn.loop.timers.once(this.#closeTimeoutMs, () => this.conn.abort()).unref();
  }

  #beat(): void {
    // Paused by the owner: what the peer sent (a pong too) is unread, not missing.
    if (this.#ended || this.#paused) return;
    if (!this.#heard) {
      this.#failure ??= new WebSocketError("ERR_WS_HEARTBEAT", "the peer answered no ping within the heartbeat interval", CloseCode.Abnormal);
      this.conn.abort();
      return;
    }
    this.#heard = false;
    if (this.#ws.closeState === "open") this.ping();
  }

  /** Forgets gathered messages that can no longer go out. */
  #dropCork(): void {
    if (this.#held !== null) {
      this.#held = null;
      dropHold(this.#release);
    }
    this.#corkBytes = 0;
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#dropCork();
    this.#heartbeat?.cancel();
    this.#closeTimer?.cancel();
    this.#ws.transportClosed();
    const clean = this.#gotClose && this.#ws.closeHandshake.state === "closed" && this.#failure === undefined;
    let code = this.#gotClose ? this.#closeCode : CloseCode.Abnormal;
    if (this.#failure instanceof WebSocketError && this.#failure.closeCode !== CloseCode.Abnormal) code = this.#failure.closeCode;
    else if (this.#failure !== undefined && !this.#gotClose) code = CloseCode.Abnormal;
    countClose(this.#stats, code);
    try {
      this.#events.close(code, this.#gotClose ? this.#closeReason : "", clean, this.#peerCode);
    } catch (err) {
      this.#handlerThrew(err);
    }
  }
}
