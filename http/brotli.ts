/**
 * Brotli (RFC 7932) through the system's libbrotlidec / libbrotlienc, when
 * they are installed: streaming decoder with an output bound and streaming
 * encoder, their state and buffers in native memory freed exactly once.
 * `isBrotliAvailable()` tells whether the libraries load;
 * `FFINET_LIBBROTLIDEC` / `FFINET_LIBBROTLIENC` override the paths.
 *
 * @example
 * ```ts
 * import { BrotliDecoder, BrotliEncoder, isBrotliAvailable } from "./brotli.ts";
 * if (isBrotliAvailable()) {
 *   const enc = new BrotliEncoder(5);
 *   const packed = [...enc.push(new TextEncoder().encode("hello")), ...enc.end()];
 *   const dec = new BrotliDecoder(1024);
 *   console.log(packed.flatMap((p) => dec.push(p)).length > 0, dec.end().length); // true 0
 *   enc.close();
 *   dec.close();
 * }
 * ```
 *
 * @module
 */
import { CompressionError, FFIUnavailableError, LimitError, UseAfterCloseError } from "../core/errors.ts";
import { libbrotlidec, libbrotlienc } from "../ffi/libbrotli.ts";
import { writePointer } from "../ffi/marshal.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import type { Pointer } from "../ffi/types.ts";

let available: boolean | undefined;

/**
 * Tells whether libbrotlidec and libbrotlienc can be loaded here.
 *
 * @example
 * ```ts
 * import { isBrotliAvailable } from "./brotli.ts";
 * console.log(typeof isBrotliAvailable()); // "boolean"
 * ```
 */
export function isBrotliAvailable(): boolean {
  if (available === undefined) {
    try {
      libbrotlidec();
      libbrotlienc();
      available = true;
    } catch (err) {
      if (!(err instanceof FFIUnavailableError)) throw err;
      available = false;
    }
  }
  return available;
}

const CHUNK = 64 * 1024;
// Cells the C functions read and write: available_in, next_in, available_out, next_out, total_out.
const AVAIL_IN = 0;
const NEXT_IN = 8;
const AVAIL_OUT = 16;
const NEXT_OUT = 24;
const TOTAL_OUT = 32;

const DECODER_ERROR = 0;
const DECODER_SUCCESS = 1;
const DECODER_NEEDS_MORE_OUTPUT = 3;
const OP_PROCESS = 0;
const OP_FLUSH = 1;
const OP_FINISH = 2;
const PARAM_QUALITY = 1;

interface BrotliMemory {
  state: Pointer | null;
  cells: NativeBuffer;
  input: NativeBuffer;
  output: NativeBuffer;
  destroy: (state: Pointer) => void;
}

function release(m: BrotliMemory): void {
  if (m.state !== null) {
    m.destroy(m.state);
    m.state = null;
  }
  if (!m.cells.freed) m.cells.free();
  if (!m.input.freed) m.input.free();
  if (!m.output.freed) m.output.free();
}

const registry = new FinalizationRegistry<BrotliMemory>(release);

function allocate(state: Pointer | null, destroy: (s: Pointer) => void, what: string): BrotliMemory {
  if (state === null) throw new CompressionError("ERR_BROTLI_MEMORY", `${what}: out of memory`);
  return {
    state,
    cells: NativeBuffer.alloc(40),
    input: NativeBuffer.alloc(CHUNK),
    output: NativeBuffer.alloc(CHUNK),
    destroy,
  };
}

abstract class BrotliStream {
  protected readonly m: BrotliMemory;

  constructor(m: BrotliMemory) {
    this.m = m;
    registry.register(this, m, m);
  }

  protected live(name: string): Pointer {
    if (this.m.state === null) throw new UseAfterCloseError(name);
    return this.m.state;
  }

  protected setInput(chunk: Uint8Array, offset: number): number {
    const n = Math.min(CHUNK, chunk.length - offset);
    this.m.input.bytes.set(chunk.subarray(offset, offset + n));
    const v = this.m.cells.view;
    v.setBigUint64(AVAIL_IN, BigInt(n), true);
    writePointer(v, NEXT_IN, this.m.input.pointer);
    return n;
  }

  protected resetOutput(): void {
    const v = this.m.cells.view;
    v.setBigUint64(AVAIL_OUT, BigInt(CHUNK), true);
    writePointer(v, NEXT_OUT, this.m.output.pointer);
  }

  protected availIn(): number {
    return Number(this.m.cells.view.getBigUint64(AVAIL_IN, true));
  }

  protected produced(): number {
    return CHUNK - Number(this.m.cells.view.getBigUint64(AVAIL_OUT, true));
  }

  /** Frees the native state; a second call does nothing. */
  close(): void {
    if (this.m.state === null && this.m.cells.freed) return;
    registry.unregister(this.m);
    release(this.m);
  }
}

/**
 * A streaming Brotli decoder whose output is bounded by `maxOutputBytes`.
 *
 * @example
 * ```ts
 * import { BrotliDecoder, isBrotliAvailable } from "./brotli.ts";
 * if (isBrotliAvailable()) new BrotliDecoder(1 << 20).close();
 * ```
 */
export class BrotliDecoder extends BrotliStream {
  readonly #max: number;
  readonly #onOutput: ((bytes: number) => void) | undefined;
  #total = 0;
  #finished = false;

