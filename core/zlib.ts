/**
 * Streaming zlib over FFI: {@link Inflater} and {@link Deflater} keep their
 * z_stream and I/O buffers in native memory, bound every output, and free
 * everything exactly once.
 *
 * @module
 */
import { libz, Z, Z_STREAM } from "../ffi/libz.ts";
import { cString, readCString, readPointer, writePointer } from "../ffi/marshal.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { CompressionError, LimitError, UseAfterCloseError } from "./errors.ts";
import { COMPRESSION_LIMITS } from "./limits.ts";

/** Stream framing: gzip (RFC 1952), zlib (RFC 1950), raw deflate (RFC 1951). */
export type ZlibFormat = "gzip" | "zlib" | "raw";

/** Flush mode of {@link Deflater.push}. */
export type DeflateFlush = "none" | "sync" | "full" | "finish";

const CHUNK = 64 * 1024;
const FLUSH: Record<DeflateFlush, number> = {
  none: Z.NO_FLUSH,
  sync: Z.SYNC_FLUSH,
  full: Z.FULL_FLUSH,
  finish: Z.FINISH,
};

let versionCString: Uint8Array | undefined;
function zlibVersion(): Uint8Array {
  return (versionCString ??= cString(readCString(libz().zlibVersion())));
}

function windowBitsFor(format: ZlibFormat | "auto", bits: number): number {
  if (!Number.isInteger(bits) || bits < 8 || bits > 15) {
    throw new RangeError(`windowBits must be an integer from 8 to 15, got ${bits}`);
  }
  if (format === "raw") return -bits;
  if (format === "gzip") return bits + 16;
  if (format === "auto") return bits + 32;
  return bits;
}

interface StreamMemory {
  stream: NativeBuffer;
  input: NativeBuffer;
  output: NativeBuffer;
  end: (strm: NativeBuffer["pointer"]) => number;
  open: boolean;
}

function release(m: StreamMemory): void {
  if (m.open) {
    m.open = false;
    m.end(m.stream.pointer);
  }
  m.stream.free();
  m.input.free();
  m.output.free();
}

// Streams whose owner was collected without close() end here.
const registry = new FinalizationRegistry<StreamMemory>(release);

function allocate(end: StreamMemory["end"]): StreamMemory {
  return {
    stream: NativeBuffer.alloc(Z_STREAM.size),
    input: NativeBuffer.alloc(CHUNK),
    output: NativeBuffer.alloc(CHUNK),
    end,
    open: false,
  };
}

/** Marks the stream initialised and lets the registry end it if `owner` is dropped. */
function track(owner: object, m: StreamMemory): void {
  m.open = true;
  registry.register(owner, m, m);
}

/** Ends and frees a stream once; later calls do nothing. */
function closeStream(m: StreamMemory): void {
  if (m.stream.freed) return;
  registry.unregister(m);
  release(m);
}

/** The stream's memory, or UseAfterCloseError naming `what` once closed. */
function liveStream(m: StreamMemory, what: string): StreamMemory {
  if (m.stream.freed) throw new UseAfterCloseError(what);
  return m;
}

function zError(m: StreamMemory, code: number, what: string): CompressionError {
  const msg = readCString(readPointer(m.stream.view, Z_STREAM.msg), 256);
  const name = code === Z.DATA_ERROR
    ? "ERR_ZLIB_DATA"
    : code === Z.MEM_ERROR
    ? "ERR_ZLIB_MEMORY"
    : code === Z.NEED_DICT
    ? "ERR_ZLIB_NEED_DICT"
    : "ERR_ZLIB_STREAM";
  return new CompressionError(name, `${what} failed (${code})${msg ? `: ${msg}` : ""}`);
}

/** Options of an {@link Inflater}. */
export interface InflaterOptions {
  /** "auto" accepts gzip or zlib framing. Default "auto". */
  format?: ZlibFormat | "auto";
  /** Window size as a power of two, 8–15. Default 15. */
  windowBits?: number;
  /** Most decompressed bytes over the stream's life (until reset). */
  maxOutputBytes?: number;
  /**
   * Called with the size of each output chunk (at most 64 KiB) as inflate
   * produces it, before the next one is made: a budget that throws here
   * stops a bomb inside one `push`, not after it.
   */
  onOutput?: (bytes: number) => void;
}

