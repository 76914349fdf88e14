/**
 * The WebSocket frame sender: turns messages and control frames into wire
 * bytes (RFC 6455 §5). I/O-free: every method returns the bytes to write.
 *
 * A client masks every frame with a fresh random key (drawn from a pool
 * refilled by `crypto.getRandomValues`); a server never masks. Messages may be fragmented
 * (`fragmentSize`, or the sender's `autoFragmentSize`) and compressed when
 * permessage-deflate was negotiated and the message is at least
 * `compressionThreshold` bytes.
 *
 * `frameInto` writes a frame into a caller's buffer (an outbound ring, a
 * reused scratch buffer) and allocates nothing. The allocating methods
 * (`frame`, `message`, `ping`, …) cut frames of up to 4 KiB from a shared
 * 64 KiB slab rather than allocating each: a typed array whose bytes live
 * outside the JS heap costs 300–1000 ns to make, a view into the slab
 * 20–40 ns. Slab regions are never reused, so every returned frame is the
 * caller's to keep; a kept frame keeps its slab alive, as Node's Buffer pool
 * does. Frames of at most 64 bytes that are not masked word-wise (server
 * frames, client payloads under 32 bytes) are allocated on their own where
 * the engine keeps such small arrays on its heap (about 10 ns on Node and Bun);
 * Deno puts every typed array outside the heap (~230 ns for 22 bytes), so
 * there they come from the slab too.
 *
 * @example
 * ```ts
 * import { Sender } from "./sender.ts";
 * const tx = new Sender({ role: "server" });
 * const [frame] = tx.message("hi");
 * console.log(frame); // Uint8Array [ 129, 2, 104, 105 ]
 * ```
 *
 * @module
 */
import { WEBSOCKET_LIMITS } from "../core/limits.ts";
import { smallTypedArraysAreCheap } from "../ffi/runtime.ts";
import {
  applyMaskTo, CloseCode, frameSize, headerSize, isValidCloseCode, MAX_CONTROL_PAYLOAD, Opcode, WORD_MASK_MIN_BYTES, writeFrameHeader, writeFrameInto,
  xorBytes,
} from "./frame.ts";

/**
 * Compresses whole messages (implemented by permessage-deflate). Returns
 * the compressed payload without the 00 00 ff ff tail.
 */
export interface MessageCompressor {
  /** Compresses one whole message. */
  compress(data: Uint8Array): Uint8Array;
}

/** Sender options. */
export interface SenderOptions {
  /** A "client" masks its frames; a "server" does not. */
  role: "server" | "client";
  /** Set when permessage-deflate was negotiated. */
  compressor?: MessageCompressor | null;
  /** Messages shorter than this are sent uncompressed (default from WEBSOCKET_LIMITS). */
  compressionThreshold?: number;
  /** Split every message into frames of at most this many payload bytes (0: never). */
  autoFragmentSize?: number;
  /** Fills a 4-byte masking key; the default draws from `crypto.getRandomValues`. Tests may replace it. */
  maskSource?: (key: Uint8Array) => void;
}

/** Options for one message. */
export interface MessageOptions {
  /** Binary (opcode 2) rather than text (opcode 1); default: false for strings, true for bytes. */
  binary?: boolean;
  /** Payload bytes per frame for this message (overrides autoFragmentSize; 0: one frame). */
  fragmentSize?: number;
  /** Compress this message when possible (default true). */
  compress?: boolean;
}

const encoder = new TextEncoder();

// Masking keys come from a pool filled by `crypto.getRandomValues` (the
// platform CSPRNG, no FFI): one call per 2048 keys.
const POOL_SIZE = 8192;
let pool: Uint8Array<ArrayBuffer> | undefined;
let poolAt = POOL_SIZE;

function refillPool(): void {
  pool ??= new Uint8Array(POOL_SIZE);
  crypto.getRandomValues(pool);
  poolAt = 0;
}

