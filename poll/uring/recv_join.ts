/**
 * `ReceiveJoin`: one loop's area where a connection's consecutive receive
 * completions are joined into one delivery.
 *
 * A multishot recv takes one provided buffer (16 KiB by default) per
 * completion, so what readiness I/O reads with one recv(2) into its 256 KiB
 * buffer, io_uring posts as several completions back to back: a 16 KiB
 * WebSocket message (16,392 bytes with its header) came as 16,384 bytes
 * then 8, and the receiver had to copy the first piece and join the two
 * (two fresh 16 KiB allocations per message: twice the CPU of readiness).
 * A piece that fills its buffer while the recv stays armed (more is on its
 * way) is copied here instead, and the pieces that follow it at once are
 * appended; the joined bytes go to the connection as one view when a piece
 * does not fill its buffer, the recv ends, the area is full, any other
 * completion comes next, or the reap ends. So callbacks keep their order
 * and nothing waits past the reap that brought it.
 *
 * The area is the WebAssembly masking module's read buffer
 * (core/mask_wasm.ts), as readiness I/O's: a WebSocket frame joined here is
 * unmasked in place. Bounded: 256 KiB per process (a plain buffer of that
 * size without WebAssembly SIMD), whatever the number of connections.
 *
 * @example
 * ```ts
 * import { ReceiveJoin } from "./recv_join.ts";
 * const join = new ReceiveJoin();
 * const target = { deliverJoined: (bytes: Uint8Array) => console.log(bytes.length) };
 * join.append(target, 1, new Uint8Array(16384));
 * join.append(target, 1, new Uint8Array(8));
 * join.flush(); // 16392
 * ```
 *
 * @module
 */
import { wasmReadBuffer } from "../../core/mask_wasm.ts";

/** Bytes of the join area (and the most one joined delivery holds). */
export const JOIN_BYTES = 256 * 1024;

/** Where joined bytes go: the connection's receive path. */
export interface JoinTarget {
  /** The joined bytes; the view is valid only during the call. */
  deliverJoined(bytes: Uint8Array): void;
}

let fallback: Uint8Array | undefined;

/** The area: the masking module's read buffer, else one plain buffer per process. */
function joinArea(): Uint8Array {
  const wasm = wasmReadBuffer();
  if (wasm !== null && wasm.length >= JOIN_BYTES) return wasm.subarray(0, JOIN_BYTES);
  return fallback ??= new Uint8Array(JOIN_BYTES);
}

/**
 * The bytes being joined for one connection at a time (see the module text).
 *
 * @example
 * ```ts
 * import { ReceiveJoin } from "./recv_join.ts";
 * const join = new ReceiveJoin();
 * const target = { deliverJoined: (bytes: Uint8Array) => console.log([...bytes]) };
 * join.append(target, 7, new Uint8Array([1, 2]));
 * console.log(join.owner === target, join.tag, join.length); // true 7 2
 * join.flush(); // [ 1, 2 ]
 * console.log(join.owner); // undefined
 * ```
 */
export class ReceiveJoin {
  #area: Uint8Array | undefined;
  #owner: JoinTarget | undefined;
  #tag = -1;
  #length = 0;

  /** The connection whose bytes are being joined, or undefined. */
  get owner(): JoinTarget | undefined {
    return this.#owner;
  }

  /** The completion tag (user_data) of the owner's recv: a completion with another tag flushes first. */
  get tag(): number {
    return this.#tag;
  }

  /** Bytes joined so far. */
  get length(): number {
    return this.#length;
  }

  /** The most bytes a join holds. */
  get capacity(): number {
    return JOIN_BYTES;
  }

  /** Whether `n` more bytes fit behind what is joined. */
  fits(n: number): boolean {
    return this.#length + n <= JOIN_BYTES;
  }

  /**
   * Appends `bytes` for `owner` (its recv's completion `tag`). Another
   * owner's bytes are delivered first; bytes that do not fit behind what
   * is joined are a RangeError (the caller flushes first: see {@link ReceiveJoin.fits}).
   */
  append(owner: JoinTarget, tag: number, bytes: Uint8Array): void {
    if (this.#owner !== owner) {
      this.flush();
      this.#owner = owner;
      this.#tag = tag;
    }
    if (!this.fits(bytes.length)) throw new RangeError(`join: ${bytes.length} bytes do not fit behind ${this.#length} of ${JOIN_BYTES}`);
    const area = this.#area ??= joinArea();
    area.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Delivers what is joined to its owner (a view valid during the call) and empties the join; nothing when empty. */
  flush(): void {
    const owner = this.#owner;
    if (owner === undefined) return;
    const n = this.#length;
    this.#owner = undefined;
    this.#tag = -1;
    this.#length = 0;
    if (n > 0) owner.deliverJoined(this.#area!.subarray(0, n));
  }

  /** Forgets `owner`'s joined bytes (it closed); another owner's stay. */
  drop(owner: JoinTarget): void {
    if (this.#owner !== owner) return;
    this.#owner = undefined;
    this.#tag = -1;
    this.#length = 0;
  }
}
