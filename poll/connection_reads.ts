/**
 * The Promise-mode read side of a {@link Connection}: the read buffer and
 * the queue of pending `read()`, `readExactly(n)` and `readInto(buffer)`
 * calls, served in order. The connection decides when (end of stream,
 * cancellation, reading on or off); this file only moves bytes between the
 * buffer and the readers.
 *
 * @example
 * ```ts
 * import { ReadQueue } from "./connection_reads.ts";
 * const reads = new ReadQueue(1024);
 * reads.push(new Uint8Array([1, 2, 3]));
 * console.log(reads.length, reads.readExactly(2)); // 3 Uint8Array [1, 2]
 * ```
 *
 * @module
 */
import { SocketClosedError } from "../core/errors.ts";
import { SocketBuf } from "../core/socket_buf.ts";

/**
 * A pending read: `read()` (exact 0, no buffer), `readExactly(n)` (exact n)
 * or `readInto(buffer)`.
 *
 * @example
 * ```ts
 * import type { Reader } from "./connection_reads.ts";
 * const reader: Reader = { exact: 4, into: undefined, resolve: console.log, reject: console.error, cleanup: undefined };
 * console.log(reader.exact);
 * ```
 */
export interface Reader {
  /** readExactly: the bytes wanted, all at once (0: any). */
  exact: number;
  /** readInto: the caller's buffer. */
  into: Uint8Array | undefined;
  resolve(value: Uint8Array | number | null): void;
  reject(error: Error): void;
  cleanup: (() => void) | undefined;
}

/**
 * `readExactly(wanted)` met the end of stream with `got` bytes buffered.
 *
 * @example
 * ```ts
 * import { shortRead } from "./connection_reads.ts";
 * console.log(shortRead(2, 4).code); // "EOF"
 * ```
 */
export function shortRead(got: number, wanted: number): SocketClosedError {
  return new SocketClosedError("EOF", `readExactly: the stream ended after ${got} of ${wanted} bytes`, { syscall: "recv", transferred: got });
}

/**
 * The read buffer (made on first use, at most `max` bytes) and the
 * pending readers, oldest first.
 *
 * @example
 * ```ts
 * import { ReadQueue } from "./connection_reads.ts";
 * const reads = new ReadQueue(8);
 * reads.readers.push({ exact: 0, into: undefined, resolve: (v) => console.log(v), reject: console.error, cleanup: undefined });
 * reads.push(new Uint8Array([7]));
 * reads.serve(false); // logs Uint8Array [7]
 * ```
 */
export class ReadQueue {
  /** The most bytes buffered. */
  readonly max: number;
  /** Pending reads, served in order. */
  readonly readers: Reader[] = [];
  #buf: SocketBuf | undefined;

  constructor(max: number) {
    this.max = max;
  }

  /** Bytes buffered. */
  get length(): number {
    const buf = this.#buf;
    return buf === undefined ? 0 : buf.length;
  }

  /** Whether the buffer holds `max` bytes. */
  get full(): boolean {
    return this.#buf !== undefined && this.#buf.remainingCapacity === 0;
  }

  /** Room left in the buffer. */
  get room(): number {
    return this.#buf === undefined ? this.max : this.#buf.remainingCapacity;
  }

  /** Whether the first reader takes any bytes straight (read() or readInto() with nothing buffered). */
  get direct(): boolean {
    const reader = this.readers[0];
    return reader !== undefined && reader.exact === 0 && this.length === 0;
  }

  /** Every buffered byte as a chunk of its own; undefined when none are. */
  readAll(): Uint8Array | undefined {
    const buf = this.#buf;
    if (buf === undefined || buf.length === 0) return undefined;
    const out = new Uint8Array(buf.length);
    buf.read(out);
    return out;
  }

  /** `n` buffered bytes, or undefined while fewer are there. */
  readExactly(n: number): Uint8Array | undefined {
    if (this.length < n) return undefined;
    const out = new Uint8Array(n);
    this.#buf!.read(out);
    return out;
  }

  /** Buffered bytes into `buffer`'s start: how many (0: none buffered). */
  readInto(buffer: Uint8Array): number {
    return this.length === 0 ? 0 : this.#buf!.read(buffer);
  }

  /** The free span for the next receive (at most 16 KiB); undefined when the buffer is full. */
  span(): Uint8Array | undefined {
    const buf = (this.#buf ??= new SocketBuf({ capacity: 0, maxCapacity: this.max }));
    if (buf.remainingCapacity === 0) return undefined;
    return buf.writableSpans(Math.min(buf.remainingCapacity, 16384))[0]!;
  }

  /** `n` bytes were received into the last {@link ReadQueue.span}. */
  commit(n: number): void {
    this.#buf!.commitWrite(n);
  }

  /** The first reader gets `value` (bytes received straight for it). */
  resolveFirst(value: Uint8Array | number): void {
    const reader = this.readers.shift()!;
    reader.cleanup?.();
    reader.resolve(value);
  }

  /**
   * Bytes arrived in memory that is not ours (valid during the call): to
   * the first reader straight when it takes any, the rest buffered.
   */
  push(bytes: Uint8Array): void {
    if (this.direct) {
      const reader = this.readers.shift()!;
      reader.cleanup?.();
      const into = reader.into;
      if (into === undefined) {
        reader.resolve(bytes.slice());
        return;
      }
      const n = Math.min(bytes.length, into.length);
      into.set(n === bytes.length ? bytes : bytes.subarray(0, n));
      reader.resolve(n);
      if (n === bytes.length) return;
      bytes = bytes.subarray(n);
    }
    (this.#buf ??= new SocketBuf({ capacity: 0, maxCapacity: this.max })).write(bytes);
  }

  /**
   * Hands buffered bytes, or the end of stream (`ended`), to the waiting
   * readers in order. Returns whether bytes were taken.
   */
  serve(ended: boolean): boolean {
    const readers = this.readers;
    let took = false;
    while (readers.length > 0) {
      const reader = readers[0]!;
      const buf = this.#buf;
      const buffered = buf === undefined ? 0 : buf.length;
      let value: Uint8Array | number | null;
      if (reader.exact > 0) {
        if (buffered < reader.exact) {
          if (!ended) break;
          readers.shift();
          reader.cleanup?.();
          reader.reject(shortRead(buffered, reader.exact));
          continue;
        }
        value = new Uint8Array(reader.exact);
        buf!.read(value);
      } else if (buffered > 0) {
        if (reader.into !== undefined) value = buf!.read(reader.into);
        else {
          value = new Uint8Array(buffered);
          buf!.read(value);
        }
      } else if (ended) value = null;
      else break;
      took ||= value !== null;
      readers.shift();
      reader.cleanup?.();
      reader.resolve(value);
    }
    return took;
  }

  /** The connection is going away: pending reads fail with `error`, or end. */
  endAll(error: Error | undefined): void {
    const buffered = this.#buf === undefined || this.#buf.closed ? 0 : this.#buf.length;
    for (const r of this.readers.splice(0)) {
      r.cleanup?.();
      if (error !== undefined) r.reject(error);
      else if (r.exact > 0) r.reject(shortRead(buffered, r.exact));
      else r.resolve(null);
    }
  }

  /** Drops what is buffered. */
  clear(): void {
    this.#buf?.clear();
  }

  /** Frees the buffer (nothing is read after this). */
  close(): void {
    this.#buf?.close();
  }
}
