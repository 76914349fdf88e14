/**
 * permessage-deflate (RFC 7692): parameter negotiation for both roles and
 * the per-connection compressor/decompressor over zlib (raw deflate, z_stream
 * in native memory, see core/zlib.ts).
 *
 * - A message is compressed with a sync flush and sent without its final
 *   00 00 ff ff; the receiver appends those four bytes before inflating.
 * - Context takeover (the LZ77 window carried from message to message) is
 *   on unless `*_no_context_takeover` was agreed; then the stream is reset
 *   after each message.
 * - Window bits 8: zlib's deflate cannot make a 256-byte window and quietly
 *   uses 512 (windowBits 9), so, as other implementations do, 8 is mapped to
 *   9 on both sides. A peer limited to 8 may still send 512-byte distances
 *   produced by its own zlib, and our inflater accepts them.
 * - Decompressed size is bounded per message; a bomb ends in 1009.
 *
 * @example
 * ```ts
 * import { PerMessageDeflate } from "./deflate.ts";
 * const server = PerMessageDeflate.acceptOffer("permessage-deflate; client_max_window_bits", {})!;
 * console.log(server.responseHeader); // "permessage-deflate"
 * const packed = server.compress(new TextEncoder().encode("hello hello hello"));
 * const client = PerMessageDeflate.fromResponse(server.responseHeader, {});
 * console.log(new TextDecoder().decode(client.decompress(packed, true, 1e6)[0])); // hello hello hello
 * server.close();
 * client.close();
 * ```
 *
 * @module
 */
import { CompressionError, HTTPError, LimitError, UseAfterCloseError, WebSocketError } from "../core/errors.ts";
import { Deflater, Inflater } from "../core/zlib.ts";
import { type ExtensionItem, formatExtensions, parseExtensions } from "./extensions.ts";
import { CloseCode } from "./frame.ts";
import type { MessageDecompressor } from "./receiver.ts";
import type { MessageCompressor } from "./sender.ts";

/**
 * The extension token.
 *
 * @example
 * ```ts
 * import { PERMESSAGE_DEFLATE } from "./deflate.ts";
 * PERMESSAGE_DEFLATE; // "permessage-deflate"
 * ```
 */
export const PERMESSAGE_DEFLATE = "permessage-deflate";

/** What one side wants; every field is optional. */
export interface DeflateOptions {
  /** Server: reset the server's compression context after each message. */
  serverNoContextTakeover?: boolean;
  /** Reset the client's compression context after each message. */
  clientNoContextTakeover?: boolean;
  /** Largest LZ77 window (8–15) the server may use to compress. */
  serverMaxWindowBits?: number;
  /** Largest LZ77 window (8–15) the client may use to compress. */
  clientMaxWindowBits?: number;
  /** zlib compression level (default: zlib's). */
  level?: number;
  /** zlib memory level 1–9 (default 8). */
  memLevel?: number;
  /**
   * When our side's no_context_takeover is agreed (the server's
   * `serverNoContextTakeover`, the client's `clientNoContextTakeover`),
   * compress through one zlib stream shared by every WebSocket with the
   * same window bits, level and memLevel instead of one each: nothing
   * carries from one message to the next then, so a stream per connection
   * only costs memory (about 300 KiB of zlib state each at the defaults).
   * Each message is compressed whole and the stream reset, in one call, so
   * the sharing is invisible on the wire. Default false.
   */
  sharedCompressor?: boolean;
  /**
   * When the peer's no_context_takeover is agreed (the client's for a
   * server, the server's for a client), inflate every message that arrives
   * whole (one frame) through one zlib stream shared by every WebSocket
   * with the same window bits, reset after each message, instead of one
   * stream each: its state and 128 KiB of buffers stay in the cache where
   * fifty connections' would not. A fragmented message uses the
   * connection's own stream. Default false.
   */
  sharedDecompressor?: boolean;
}

/** The shared compressors of {@link DeflateOptions.sharedCompressor}, by window bits, level and memLevel. */
const sharedDeflaters = new Map<string, Deflater>();
/** The shared decompressors of {@link DeflateOptions.sharedDecompressor}, by window bits. */
const sharedInflaters = new Map<number, Inflater>();

/**
 * How many shared compressors exist (one per window bits, level and
 * memLevel in use), for metrics and tests.
 *
 * @example
 * ```ts
 * import { sharedCompressorCount } from "./deflate.ts";
 * console.log(sharedCompressorCount() >= 0); // true
 * ```
 */
export function sharedCompressorCount(): number {
  return sharedDeflaters.size;
}