  /**
   * @param maxOutputBytes most decoded bytes (`ERR_DECOMPRESSED_SIZE` past it)
   * @param onOutput called with each output chunk's size as it is made (a
   * budget that throws stops a bomb inside one `push`)
   */
  constructor(maxOutputBytes: number, onOutput?: (bytes: number) => void) {
    const lib = libbrotlidec();
    super(allocate(lib.BrotliDecoderCreateInstance(null, null, null), (s) => lib.BrotliDecoderDestroyInstance(s), "BrotliDecoder"));
    this.#max = maxOutputBytes;
    this.#onOutput = onOutput;
  }

  /** Decodes compressed bytes. */
  push(chunk: Uint8Array): Uint8Array[] {
    const state = this.live("BrotliDecoder");
    const lib = libbrotlidec();
    const out: Uint8Array[] = [];
    const c = this.m.cells;
    for (let offset = 0; offset < chunk.length;) {
      if (this.#finished) throw new CompressionError("ERR_BROTLI_TRAILING_DATA", "data after the end of the brotli stream");
      const n = this.setInput(chunk, offset);
      for (;;) {
        this.resetOutput();
        const rc = lib.BrotliDecoderDecompressStream(
          state,
          c.pointerAt(AVAIL_IN),
          c.pointerAt(NEXT_IN),
          c.pointerAt(AVAIL_OUT),
          c.pointerAt(NEXT_OUT),
          c.pointerAt(TOTAL_OUT),
        );
        const produced = this.produced();
        if (produced > 0) {
          this.#total += produced;
          if (this.#total > this.#max) {
            throw new LimitError("ERR_DECOMPRESSED_SIZE", `decompressed size exceeds ${this.#max} bytes`, this.#max);
          }
          this.#onOutput?.(produced);
          out.push(this.m.output.bytes.slice(0, produced));
        }
        if (rc === DECODER_ERROR) {
          throw new CompressionError(
            "ERR_BROTLI_DATA",
            `invalid brotli data (error ${lib.BrotliDecoderGetErrorCode(state)})`,
          );
        }
        if (rc === DECODER_SUCCESS) {
          this.#finished = true;
          break;
        }
        if (rc !== DECODER_NEEDS_MORE_OUTPUT) break; // needs more input
      }
      const left = this.availIn();
      offset += n - left;
      if (left > 0 && this.#finished) {
        throw new CompressionError("ERR_BROTLI_TRAILING_DATA", "data after the end of the brotli stream");
      }
    }
    return out;
  }

  /** The input ended: the stream must be complete. */
  end(): Uint8Array[] {
    this.live("BrotliDecoder");
    if (!this.#finished) throw new CompressionError("ERR_BROTLI_TRUNCATED", "brotli stream ended early");
    return [];
  }
}

/**
 * A streaming Brotli encoder (quality 0–11).
 *
 * @example
 * ```ts
 * import { BrotliEncoder, isBrotliAvailable } from "./brotli.ts";
 * if (isBrotliAvailable()) new BrotliEncoder(4).close();
 * ```
 */
export class BrotliEncoder extends BrotliStream {
  constructor(quality: number) {
    if (!Number.isInteger(quality) || quality < 0 || quality > 11) {
      throw new RangeError(`brotli quality must be an integer from 0 to 11, got ${quality}`);
    }
    const lib = libbrotlienc();
    super(allocate(lib.BrotliEncoderCreateInstance(null, null, null), (s) => lib.BrotliEncoderDestroyInstance(s), "BrotliEncoder"));
    lib.BrotliEncoderSetParameter(this.m.state, PARAM_QUALITY, quality);
  }

  #run(chunk: Uint8Array, op: number): Uint8Array[] {
    const state = this.live("BrotliEncoder");
    const lib = libbrotlienc();
    const c = this.m.cells;
    const out: Uint8Array[] = [];
    let offset = 0;
    do {
      const n = this.setInput(chunk, offset);
      const last = offset + n >= chunk.length;
      for (;;) {
        this.resetOutput();
        const ok = lib.BrotliEncoderCompressStream(
          state,
          last ? op : OP_PROCESS,
          c.pointerAt(AVAIL_IN),
          c.pointerAt(NEXT_IN),
          c.pointerAt(AVAIL_OUT),
          c.pointerAt(NEXT_OUT),
          c.pointerAt(TOTAL_OUT),
        );
        if (!ok) throw new CompressionError("ERR_BROTLI_ENCODE", "brotli encoding failed");
        const produced = this.produced();
        if (produced > 0) out.push(this.m.output.bytes.slice(0, produced));
        if (this.availIn() === 0 && !lib.BrotliEncoderHasMoreOutput(state)) break;
      }
      offset += n;
    } while (offset < chunk.length);
    return out;
  }

  /** Compresses bytes (output may be held back). */
  push(chunk: Uint8Array): Uint8Array[] {
    return chunk.length === 0 ? [] : this.#run(chunk, OP_PROCESS);
  }

  /** Forces out everything pushed so far. */
  flush(): Uint8Array[] {
    return this.#run(new Uint8Array(0), OP_FLUSH);
  }

  /** Ends the stream. */
  end(): Uint8Array[] {
    return this.#run(new Uint8Array(0), OP_FINISH);
  }
}
