/**
 * 32-bit word views over whole buffers, made once per buffer: the codecs
 * that read or write four bytes at a time (WebSocket masking, UTF-8
 * validation) take the view of a payload's buffer here instead of making
 * one per call. A view costs an allocation (30–300 ns, most on Deno) and a
 * short payload's whole work is about that: a 64 B WebSocket echo made one
 * per message (over io_uring, one over the loop's receive-buffer mapping
 * of megabytes).
 *
 * Views are `Int32Array`, not `Uint32Array`, so words above 2^31 stay
 * small integers (Deno and Bun run word loops 1.2–1.7× faster). The views
 * of the last two buffers up to 256 KiB are kept in two slots (a
 * receiver's read buffer, a sender's slab); larger buffers' views live in
 * a `WeakMap` for as long as their buffer does, so nothing is pinned. A
 * view whose buffer's length changed (resized, detached) is made again.
 *
 * @example
 * ```ts
 * import { wordView } from "./word_view.ts";
 * const bytes = new Uint8Array(64).subarray(8, 40);
 * const words = wordView(bytes.buffer);
 * console.log(words.length, words === wordView(bytes.buffer)); // 16 true
 * ```
 *
 * @module
 */

const SLOT_MAX_BYTES = 256 * 1024;
let bufferA: ArrayBufferLike | null = null;
let viewA = new Int32Array(0);
let bufferB: ArrayBufferLike | null = null;
let viewB = new Int32Array(0);
const large = new WeakMap<ArrayBufferLike, Int32Array>();

/**
 * An `Int32Array` over the whole of `buffer` (its first
 * `byteLength >>> 2` words, from byte 0), kept for the next call (see the
 * module documentation). Word `k` holds bytes `4k … 4k + 3` in the
 * platform's byte order.
 *
 * @example
 * ```ts
 * import { wordView } from "./word_view.ts";
 * const buf = new ArrayBuffer(10);
 * console.log(wordView(buf).length); // 2
 * ```
 */
export function wordView(buffer: ArrayBufferLike): Int32Array {
  const words = buffer.byteLength >>> 2;
  if (buffer === bufferA && viewA.length === words) return viewA;
  if (buffer === bufferB && viewB.length === words) return viewB;
  if (buffer.byteLength > SLOT_MAX_BYTES) {
    const kept = large.get(buffer);
    if (kept !== undefined && kept.length === words) return kept;
    const view = new Int32Array(buffer as ArrayBuffer, 0, words);
    large.set(buffer, view);
    return view;
  }
  const view = new Int32Array(buffer as ArrayBuffer, 0, words);
  bufferB = bufferA;
  viewB = viewA;
  bufferA = buffer;
  viewA = view;
  return view;
}