/** The agreed parameters (RFC 7692 §7.1). */
export interface DeflateParams {
  /** The server resets its compression context after each message. */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after each message. */
  clientNoContextTakeover: boolean;
  /** 8–15; 15 when not negotiated. */
  serverMaxWindowBits: number;
  /** 8–15; 15 when not negotiated. */
  clientMaxWindowBits: number;
}

/** One parsed offer or response; `clientMaxWindowBits` is `true` for the valueless form. */
interface Parsed {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | true | undefined;
}

function windowBits(value: string | true, allowBare: boolean): number | true | undefined {
  if (value === true) return allowBare ? true : undefined;
  if (!/^(?:8|9|1[0-5])$/.test(value)) return undefined;
  return Number(value);
}

/** Reads permessage-deflate parameters; undefined when they are not valid. */
function parseParams(item: ExtensionItem, role: "offer" | "response"): Parsed | undefined {
  const p: Parsed = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  for (const [name, value] of item.params) {
    switch (name) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        if (value !== true) return undefined;
        if (name === "server_no_context_takeover") p.serverNoContextTakeover = true;
        else p.clientNoContextTakeover = true;
        break;
      case "server_max_window_bits": {
        const bits = windowBits(value, false);
        if (bits === undefined || bits === true) return undefined;
        p.serverMaxWindowBits = bits;
        break;
      }
      case "client_max_window_bits": {
        // The valueless form only appears in offers (§7.1.2.2).
        const bits = windowBits(value, role === "offer");
        if (bits === undefined) return undefined;
        p.clientMaxWindowBits = bits;
        break;
      }
      default:
        return undefined; // unknown parameter: decline this offer
    }
  }
  return p;
}

function checkBits(name: string, bits: number | undefined): void {
  if (bits !== undefined && (!Number.isInteger(bits) || bits < 8 || bits > 15)) {
    throw new RangeError(`${name} must be an integer from 8 to 15, got ${bits}`);
  }
}

/** zlib's raw deflate has no 256-byte window: use 512 (see the module notes). */
function zlibBits(bits: number): number {
  return bits === 8 ? 9 : bits;
}

const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

function newInflater(bits: number): Inflater {
  return new Inflater({ format: "raw", windowBits: bits, maxOutputBytes: Infinity });
}
/** Compressed messages up to this size with their tail are inflated in one call. */
const JOINED_BYTES = 1024;

/**
 * Inflates `bytes`, whose last `tail` bytes are the 00 00 ff ff we append.
 * A message may end its deflate stream with a BFINAL block and go on with a
 * new stream (RFC 7692 §7.2.3.3: the example "Hello" is a final block and
 * then 0x00, which with the appended tail is an empty stored block; and
 * uWebSockets sends that): what follows a final block in the message is
 * inflated as a new stream, so garbage there is still an error (1007). A
 * stream that ends exactly where the peer's bytes end skips the tail.
 */
function feed(inflater: Inflater, bytes: Uint8Array, tail: number, take: (view: Uint8Array) => void): void {
  let rest = bytes;
  for (;;) {
    if (inflater.finished) {
      if (rest.length <= tail) return;
      inflater.reset();
    }
    try {
      inflater.pushInto(rest, false, take);
      return;
    } catch (err) {
      if (!(inflater.finished && err instanceof CompressionError && err.code === "ERR_ZLIB_TRAILING_DATA")) throw err;
      rest = rest.subarray(rest.length - inflater.trailingBytes);
    }
  }
}

/**
 * The permessage-deflate state of one connection: negotiated parameters,
 * the compressor for what we send and the decompressor for what we
 * receive. Implements the sender's and receiver's hooks.
 *
 * @example
 * ```ts
 * import { PerMessageDeflate } from "./deflate.ts";
 * const offer = PerMessageDeflate.offer({ clientMaxWindowBits: 10 });
 * console.log(offer); // "permessage-deflate; client_max_window_bits=10"
 * ```
 */
export class PerMessageDeflate implements MessageCompressor, MessageDecompressor {
  /** The agreed parameters. */
  readonly params: DeflateParams;
  /** Which end this is. */
  readonly role: "server" | "client";
  /** The value for the server's Sec-WebSocket-Extensions response. */
  readonly responseHeader: string;
  readonly #options: DeflateOptions;
  #deflater: Deflater | undefined;
  #inflater: Inflater | undefined;
  #inflated = 0;
  /** Pieces of a message are being inflated (it did not come whole). */
  #midMessage = false;
  /** Compressed bytes of the message so far (its earlier pieces). */
  #messageBytes = 0;
  /** `close()` was called: the zlib streams are gone and must not be made again. */
  #closed = false;
  /** A small message's compressed bytes with the 00 00 ff ff tail after them. */
  readonly #joined = new Uint8Array(JOINED_BYTES);