function poolMask(key: Uint8Array): void {
  if (poolAt >= POOL_SIZE) refillPool();
  const p = pool!;
  key[0] = p[poolAt]!;
  key[1] = p[poolAt + 1]!;
  key[2] = p[poolAt + 2]!;
  key[3] = p[poolAt + 3]!;
  poolAt += 4;
}

// Frames of up to SLAB_MAX_FRAME bytes are views into a shared slab, handed
// out once each (never reused); bigger ones get their own buffer.
const SLAB_SIZE = 65536;
const SLAB_MAX_FRAME = 4096;
// Frames up to this size are allocated on their own where that is cheap
// (see the module notes); elsewhere they come from the slab too.
const FRESH_MAX_FRAME = smallTypedArraysAreCheap() ? 64 : 0;
let slab = new ArrayBuffer(0);
let slabAt = 0;

/**
 * A new frame buffer of `total` bytes whose byte `payloadAt` is 4-byte
 * aligned when `align` is set (masking then runs a word at a time). Such
 * frames never get a small array of their own: word-wise masking takes
 * `.buffer`, which moves an on-heap array's bytes off the heap and makes
 * new word views (about 350 ns on Node, 150 ns on Bun).
 */
function allocFrame(total: number, payloadAt: number, align: boolean): Uint8Array {
  if (total <= FRESH_MAX_FRAME && !align) return new Uint8Array(total);
  const pad = align ? (4 - (payloadAt & 3)) & 3 : 0;
  if (total > SLAB_MAX_FRAME) {
    return pad === 0 ? new Uint8Array(total) : new Uint8Array(new ArrayBuffer(pad + total), pad, total);
  }
  let at = slabAt + (align ? (4 - ((slabAt + payloadAt) & 3)) & 3 : 0);
  if (at + total > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_SIZE);
    at = pad;
  }
  slabAt = at + total;
  return new Uint8Array(slab, at, total);
}

// Frames that are sent at once (`Sender.messageFrames`) are written into one
// buffer shared by every sender: the caller hands them to a transport that
// copies what it does not send at once. Messages above SCRATCH_MAX_BYTES
// get a buffer of their own rather than pin a large one.
const SCRATCH_MIN_BYTES = 64 * 1024;
const SCRATCH_MAX_BYTES = 4 * 1024 * 1024;
let scratch = new Uint8Array(0);

/** Who keeps a view of the last `messageFrames` past the call (see {@link holdFrames}). */
let holder: (() => void) | null = null;

/**
 * Keeps the view the last {@link Sender.messageFrames} returned past the
 * call (a channel that sends the echoes of one read together): `release`
 * runs before the shared buffer behind it is written again (by any
 * sender), and must copy the view out or send it then. A later hold
 * replaces this one only after releasing it; {@link dropHold} ends it.
 *
 * @example
 * ```ts
 * import { dropHold, holdFrames, Sender } from "./sender.ts";
 * const tx = new Sender({ role: "server" });
 * let kept: Uint8Array | null = tx.messageFrames("a");
 * const release = () => void (kept = kept!.slice());
 * holdFrames(release);
 * tx.messageFrames("b"); // release ran first: kept is a copy
 * dropHold(release);
 * ```
 */
export function holdFrames(release: () => void): void {
  if (holder !== null && holder !== release) releaseHold();
  holder = release;
}

/**
 * Ends a hold taken with {@link holdFrames} (when it is still `release`'s)
 * without running it: the view was sent, or is no longer wanted.
 *
 * @example
 * ```ts
 * import { dropHold, holdFrames, Sender } from "./sender.ts";
 * const release = () => console.log("not called");
 * holdFrames(release);
 * dropHold(release);
 * new Sender({ role: "server" }).messageFrames("b");
 * ```
 */
export function dropHold(release: () => void): void {
  if (holder === release) holder = null;
}

function releaseHold(): void {
  const release = holder!;
  holder = null;
  release();
}

function scratchOf(bytes: number): Uint8Array {
  if (holder !== null) releaseHold();
  if (bytes <= scratch.length) return scratch;
  if (bytes > SCRATCH_MAX_BYTES) return new Uint8Array(bytes);
  scratch = new Uint8Array(Math.min(SCRATCH_MAX_BYTES, Math.max(SCRATCH_MIN_BYTES, 2 ** Math.ceil(Math.log2(bytes)))));
  return scratch;
}

