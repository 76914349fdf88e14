/**
 * SocketBuf: the seed's circular byte buffer, the receive and send queue of
 * a connection.
 *
 * Bytes live in one `Uint8Array` used as a ring: the readable bytes start at
 * a head index and may wrap past the end of the storage. The storage starts
 * at `capacity` bytes (0 allocates nothing until the first write) and grows
 * on demand (doubling, by {@link SocketBuf.ensure}) up to `maxCapacity`;
 * buffering more than `maxCapacity` bytes throws a {@link LimitError}, so a
 * peer can never make a connection buffer without bound.
 *
 * For vectored I/O (`readv`/`writev`, `recv`/`send` into views), the
 * readable and writable regions are exposed as at most two views each
 * ({@link SocketBuf.readableSpans}, {@link SocketBuf.writableSpans}) and as
 * offset/length pairs into {@link SocketBuf.storage}
 * ({@link SocketBuf.readableRanges}, {@link SocketBuf.writableRanges}),
 * completed by {@link SocketBuf.consume} and {@link SocketBuf.commitWrite}.
 *
 * Allocation: in steady state nothing is allocated per operation, except
 * - growth (a new storage, by `ensure` or a `write` that needs room);
 * - `compact` of wrapped data (a temporary copy of the wrapped part);
 * - `readLine` (it returns a copy of the line);
 * - spans: the views are cached per slot and reused while the region's
 *   position and length stay the same; a new `subarray` view (no byte
 *   storage) is made when the region moved;
 * - `write`/`read`/`peek` of more than 64 bytes across a region boundary:
 *   the copy goes through a transient `subarray` view (no byte storage).
 *   Smaller copies are done byte by byte.
 *
 * When the buffer becomes empty its head returns to the start of the
 * storage, so a buffer that is drained completely each round keeps the same
 * spans (and views) from round to round.
 *
 * @example
 * ```ts
 * import { SocketBuf } from "./socket_buf.ts";
 * const buf = new SocketBuf({ capacity: 16, maxCapacity: 1024 });
 * buf.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n"));
 * const line = buf.readLine(8192);
 * console.log(new TextDecoder().decode(line!)); // "GET / HTTP/1.1"
 * console.log(buf.length); // 9
 * ```
 *
 * @module
 */
import { LimitError, UseAfterCloseError } from "./errors.ts";
import { SOCKET_LIMITS } from "./limits.ts";

const LF = 0x0a;
const CR = 0x0d;
/** Copies at most this long are done byte by byte (no view is created). */
const SMALL_COPY = 64;
/** Smallest storage allocated by growth. */
const MIN_GROWTH = 64;
/** Largest `maxCapacity` accepted: offsets must fit a C `int`. */
const MAX_MAX_CAPACITY = 0x7fffffff;

/**
 * Options of a {@link SocketBuf}.
 *
 * @example
 * ```ts
 * import { SocketBuf, type SocketBufOptions } from "./socket_buf.ts";
 * // Allocate nothing until the first byte; never hold more than 1 MiB.
 * const options: SocketBufOptions = { capacity: 0, maxCapacity: 1 << 20 };
 * const buf = new SocketBuf(options);
 * ```
 */
export interface SocketBufOptions {
  /**
   * Bytes allocated now (default: 4096, or `maxCapacity` if smaller). 0
   * defers the allocation to the first write.
   */
  capacity?: number;
  /**
   * The most bytes the buffer ever holds (default
   * `SOCKET_LIMITS.readBufferBytes`, 64 KiB).
   */
  maxCapacity?: number;
}

const EMPTY = new Uint8Array(0);

/**
 * A bounded, growable ring buffer of bytes.
 *
 * @example
 * ```ts
 * import { SocketBuf } from "./socket_buf.ts";
 * const buf = new SocketBuf({ capacity: 8, maxCapacity: 8 });
 * buf.write(Uint8Array.of(1, 2, 3, 4, 5, 6));
 * const out = new Uint8Array(4);
 * buf.read(out);                      // 1 2 3 4
 * buf.write(Uint8Array.of(7, 8, 9, 10)); // wraps around
 * console.log(buf.readableSpans().length); // 2
 * console.log(buf.find(Uint8Array.of(6, 7))); // 1
 * ```
 */