  private constructor(role: "server" | "client", params: DeflateParams, options: DeflateOptions, responseHeader: string) {
    this.role = role;
    this.params = params;
    this.#options = options;
    this.responseHeader = responseHeader;
  }

  /**
   * A client's offer for its Sec-WebSocket-Extensions header. It always
   * allows the server to limit the client's window (valueless
   * `client_max_window_bits`) unless a value is given.
   *
   * @example
   * ```ts
   * import { PerMessageDeflate } from "./deflate.ts";
   * PerMessageDeflate.offer({}); // "permessage-deflate; client_max_window_bits"
   * ```
   */
  static offer(options: DeflateOptions = {}): string {
    checkBits("serverMaxWindowBits", options.serverMaxWindowBits);
    checkBits("clientMaxWindowBits", options.clientMaxWindowBits);
    const params = new Map<string, string | true>();
    if (options.serverNoContextTakeover) params.set("server_no_context_takeover", true);
    if (options.clientNoContextTakeover) params.set("client_no_context_takeover", true);
    if (options.serverMaxWindowBits !== undefined) params.set("server_max_window_bits", String(options.serverMaxWindowBits));
    params.set("client_max_window_bits", options.clientMaxWindowBits !== undefined ? String(options.clientMaxWindowBits) : true);
    return formatExtensions([{ name: PERMESSAGE_DEFLATE, params }]);
  }

  /**
   * Server side: picks the first acceptable permessage-deflate offer from a
   * client's Sec-WebSocket-Extensions value. Returns undefined when there is
   * none (the connection goes on without compression). A malformed header
   * throws an HTTP1ParseError (answer 400).
   *
   * @example
   * ```ts
   * import { PerMessageDeflate } from "./deflate.ts";
   * const pmd = PerMessageDeflate.acceptOffer("permessage-deflate; server_max_window_bits=10", {});
   * console.log(pmd?.responseHeader); // "permessage-deflate; server_max_window_bits=10"
   * pmd?.close();
   * ```
   */
  static acceptOffer(header: string | string[], options: DeflateOptions = {}): PerMessageDeflate | undefined {
    checkBits("serverMaxWindowBits", options.serverMaxWindowBits);
    checkBits("clientMaxWindowBits", options.clientMaxWindowBits);
    const items = parseExtensions(Array.isArray(header) ? header.join(", ") : header, true);
    for (const item of items) {
      // A parameter twice: decline this offer, try the next (RFC 7692 §7).
      if (item.name.toLowerCase() !== PERMESSAGE_DEFLATE || item.repeated === true) continue;
      const offer = parseParams(item, "offer");
      if (offer === undefined) continue;
      // The server may not use a larger window than the client allows, and
      // it may not impose a client window the client did not offer to limit.
      if (options.clientMaxWindowBits !== undefined && offer.clientMaxWindowBits === undefined) continue;
      const params: DeflateParams = {
        serverNoContextTakeover: offer.serverNoContextTakeover || options.serverNoContextTakeover === true,
        clientNoContextTakeover: offer.clientNoContextTakeover || options.clientNoContextTakeover === true,
        serverMaxWindowBits: Math.min(offer.serverMaxWindowBits ?? 15, options.serverMaxWindowBits ?? 15),
        clientMaxWindowBits: 15,
      };
      const response = new Map<string, string | true>();
      if (params.serverNoContextTakeover) response.set("server_no_context_takeover", true);
      if (params.clientNoContextTakeover) response.set("client_no_context_takeover", true);
      if (offer.serverMaxWindowBits !== undefined || options.serverMaxWindowBits !== undefined) {
        response.set("server_max_window_bits", String(params.serverMaxWindowBits));
      }
      if (offer.clientMaxWindowBits !== undefined) {
        const offered = offer.clientMaxWindowBits === true ? 15 : offer.clientMaxWindowBits;
        const wanted = options.clientMaxWindowBits ?? (offer.clientMaxWindowBits === true ? undefined : offered);
        if (wanted !== undefined) {
          params.clientMaxWindowBits = Math.min(offered, wanted);
          response.set("client_max_window_bits", String(params.clientMaxWindowBits));
        }
      }
      return new PerMessageDeflate("server", params, options, formatExtensions([{ name: PERMESSAGE_DEFLATE, params: response }]));
    }
    return undefined;
  }