/** The most header bytes before a payload: 10 for the length, 4 for the key. */
const MAX_HEADER = 14;
/** `out.subarray(MAX_HEADER)` for the last `out`, made once per scratch buffer rather than per message. */
let tailOf: Uint8Array | undefined;
let tail: Uint8Array = new Uint8Array(0);

function scratchTail(out: Uint8Array): Uint8Array {
  if (tailOf !== out) {
    tail = out.subarray(MAX_HEADER);
    tailOf = out;
    frameViews.length = 0;
  }
  return tail;
}

/** Payloads up to this many bytes get their one-frame view of the scratch buffer from {@link frameViews}. */
const FRAME_VIEW_MAX = 256;
/**
 * One-frame views of the scratch buffer (`tailOf`) by payload length and
 * masking (index `2n + masked`): a short text message's frame is the same
 * range of the same buffer every time, so its view is made once, not per
 * message (a view costs an allocation; on Bun, of a buffer in WebAssembly
 * memory, more). Emptied when the scratch buffer changes.
 */
const frameViews: Uint8Array[] = [];

/** The scratch buffer {@link headViews} view. */
let headOf: Uint8Array | undefined;
/**
 * `out.subarray(0, n)` of the scratch buffer (`headOf`) by n, for frames
 * written at its start (bytes payloads) up to FRAME_VIEW_MAX payload
 * bytes: a 64 B binary echo's frame is the same range every time, so its
 * view is made once, not per message. Emptied when the scratch buffer
 * changes.
 */
const headViews: Uint8Array[] = [];

/** The first `n` bytes of `out` (a view kept per length while `out` is the scratch buffer and the frame small). */
function scratchHead(out: Uint8Array, n: number): Uint8Array {
  if (n > FRAME_VIEW_MAX + MAX_HEADER || out !== scratch) return out.subarray(0, n);
  if (headOf !== out) {
    headOf = out;
    headViews.length = 0;
  }
  return (headViews[n] ??= out.subarray(0, n));
}

/**
 * Writes a masked frame whose payload is under WORD_MASK_MIN_BYTES (so
 * masked byte by byte) at `out[at]`, its key drawn from the pool: one
 * straight run (small client frames — chat messages, pings — are the
 * common case). Returns the bytes written.
 */
function writeSmallPoolMasked(
  out: Uint8Array,
  at: number,
  fin: boolean,
  rsv1: boolean,
  opcode: number,
  src: Uint8Array,
  start: number,
  length: number,
): number {
  if (poolAt >= POOL_SIZE) refillPool();
  const p = pool!;
  const k0 = p[poolAt]!, k1 = p[poolAt + 1]!, k2 = p[poolAt + 2]!, k3 = p[poolAt + 3]!;
  poolAt += 4;
  out[at] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f);
  out[at + 1] = 0x80 | length;
  out[at + 2] = k0;
  out[at + 3] = k1;
  out[at + 4] = k2;
  out[at + 5] = k3;
  xorBytes(src, start, out, at + 6, length, k0, k1, k2, k3);
  return length + 6;
}

/**
 * The frame sender. See the module documentation.
 *
 * @example
 * ```ts
 * import { Sender } from "./sender.ts";
 * const tx = new Sender({ role: "client" });
 * const frames = tx.message(new Uint8Array(10), { fragmentSize: 4 });
 * console.log(frames.length); // 3
 * ```
 */
export class Sender {
  readonly #masked: boolean;
  readonly #compressor: MessageCompressor | null;
  readonly #threshold: number;
  readonly #maskSource: (key: Uint8Array) => void;
  readonly #key = new Uint8Array(4);
  /** Frames are split to at most this many payload bytes (0: never). */
  autoFragmentSize: number;

