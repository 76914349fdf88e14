/**
 * The WebSocket frame sender: turns messages and control frames into wire
 * bytes (RFC 6455 §5). I/O-free: every method returns the bytes to write.
 *
 * A client masks every frame with a fresh random key (drawn from a pool
 * refilled by RAND_bytes); a server never masks. Messages may be fragmented
 * (`fragmentSize`, or the sender's `autoFragmentSize`) and compressed when
 * permessage-deflate was negotiated and the message is at least
 * `compressionThreshold` bytes.
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
import { fillRandom } from "../core/crypto.ts";
import { WEBSOCKET_LIMITS } from "../core/limits.ts";
import { applyMaskTo, headerSize, isValidCloseCode, MAX_CONTROL_PAYLOAD, Opcode, writeFrameHeader } from "./frame.ts";

/**
 * Compresses whole messages (implemented by permessage-deflate). Returns
 * the compressed payload without the 00 00 ff ff tail.
 */
export interface MessageCompressor {
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
  /** Fills a 4-byte masking key; the default draws from RAND_bytes. Tests may replace it. */
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

// Masking keys come from a pool filled by RAND_bytes: one FFI call per 2048 keys.
const POOL_SIZE = 8192;
let pool: Uint8Array | undefined;
let poolAt = POOL_SIZE;

function refillPool(): void {
  pool ??= new Uint8Array(POOL_SIZE);
  fillRandom(pool);
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

  #frame(opcode: number, src: Uint8Array, start: number, end: number, fin: boolean, rsv1: boolean): Uint8Array {
    const length = end - start;
    if (!this.#masked) {
      const size = headerSize(length, false);
      const out = new Uint8Array(size + length);
      writeFrameHeader(out, 0, fin, rsv1, opcode, length, null);
      out.set(start === 0 && end === src.length ? src : src.subarray(start, end), size);
      return out;
    }
    const size = headerSize(length, true);
    // Masked payloads are XORed a word at a time when source and target
    // are both 4-byte aligned: start the frame so that its payload is.
    const pad = length >= 64 ? (4 - (size & 3)) & 3 : 0;
    const out = pad === 0 ? new Uint8Array(size + length) : new Uint8Array(pad + size + length).subarray(pad);
    const key = this.#key;
    if (this.#maskSource === poolMask) {
      // Inline draw from the random pool (the common case).
      if (poolAt >= POOL_SIZE) refillPool();
      const p = pool!;
      key[0] = p[poolAt]!;
      key[1] = p[poolAt + 1]!;
      key[2] = p[poolAt + 2]!;
      key[3] = p[poolAt + 3]!;
      poolAt += 4;
    } else {
      this.#maskSource(key);
    }
    writeFrameHeader(out, 0, fin, rsv1, opcode, length, key);
    if (length < 32) {
      const k0 = key[0]!, k1 = key[1]!, k2 = key[2]!, k3 = key[3]!;
      let i = 0;
      for (; i + 3 < length; i += 4) {
        out[size + i] = src[start + i]! ^ k0;
        out[size + i + 1] = src[start + i + 1]! ^ k1;
        out[size + i + 2] = src[start + i + 2]! ^ k2;
        out[size + i + 3] = src[start + i + 3]! ^ k3;
      }
      for (; i < length; i++) out[size + i] = src[start + i]! ^ key[i & 3]!;
    } else {
      applyMaskTo(src, start, out, size, length, key, 0);
    }
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
 * The payload of a close frame: empty without a code, else the code in
 * network order followed by the UTF-8 reason.
 *
 * @example
 * ```ts
 * import { closePayload } from "./sender.ts";
 * closePayload(1001, "bye").length; // 5
 * ```
 */
export function closePayload(code: number | undefined, reason = ""): Uint8Array {
  if (code === undefined) {
    if (reason !== "") throw new TypeError("a close reason needs a close code");
    return EMPTY;
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