export class SocketBuf {
  #buf: Uint8Array;
  #head = 0;
  #len = 0;
  readonly #max: number;
  #closed = false;
  /** Cached views: 0, 1 readable; 2, 3 writable. */
  #views: (Uint8Array | undefined)[] = [undefined, undefined, undefined, undefined];
  readonly #readSpans: Uint8Array[] = [];
  readonly #writeSpans: Uint8Array[] = [];
  readonly #readRanges = new Uint32Array(4);
  readonly #writeRanges = new Uint32Array(4);

  /**
   * Creates an empty buffer of `capacity` bytes (default min(4096, maxCapacity)) that may grow to `maxCapacity`.
   * @param options initial and maximum capacity in bytes.
   * @throws {RangeError} when a capacity is not an integer, `maxCapacity` is
   *   below 1 or above 2^31 - 1, or `capacity` exceeds `maxCapacity`.
   */
  constructor(options: SocketBufOptions = {}) {
    const max = options.maxCapacity ?? SOCKET_LIMITS.readBufferBytes;
    checkInteger(max, "maxCapacity");
    if (max < 1 || max > MAX_MAX_CAPACITY) {
      throw new RangeError(`maxCapacity must be between 1 and ${MAX_MAX_CAPACITY}, got ${max}`);
    }
    const capacity = options.capacity ?? Math.min(4096, max);
    checkInteger(capacity, "capacity");
    if (capacity < 0 || capacity > max) {
      throw new RangeError(`capacity must be between 0 and maxCapacity (${max}), got ${capacity}`);
    }
    this.#max = max;
    this.#buf = capacity === 0 ? EMPTY : new Uint8Array(capacity);
  }

  /** Readable bytes buffered. */
  get length(): number {
    return this.#len;
  }

  /** Bytes of storage allocated now. */
  get capacity(): number {
    return this.#buf.length;
  }

  /** The most bytes this buffer ever holds. */
  get maxCapacity(): number {
    return this.#max;
  }

  /** Free bytes in the current storage (writable without growing). */
  get space(): number {
    return this.#buf.length - this.#len;
  }

  /** Bytes that can still be written, growing up to `maxCapacity`. */
  get remainingCapacity(): number {
    return this.#max - this.#len;
  }

  /** True after {@link SocketBuf.close}. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The storage array (it changes when the buffer grows or is closed), for
   * native vectored I/O with {@link SocketBuf.readableRanges} and
   * {@link SocketBuf.writableRanges}.
   */
  get storage(): Uint8Array {
    this.#check();
    return this.#buf;
  }

