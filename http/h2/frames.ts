/**
 * HTTP/2 frame encoding and decoding (RFC 9113 §4, §6). Encoders return one
 * buffer per frame; {@link FrameReader} splits received bytes into frames and
 * checks what can be checked without connection state: frame size against
 * SETTINGS_MAX_FRAME_SIZE, fixed payload lengths, stream id 0 rules, padding.
 *
 * @module
 */
import { HTTP2Error, HTTP2StreamError } from "../../core/errors.ts";
import { ErrorCode, Flag, FRAME_HEADER_SIZE, FrameType } from "./constants.ts";

/** A received frame. `payload` is valid until the next `push`. */
export interface Frame {
  /** The frame type (see `FrameType`). */
  type: number;
  /** The frame flags (see `Flag`). */
  flags: number;
  /** The stream identifier (0 for the connection). */
  streamId: number;
  /** The payload with padding and the priority block removed (HEADERS, DATA, PUSH_PROMISE). */
  payload: Uint8Array;
  /** Length on the wire (counts against flow control for DATA). */
  length: number;
}

/** Priority fields of HEADERS or PRIORITY (RFC 9113 §5.3, deprecated scheme). */
export interface PriorityFields {
  /** The exclusive bit. */
  exclusive: boolean;
  /** The stream this one depends on. */
  dependency: number;
  /** The weight, 1 to 256. */
  weight: number;
}

/**
 * Writes a frame header into `out` at `offset`.
 *
 * @example
 * ```ts
 * import { writeFrameHeader } from "./frames.ts";
 * const out = new Uint8Array(9);
 * writeFrameHeader(out, 0, 8, 0x6, 0, 0); // a PING header
 * ```
 */
export function writeFrameHeader(
  out: Uint8Array,
  offset: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): void {
  out[offset] = length >>> 16;
  out[offset + 1] = length >>> 8;
  out[offset + 2] = length;
  out[offset + 3] = type;
  out[offset + 4] = flags;
  out[offset + 5] = (streamId >>> 24) & 0x7f;
  out[offset + 6] = streamId >>> 16;
  out[offset + 7] = streamId >>> 8;
  out[offset + 8] = streamId;
}

/**
 * Encodes a frame with the given payload.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./frames.ts";
 * encodeFrame(0x6, 0, 0, new Uint8Array(8)).length; // 17
 * ```
 */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

function u32(out: Uint8Array, offset: number, v: number): void {
  out[offset] = v >>> 24;
  out[offset + 1] = v >>> 16;
  out[offset + 2] = v >>> 8;
  out[offset + 3] = v;
}

/**
 * Reads a 32-bit big-endian unsigned integer.
 *
 * @example
 * ```ts
 * import { readU32 } from "./frames.ts";
 * readU32(new Uint8Array([0, 0, 1, 0]), 0); // 256
 * ```
 */
