/**
 * Fuzz target for the HPACK decoder: any bytes, decoded as a sequence of
 * header blocks on one decoder (the first byte picks limits). Only
 * HPACKError may escape the decoder; anything else is a defect.
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
  const dec = new HPACKDecoder({
    maxTableSize: mode & 1 ? 256 : 4096,
    maxHeaderListSize: mode & 2 ? 512 : 65536,
    maxStringBytes: mode & 4 ? 64 : 65536,
  });
  // Blocks are separated at 0xff 0x00 pairs (so mutations can add blocks).
  let start = 1;
  for (let i = 1; i <= data.length; i++) {
    if (i === data.length || (data[i] === 0xff && data[i + 1] === 0x00)) {
      try {
        const fields = dec.decode(data.subarray(start, i));
        if (fields.length % 2 !== 0) throw new Error("odd field array");
      } catch (e) {
        if (!(e instanceof HPACKError)) throw e;
      }
      if (dec.table.size > dec.table.maxSize) throw new Error("table above its maximum");
      start = i + 2;
      i++;
    }
  }
}
