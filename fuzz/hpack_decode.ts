/**
 * Fuzz target for the HPACK decoder: any bytes, decoded as a sequence of
 * header blocks on one decoder (the first byte picks limits). Only
 * HPACKError may escape the decoder; anything else is a defect. A second
 * decoder without its string cache decodes the same blocks: both must give
 * the same fields, never-indexed flags and error codes.
 *
 * @module
 */
import { HPACKError } from "../core/errors.ts";
import { HPACKDecoder } from "../http/hpack/decoder.ts";

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./hpack_decode.ts";
 * fuzz(new Uint8Array([0x82, 0x86]));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  if (data.length === 0) return;
  const mode = data[0]!;
  const options = {
    maxTableSize: mode & 1 ? 256 : 4096,
    maxHeaderListSize: mode & 2 ? 512 : 65536,
    maxStringBytes: mode & 4 ? 64 : 65536,
  };
  const dec = new HPACKDecoder(options);
  const plain = new HPACKDecoder({ ...options, stringCache: false });
  // Blocks are separated at 0xff 0x00 pairs (so mutations can add blocks).
  let start = 1;
  for (let i = 1; i <= data.length; i++) {
    if (i === data.length || (data[i] === 0xff && data[i + 1] === 0x00)) {
      const block = data.subarray(start, i);
      const got = decodeOrCode(dec, block);
      const want = decodeOrCode(plain, block);
      if (got !== want) throw new Error(`string cache changed the result: ${got} instead of ${want}`);
      if (dec.table.size > dec.table.maxSize) throw new Error("table above its maximum");
      start = i + 2;
      i++;
    }
  }
}

/** The block's fields and never-indexed flags as JSON, or the HPACKError's code (any other error escapes). */
function decodeOrCode(dec: HPACKDecoder, block: Uint8Array): string {
  try {
    const flags: boolean[] = [];
    const fields = dec.decode(block, flags);
    if (fields.length % 2 !== 0) throw new Error("odd field array");
    return JSON.stringify([fields, flags]);
  } catch (e) {
    if (!(e instanceof HPACKError)) throw e;
    return e.code;
  }
}
