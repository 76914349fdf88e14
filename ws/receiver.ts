/**
 * The WebSocket frame receiver: an I/O-free state machine fed bytes with
 * `push(chunk)`, calling its handler for every message, ping, pong and close
 * (RFC 6455 §5–§7, RFC 7692 for compressed messages).
 *
 * States: GET_INFO (the first two header bytes) → GET_PAYLOAD_LENGTH (16- or
 * 64-bit extended length) → GET_MASK → GET_DATA. Inflating happens inside
 * GET_DATA, synchronously, as compressed pieces arrive. Every protocol
 * violation throws a {@link WebSocketError} whose `code` is a stable
 * `WS_ERR_*` string and whose `closeCode` is the close code to send
 * (1002 protocol error, 1007 invalid payload, 1009 too big); the receiver is
 * then failed and accepts no more input.
 *
 * Ownership: `push(chunk)` takes ownership of `chunk`. Payloads are
 * unmasked in place, and a message that arrived in one piece is delivered
 * as a view into the chunk (no copy). Hand it a buffer you will not reuse,
 * or say `push(chunk, true)` (borrowed): the receiver then copies what it
 * keeps past the call (pieces of unfinished messages), and the views it
 * hands to the handler are valid during the handler call only (a
 * connection's reused read buffer is passed on this way, with no copy for
 * a message that arrived whole). It still unmasks in place.
 *
 * @example
 * ```ts
 * import { Receiver } from "./receiver.ts";
 * const rx = new Receiver({
 *   role: "client",
 *   handler: {
 *     onMessage: (data, binary) => console.log(binary, new TextDecoder().decode(data)),
 *     onPing: () => {},
 *     onPong: () => {},
 *     onClose: (code, reason) => console.log(code, reason),
 *   },
 * });
 * rx.push(new Uint8Array([0x81, 0x02, 0x68, 0x69])); // false "hi"
 * ```
 *
 * @module
 */
import { UseAfterCloseError, WebSocketError } from "../core/errors.ts";
import { WEBSOCKET_LIMITS } from "../core/limits.ts";
import { Utf8Validator } from "../core/utf8.ts";
import { applyMask, CloseCode, isValidCloseCode, MAX_CONTROL_PAYLOAD, Opcode } from "./frame.ts";
import { concatBytes } from "../core/bytes.ts";

/** Receives what the peer sent. Called synchronously from `push`. */
export interface ReceiverHandler {
  /** A complete data message (text is valid UTF-8, not decoded). */
  onMessage(data: Uint8Array, binary: boolean): void;
  /** A ping; the payload (≤ 125 bytes) belongs in the pong. */
  onPing(data: Uint8Array): void;
  /** A pong. */
  onPong(data: Uint8Array): void;
  /** A close frame: 1005 when it carried no code. The receiver stops after it. */
  onClose(code: number, reason: string): void;
}

/**
 * Inflates compressed messages (implemented by permessage-deflate).
 * `decompress` gets the pieces of one message in order, `fin` set on the
 * last; it hands the inflated bytes to `sink` as they are made (or returns
 * them without one) and throws a WebSocketError when the data is bad or
 * would inflate past `maxBytes`.
 */
export interface MessageDecompressor {
  /** Inflates one piece of a compressed message. */
  decompress(piece: Uint8Array, fin: boolean, maxBytes: number, sink?: (part: Uint8Array) => void): Uint8Array[];
}

/** Receiver options. Limits default to {@link WEBSOCKET_LIMITS}. */
export interface ReceiverOptions {
  /** "server" expects masked frames from its client; "client" unmasked ones. */
  role: "server" | "client";
  /** Receives messages, control frames and errors. */
  handler: ReceiverHandler;
  /** Set when permessage-deflate was negotiated: RSV1 then marks compressed messages. */
  decompressor?: MessageDecompressor | null;
  /** Payload bytes of one frame (1009 above). */
  maxFrameBytes?: number;
  /** Bytes of one message after decompression (1009 above). */
  maxMessageBytes?: number;
  /** Bytes kept between pushes for an unfinished message (1009 above). */
  maxBufferedBytes?: number;
}