  /**
   * Client side: validates the server's Sec-WebSocket-Extensions response
   * against what we offered. Throws an HTTPError (fail the connection) when
   * the server accepted something we did not offer.
   *
   * @example
   * ```ts
   * import { PerMessageDeflate } from "./deflate.ts";
   * const pmd = PerMessageDeflate.fromResponse("permessage-deflate; server_no_context_takeover", {});
   * console.log(pmd.params.serverNoContextTakeover); // true
   * pmd.close();
   * ```
   */
  static fromResponse(header: string, offered: DeflateOptions = {}): PerMessageDeflate {
    const items = parseExtensions(header);
    const item = items[0];
    if (items.length !== 1 || item === undefined || item.name.toLowerCase() !== PERMESSAGE_DEFLATE) {
      throw new HTTPError("ERR_WS_EXTENSION", `the server accepted extensions we did not offer: ${header}`);
    }
    const r = parseParams(item, "response");
    if (r === undefined) throw new HTTPError("ERR_WS_EXTENSION", `invalid permessage-deflate response: ${header}`);
    if (offered.serverNoContextTakeover && !r.serverNoContextTakeover) {
      throw new HTTPError("ERR_WS_EXTENSION", "the server did not agree to server_no_context_takeover");
    }
    if (offered.serverMaxWindowBits !== undefined && (r.serverMaxWindowBits === undefined || r.serverMaxWindowBits > offered.serverMaxWindowBits)) {
      throw new HTTPError("ERR_WS_EXTENSION", "the server did not honour server_max_window_bits");
    }
    const clientBits = r.clientMaxWindowBits === true ? undefined : r.clientMaxWindowBits;
    // RFC 7692 §7.1.2.2: the server answers the offer's value or a smaller one.
    if (clientBits !== undefined && offered.clientMaxWindowBits !== undefined && clientBits > offered.clientMaxWindowBits) {
      throw new HTTPError("ERR_WS_EXTENSION", "the server's client_max_window_bits was above the offer");
    }
    const params: DeflateParams = {
      serverNoContextTakeover: r.serverNoContextTakeover,
      clientNoContextTakeover: r.clientNoContextTakeover || offered.clientNoContextTakeover === true,
      serverMaxWindowBits: r.serverMaxWindowBits ?? 15,
      clientMaxWindowBits: Math.min(clientBits ?? 15, offered.clientMaxWindowBits ?? 15),
    };
    return new PerMessageDeflate("client", params, offered, header);
  }

