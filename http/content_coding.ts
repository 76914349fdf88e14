/**
 * Content codings (RFC 9110 §8.4.1): gzip and x-gzip (RFC 1952), deflate
 * (the zlib format of RFC 1950; raw deflate as sent by some servers is
 * recognised too) and, where a system libbrotli is found, br (RFC 7932).
 * Decoding and encoding stream chunk by chunk through libz over FFI, and
 * the decompressed size is bounded (`COMPRESSION_LIMITS`): a zip bomb ends
 * in a `LimitError`, not in memory exhaustion. A coding that cannot be
 * handled here throws `UnsupportedError`.
 *
 * @example
 * ```ts
 * import { decodeContent, encodeContent } from "./content_coding.ts";
 * const packed = encodeContent("gzip", new TextEncoder().encode("hello"));
 * console.log(new TextDecoder().decode(decodeContent("gzip", packed))); // "hello"
 * ```
 *
 * @module
 */
import { CompressionError, LimitError, UnsupportedError, UseAfterCloseError } from "../core/errors.ts";
import { COMPRESSION_LIMITS } from "../core/limits.ts";
import { Deflater, Inflater } from "../core/zlib.ts";
import { BrotliDecoder, BrotliEncoder, isBrotliAvailable } from "./brotli.ts";
import { concatBytes } from "../core/bytes.ts";

export { isBrotliAvailable };

/** A streaming transformation of one coding. */
interface Stage {
  push(chunk: Uint8Array): Uint8Array[];
  end(): Uint8Array[];
  close(): void;
}


/**
 * Splits a Content-Encoding (or Transfer-Encoding) value into lower-cased
 * codings, in the order they were applied; stops after `limit` codings
 * (the caller checks whether there were more).
 *
 * @example
 * ```ts
 * import { parseContentEncoding } from "./content_coding.ts";
 * console.log(parseContentEncoding("gzip, BR")); // ["gzip", "br"]
 * ```
 */
export function parseContentEncoding(value: string, limit = Infinity): string[] {
  const out: string[] = [];
  for (let start = 0; start <= value.length && out.length < limit;) {
    let comma = value.indexOf(",", start);
    if (comma === -1) comma = value.length;
    const coding = value.slice(start, comma).trim().toLowerCase();
    if (coding !== "") out.push(coding);
    start = comma + 1;
  }
  return out;
}

/**
 * Tells whether this build can decode and encode `coding` here.
 *
 * @example
 * ```ts
 * import { isCodingSupported } from "./content_coding.ts";
 * console.log(isCodingSupported("gzip"), isCodingSupported("zstd")); // true false
 * ```
 */
export function isCodingSupported(coding: string): boolean {
  const c = coding.toLowerCase();
  if (c === "gzip" || c === "x-gzip" || c === "deflate" || c === "identity") return true;
  return c === "br" && isBrotliAvailable();
}

/** Counts one stage's output as it is made, so a bomb stops inside `push`. */
type OutputBudget = (bytes: number) => void;

/** "deflate" is zlib-wrapped, but some servers send raw deflate: look at the first two bytes. */
class DeflateSniffer implements Stage {
  #inflater: Inflater | null = null;
  #closed = false;
  #head = new Uint8Array(0);
  readonly #max: number;
  readonly #budget: OutputBudget;