const GET_INFO = 0;
const GET_PAYLOAD_LENGTH = 1;
const GET_MASK = 2;
const GET_DATA = 3;

const EMPTY = new Uint8Array(0);
/** Pieces of one message kept as views before they are copied into one buffer. */
const MAX_VIEWS = 32;
/**
 * A frame longer than this gets its message buffer when its header
 * arrives (its payload will come in many pieces): bytes are copied in as
 * they come instead of pinning every chunk they came in.
 */
const RESERVE_AT_HEADER_BYTES = 64 * 1024;
/** The smallest message buffer worth growing. */
const MIN_BUFFER_BYTES = 4096;
const decoder = new TextDecoder();

function fail(code: string, message: string, closeCode: number): never {
  throw new WebSocketError(code, message, closeCode);
}

/**
 * The frame receiver. See the module documentation.
 *
 * @example
 * ```ts
 * import { Receiver } from "./receiver.ts";
 * const rx = new Receiver({
 *   role: "server",
 *   handler: { onMessage() {}, onPing() {}, onPong() {}, onClose() {} },
 * });
 * try {
 *   rx.push(new Uint8Array([0x81, 0x00])); // unmasked frame from a client
 * } catch (err) {
 *   console.log((err as { closeCode: number }).closeCode); // 1002
 * }
 * ```
 */
export class Receiver {
  readonly #handler: ReceiverHandler;
  readonly #decompressor: MessageDecompressor | null;
  readonly #expectMask: boolean;
  readonly #maxFrameBytes: number;
  readonly #maxMessageBytes: number;
  readonly #maxBufferedBytes: number;

  #state = GET_INFO;
  /** The last payload view made of a borrowed chunk: `#pieceOf.subarray(#pieceAt, #pieceAt + #piece.length)`. */
  #piece: Uint8Array = EMPTY;
  #pieceOf: Uint8Array | null = null;
  #pieceAt = 0;
  /** See {@link Receiver.inputLeft}. */
  #inputLeft = 0;
  /** The chunk being pushed is the caller's (copy what is kept past the push). */
  #borrowed = false;
  #failed = false;
  #closed = false;
  // Header bytes gathered across pushes (at most 14).
  readonly #head = new Uint8Array(14);
  #headHave = 0;
  // The current frame.
  #fin = false;
  #opcode = 0;
  #compressedFrame = false;
  #masked = false;
  readonly #mask = new Uint8Array(4);
  #length = 0;
  #remaining = 0;
  // A control frame whose payload arrives in pieces.
  #control: Uint8Array = EMPTY;
  // The current data message.
  #inMessage = false;
  #binary = false;
  #compressed = false;
  /**
   * Pieces of the current message held as views: the first
   * `#fragmentCount` entries (one array for the receiver's life, its
   * unused slots EMPTY, rather than a new array per message).
   */
  readonly #fragments: Uint8Array[] = [];
  #fragmentCount = 0;
  #accumulator: Uint8Array | null = null;
  #messageBytes = 0;
  readonly #utf8 = new Utf8Validator();
  /** The sink for inflated output: views valid during the call only. */
  readonly #acceptView = (view: Uint8Array): void => this.#accept(view, true);

  /** Creates a frame receiver for `options.role`; throws for a bad role or limit. */
  constructor(options: ReceiverOptions) {
    if (options.role !== "server" && options.role !== "client") {
      throw new TypeError(`role must be "server" or "client", got ${String(options.role)}`);
    }
    this.#handler = options.handler;
    this.#decompressor = options.decompressor ?? null;
    this.#expectMask = options.role === "server";
    this.#maxFrameBytes = limit("maxFrameBytes", options.maxFrameBytes, WEBSOCKET_LIMITS.maxFrameBytes);
    this.#maxMessageBytes = limit("maxMessageBytes", options.maxMessageBytes, WEBSOCKET_LIMITS.maxMessageBytes);
    this.#maxBufferedBytes = limit("maxBufferedBytes", options.maxBufferedBytes, WEBSOCKET_LIMITS.maxBufferedBytes);
  }

