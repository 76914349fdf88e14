/**
 * Fuzz target for the HTTP/2 frame reader and the stateless frame checks.
 * Only HTTP2Error / HTTP2StreamError may escape.
 *
 * @module
 */
import { HTTP2Error } from "../core/errors.ts";
import { FrameReader, validateFrame } from "../http/h2/frames.ts";

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./h2_frames.ts";
 * fuzz(new Uint8Array([0, 0, 0, 4, 1, 0, 0, 0, 0]));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  const reader = new FrameReader(16384);
  const cut = data.length > 0 ? data[0]! % (data.length + 1) : 0;
  try {
    for (const part of [data.subarray(0, cut), data.subarray(cut)]) {
      reader.push(part, (f) => {
        try {
          const payload = validateFrame(f);
          if (payload.length > f.length) throw new Error("payload longer than the frame");
        } catch (e) {
          if (!(e instanceof HTTP2Error)) throw e;
        }
      });
    }
  } catch (e) {
    if (!(e instanceof HTTP2Error)) throw e;
  }
  if (reader.buffered > 16384 + 9) throw new Error("reader buffers more than one frame");
}