  constructor(max: number, budget: OutputBudget) {
    this.#max = max;
    this.#budget = budget;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#inflater) return this.#inflater.push(chunk);
    // Closed before its first two bytes: no new native stream to leak.
    if (this.#closed) throw new UseAfterCloseError("ContentDecoder");
    const head = new Uint8Array(this.#head.length + chunk.length);
    head.set(this.#head);
    head.set(chunk, this.#head.length);
    if (head.length < 2) {
      this.#head = head;
      return [];
    }
    const cmf = head[0]!;
    const flg = head[1]!;
    const zlib = (cmf & 0x0f) === 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 === 0;
    this.#inflater = new Inflater({ format: zlib ? "zlib" : "raw", maxOutputBytes: this.#max, onOutput: this.#budget });
    this.#head = new Uint8Array(0);
    return this.#inflater.push(head);
  }

  end(): Uint8Array[] {
    if (!this.#inflater) {
      if (this.#head.length === 0) return [];
      throw new CompressionError("ERR_ZLIB_TRUNCATED", "compressed stream ended early");
    }
    // Raw deflate is checked too: its last block carries BFINAL.
    return this.#inflater.push(new Uint8Array(0), true);
  }

  close(): void {
    this.#closed = true;
    this.#inflater?.close();
  }
}

class InflateStage implements Stage {
  readonly #inflater: Inflater;
  constructor(max: number, budget: OutputBudget) {
    this.#inflater = new Inflater({ format: "gzip", maxOutputBytes: max, onOutput: budget });
  }
  push(chunk: Uint8Array): Uint8Array[] {
    return this.#inflater.push(chunk);
  }
  end(): Uint8Array[] {
    return this.#inflater.push(new Uint8Array(0), true);
  }
  close(): void {
    this.#inflater.close();
  }
}

class DeflateStage implements Stage {
  readonly #deflater: Deflater;
  constructor(format: "gzip" | "zlib", level: number) {
    this.#deflater = new Deflater({ format, level });
  }
  push(chunk: Uint8Array): Uint8Array[] {
    return this.#deflater.push(chunk, "none");
  }
  flush(): Uint8Array[] {
    return this.#deflater.push(new Uint8Array(0), "sync");
  }
  end(): Uint8Array[] {
    return this.#deflater.push(new Uint8Array(0), "finish");
  }
  close(): void {
    this.#deflater.close();
  }
}

/** Checks that `coding` can be decoded here, without allocating anything. */
function checkDecodable(coding: string): void {
  switch (coding) {
    case "identity":
    case "gzip":
    case "x-gzip":
    case "deflate":
      return;
    case "br":
      if (!isBrotliAvailable()) throw new UnsupportedError("br content coding", "no system libbrotli was found");
      return;
    default:
      throw new UnsupportedError(`${coding} content coding`, "only gzip, x-gzip, deflate and br are known");
  }
}

/** The decoder of a coding `checkDecodable` accepted (identity has none). */
function decoderStage(coding: string, max: number, budget: OutputBudget): Stage {
  switch (coding) {
    case "gzip":
    case "x-gzip":
      return new InflateStage(max, budget);
    case "deflate":
      return new DeflateSniffer(max, budget);
    default:
      return new BrotliDecoder(max, budget);
  }
}

/** Options of a {@link ContentDecoder}. */
export interface ContentDecoderOptions {
  /** Most decoded bytes; default `COMPRESSION_LIMITS.maxDecompressedBytes`. */
  maxDecompressedBytes?: number;
  /**
   * Largest ratio of decoded to encoded bytes once more than
   * `COMPRESSION_LIMITS.ratioCheckAfterBytes` came out; default
   * `COMPRESSION_LIMITS.maxRatio`, Infinity disables. Checked as each
   * output chunk (at most 64 KiB) is made, at every layer of a chain.
   */
  maxRatio?: number;
  /**
   * Most codings in the list (identity included); default
   * `COMPRESSION_LIMITS.maxCodings` (5). More is `LimitError`
   * `ERR_TOO_MANY_CODINGS` before anything is allocated.
   */
  maxCodings?: number;
}

/**
 * A streaming decoder for a Content-Encoding value (one coding or a list,
 * undone in reverse order). Output chunks are owned by the caller.
 *
 * Nothing native is allocated until the first body byte arrives, and the
 * list is capped (`maxCodings`), so a header alone costs no memory; an
 * empty body decodes to nothing (servers send `Content-Encoding: gzip`
 * with an empty 204 or HEAD-like body).
 *
 * @example
 * ```ts
 * import { ContentDecoder, encodeContent } from "./content_coding.ts";
 * const packed = encodeContent("deflate", new TextEncoder().encode("abc"));
 * const dec = new ContentDecoder("deflate", { maxDecompressedBytes: 1024 });
 * const out = [...dec.push(packed.subarray(0, 3)), ...dec.push(packed.subarray(3)), ...dec.end()];
 * dec.close();
 * console.log(out.reduce((n, c) => n + c.length, 0)); // 3
 * ```
 */
export class ContentDecoder {
  /** The codings, in the order they were applied by the sender. */
  readonly codings: readonly string[];
  /** The stages in decoding order, made on the first body byte. */
  #stages: Stage[] | null = null;
  readonly #max: number;
  readonly #maxRatio: number;
  /** Bytes each stage has produced (index as in #stages). */
  #produced: number[] = [];
  #consumed = 0;
  #closed = false;

  /**
   * Creates a decoder for the `Content-Encoding` list `contentEncoding` (undone last to first), capped at `maxDecompressedBytes` of output.
   * @throws UnsupportedError for an unknown coding (or br without libbrotli);
   * LimitError `ERR_TOO_MANY_CODINGS` for a list longer than `maxCodings`.
   */
  constructor(contentEncoding: string, options: ContentDecoderOptions = {}) {
    this.#max = options.maxDecompressedBytes ?? COMPRESSION_LIMITS.maxDecompressedBytes;
    if (!(this.#max >= 0)) throw new RangeError(`maxDecompressedBytes must be >= 0, got ${this.#max}`);
    this.#maxRatio = options.maxRatio ?? COMPRESSION_LIMITS.maxRatio;
    if (!(this.#maxRatio >= 1)) throw new RangeError(`maxRatio must be >= 1, got ${this.#maxRatio}`);
    const maxCodings = options.maxCodings ?? COMPRESSION_LIMITS.maxCodings;
    if (!Number.isInteger(maxCodings) || maxCodings < 1) throw new RangeError(`maxCodings must be a positive integer, got ${maxCodings}`);
    // Count before splitting the whole value: a 64 KiB header of "gzip,"
    // is refused after maxCodings + 1 names.
    const codings = parseContentEncoding(contentEncoding, maxCodings + 1);
    if (codings.length > maxCodings) {
      throw new LimitError("ERR_TOO_MANY_CODINGS", `more than ${maxCodings} content codings`, maxCodings);
    }
    for (const coding of codings) checkDecodable(coding);
    this.codings = codings;
  }

  /**
   * Decodes the next piece of the body.
   *
   * @throws CompressionError on corrupt data; LimitError `ERR_DECOMPRESSED_SIZE`
   * past the size limit, `ERR_DECOMPRESSION_RATIO` past the ratio limit.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#closed) throw new UseAfterCloseError("ContentDecoder");
    if (chunk.length === 0) return [];
    const stages = this.#stages ?? this.#build();
    this.#consumed += chunk.length;
    return this.#run(stages, [chunk], false);
  }

  /**
   * The body ended: returns what is left and checks that every stream ended.
   *
   * @throws CompressionError `ERR_ZLIB_TRUNCATED` when a stream was cut short.
   */
  end(): Uint8Array[] {
    if (this.#closed) throw new UseAfterCloseError("ContentDecoder");
    if (this.#stages === null) return []; // no body byte: nothing was coded
    return this.#run(this.#stages, [], true);
  }

  /** Frees the native state. */
  close(): void {
    this.#closed = true;
    if (this.#stages) for (const s of this.#stages) s.close();
  }

  /** Same as {@link ContentDecoder.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #build(): Stage[] {
    if (this.#closed) throw new UseAfterCloseError("ContentDecoder");
    const stages: Stage[] = [];
    try {
      for (let i = this.codings.length - 1; i >= 0; i--) {
        const coding = this.codings[i]!;
        if (coding === "identity") continue;
        const index = stages.length;
        this.#produced.push(0);
        stages.push(decoderStage(coding, this.#max, (bytes) => this.#charge(index, bytes)));
      }
    } catch (err) {
      for (const s of stages) s.close();
      throw err;
    }
    this.#stages = stages;
    return stages;
  }

  /** Every stage's output is bounded in size and in ratio to the body bytes. */
  #charge(stage: number, bytes: number): void {
    const produced = (this.#produced[stage] ?? 0) + bytes;
    this.#produced[stage] = produced;
    if (produced > this.#max) {
      throw new LimitError("ERR_DECOMPRESSED_SIZE", `decompressed size exceeds ${this.#max} bytes`, this.#max);
    }
    if (produced > COMPRESSION_LIMITS.ratioCheckAfterBytes && produced > this.#consumed * this.#maxRatio) {
      throw new LimitError(
        "ERR_DECOMPRESSION_RATIO",
        `${produced} bytes decoded from ${this.#consumed} exceed the ratio ${this.#maxRatio}:1`,
        this.#maxRatio,
      );
    }
  }

  #run(stages: Stage[], input: Uint8Array[], final: boolean): Uint8Array[] {
    let data = input;
    for (const stage of stages) {
      const next: Uint8Array[] = [];
      for (const c of data) for (const o of stage.push(c)) next.push(o);
      if (final) for (const o of stage.end()) next.push(o);
      data = next;
    }
    return data;
  }
}

/** Options of a {@link ContentEncoder}. */
export interface ContentEncoderOptions {
  /** Compression level: 0–9 for gzip and deflate (default 6), 0–11 for br (default 5). */
  level?: number;
}

/**
 * A streaming encoder for one content coding ("gzip", "x-gzip", "deflate",
 * "br").
 *
 * @example
 * ```ts
 * import { ContentEncoder } from "./content_coding.ts";
 * const enc = new ContentEncoder("gzip");
 * const parts = [...enc.push(new TextEncoder().encode("hi")), ...enc.flush(), ...enc.end()];
 * enc.close();
 * console.log(parts.length > 0); // true
 * ```
 */
export class ContentEncoder {
  /** The coding in use, lower-cased (e.g. "gzip"). */
  readonly coding: string;
  readonly #stage: Stage & { flush(): Uint8Array[] };

  /**
   * Creates an encoder for `coding` ("gzip", "x-gzip", "deflate" or "br").
   * @throws UnsupportedError for a coding that cannot be encoded here.
   */
  constructor(coding: string, options: ContentEncoderOptions = {}) {
    this.coding = coding.toLowerCase();
    switch (this.coding) {
      case "gzip":
      case "x-gzip":
        this.#stage = new DeflateStage("gzip", options.level ?? 6);
        break;
      case "deflate":
        this.#stage = new DeflateStage("zlib", options.level ?? 6);
        break;
      case "br":
        if (!isBrotliAvailable()) throw new UnsupportedError("br content coding", "no system libbrotli was found");
        this.#stage = new BrotliEncoder(options.level ?? 5);
        break;
      default:
        throw new UnsupportedError(`${coding} content coding`, "only gzip, x-gzip, deflate and br can be encoded");
    }
  }

  /** Compresses a piece of the body (output may be held back until flush or end). */
  push(chunk: Uint8Array): Uint8Array[] {
    return this.#stage.push(chunk);
  }

  /** Forces out everything pushed so far (for streaming responses). */
  flush(): Uint8Array[] {
    return this.#stage.flush();
  }

  /** Ends the stream. */
  end(): Uint8Array[] {
    return this.#stage.end();
  }

  /** Frees the native state. */
  close(): void {
    this.#stage.close();
  }

  /** Same as {@link ContentEncoder.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Decodes a whole body.
 *
 * @throws CompressionError, LimitError or UnsupportedError.
 * @example
 * ```ts
 * import { decodeContent } from "./content_coding.ts";
 * console.log(decodeContent("identity", new Uint8Array([1, 2])).length); // 2
 * ```
 */
export function decodeContent(contentEncoding: string, data: Uint8Array, options: ContentDecoderOptions = {}): Uint8Array {
  const dec = new ContentDecoder(contentEncoding, options);
  try {
    return concatBytes([...dec.push(data), ...dec.end()]);
  } finally {
    dec.close();
  }
}

/**
 * Encodes a whole body.
 *
 * @example
 * ```ts
 * import { encodeContent } from "./content_coding.ts";
 * console.log(encodeContent("gzip", new Uint8Array(1000)).length < 100); // true
 * ```
 */
export function encodeContent(coding: string, data: Uint8Array, options: ContentEncoderOptions = {}): Uint8Array {
  const enc = new ContentEncoder(coding, options);
  try {
    return concatBytes([...enc.push(data), ...enc.end()]);
  } finally {
    enc.close();
  }
}
