/**
 * The bytes an HTTP/2 connection has queued for sending: frames are written
 * in place into one growing buffer, which `take()` hands to the caller.
 *
 * Writing in place instead of queueing one small Uint8Array per frame matters
 * on Deno, where every typed array allocation costs about 200 ns (its
 * backing store always lives outside the V8 heap), against 20 ns on Node and
 * 5 ns on Bun.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);
/** Capacity of a fresh buffer. */
const INITIAL = 16384;
/** Below this many queued bytes, `take()` copies them out and keeps the buffer. */
const COPY_OUT = 4096;
/** `takeView()` keeps a buffer up to this size for the next frames (one that grew past it for a bulk pull is let go). */
const KEEP_MAX = 65536;

/**
 * A byte queue for outgoing frames.
 *
 * @example
 * ```ts
 * import { OutboundBuffer } from "./outbound.ts";
 * const out = new OutboundBuffer();
 * const buf = out.reserve(2);
 * buf[out.length] = 1;
 * buf[out.length + 1] = 2;
 * out.length += 2;
 * out.take(); // Uint8Array [1, 2]
 * ```
 */
export class OutboundBuffer {
  /** Bytes queued; a writer that filled bytes after `reserve` adds their count. */
  length = 0;
  #buf: Uint8Array = EMPTY;

  /**
   * Makes room for `n` more bytes and returns the buffer to write them into,
   * starting at `length`. The buffer may change at every call.
   */
  reserve(n: number): Uint8Array {
    const need = this.length + n;
    const buf = this.#buf;
    if (need <= buf.length) return buf;
    // A fresh buffer gets what is asked (the scheduler asks for a pull's
    // worth of DATA at once): growing it by doubling at every pull() of a
    // bulk transfer cost more than the DATA copies themselves.
    if (buf.length === 0) {
      const fresh = new Uint8Array(Math.max(INITIAL, need));
      this.#buf = fresh;
      return fresh;
    }
    let cap = buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    if (this.length > 0) next.set(buf.subarray(0, this.length));
    this.#buf = next;
    return next;
  }

  /** Appends a copy of `bytes`. */
  push(bytes: Uint8Array): void {
    const buf = this.reserve(bytes.length);
    buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /**
   * Returns everything queued (memory the caller now owns) and empties the
   * queue. A large queue is handed over without a copy and the next write
   * starts a fresh buffer; a small one is copied out.
   */
  take(): Uint8Array {
    const n = this.length;
    if (n === 0) return EMPTY;
    this.length = 0;
    if (n <= COPY_OUT) return this.#buf.slice(0, n);
    const out = this.#buf.subarray(0, n);
    this.#buf = EMPTY;
    return out;
  }

  /**
   * A view of queued bytes `from` to `to` (offsets into the queue, at most
   * `length`), valid as {@link takeView}'s: until the next write after the
   * queue is emptied. A gathering caller marks where a segment ends and
   * sends the pieces in order.
   */
  view(from: number, to: number): Uint8Array {
    return this.#buf.subarray(from, to);
  }

  /**
   * Like {@link take}, but returns a view of the queue's own buffer, valid
   * only until the next write to the queue: for a caller that sends or
   * copies the bytes at once (a connection's `send()` does). No copy and,
   * while the buffer stays under 64 KiB, no allocation per call.
   */
  takeView(): Uint8Array {
    const n = this.length;
    if (n === 0) return EMPTY;
    this.length = 0;
    const buf = this.#buf;
    if (buf.length > KEEP_MAX) this.#buf = EMPTY;
    return buf.subarray(0, n);
  }
}