  /**
   * Appends all of `src`, growing the storage if needed; writes nothing when
   * the bytes do not fit.
   *
   * @throws {LimitError} (`ERR_LIMIT_BUFFER`) when `length + src.length`
   *   would exceed `maxCapacity`.
   */
  write(src: Uint8Array): void {
    this.#check();
    checkBytes(src, "src");
    const n = src.length;
    if (n > this.#buf.length - this.#len) this.ensure(n);
    this.#put(src, n);
  }

  /**
   * Appends as much of `src` as fits within `maxCapacity` (growing the
   * storage if needed) and never throws for lack of room.
   *
   * @returns the number of bytes written (0 when full).
   */
  writeSome(src: Uint8Array): number {
    this.#check();
    checkBytes(src, "src");
    const n = Math.min(src.length, this.#max - this.#len);
    if (n > this.#buf.length - this.#len) this.ensure(n);
    this.#put(src, n);
    return n;
  }

  /**
   * Moves up to `dst.length` bytes into `dst`.
   *
   * @returns the number of bytes read (0 when empty).
   */
  read(dst: Uint8Array): number {
    const n = this.peek(dst, 0);
    this.#drop(n);
    return n;
  }

  /**
   * Copies up to `dst.length` readable bytes, starting `offset` bytes past
   * the head, without consuming them.
   *
   * @returns the number of bytes copied.
   * @throws {RangeError} when `offset` is not an integer in 0..length.
   */
  peek(dst: Uint8Array, offset = 0): number {
    this.#check();
    checkBytes(dst, "dst");
    checkIndex(offset, this.#len, "offset");
    const n = Math.min(dst.length, this.#len - offset);
    if (n === 0) return 0;
    const buf = this.#buf;
    const cap = buf.length;
    let p = this.#head + offset;
    if (p >= cap) p -= cap;
    const first = Math.min(n, cap - p);
    copy(buf, p, dst, 0, first);
    if (first < n) copy(buf, 0, dst, first, n - first);
    return n;
  }

  /**
   * The readable byte at `index` past the head, or `undefined` when out of
   * range.
   */
  at(index: number): number | undefined {
    this.#check();
    if (!Number.isInteger(index) || index < 0 || index >= this.#len) return undefined;
    let p = this.#head + index;
    const cap = this.#buf.length;
    if (p >= cap) p -= cap;
    return this.#buf[p];
  }

  /**
   * Discards `n` readable bytes (after a `send` from the readable spans, or
   * to skip data).
   *
   * @throws {RangeError} when `n` is not an integer in 0..length.
   */
  consume(n: number): void {
    this.#check();
    checkIndex(n, this.#len, "n");
    this.#drop(n);
  }

  /**
   * Marks `n` bytes written into the writable spans (after a `recv` into
   * them) as readable.
   *
   * @throws {RangeError} when `n` is not an integer in 0..space.
   */
  commitWrite(n: number): void {
    this.#check();
    checkIndex(n, this.#buf.length - this.#len, "n");
    this.#len += n;
  }

  /**
   * Finds a byte or a byte sequence in the readable bytes, across the wrap.
   *
   * @param needle a byte value (0–255) or a sequence (an empty sequence
   *   matches at `from`).
   * @param from where the search starts, as an offset past the head.
   * @returns the offset past the head of the first match, or -1.
   * @throws {RangeError} for a byte outside 0–255 or a negative `from`.
   */
  find(needle: number | Uint8Array, from = 0): number {
    this.#check();
    if (!Number.isInteger(from) || from < 0) {
      throw new RangeError(`from must be an integer ≥ 0, got ${from}`);
    }
    if (typeof needle === "number") {
      if (!Number.isInteger(needle) || needle < 0 || needle > 255) {
        throw new RangeError(`needle must be a byte value (0–255), got ${needle}`);
      }
      return this.#findByte(needle, from, this.#len);
    }
    checkBytes(needle, "needle");
    const m = needle.length;
    if (m === 0) return from <= this.#len ? from : -1;
    const last = this.#len - m; // the last offset where a match can start
    const first = needle[0] as number;
    const buf = this.#buf;
    const cap = buf.length;
    for (let i = from; i <= last;) {
      i = this.#findByte(first, i, last + 1);
      if (i < 0) return -1;
      let p = this.#head + i + 1;
      if (p >= cap) p -= cap;
      let k = 1;
      for (; k < m; k++) {
        if (buf[p] !== needle[k]) break;
        if (++p === cap) p = 0;
      }
      if (k === m) return i;
      i++;
    }
    return -1;
  }

  /**
   * Takes one line ending in LF or CRLF off the buffer.
   *
   * @param maxLength the most bytes a line may have, terminator excluded
   *   (default: `maxCapacity`).
   * @returns a copy of the line without its terminator, or `null` when no
   *   complete line is buffered yet.
   * @throws {LimitError} (`ERR_LIMIT_LINE`) when the line is, or can only
   *   become, longer than `maxLength`, or when the buffer is full without a
   *   line end. Nothing is consumed then.
   */
  readLine(maxLength: number = this.#max): Uint8Array | null {
    this.#check();
    checkInteger(maxLength, "maxLength");
    if (maxLength < 0) throw new RangeError(`maxLength must be ≥ 0, got ${maxLength}`);
    const len = this.#len;
    const lf = this.#findByte(LF, 0, Math.min(len, maxLength + 2));
    if (lf < 0) {
      if (
        len >= maxLength + 2 || (len === maxLength + 1 && this.at(maxLength) !== CR) ||
        len === this.#max
      ) {
        throw new LimitError("ERR_LIMIT_LINE", `line longer than ${maxLength} bytes`, maxLength);
      }
      return null;
    }
    const end = lf > 0 && this.at(lf - 1) === CR ? lf - 1 : lf;
    if (end > maxLength) {
      throw new LimitError("ERR_LIMIT_LINE", `line longer than ${maxLength} bytes`, maxLength);
    }
    const line = new Uint8Array(end);
    this.peek(line, 0);
    this.#drop(lf + 1);
    return line;
  }

  /**
   * Makes room for `n` more bytes in the storage, growing it (at least
   * doubling, at most to `maxCapacity`) when needed. Growing makes the
   * readable bytes contiguous at the start of the new storage.
   *
   * @throws {LimitError} (`ERR_LIMIT_BUFFER`) when `length + n` exceeds
   *   `maxCapacity`.
   */
  ensure(n: number): void {
    this.#check();
    checkInteger(n, "n");
    if (n < 0) throw new RangeError(`n must be ≥ 0, got ${n}`);
    const need = this.#len + n;
    if (need <= this.#buf.length) return;
    if (need > this.#max) {
      throw new LimitError(
        "ERR_LIMIT_BUFFER",
        `buffer limit of ${this.#max} bytes exceeded (${this.#len} buffered, ${n} more)`,
        this.#max,
      );
    }
    const size = Math.min(this.#max, Math.max(need, this.#buf.length * 2, MIN_GROWTH));
    const next = new Uint8Array(size);
    this.peek(next, 0);
    this.#buf = next;
    this.#head = 0;
    this.#forgetViews();
  }

  /**
   * Moves the readable bytes to the start of the storage, so that they form
   * one span and the free space another. Wrapped data costs a temporary
   * copy of its wrapped part.
   */
  compact(): void {
    this.#check();
    const head = this.#head;
    if (head === 0) return;
    const buf = this.#buf;
    const len = this.#len;
    const cap = buf.length;
    if (head + len <= cap) {
      buf.copyWithin(0, head, head + len);
    } else {
      const wrapped = buf.slice(0, head + len - cap);
      buf.copyWithin(0, head, cap);
      buf.set(wrapped, cap - head);
    }
    this.#head = 0;
  }

  /**
   * The readable bytes as one or two views (none when empty), in order. The
   * array and views are reused: they are valid until the next call that
   * changes the buffer.
   */
  readableSpans(): readonly Uint8Array[] {
    this.#check();
    const r = this.readableRanges();
    return this.#spans(this.#readSpans, r, 0);
  }

  /**
   * The free space as one or two views (none when full), in order, after
   * making room for at least `minBytes` (see {@link SocketBuf.ensure}).
   * Write into them, then call {@link SocketBuf.commitWrite}. The array and
   * views are reused: they are valid until the next call that changes the
   * buffer.
   *
   * @throws {LimitError} when `minBytes` does not fit within `maxCapacity`.
   */
  writableSpans(minBytes = 0): readonly Uint8Array[] {
    this.#check();
    const r = this.writableRanges(minBytes);
    return this.#spans(this.#writeSpans, r, 2);
  }

  /**
   * The readable region as `[offset0, length0, offset1, length1]` into
   * {@link SocketBuf.storage} (unused lengths are 0), for native `writev`.
   * The returned array is reused by the next call.
   */
  readableRanges(): Uint32Array {
    this.#check();
    const r = this.#readRanges;
    const cap = this.#buf.length;
    const head = this.#head;
    const first = Math.min(this.#len, cap - head);
    r[0] = head;
    r[1] = first;
    r[2] = 0;
    r[3] = this.#len - first;
    return r;
  }

  /**
   * The free region as `[offset0, length0, offset1, length1]` into
   * {@link SocketBuf.storage} (unused lengths are 0), for native `readv`,
   * after making room for at least `minBytes`. The returned array is reused
   * by the next call.
   *
   * @throws {LimitError} when `minBytes` does not fit within `maxCapacity`.
   */
  writableRanges(minBytes = 0): Uint32Array {
    this.#check();
    if (minBytes !== 0) this.ensure(minBytes);
    const r = this.#writeRanges;
    const cap = this.#buf.length;
    const free = cap - this.#len;
    let tail = this.#head + this.#len;
    if (tail >= cap) tail -= cap;
    const first = Math.min(free, cap - tail);
    r[0] = tail;
    r[1] = first;
    r[2] = 0;
    r[3] = free - first;
    return r;
  }

  /** Forgets all buffered bytes (the storage keeps its old contents). */
  clear(): void {
    this.#check();
    this.#head = 0;
    this.#len = 0;
  }

  /**
   * Zeroes the whole storage (buffered and stale bytes: secrets must not
   * linger) and empties the buffer.
   */
  secureClear(): void {
    this.#check();
    this.#buf.fill(0);
    this.#head = 0;
    this.#len = 0;
  }

  /**
   * Zeroes and releases the storage. Later calls throw
   * {@link UseAfterCloseError}; closing again does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#buf.fill(0);
    this.#buf = EMPTY;
    this.#head = 0;
    this.#len = 0;
    this.#closed = true;
    this.#forgetViews();
  }

  #check(): void {
    if (this.#closed) throw new UseAfterCloseError("SocketBuf");
  }

  /** Copies `n` bytes of `src` at the tail; the room is already there. */
  #put(src: Uint8Array, n: number): void {
    if (n === 0) return;
    const buf = this.#buf;
    const cap = buf.length;
    let tail = this.#head + this.#len;
    if (tail >= cap) tail -= cap;
    const first = Math.min(n, cap - tail);
    if (first === src.length) buf.set(src, tail);
    else copy(src, 0, buf, tail, first);
    if (first < n) copy(src, first, buf, 0, n - first);
    this.#len += n;
  }

  #drop(n: number): void {
    this.#len -= n;
    if (this.#len === 0) {
      this.#head = 0;
      return;
    }
    const cap = this.#buf.length;
    let head = this.#head + n;
    if (head >= cap) head -= cap;
    this.#head = head;
  }

  /** Offset past the head of `byte` within offsets [from, to), or -1. */
  #findByte(byte: number, from: number, to: number): number {
    if (from >= to) return -1;
    const buf = this.#buf;
    const cap = buf.length;
    const head = this.#head;
    const firstEnd = Math.min(to, cap - head); // offsets in the first region
    if (from < firstEnd) {
      const p = indexIn(buf, byte, head + from, head + firstEnd);
      if (p >= 0) return p - head;
    }
    const start = Math.max(from, cap - head);
    if (start < to) {
      const p = indexIn(buf, byte, start - (cap - head), to - (cap - head));
      if (p >= 0) return p + (cap - head);
    }
    return -1;
  }

  #spans(out: Uint8Array[], r: Uint32Array, slot: number): readonly Uint8Array[] {
    out.length = 0;
    const len0 = r[1] as number;
    const len1 = r[3] as number;
    if (len0 > 0) out.push(this.#view(slot, r[0] as number, len0));
    if (len1 > 0) out.push(this.#view(slot + 1, r[2] as number, len1));
    return out;
  }

  #view(slot: number, offset: number, length: number): Uint8Array {
    const cached = this.#views[slot];
    if (cached !== undefined && cached.byteOffset === offset && cached.length === length) {
      return cached;
    }
    const view = this.#buf.subarray(offset, offset + length);
    this.#views[slot] = view;
    return view;
  }

  #forgetViews(): void {
    this.#views.fill(undefined);
  }
}

/** Index of `byte` in `buf[start..end)`, or -1. */
function indexIn(buf: Uint8Array, byte: number, start: number, end: number): number {
  if (buf.length - end > 256) {
    const i = buf.subarray(start, end).indexOf(byte);
    return i < 0 ? -1 : start + i;
  }
  const i = buf.indexOf(byte, start);
  return i >= 0 && i < end ? i : -1;
}

function copy(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  if (n <= SMALL_COPY) {
    for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i] as number;
  } else {
    dst.set(src.subarray(srcOff, srcOff + n), dstOff);
  }
}

function checkBytes(value: Uint8Array, name: string): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

function checkInteger(value: number, name: string): void {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value)) throw new RangeError(`${name} must be an integer, got ${value}`);
}

function checkIndex(value: number, max: number, name: string): void {
  checkInteger(value, name);
  if (value < 0 || value > max) throw new RangeError(`${name} must be between 0 and ${max}, got ${value}`);
}
