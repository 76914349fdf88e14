/**
 * The body pieces one read delivered, handed on as one chunk: a read of a
 * body sent in tiny pieces (one-byte chunks, 17-byte DATA frames) becomes
 * one queued chunk, one handler call and one timer move per read, not per
 * piece (a stream queue of 100,000 one-byte chunks costs quadratic time to
 * drain on Node, and seconds of CPU and hundreds of MB of heap to fill).
 * Used by the HTTP/1.1 client and server and the HTTP/2 server. What is
 * gathered is bounded by what one read holds.
 *
 * @example
 * ```ts
 * import { BodyGather } from "./body_gather.ts";
 * const gather = new BodyGather();
 * gather.add(Uint8Array.of(1, 2));
 * gather.add(Uint8Array.of(3));
 * console.log(gather.count, gather.bytes); // 2 3
 * console.log(gather.take()); // Uint8Array(3) [1, 2, 3]
 * console.log(gather.take()); // undefined
 * ```
 *
 * @module
 */
import { concatBytes } from "../core/bytes.ts";

/**
 * Gathers the body pieces of one read (views that need stay valid only
 * until {@link BodyGather.take}) and hands them on joined.
 *
 * @example
 * ```ts
 * import { BodyGather } from "./body_gather.ts";
 * const gather = new BodyGather();
 * const read = Uint8Array.of(9, 8, 7);
 * gather.add(read.subarray(0, 1));
 * const mine = gather.takeCopy()!; // a lone piece is copied: the read's memory may be reused
 * console.log(mine, mine.buffer !== read.buffer); // Uint8Array(1) [9] true
 * ```
 */
export class BodyGather {
  #parts: Uint8Array[] = [];
  #bytes = 0;

  /** Pieces gathered since the last take. */
  get count(): number {
    return this.#parts.length;
  }

  /** Bytes gathered since the last take. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Adds a piece (kept as the view it is: it must stay valid until the next take or clear). */
  add(piece: Uint8Array): void {
    this.#parts.push(piece);
    this.#bytes += piece.length;
  }

  /**
   * Everything gathered as one array, and forgets it: a lone piece as it is
   * (a view of the caller's memory), several joined into a fresh array;
   * `undefined` when nothing was gathered.
   */
  take(): Uint8Array | undefined {
    const parts = this.#parts;
    const n = parts.length;
    if (n === 0) return undefined;
    const out = n === 1 ? parts[0]! : concatBytes(parts, this.#bytes);
    parts.length = 0;
    this.#bytes = 0;
    return out;
  }

  /** Like {@link BodyGather.take}, but the result never shares memory with a piece (a lone piece is copied too). */
  takeCopy(): Uint8Array | undefined {
    const lone = this.#parts.length === 1;
    const out = this.take();
    return lone ? out!.slice() : out;
  }

  /** Drops what was gathered. */
  clear(): void {
    this.#parts.length = 0;
    this.#bytes = 0;
  }
}
