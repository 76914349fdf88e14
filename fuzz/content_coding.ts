/**
 * Fuzz target for the content-coding decoder: the first byte picks a
 * Content-Encoding value (single codings, stacks, over-long lists), the
 * second where the body is split between two pushes, the rest is the body.
 * Only `CompressionError`, `LimitError` and `UnsupportedError` may escape;
 * the output never exceeds the size limit, and the decoder is always freed.
 *
 * @module
 */
import { CompressionError, LimitError, UnsupportedError } from "../core/errors.ts";
import { Deflater } from "../core/zlib.ts";
import { ContentDecoder } from "../http/content_coding.ts";
import { concatBytes } from "../core/bytes.ts";

const MAX_OUTPUT = 1024 * 1024;

const CODINGS = [
  "gzip",
  "deflate",
  "br",
  "x-gzip",
  "identity",
  "gzip, gzip",
  "deflate, gzip",
  "gzip, br",
  "br, deflate, gzip",
  Array.from({ length: 6 }, () => "gzip").join(","),
  Array.from({ length: 3276 }, () => "gzip").join(","),
  "zstd",
  "gzip,,  ,deflate",
];

function expected(e: unknown): boolean {
  return e instanceof CompressionError || e instanceof LimitError || e instanceof UnsupportedError;
}

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./content_coding.ts";
 * fuzz(new Uint8Array([0, 3, 0x1f, 0x8b, 8, 0]));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  if (data.length < 2) return;
  const coding = CODINGS[data[0]! % CODINGS.length]!;
  const body = data.subarray(2);
  const cut = Math.min(data[1]!, body.length);
  let dec: ContentDecoder;
  try {
    dec = new ContentDecoder(coding, { maxDecompressedBytes: MAX_OUTPUT });
  } catch (e) {
    if (!expected(e)) throw e;
    return;
  }
  try {
    let produced = 0;
    for (const piece of [body.subarray(0, cut), body.subarray(cut)]) {
      for (const out of dec.push(piece)) produced += out.length;
    }
    for (const out of dec.end()) produced += out.length;
    if (produced > MAX_OUTPUT) throw new Error(`produced ${produced} bytes past the limit`);
  } catch (e) {
    if (!expected(e)) throw e;
  } finally {
    dec.close();
  }
}

function packed(input: string | Uint8Array, format: "gzip" | "zlib" | "raw"): Uint8Array {
  const def = new Deflater({ format });
  const parts = def.push(typeof input === "string" ? new TextEncoder().encode(input) : input, "finish");
  def.close();
  return concatBytes(parts);
}

const withHead = (coding: number, cut: number, body: Uint8Array): Uint8Array => Uint8Array.of(coding, cut, ...body);

/**
 * Valid inputs that mutations start from (used by scripts/fuzz.ts).
 *
 * @example
 * ```ts
 * import { fuzz, seeds } from "./content_coding.ts";
 * for (const s of seeds) fuzz(s);
 * ```
 */
export const seeds: readonly Uint8Array[] = [
  withHead(0, 5, packed("hello hello hello hello", "gzip")),
  withHead(1, 3, packed("deflate body", "zlib")),
  withHead(1, 7, packed("raw deflate body", "raw")),
  withHead(5, 9, packed(packed("twice", "gzip"), "gzip")),
];