  /** True once a close frame was received: further input is ignored. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once `push` threw a protocol error. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Bytes held for an unfinished message. */
  get bufferedBytes(): number {
    return this.#messageBytes;
  }

  /**
   * During a handler call: the bytes of the chunk being pushed that follow
   * the frame being delivered (more messages may come in this push when
   * it is not 0); 0 outside `push`.
   */
  get inputLeft(): number {
    return this.#inputLeft;
  }

  /**
   * Feeds bytes from the peer. Handlers run before `push` returns. With
   * `borrowed`, `chunk` stays the caller's: what is kept past the call is
   * copied, and the handler's views are valid during its call only.
   *
   * @throws {WebSocketError} on a protocol violation (see `closeCode`).
   */
  push(chunk: Uint8Array, borrowed = false): void {
    if (this.#failed) throw new UseAfterCloseError("the WebSocket receiver (failed by a protocol error)");
    this.#borrowed = borrowed;
    try {
      this.#run(chunk);
      this.#inputLeft = 0;
    } catch (err) {
      this.#inputLeft = 0;
      this.#failed = true;
      this.#dropFragments();
      this.#accumulator = null;
      throw err;
    }
  }

  #run(chunk: Uint8Array): void {
    const n = chunk.length;
    let pos = 0;
    while (pos < n && !this.#closed) {
      if (this.#state === GET_DATA) {
        pos = this.#data(chunk, pos, n);
        continue;
      }
      if (this.#headHave === 0 && n - pos >= 2) {
        // Fast path: the whole header is in this chunk.
        const b1 = chunk[pos + 1]!;
        const len7 = b1 & 0x7f;
        const size = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
        if (n - pos >= size) {
          this.#inputLeft = n - pos - size;
          this.#header(chunk, pos);
          pos += size;
          continue;
        }
      }
      pos = this.#gatherHeader(chunk, pos, n);
    }
  }