  /** Creates a frame sender for `options.role` (clients mask every frame); throws for a bad role or size. */
  constructor(options: SenderOptions) {
    if (options.role !== "server" && options.role !== "client") {
      throw new TypeError(`role must be "server" or "client", got ${String(options.role)}`);
    }
    this.#masked = options.role === "client";
    this.#compressor = options.compressor ?? null;
    this.#threshold = options.compressionThreshold ?? WEBSOCKET_LIMITS.compressionThreshold;
    this.#maskSource = options.maskSource ?? poolMask;
    this.autoFragmentSize = options.autoFragmentSize ?? 0;
    if (!Number.isInteger(this.autoFragmentSize) || this.autoFragmentSize < 0) {
      throw new RangeError(`autoFragmentSize must be a non-negative integer, got ${this.autoFragmentSize}`);
    }
  }

  /**
   * Serializes one frame: header and (masked) payload in one buffer.
   *
   * @example
   * ```ts
   * import { Sender } from "./sender.ts";
   * new Sender({ role: "server" }).frame(0x9, new Uint8Array(0), true, false); // a ping
   * ```
   */
  frame(opcode: number, payload: Uint8Array, fin: boolean, rsv1: boolean): Uint8Array {
    return this.#frame(opcode, payload, 0, payload.length, fin, rsv1);
  }