  /** Compresses one whole message; the result has no 00 00 ff ff tail. */
  compress(data: Uint8Array): Uint8Array {
    if (this.#closed) throw new UseAfterCloseError("PerMessageDeflate");
    const server = this.role === "server";
    const noTakeover = server ? this.params.serverNoContextTakeover : this.params.clientNoContextTakeover;
    const deflater = noTakeover && this.#options.sharedCompressor === true ? this.#sharedDeflater() : this.#deflater ??= this.#newDeflater();
    let parts: Uint8Array[];
    try {
      parts = deflater.push(data, "sync");
    } finally {
      // Always from a fresh context next time (a shared stream must not keep a failed message's state).
      if (noTakeover) deflater.reset();
    }
    let total = 0;
    for (const p of parts) total += p.length;
    const out = parts.length === 1 ? parts[0]! : new Uint8Array(total);
    if (parts.length !== 1) {
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
    }
    // A sync flush always ends with the empty stored block 00 00 ff ff.
    const end = total >= 4 && out[total - 4] === 0 && out[total - 3] === 0 && out[total - 2] === 0xff && out[total - 1] === 0xff
      ? total - 4
      : total;
    // An empty result would be an invalid deflate stream; send one empty
    // fixed block instead (RFC 7692 §7.2.3.6).
    return end === 0 ? new Uint8Array([0x00]) : out.subarray(0, end);
  }

  #newDeflater(): Deflater {
    return new Deflater({
      format: "raw",
      windowBits: zlibBits(this.role === "server" ? this.params.serverMaxWindowBits : this.params.clientMaxWindowBits),
      memLevel: this.#options.memLevel ?? 8,
      ...(this.#options.level !== undefined ? { level: this.#options.level } : {}),
    });
  }

  #sharedDeflater(): Deflater {
    const bits = this.role === "server" ? this.params.serverMaxWindowBits : this.params.clientMaxWindowBits;
    const key = `${bits}:${this.#options.level ?? "default"}:${this.#options.memLevel ?? 8}`;
    let deflater = sharedDeflaters.get(key);
    if (deflater === undefined) sharedDeflaters.set(key, deflater = this.#newDeflater());
    return deflater;
  }

  /**
   * Inflates one piece of a compressed message; `fin` marks the last piece.
   * Output beyond `maxBytes` for the message throws a 1009 WebSocketError,
   * corrupt data a 1007 one. With `sink`, each output chunk (≤ 64 KiB) goes
   * there as soon as it is made, as a view valid only during the call, and
   * nothing is returned: the caller copies it into its message buffer, so
   * no output is held twice or left as garbage.
   */
  decompress(piece: Uint8Array, fin: boolean, maxBytes: number, sink?: (part: Uint8Array) => void): Uint8Array[] {
    if (this.#closed) throw new UseAfterCloseError("PerMessageDeflate");
    const server = this.role === "server";
    const noTakeover = server ? this.params.clientNoContextTakeover : this.params.serverNoContextTakeover;
    const bits = zlibBits(server ? this.params.clientMaxWindowBits : this.params.serverMaxWindowBits);
    // A whole message from a peer without context takeover may go through the shared stream.
    const shared = fin && !this.#midMessage && noTakeover && this.#options.sharedDecompressor === true;
    this.#midMessage = !fin;
    const messageBytes = this.#messageBytes + piece.length;
    this.#messageBytes = fin ? 0 : messageBytes;
    // An empty message sent with RSV1 and no compressed bytes at all (the
    // RFC's sender makes 0x00, some send nothing): empty, and the stream is
    // left as it was; with the tail alone it would stop inside a block.
    if (fin && messageBytes === 0) return [];
    let inflater: Inflater;
    if (shared) {
      inflater = sharedInflaters.get(bits) ?? newInflater(bits);
      sharedInflaters.set(bits, inflater);
    } else inflater = this.#inflater ??= newInflater(bits);
    const out: Uint8Array[] = [];
    this.#inflated = 0; // output of this call, against the message's remaining room
    try {
      // Feed bounded slices so that one slice cannot inflate far past the
      // limit (deflate expands at most ~1032:1): a slice's output is held
      // at once, so it stays near a sixteenth of the room.
      const slice = Math.max(64, Math.min(65536, Math.floor(maxBytes / 1032 / 16)));
      const take = (view: Uint8Array): void => {
        this.#inflated += view.length;
        if (this.#inflated > maxBytes) {
          throw new WebSocketError("WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", `decompressed message above ${maxBytes} bytes`, CloseCode.MessageTooBig);
        }
        if (sink === undefined) out.push(view.slice());
        else sink(view);
      };
      if (fin && piece.length <= slice && piece.length <= JOINED_BYTES - 4) {
        // A whole small message (the usual case): the piece and the tail in
        // one inflate call instead of two.
        const joined = this.#joined;
        joined.set(piece);
        joined.set(TAIL, piece.length);
        feed(inflater, joined.subarray(0, piece.length + 4), 4, take);
      } else {
        if (piece.length <= slice) feed(inflater, piece, 0, take);
        else for (let at = 0; at < piece.length; at += slice) feed(inflater, piece.subarray(at, at + slice), 0, take);
        if (fin) feed(inflater, TAIL, 4, take);
      }
      if (fin) {
        // With the tail appended, a message ends between blocks (RFC 7692
        // §7.2.1) or with its stream (BFINAL). Inside a block (a stored
        // block owed more bytes, a Huffman block without its end code), our
        // tail was taken as its content and the peer's next message would
        // continue that block.
        if (!inflater.finished && !inflater.atBlockBoundary) {
          throw new WebSocketError("WS_ERR_INFLATE", "invalid compressed data: the message ends inside a deflate block", CloseCode.InvalidPayload);
        }
        // A peer that ended its deflate stream (BFINAL) starts a new one.
        if (noTakeover || inflater.finished) inflater.reset();
      }
    } catch (err) {
      // The shared stream starts clean for the next message, whoever sends it.
      if (shared) inflater.reset();
      if (err instanceof WebSocketError) throw err;
      if (err instanceof LimitError) {
        throw new WebSocketError("WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", "decompressed message too big", CloseCode.MessageTooBig);
      }
      if (err instanceof CompressionError) {
        throw new WebSocketError("WS_ERR_INFLATE", `invalid compressed data: ${err.message}`, CloseCode.InvalidPayload);
      }
      throw err;
    }
    return out;
  }

  /** Frees the zlib streams; `compress` and `decompress` throw `UseAfterCloseError` afterwards. */
  close(): void {
    this.#closed = true;
    this.#deflater?.close();
    this.#inflater?.close();
    this.#deflater = undefined;
    this.#inflater = undefined;
  }

  /** Same as `close()`: frees the native deflate and inflate streams. */
  [Symbol.dispose](): void {
    this.close();
  }
}