/**
 * A streaming decompressor with a bound on its output.
 *
 * @example
 * ```ts
 * import { Deflater, Inflater } from "./zlib.ts";
 * const def = new Deflater({ format: "gzip" });
 * const packed = def.push(new TextEncoder().encode("hello"), "finish");
 * const inf = new Inflater({ format: "gzip", maxOutputBytes: 1024 });
 * const parts = packed.flatMap((p) => inf.push(p));
 * console.log(inf.finished, new TextDecoder().decode(parts[0])); // true "hello"
 * def.close();
 * inf.close();
 * ```
 */
export class Inflater {
  #m: StreamMemory;
  #format: ZlibFormat | "auto";
  #windowBits: number;
  #max: number;
  #onOutput: ((bytes: number) => void) | undefined;
  #produced = 0;
  #finished = false;
  #trailing = 0;
  /** A gzip member ended and a zero byte followed: padding, the rest is not read. */
  #padded = false;

  /** Creates an inflater for `options.format` (default "auto": zlib or gzip), capped at `maxOutputBytes` of output; throws RangeError for a negative cap. */
  constructor(options: InflaterOptions = {}) {
    this.#onOutput = options.onOutput;
    this.#format = options.format ?? "auto";
    this.#windowBits = windowBitsFor(this.#format, options.windowBits ?? 15);
    this.#max = options.maxOutputBytes ?? COMPRESSION_LIMITS.maxDecompressedBytes;
    if (!(this.#max >= 0)) throw new RangeError(`maxOutputBytes must be >= 0, got ${this.#max}`);
    const z = libz();
    this.#m = allocate((p) => z.inflateEnd(p));
    const rc = z.inflateInit2_(this.#m.stream.pointer, this.#windowBits, zlibVersion(), Z_STREAM.size);
    if (rc !== Z.OK) {
      const err = zError(this.#m, rc, "inflateInit2");
      release(this.#m);
      throw err;
    }
    track(this, this.#m);
  }

  /** Whether the end of the compressed stream has been seen. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * How many bytes at the end of the last push followed the end of a raw or
   * zlib stream (the push then threw `ERR_ZLIB_TRAILING_DATA`); 0 otherwise.
   */
  get trailingBytes(): number {
    return this.#trailing;
  }

  /**
   * Whether the last push stopped between deflate blocks (zlib's
   * `data_type` bit 128: inflate waits for a block header), not inside one
   * (a stored block still owed bytes, a Huffman block without its end
   * code). A permessage-deflate message must end there (RFC 7692 §7.2.1).
   * Meaningless before the first push after a reset.
   *
   * @example
   * ```ts
   * import { Inflater } from "./zlib.ts";
   * const inf = new Inflater({ format: "raw" });
   * inf.push(new Uint8Array([0x00, 0x00, 0x00, 0xff, 0xff])); // an empty stored block
   * console.log(inf.atBlockBoundary); // true
   * inf.push(new Uint8Array([0x00, 0x05, 0x00, 0xfa, 0xff, 0x61])); // 1 of 5 stored bytes
   * console.log(inf.atBlockBoundary); // false
   * inf.close();
   * ```
   */
  get atBlockBoundary(): boolean {
    return (this.#live().stream.view.getInt32(Z_STREAM.data_type, true) & 128) !== 0;
  }

  /** Decompressed bytes produced since construction or the last reset. */
  get bytesProduced(): number {
    return this.#produced;
  }

  /**
   * Feeds compressed bytes; returns the decompressed output (copies owned by
   * the caller). `final` says no more input follows: a stream that has not
   * ended is then an error (`ERR_ZLIB_TRUNCATED`) in every format, raw
   * deflate included — its last block carries the BFINAL bit. Streams that
   * never end (permessage-deflate messages) simply never pass `final`.
   * In gzip framing ("gzip", "auto") another member may follow one that
   * ended (RFC 1952 §2.2), and zero bytes there are padding: they and
   * everything after them are ignored, as Node's gunzip does.
   */
  push(chunk: Uint8Array, final = false): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.#inflate(chunk, final, (view) => out.push(view.slice()));
    return out;
  }

  /**
   * Like {@link Inflater.push}, but hands each output chunk to `sink` as a
   * view of the inflater's own output buffer, valid only during the call:
   * a caller that copies it into its final buffer makes no garbage.
   *
   * @example
   * ```ts
   * import { Deflater, Inflater } from "./zlib.ts";
   * const def = new Deflater({ format: "zlib" });
   * const packed = def.push(new Uint8Array(100_000), "finish");
   * const inf = new Inflater({ format: "zlib" });
   * const whole = new Uint8Array(100_000);
   * let at = 0;
   * for (const p of packed) inf.pushInto(p, false, (view) => { whole.set(view, at); at += view.length; });
   * console.log(at, inf.finished); // 100000 true
   * def.close();
   * inf.close();
   * ```
   */
  pushInto(chunk: Uint8Array, final: boolean, sink: (view: Uint8Array) => void): void {
    this.#inflate(chunk, final, sink);
  }

  #inflate(chunk: Uint8Array, final: boolean, sink: (view: Uint8Array) => void): void {
    const m = this.#live();
    const z = libz();
    const view = m.stream.view;
    const inBytes = m.input.bytes;
    const outBytes = m.output.bytes;
    this.#trailing = 0;
    for (let offset = 0; offset < chunk.length && !this.#padded;) {
      if (this.#finished) {
        if (this.#format === "gzip" || this.#format === "auto") {
          // Zero bytes after a member are padding (some servers and tools
          // pad gzip output to a block size): they and whatever follows are
          // not read, as zlib's gunzip in Node and urllib3 take them. No
          // member starts with 0 (RFC 1952's ID1 is 0x1f).
          if (chunk[offset] === 0) {
            this.#padded = true;
            break;
          }
          // Another gzip member follows (RFC 1952 §2.2).
          z.inflateReset(m.stream.pointer);
          this.#finished = false;
        } else {
          this.#trailing = chunk.length - offset;
          throw new CompressionError("ERR_ZLIB_TRAILING_DATA", "data after the end of the compressed stream");
        }
      }
      const n = Math.min(CHUNK, chunk.length - offset);
      inBytes.set(chunk.subarray(offset, offset + n));
      writePointer(view, Z_STREAM.next_in, m.input.pointer);
      view.setUint32(Z_STREAM.avail_in, n, true);
      for (;;) {
        writePointer(view, Z_STREAM.next_out, m.output.pointer);
        view.setUint32(Z_STREAM.avail_out, CHUNK, true);
        const rc = z.inflate(m.stream.pointer, Z.NO_FLUSH);
        const produced = CHUNK - view.getUint32(Z_STREAM.avail_out, true);
        if (produced > 0) {
          this.#produced += produced;
          if (this.#produced > this.#max) {
            throw new LimitError(
              "ERR_DECOMPRESSED_SIZE",
              `decompressed size exceeds ${this.#max} bytes`,
              this.#max,
            );
          }
          // Either callback may close this inflater: its native memory is
          // then gone (and on Node 20 the views over it cannot be detached,
          // so the next copy into the input buffer would write freed heap).
          if (this.#onOutput !== undefined) {
            this.#onOutput(produced);
            if (m.stream.freed) throw new UseAfterCloseError("Inflater");
          }
          sink(outBytes.subarray(0, produced));
          if (m.stream.freed) throw new UseAfterCloseError("Inflater");
        }
        if (rc === Z.STREAM_END) {
          this.#finished = true;
          break;
        }
        if (rc === Z.BUF_ERROR) break; // needs more input
        if (rc !== Z.OK) throw zError(m, rc, "inflate");
        if (produced < CHUNK && view.getUint32(Z_STREAM.avail_in, true) === 0) break;
      }
      const left = view.getUint32(Z_STREAM.avail_in, true);
      offset += n - left;
      if (left > 0 && !this.#finished) throw zError(m, Z.STREAM_ERROR, "inflate");
    }
    if (final && !this.#finished) {
      throw new CompressionError("ERR_ZLIB_TRUNCATED", "compressed stream ended early");
    }
  }

  /** Starts a new stream with the same settings. */
  reset(): void {
    const m = this.#live();
    const rc = libz().inflateReset2(m.stream.pointer, this.#windowBits);
    if (rc !== Z.OK) throw zError(m, rc, "inflateReset2");
    this.#produced = 0;
    this.#finished = false;
    this.#padded = false;
  }

  /** Frees the native state; a second call does nothing. */
  close(): void {
    closeStream(this.#m);
  }

  /** Same as {@link Inflater.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #live(): StreamMemory {
    return liveStream(this.#m, "Inflater");
  }
}

/** Options of a {@link Deflater}. */
export interface DeflaterOptions {
  /** Framing; default "gzip". */
  format?: ZlibFormat;
  /** Compression level 0–9, or -1 for zlib's default. */
  level?: number;
  /** Window size as a power of two, 9–15 (8 is raised to 9, as zlib does). */
  windowBits?: number;
  /** Memory level 1–9; default 8. */
  memLevel?: number;
}

/**
 * A streaming compressor.
 *
 * @example
 * ```ts
 * import { Deflater } from "./zlib.ts";
 * const def = new Deflater({ format: "raw", windowBits: 15 });
 * const frame = def.push(new TextEncoder().encode("hi hi hi"), "sync");
 * console.log(frame.length > 0); // true
 * def.close();
 * ```
 */
export class Deflater {
  #m: StreamMemory;

  /** Creates a deflater for `options.format` (default "gzip") at `level` (-1..9, default -1) and `memLevel` (1..9, default 8); throws RangeError for values out of range. */
  constructor(options: DeflaterOptions = {}) {
    const format = options.format ?? "gzip";
    const level = options.level ?? Z.DEFAULT_COMPRESSION;
    const memLevel = options.memLevel ?? 8;
    if (!Number.isInteger(level) || level < -1 || level > 9) {
      throw new RangeError(`level must be an integer from -1 to 9, got ${level}`);
    }
    if (!Number.isInteger(memLevel) || memLevel < 1 || memLevel > 9) {
      throw new RangeError(`memLevel must be an integer from 1 to 9, got ${memLevel}`);
    }
    // zlib's deflate does not support a 256-byte window and raises 8 to 9.
    const bits = windowBitsFor(format, Math.max(9, options.windowBits ?? 15));
    const z = libz();
    this.#m = allocate((p) => z.deflateEnd(p));
    const rc = z.deflateInit2_(
      this.#m.stream.pointer,
      level,
      Z.DEFLATED,
      bits,
      memLevel,
      Z.DEFAULT_STRATEGY,
      zlibVersion(),
      Z_STREAM.size,
    );
    if (rc !== Z.OK) {
      const err = zError(this.#m, rc, "deflateInit2");
      release(this.#m);
      throw err;
    }
    track(this, this.#m);
  }

  /**
   * Compresses `chunk`; `flush` decides how much output is forced out:
   * "sync" ends on a byte boundary with an empty stored block
   * (00 00 ff ff), "finish" ends the stream.
   */
  push(chunk: Uint8Array, flush: DeflateFlush = "none"): Uint8Array[] {
    const m = this.#live();
    const z = libz();
    const out: Uint8Array[] = [];
    const view = m.stream.view;
    const inBytes = m.input.bytes;
    const outBytes = m.output.bytes;
    const mode = FLUSH[flush];
    if (mode === undefined) throw new TypeError(`unknown flush mode ${String(flush)}`);
    let offset = 0;
    do {
      const n = Math.min(CHUNK, chunk.length - offset);
      const last = offset + n >= chunk.length;
      inBytes.set(chunk.subarray(offset, offset + n));
      writePointer(view, Z_STREAM.next_in, m.input.pointer);
      view.setUint32(Z_STREAM.avail_in, n, true);
      const f = last ? mode : Z.NO_FLUSH;
      for (;;) {
        writePointer(view, Z_STREAM.next_out, m.output.pointer);
        view.setUint32(Z_STREAM.avail_out, CHUNK, true);
        const rc = z.deflate(m.stream.pointer, f);
        if (rc !== Z.OK && rc !== Z.STREAM_END && rc !== Z.BUF_ERROR) throw zError(m, rc, "deflate");
        const produced = CHUNK - view.getUint32(Z_STREAM.avail_out, true);
        if (produced > 0) out.push(outBytes.slice(0, produced));
        // Output space left over means deflate has said all it can for now.
        if (produced < CHUNK) break;
      }
      offset += n;
    } while (offset < chunk.length);
    return out;
  }

  /** Starts a new stream with the same settings. */
  reset(): void {
    const m = this.#live();
    const rc = libz().deflateReset(m.stream.pointer);
    if (rc !== Z.OK) throw zError(m, rc, "deflateReset");
  }

  /** Frees the native state; a second call does nothing. */
  close(): void {
    closeStream(this.#m);
  }

  /** Same as {@link Deflater.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #live(): StreamMemory {
    return liveStream(this.#m, "Deflater");
  }
}