export function readU32(b: Uint8Array, offset: number): number {
  return ((b[offset]! << 24) | (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!) >>> 0;
}

/**
 * Encodes RST_STREAM.
 *
 * @example
 * ```ts
 * import { encodeRstStream } from "./frames.ts";
 * encodeRstStream(1, 0x8).length; // 13
 * ```
 */
export function encodeRstStream(streamId: number, code: number): Uint8Array {
  const out = new Uint8Array(13);
  writeFrameHeader(out, 0, 4, FrameType.RST_STREAM, 0, streamId);
  u32(out, 9, code);
  return out;
}

/**
 * Encodes WINDOW_UPDATE.
 *
 * @example
 * ```ts
 * import { encodeWindowUpdate } from "./frames.ts";
 * encodeWindowUpdate(0, 65535).length; // 13
 * ```
 */
export function encodeWindowUpdate(streamId: number, increment: number): Uint8Array {
  const out = new Uint8Array(13);
  writeFrameHeader(out, 0, 4, FrameType.WINDOW_UPDATE, 0, streamId);
  u32(out, 9, increment & 0x7fffffff);
  return out;
}

/**
 * Encodes PING (8 octets of opaque data).
 *
 * @example
 * ```ts
 * import { encodePing } from "./frames.ts";
 * encodePing(new Uint8Array(8), true)[4]; // 1 (ACK)
 * ```
 */
export function encodePing(data: Uint8Array, ack: boolean): Uint8Array {
  if (data.length !== 8) throw new RangeError("PING data must be 8 octets");
  return encodeFrame(FrameType.PING, ack ? Flag.ACK : 0, 0, data);
}

/**
 * Encodes GOAWAY.
 *
 * @example
 * ```ts
 * import { encodeGoaway } from "./frames.ts";
 * encodeGoaway(3, 0, new Uint8Array(0)).length; // 17
 * ```
 */
export function encodeGoaway(lastStreamId: number, code: number, debug: Uint8Array): Uint8Array {
  const out = new Uint8Array(17 + debug.length);
  writeFrameHeader(out, 0, 8 + debug.length, FrameType.GOAWAY, 0, 0);
  u32(out, 9, lastStreamId & 0x7fffffff);
  u32(out, 13, code);
  out.set(debug, 17);
  return out;
}

/**
 * Encodes a SETTINGS frame from `[id, value]` pairs, or an ACK when `pairs`
 * is null.
 *
 * @example
 * ```ts
 * import { encodeSettings } from "./frames.ts";
 * encodeSettings([[0x3, 100]]).length; // 15
 * ```
 */
export function encodeSettings(pairs: readonly (readonly [number, number])[] | null): Uint8Array {
  if (pairs === null) return encodeFrame(FrameType.SETTINGS, Flag.ACK, 0, new Uint8Array(0));
  const out = new Uint8Array(9 + pairs.length * 6);
  writeFrameHeader(out, 0, pairs.length * 6, FrameType.SETTINGS, 0, 0);
  let o = 9;
  for (const [id, value] of pairs) {
    out[o] = id >>> 8;
    out[o + 1] = id;
    u32(out, o + 2, value);
    o += 6;
  }
  return out;
}

/**
 * Encodes PRIORITY (RFC 9113 §6.3).
 *
 * @example
 * ```ts
 * import { encodePriority } from "./frames.ts";
 * encodePriority(3, { exclusive: false, dependency: 1, weight: 16 }).length; // 14
 * ```
 */
export function encodePriority(streamId: number, p: PriorityFields): Uint8Array {
  const out = new Uint8Array(14);
  writeFrameHeader(out, 0, 5, FrameType.PRIORITY, 0, streamId);
  u32(out, 9, (p.dependency & 0x7fffffff) | (p.exclusive ? 0x80000000 : 0));
  out[13] = p.weight - 1;
  return out;
}

/**
 * Encodes PRIORITY_UPDATE (RFC 9218 §7.1) carrying a Priority field value.
 *
 * @example
 * ```ts
 * import { encodePriorityUpdate } from "./frames.ts";
 * encodePriorityUpdate(1, "u=1, i").length; // 19
 * ```
 */
export function encodePriorityUpdate(prioritizedId: number, value: string): Uint8Array {
  const out = new Uint8Array(13 + value.length);
  writeFrameHeader(out, 0, 4 + value.length, FrameType.PRIORITY_UPDATE, 0, 0);
  u32(out, 9, prioritizedId & 0x7fffffff);
  for (let i = 0; i < value.length; i++) out[13 + i] = value.charCodeAt(i);
  return out;
}

/**
 * Size on the wire of a header block of `blockLength` octets sent as HEADERS
 * (or PUSH_PROMISE, `type` 0x5) plus the CONTINUATION frames that
 * `maxFrameSize` requires.
 *
 * @example
 * ```ts
 * import { headerBlockWireLength } from "./frames.ts";
 * headerBlockWireLength(0x1, 20000, 16384); // 20018: HEADERS + one CONTINUATION
 * ```
 */
export function headerBlockWireLength(type: number, blockLength: number, maxFrameSize: number): number {
  const prefix = type === FrameType.PUSH_PROMISE ? 4 : 0;
  const rest = blockLength - Math.min(blockLength, maxFrameSize - prefix);
  const conts = rest === 0 ? 0 : Math.ceil(rest / maxFrameSize);
  return 9 + prefix + blockLength + conts * 9;
}

/**
 * Writes a header block as HEADERS (or PUSH_PROMISE) followed by as many
 * CONTINUATION frames as `maxFrameSize` requires into `out` at `offset`
 * (room for {@link headerBlockWireLength} octets is needed); returns the
 * offset after them. For PUSH_PROMISE, `promisedId` is written before the
 * block.
 *
 * @example
 * ```ts
 * import { writeHeaderBlock } from "./frames.ts";
 * const out = new Uint8Array(10);
 * writeHeaderBlock(out, 0, 0x1, 1, new Uint8Array([0x82]), true, 16384); // 10
 * ```
 */
export function writeHeaderBlock(
  out: Uint8Array,
  offset: number,
  type: number,
  streamId: number,
  block: Uint8Array,
  endStream: boolean,
  maxFrameSize: number,
  promisedId = 0,
): number {
  const prefix = type === FrameType.PUSH_PROMISE ? 4 : 0;
  const first = Math.min(block.length, maxFrameSize - prefix);
  const flags = (endStream && type === FrameType.HEADERS ? Flag.END_STREAM : 0) | (first === block.length ? Flag.END_HEADERS : 0);
  writeFrameHeader(out, offset, first + prefix, type, flags, streamId);
  if (prefix) u32(out, offset + 9, promisedId);
  let o = offset + 9 + prefix;
  if (first === block.length && first <= 64) {
    // Small blocks (the usual case): a loop beats set() and its subarray.
    for (let k = 0; k < first; k++) out[o + k] = block[k]!;
  } else out.set(first === block.length ? block : block.subarray(0, first), o);
  o += first;
  let i = first;
  while (i < block.length) {
    const n = Math.min(maxFrameSize, block.length - i);
    writeFrameHeader(out, o, n, FrameType.CONTINUATION, i + n === block.length ? Flag.END_HEADERS : 0, streamId);
    out.set(block.subarray(i, i + n), o + 9);
    o += 9 + n;
    i += n;
  }
  return o;
}

/**
 * Encodes a header block as HEADERS (or PUSH_PROMISE) followed by as many
 * CONTINUATION frames as `maxFrameSize` requires, into one buffer.
 * For PUSH_PROMISE, `promisedId` is written before the block.
 *
 * @example
 * ```ts
 * import { encodeHeaderBlock } from "./frames.ts";
 * encodeHeaderBlock(0x1, 1, new Uint8Array([0x82]), true, 16384).length; // 10
 * ```
 */
export function encodeHeaderBlock(
  type: number,
  streamId: number,
  block: Uint8Array,
  endStream: boolean,
  maxFrameSize: number,
  promisedId = 0,
): Uint8Array {
  const out = new Uint8Array(headerBlockWireLength(type, block.length, maxFrameSize));
  writeHeaderBlock(out, 0, type, streamId, block, endStream, maxFrameSize, promisedId);
  return out;
}

/**
 * Reads the priority block at the start of a HEADERS payload or a PRIORITY
 * frame.
 *
 * @example
 * ```ts
 * import { readPriority } from "./frames.ts";
 * readPriority(new Uint8Array([0x80, 0, 0, 1, 15]), 0); // { exclusive: true, dependency: 1, weight: 16 }
 * ```
 */
export function readPriority(b: Uint8Array, offset: number): PriorityFields {
  const v = readU32(b, offset);
  return { exclusive: v >= 0x80000000, dependency: v & 0x7fffffff, weight: b[offset + 4]! + 1 };
}

function connError(code: string, message: string, http2Code: number): HTTP2Error {
  return new HTTP2Error(code, message, http2Code);
}

/**
 * Splits a byte stream into frames. `push` returns each complete frame in
 * turn through the callback; the payload views are valid only during the
 * callback. Throws HTTP2Error (connection errors) or HTTP2StreamError (stream
 * errors, after which reading may continue) per RFC 9113 §4–§6.
 *
 * @example
 * ```ts
 * import { FrameReader } from "./frames.ts";
 * const reader = new FrameReader(16384);
 * reader.push(new Uint8Array([0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]), (f) => console.log(f.type)); // 6
 * ```
 */
export class FrameReader {
  /** Largest payload accepted (our SETTINGS_MAX_FRAME_SIZE). */
  maxFrameSize: number;
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #frame: Frame = { type: 0, flags: 0, streamId: 0, payload: new Uint8Array(0), length: 0 };

  /** Creates a reader accepting frames of at most `maxFrameSize` payload octets. */
  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes buffered waiting for the rest of a frame. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * Feeds bytes; calls `onFrame` for each complete frame (check it with
   * {@link validateFrame}). A frame larger than `maxFrameSize` is a
   * connection error (FRAME_SIZE_ERROR).
   */
  push(chunk: Uint8Array, onFrame: (f: Frame) => void): void {
    let buf: Uint8Array;
    let pos: number;
    let end: number;
    const own = this.#end !== this.#start;
    if (!own) {
      buf = chunk;
      pos = 0;
      end = chunk.length;
    } else {
      this.#append(chunk);
      buf = this.#buf;
      pos = this.#start;
      end = this.#end;
    }
    const f = this.#frame;
    while (end - pos >= 9) {
      const length = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
      if (length > this.maxFrameSize) {
        throw connError("ERR_H2_FRAME_SIZE", `frame of ${length} octets exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`, ErrorCode.FRAME_SIZE_ERROR);
      }
      if (end - pos < 9 + length) break;
      f.type = buf[pos + 3]!;
      f.flags = buf[pos + 4]!;
      f.streamId = readU32(buf, pos + 5) & 0x7fffffff;
      f.length = length;
      f.payload = buf.subarray(pos + 9, pos + 9 + length);
      pos += 9 + length;
      if (own) this.#start = pos;
      onFrame(f);
    }
    if (!own) {
      if (pos < end) this.#keep(chunk, pos, end);
    } else {
      this.#start = pos;
      if (this.#start === this.#end) this.#start = this.#end = 0;
    }
  }

  #keep(chunk: Uint8Array, pos: number, end: number): void {
    this.#start = this.#end = 0;
    this.#append(chunk.subarray(pos, end));
  }

  #append(chunk: Uint8Array): void {
    const used = this.#end - this.#start;
    if (this.#buf.length - this.#end < chunk.length) {
      const need = used + chunk.length;
      if (this.#buf.length >= need && this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const next = new Uint8Array(Math.max(need, this.#buf.length * 2, 1024));
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#start = 0;
      this.#end = used;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}

/**
 * Stateless checks of one frame (RFC 9113 §6): fixed lengths, stream id 0
 * rules, padding. Returns the payload without padding (HEADERS keeps its
 * priority block, PUSH_PROMISE its promised id). Throws HTTP2Error for
 * connection errors and HTTP2StreamError for stream errors.
 *
 * @example
 * ```ts
 * import { validateFrame } from "./frames.ts";
 * const f = { type: 0x6, flags: 0, streamId: 1, length: 8, payload: new Uint8Array(8) };
 * try {
 *   validateFrame(f);
 * } catch (err) {
 *   console.log((err as Error).message); // PING on a stream: a PROTOCOL_ERROR
 * }
 * ```
 */
export function validateFrame(f: Frame): Uint8Array {
  const { type, flags, streamId, length, payload } = f;
  switch (type) {
    case FrameType.DATA:
    case FrameType.HEADERS:
    case FrameType.PUSH_PROMISE: {
      if (streamId === 0) throw connError("ERR_H2_STREAM_ID", `${frameName(type)} on stream 0`, ErrorCode.PROTOCOL_ERROR);
      let start = 0;
      let stop = length;
      if (flags & Flag.PADDED) {
        if (length < 1) throw connError("ERR_H2_FRAME_SIZE", "padded frame without a pad length", ErrorCode.FRAME_SIZE_ERROR);
        const pad = payload[0]!;
        start = 1;
        stop = length - pad;
        if (stop < start + (type === FrameType.HEADERS && flags & Flag.PRIORITY ? 5 : 0) + (type === FrameType.PUSH_PROMISE ? 4 : 0)) {
          throw connError("ERR_H2_PADDING", "padding is as long as the payload or longer", ErrorCode.PROTOCOL_ERROR);
        }
      }
      if (type === FrameType.PUSH_PROMISE && stop - start < 4) {
        throw connError("ERR_H2_FRAME_SIZE", "PUSH_PROMISE shorter than 4 octets", ErrorCode.FRAME_SIZE_ERROR);
      }
      if (type === FrameType.HEADERS && flags & Flag.PRIORITY && stop - start < 5) {
        throw connError("ERR_H2_FRAME_SIZE", "HEADERS with PRIORITY shorter than 5 octets", ErrorCode.FRAME_SIZE_ERROR);
      }
      return start === 0 && stop === length ? payload : payload.subarray(start, stop);
    }
    case FrameType.PRIORITY:
      if (streamId === 0) throw connError("ERR_H2_STREAM_ID", "PRIORITY on stream 0", ErrorCode.PROTOCOL_ERROR);
      if (length !== 5) {
        throw new HTTP2StreamError("ERR_H2_FRAME_SIZE", "PRIORITY payload is not 5 octets", ErrorCode.FRAME_SIZE_ERROR, streamId);
      }
      return payload;
    case FrameType.RST_STREAM:
      if (streamId === 0) throw connError("ERR_H2_STREAM_ID", "RST_STREAM on stream 0", ErrorCode.PROTOCOL_ERROR);
      if (length !== 4) throw connError("ERR_H2_FRAME_SIZE", "RST_STREAM payload is not 4 octets", ErrorCode.FRAME_SIZE_ERROR);
      return payload;
    case FrameType.SETTINGS:
      if (streamId !== 0) throw connError("ERR_H2_STREAM_ID", "SETTINGS on a stream", ErrorCode.PROTOCOL_ERROR);
      if (flags & Flag.ACK && length !== 0) throw connError("ERR_H2_FRAME_SIZE", "SETTINGS ACK with a payload", ErrorCode.FRAME_SIZE_ERROR);
      if (length % 6 !== 0) throw connError("ERR_H2_FRAME_SIZE", "SETTINGS payload is not a multiple of 6", ErrorCode.FRAME_SIZE_ERROR);
      return payload;
    case FrameType.PING:
      if (streamId !== 0) throw connError("ERR_H2_STREAM_ID", "PING on a stream", ErrorCode.PROTOCOL_ERROR);
      if (length !== 8) throw connError("ERR_H2_FRAME_SIZE", "PING payload is not 8 octets", ErrorCode.FRAME_SIZE_ERROR);
      return payload;
    case FrameType.GOAWAY:
      if (streamId !== 0) throw connError("ERR_H2_STREAM_ID", "GOAWAY on a stream", ErrorCode.PROTOCOL_ERROR);
      if (length < 8) throw connError("ERR_H2_FRAME_SIZE", "GOAWAY shorter than 8 octets", ErrorCode.FRAME_SIZE_ERROR);
      return payload;
    case FrameType.WINDOW_UPDATE:
      if (length !== 4) throw connError("ERR_H2_FRAME_SIZE", "WINDOW_UPDATE payload is not 4 octets", ErrorCode.FRAME_SIZE_ERROR);
      return payload;
    case FrameType.CONTINUATION:
      if (streamId === 0) throw connError("ERR_H2_STREAM_ID", "CONTINUATION on stream 0", ErrorCode.PROTOCOL_ERROR);
      return payload;
    case FrameType.PRIORITY_UPDATE:
      if (streamId !== 0) throw connError("ERR_H2_STREAM_ID", "PRIORITY_UPDATE on a stream", ErrorCode.PROTOCOL_ERROR);
      if (length < 4) throw connError("ERR_H2_FRAME_SIZE", "PRIORITY_UPDATE shorter than 4 octets", ErrorCode.FRAME_SIZE_ERROR);
      return payload;
    default:
      return payload; // unknown types are ignored by the connection (§4.1)
  }
}

const NAMES = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"];

/**
 * The name of a frame type, for messages.
 *
 * @example
 * ```ts
 * import { frameName } from "./frames.ts";
 * frameName(0x1); // "HEADERS"
 * ```
 */
export function frameName(type: number): string {
  return NAMES[type] ?? (type === FrameType.PRIORITY_UPDATE ? "PRIORITY_UPDATE" : `UNKNOWN_0x${type.toString(16)}`);
}