  /** Copies header bytes into #head until the header is complete. */
  #gatherHeader(chunk: Uint8Array, pos: number, n: number): number {
    const head = this.#head;
    while (pos < n) {
      head[this.#headHave++] = chunk[pos++]!;
      if (this.#headHave < 2) continue;
      const b1 = head[1]!;
      const len7 = b1 & 0x7f;
      const size = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
      this.#state = this.#headHave < 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) ? GET_PAYLOAD_LENGTH : GET_MASK;
      if (this.#headHave === size) {
        this.#headHave = 0;
        this.#inputLeft = n - pos;
        this.#header(head, 0);
        return pos;
      }
    }
    return pos;
  }

  /** Parses and checks a complete header at `buf[at]`. */
  #header(buf: Uint8Array, at: number): void {
    const b0 = buf[at]!;
    const b1 = buf[at + 1]!;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let p = at + 2;

    if ((b0 & 0x30) !== 0) fail("WS_ERR_UNEXPECTED_RSV_2_3", "RSV2 and RSV3 must be clear", CloseCode.ProtocolError);
    const control = opcode >= 0x8;
    if (control) {
      if (opcode > Opcode.Pong) fail("WS_ERR_INVALID_OPCODE", `reserved control opcode ${opcode}`, CloseCode.ProtocolError);
      if (!fin) fail("WS_ERR_EXPECTED_FIN", "control frames must not be fragmented", CloseCode.ProtocolError);
      if (length > MAX_CONTROL_PAYLOAD) {
        fail("WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", "control frame payload above 125 bytes", CloseCode.ProtocolError);
      }
      if (rsv1) fail("WS_ERR_UNEXPECTED_RSV_1", "RSV1 set on a control frame", CloseCode.ProtocolError);
    } else if (opcode === Opcode.Continuation) {
      if (!this.#inMessage) fail("WS_ERR_UNEXPECTED_CONTINUATION", "continuation frame without a message", CloseCode.ProtocolError);
      if (rsv1) fail("WS_ERR_UNEXPECTED_RSV_1", "RSV1 set on a continuation frame", CloseCode.ProtocolError);
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      if (this.#inMessage) fail("WS_ERR_EXPECTED_CONTINUATION", "new message inside a fragmented message", CloseCode.ProtocolError);
      if (rsv1 && this.#decompressor === null) {
        fail("WS_ERR_UNEXPECTED_RSV_1", "RSV1 set without a negotiated extension", CloseCode.ProtocolError);
      }
    } else {
      fail("WS_ERR_INVALID_OPCODE", `reserved data opcode ${opcode}`, CloseCode.ProtocolError);
    }
    if (masked !== this.#expectMask) {
      if (masked) fail("WS_ERR_UNEXPECTED_MASK", "a server must not mask its frames", CloseCode.ProtocolError);
      fail("WS_ERR_EXPECTED_MASK", "a client must mask its frames", CloseCode.ProtocolError);
    }

    if (length === 126) {
      length = (buf[p]! << 8) | buf[p + 1]!;
      p += 2;
    } else if (length === 127) {
      const hi = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
      const lo = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!) >>> 0;
      if (hi >= 0x80000000) fail("WS_ERR_INVALID_PAYLOAD_LENGTH", "64-bit length with its top bit set", CloseCode.ProtocolError);
      if (hi >= 0x200000) fail("WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH", "frame length above 2^53 - 1", CloseCode.MessageTooBig);
      length = hi * 0x100000000 + lo;
      p += 8;
    }
    if (length > this.#maxFrameBytes) {
      fail("WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH", `frame of ${length} bytes above the limit of ${this.#maxFrameBytes}`, CloseCode.MessageTooBig);
    }
    if (!control && !(rsv1 || this.#compressed) && this.#messageBytes + length > this.#maxMessageBytes) {
      fail("WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", `message above the limit of ${this.#maxMessageBytes} bytes`, CloseCode.MessageTooBig);
    }
    // Checked here too, as #accept would once the bytes came: the buffer
    // reserved below must never outgrow the buffer limit.
    if (!control && !(rsv1 || this.#compressed) && this.#messageBytes + length > this.#maxBufferedBytes) {
      fail("WS_ERR_BUFFER_LIMIT", `more than ${this.#maxBufferedBytes} bytes buffered`, CloseCode.MessageTooBig);
    }
    if (masked) {
      const m = this.#mask;
      m[0] = buf[p]!;
      m[1] = buf[p + 1]!;
      m[2] = buf[p + 2]!;
      m[3] = buf[p + 3]!;
    }

    this.#fin = fin;
    this.#opcode = opcode;
    this.#masked = masked;
    this.#length = length;
    this.#remaining = length;
    if (!control) {
      if (opcode !== Opcode.Continuation) {
        this.#inMessage = true;
        this.#binary = opcode === Opcode.Binary;
        this.#compressed = rsv1;
        if (!this.#binary) this.#utf8.reset();
      }
      if (!this.#compressed && length > RESERVE_AT_HEADER_BYTES) {
        // A whole message in one frame gets exactly its size.
        const total = this.#messageBytes + length;
        this.#reserve(total, fin && total === length ? total : this.#capacityFor(total));
      }
      this.#compressedFrame = this.#compressed;
    }
    this.#state = GET_DATA;
    if (length === 0) this.#endFrame(EMPTY);
  }

  /** Consumes payload bytes of the current frame. */
  #data(chunk: Uint8Array, pos: number, n: number): number {
    const take = Math.min(this.#remaining, n - pos);
    let piece: Uint8Array;
    if (!this.#borrowed) piece = chunk.subarray(pos, pos + take);
    else if (chunk === this.#pieceOf && pos === this.#pieceAt && take === this.#piece.length) piece = this.#piece;
    else {
      // A reused read buffer, as a connection hands it (the same view for
      // reads of the same length): a message of the same size lands in
      // the same range every time, so its view is made once, not per
      // message. Borrowed views are valid during the handler call only,
      // so handing out the same object again changes nothing for them.
      piece = this.#piece = chunk.subarray(pos, pos + take);
      this.#pieceOf = chunk;
      this.#pieceAt = pos;
    }
    const offset = this.#length - this.#remaining;
    if (this.#masked) applyMask(piece, this.#mask, offset & 3);
    this.#remaining -= take;
    this.#inputLeft = n - pos - take;
    const last = this.#remaining === 0;
    if (this.#opcode >= 0x8) {
      if (last && offset === 0) {
        this.#endFrame(piece);
      } else {
        if (offset === 0) this.#control = new Uint8Array(this.#length);
        this.#control.set(piece, offset);
        if (last) this.#endFrame(this.#control);
      }
    } else {
      this.#dataPiece(piece, last && this.#fin);
      if (last) this.#endFrame(EMPTY);
    }
    return pos + take;
  }

  /** A piece of a data frame's payload (already unmasked). */
  #dataPiece(piece: Uint8Array, messageEnd: boolean): void {
    if (this.#compressedFrame) {
      const room = this.#maxMessageBytes - this.#messageBytes;
      this.#decompressor!.decompress(piece, messageEnd, room, this.#acceptView);
    } else if (piece.length > 0) {
      // A borrowed piece is copied if kept, unless it is the whole message
      // (delivered before this push returns).
      this.#accept(piece, this.#borrowed && !(messageEnd && this.#messageBytes === 0));
    }
  }

  /**
   * Adds message bytes, checking limits and UTF-8 as they come. A
   * `transient` part (a view of the inflater's buffer) is copied if kept.
   */
  #accept(part: Uint8Array, transient: boolean): void {
    if (part.length === 0) return;
    const total = this.#messageBytes + part.length;
    if (total > this.#maxMessageBytes) {
      fail("WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", `message above the limit of ${this.#maxMessageBytes} bytes`, CloseCode.MessageTooBig);
    }
    if (total > this.#maxBufferedBytes) {
      fail("WS_ERR_BUFFER_LIMIT", `more than ${this.#maxBufferedBytes} bytes buffered`, CloseCode.MessageTooBig);
    }
    if (!this.#binary && !this.#utf8.push(part)) {
      fail("WS_ERR_INVALID_UTF8", "invalid UTF-8 in a text message", CloseCode.InvalidPayload);
    }
    const acc = this.#accumulator;
    if (acc === null) {
      if (this.#fragmentCount < MAX_VIEWS) {
        this.#fragments[this.#fragmentCount++] = transient ? part.slice() : part;
        this.#messageBytes = total;
        return;
      }
      // Many small pieces: append to one growing buffer (amortized copies)
      // rather than keep a view per piece, which would cost far more heap
      // than the bytes themselves and pin every chunk they came from.
      this.#reserve(total, this.#capacityFor(total));
    } else if (total > acc.length) {
      this.#reserve(total, this.#capacityFor(total));
    }
    this.#accumulator!.set(part, this.#messageBytes);
    this.#messageBytes = total;
  }

  /**
   * The message buffer's size for `total` bytes: the smallest of max/8,
   * max/16, … that holds them, and past max/8 the limit itself. Growing
   * at least doubles, so the buffers left behind (freed at once where the
   * runtime has `ArrayBuffer.prototype.transfer`, else at the next
   * collection) add up to under max/4; the last buffer is never written
   * past the message, and untouched pages of a large allocation cost
   * address space, not memory. A message at the limit thus peaks within
   * 1.25 × maxMessageBytes.
   */
  #capacityFor(total: number): number {
    // No message outgrows either limit (#accept checks both).
    const max = Math.min(this.#maxMessageBytes, this.#maxBufferedBytes);
    if (!(max <= Number.MAX_SAFE_INTEGER)) return Math.max(total, 2 * (this.#accumulator?.length ?? 0), MIN_BUFFER_BYTES);
    if (total > max / 8) return max;
    let cap = Math.ceil(max / 8);
    while (Math.ceil(cap / 2) >= total && Math.ceil(cap / 2) >= MIN_BUFFER_BYTES) cap = Math.ceil(cap / 2);
    return Math.max(cap, total);
  }

  /**
   * Moves the message so far (`#messageBytes`, held as views or in the old
   * buffer) into a buffer of `capacity` bytes, unless the current one
   * already holds `total`.
   */
  #reserve(total: number, capacity: number): void {
    const acc = this.#accumulator;
    if (acc !== null && acc.length >= total) return;
    let grown: Uint8Array;
    try {
      grown = new Uint8Array(capacity);
    } catch (err) {
      // Address space refused (strict overcommit, ulimit -v): a typed 1009.
      if (!(err instanceof RangeError)) throw err;
      fail("WS_ERR_BUFFER_LIMIT", `no memory for a message of ${total} bytes`, CloseCode.MessageTooBig);
    }
    if (acc !== null) {
      grown.set(acc.subarray(0, this.#messageBytes));
      // Nobody else holds the old buffer: give its memory back now rather
      // than at the next collection (ArrayBuffer.prototype.transfer, where
      // the runtime has it), so old and new do not add up.
      (acc.buffer as { transfer?: (length: number) => ArrayBuffer }).transfer?.(0);
    } else {
      let at = 0;
      for (let i = 0; i < this.#fragmentCount; i++) {
        const f = this.#fragments[i]!;
        grown.set(f, at);
        at += f.length;
      }
      this.#dropFragments();
    }
    this.#accumulator = grown;
  }

  /** The current frame is complete. `payload` is the control payload. */
  #endFrame(payload: Uint8Array): void {
    this.#state = GET_INFO;
    const opcode = this.#opcode;
    if (opcode >= 0x8) {
      this.#control = EMPTY;
      if (opcode === Opcode.Close) this.#closeFrame(payload);
      else if (opcode === Opcode.Ping) this.#handler.onPing(payload);
      else this.#handler.onPong(payload);
      return;
    }
    if (!this.#fin) return;
    if (this.#compressedFrame && this.#length === 0) this.#dataPiece(EMPTY, true);
    if (!this.#binary && !this.#utf8.finish()) {
      fail("WS_ERR_INVALID_UTF8", "text message ends inside a UTF-8 sequence", CloseCode.InvalidPayload);
    }
    const fragments = this.#fragments;
    const count = this.#fragmentCount;
    const acc = this.#accumulator;
    const data = acc !== null
      ? acc.subarray(0, this.#messageBytes)
      : count === 1
      ? fragments[0]!
      : concatBytes(fragments.slice(0, count), this.#messageBytes);
    this.#dropFragments();
    this.#accumulator = null;
    this.#messageBytes = 0;
    this.#inMessage = false;
    this.#compressed = false;
    this.#handler.onMessage(data, this.#binary);
  }

  /** Forgets the held pieces (their slots no longer pin what they viewed). */
  #dropFragments(): void {
    const fragments = this.#fragments;
    for (let i = 0; i < this.#fragmentCount; i++) fragments[i] = EMPTY;
    this.#fragmentCount = 0;
  }

  #closeFrame(payload: Uint8Array): void {
    let code: number = CloseCode.NoStatus;
    let reason = "";
    if (payload.length === 1) fail("WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", "close payload of one byte", CloseCode.ProtocolError);
    if (payload.length >= 2) {
      code = (payload[0]! << 8) | payload[1]!;
      if (!isValidCloseCode(code)) fail("WS_ERR_INVALID_CLOSE_CODE", `invalid close code ${code}`, CloseCode.ProtocolError);
      const text = payload.subarray(2);
      const v = new Utf8Validator();
      if (!v.push(text) || !v.finish()) fail("WS_ERR_INVALID_UTF8", "invalid UTF-8 in the close reason", CloseCode.InvalidPayload);
      reason = decoder.decode(text);
    }
    this.#closed = true;
    this.#handler.onClose(code, reason);
  }
}

function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value >= 0)) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  return value;
}