  /**
   * Bytes that `frameInto` writes for a payload of `length` bytes.
   *
   * @example
   * ```ts
   * import { Sender } from "./sender.ts";
   * new Sender({ role: "client" }).frameSize(16); // 22
   * ```
   */
  frameSize(length: number): number {
    return frameSize(length, this.#masked);
  }

  /**
   * Writes one frame (header and masked payload `payload[start, end)`)
   * into `dst` at `at`, allocating nothing. `dst` needs
   * `frameSize(end - start)` bytes from `at` and must not overlap the
   * payload.
   *
   * @returns The number of bytes written.
   * @throws {RangeError} when `dst` has no room for the frame.
   * @example
   * ```ts
   * import { Sender } from "./sender.ts";
   * const tx = new Sender({ role: "client" });
   * const out = new Uint8Array(256);
   * const n = tx.frameInto(out, 0, 0x2, new Uint8Array(16), true, false);
   * console.log(n); // 22
   * ```
   */
  frameInto(
    dst: Uint8Array,
    at: number,
    opcode: number,
    payload: Uint8Array,
    fin: boolean,
    rsv1: boolean,
    start = 0,
    end: number = payload.length,
  ): number {
    if (!(start >= 0 && start <= end && end <= payload.length && Number.isInteger(start) && Number.isInteger(end))) {
      throw new RangeError(`payload range [${start}, ${end}) is not within its ${payload.length} bytes`);
    }
    const need = frameSize(end - start, this.#masked);
    if (!(at >= 0 && at + need <= dst.length && Number.isInteger(at))) {
      throw new RangeError(`a frame of ${need} bytes does not fit at ${at} in ${dst.length} bytes`);
    }
    if (this.#masked && end - start < WORD_MASK_MIN_BYTES && this.#maskSource === poolMask) {
      return writeSmallPoolMasked(dst, at, fin, rsv1, opcode, payload, start, end - start);
    }
    return writeFrameInto(dst, at, fin, rsv1, opcode, payload, start, end, this.#masked ? this.#nextKey() : null);
  }

  #nextKey(): Uint8Array {
    const key = this.#key;
    this.#maskSource(key);
    return key;
  }

  #frame(opcode: number, src: Uint8Array, start: number, end: number, fin: boolean, rsv1: boolean): Uint8Array {
    const length = end - start;
    const masked = this.#masked;
    if (masked && length < WORD_MASK_MIN_BYTES && this.#maskSource === poolMask) {
      const out = allocFrame(length + 6, 6, false);
      writeSmallPoolMasked(out, 0, fin, rsv1, opcode, src, start, length);
      return out;
    }
    const size = headerSize(length, masked);
    const out = allocFrame(size + length, size, masked && length >= WORD_MASK_MIN_BYTES);
    writeFrameInto(out, 0, fin, rsv1, opcode, src, start, end, masked ? this.#nextKey() : null);
    return out;
  }

  /**
   * Serializes a data message: one frame, or several when fragmented.
   * Strings are sent as text, bytes as binary unless `options.binary` says
   * otherwise.
   *
   * @returns The frames, in order.
   */
  message(data: Uint8Array | string, options: MessageOptions = {}): Uint8Array[] {
    const binary = options.binary ?? typeof data !== "string";
    let payload = typeof data === "string" ? encoder.encode(data) : data;
    let rsv1 = false;
    if (this.#compressor !== null && options.compress !== false && payload.length >= this.#threshold) {
      payload = this.#compressor.compress(payload);
      rsv1 = true;
    }
    const size = options.fragmentSize ?? this.autoFragmentSize;
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`fragmentSize must be a non-negative integer, got ${size}`);
    const opcode = binary ? Opcode.Binary : Opcode.Text;
    if (size === 0 || payload.length <= size) return [this.#frame(opcode, payload, 0, payload.length, true, rsv1)];
    const frames: Uint8Array[] = [];
    for (let at = 0; at < payload.length; at += size) {
      const end = Math.min(at + size, payload.length);
      frames.push(this.#frame(at === 0 ? opcode : Opcode.Continuation, payload, at, end, end === payload.length, at === 0 && rsv1));
    }
    return frames;
  }

  /**
   * Serializes a data message as {@link Sender.message} does, but into a
   * buffer shared by all senders, the frames back to back: the returned
   * view is valid until the next call (of any sender), for a caller that
   * writes it at once to a transport that copies what it keeps (a
   * `Connection`). Nothing is allocated for a message up to 4 MiB; text is
   * encoded straight into place.
   *
   * @example
   * ```ts
   * import { Sender } from "./sender.ts";
   * const bytes = new Sender({ role: "server" }).messageFrames("hi");
   * console.log(bytes); // Uint8Array [ 129, 2, 104, 105 ]
   * ```
   */
  messageFrames(data: Uint8Array | string, options: MessageOptions = {}): Uint8Array {
    const size = options.fragmentSize ?? this.autoFragmentSize;
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`fragmentSize must be a non-negative integer, got ${size}`);
    const binary = options.binary ?? typeof data !== "string";
    const opcode = binary ? Opcode.Binary : Opcode.Text;
    const compress = this.#compressor !== null && options.compress !== false;
    // A string of n UTF-16 units encodes to at most 3n bytes: below the
    // threshold then, it is never compressed.
    if (typeof data === "string" && (!compress || data.length * 3 < this.#threshold) && size === 0 && data.length <= SCRATCH_MAX_BYTES / 3 - MAX_HEADER) {
      // One frame: encode into place after room for the longest header,
      // then write the header right before the payload.
      const out = scratchOf(MAX_HEADER + data.length * 3);
      const n = encoder.encodeInto(data, scratchTail(out)).written;
      const masked = this.#masked;
      const start = MAX_HEADER - headerSize(n, masked);
      const key = masked ? this.#nextKey() : null;
      writeFrameHeader(out, start, true, false, opcode, n, key);
      if (key !== null) {
        if (n < WORD_MASK_MIN_BYTES) xorBytes(out, MAX_HEADER, out, MAX_HEADER, n, key[0]!, key[1]!, key[2]!, key[3]!);
        else applyMaskTo(out, MAX_HEADER, out, MAX_HEADER, n, key, 0);
      }
      if (n > FRAME_VIEW_MAX) return out.subarray(start, MAX_HEADER + n);
      return (frameViews[2 * n + (masked ? 1 : 0)] ??= out.subarray(start, MAX_HEADER + n));
    }
    let payload = typeof data === "string" ? encoder.encode(data) : data;
    let rsv1 = false;
    if (compress && payload.length >= this.#threshold) {
      payload = this.#compressor!.compress(payload);
      rsv1 = true;
    }
    const length = payload.length;
    if (size === 0 || length <= size) {
      const out = scratchOf(frameSize(length, this.#masked));
      return scratchHead(out, this.#frameTo(out, 0, opcode, payload, 0, length, true, rsv1));
    }
    const full = Math.floor(length / size);
    const rest = length - full * size;
    const out = scratchOf(full * frameSize(size, this.#masked) + (rest > 0 ? frameSize(rest, this.#masked) : 0));
    let at = 0;
    for (let from = 0; from < length; from += size) {
      const end = Math.min(from + size, length);
      at += this.#frameTo(out, at, from === 0 ? opcode : Opcode.Continuation, payload, from, end, end === length, from === 0 && rsv1);
    }
    return out.subarray(0, at);
  }

  /** frameInto without the range checks (the caller sized `dst`). */
  #frameTo(dst: Uint8Array, at: number, opcode: number, src: Uint8Array, start: number, end: number, fin: boolean, rsv1: boolean): number {
    if (this.#masked && end - start < WORD_MASK_MIN_BYTES && this.#maskSource === poolMask) {
      return writeSmallPoolMasked(dst, at, fin, rsv1, opcode, src, start, end - start);
    }
    return writeFrameInto(dst, at, fin, rsv1, opcode, src, start, end, this.#masked ? this.#nextKey() : null);
  }

  /**
   * A ping frame (payload ≤ 125 bytes).
   *
   * @example
   * ```ts
   * import { Sender } from "./sender.ts";
   * new Sender({ role: "server" }).ping("x"); // Uint8Array [ 137, 1, 120 ]
   * ```
   */
  ping(data: Uint8Array | string = EMPTY): Uint8Array {
    return this.#frame(Opcode.Ping, ...controlPayload(data), true, false);
  }

  /**
   * A pong frame (payload ≤ 125 bytes).
   *
   * @example
   * ```ts
   * import { Sender } from "./sender.ts";
   * new Sender({ role: "server" }).pong(new Uint8Array([1])); // Uint8Array [ 138, 1, 1 ]
   * ```
   */
  pong(data: Uint8Array | string = EMPTY): Uint8Array {
    return this.#frame(Opcode.Pong, ...controlPayload(data), true, false);
  }

  /**
   * A close frame. Without a code the payload is empty; with one, the
   * code must be valid on the wire and the UTF-8 reason at most 123 bytes.
   *
   * @example
   * ```ts
   * import { Sender } from "./sender.ts";
   * new Sender({ role: "server" }).close(1000); // Uint8Array [ 136, 2, 3, 232 ]
   * ```
   */
  close(code?: number, reason = ""): Uint8Array {
    const payload = closePayload(code, reason);
    return this.#frame(Opcode.Close, payload, 0, payload.length, true, false);
  }
}

const EMPTY = new Uint8Array(0);

function controlPayload(data: Uint8Array | string): [Uint8Array, number, number] {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  if (bytes.length > MAX_CONTROL_PAYLOAD) throw new RangeError("control frame payload must be at most 125 bytes");
  return [bytes, 0, bytes.length];
}

/**
 * The payload of a close frame: empty without a code or reason, else the
 * code in network order followed by the UTF-8 reason. A reason without a
 * code goes with 1000 (Normal Closure), as the WebSockets Standard's
 * "close the WebSocket" says: the reason is never dropped.
 *
 * @example
 * ```ts
 * import { closePayload } from "./sender.ts";
 * closePayload(1001, "bye").length; // 5
 * closePayload(undefined, "bye"); // 1000 and "bye": Uint8Array [ 3, 232, 98, 121, 101 ]
 * ```
 */
export function closePayload(code: number | undefined, reason = ""): Uint8Array {
  if (code === undefined) {
    if (reason === "") return EMPTY;
    code = CloseCode.Normal;
  }
  if (!isValidCloseCode(code)) throw new RangeError(`close code ${code} may not be sent`);
  const text = encoder.encode(reason);
  if (text.length > MAX_CONTROL_PAYLOAD - 2) throw new RangeError("close reason must be at most 123 bytes of UTF-8");
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}
