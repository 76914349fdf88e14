/**
 * The outgoing bytes of a connection that the kernel has not taken yet: a
 * FIFO of chunks, each with an optional settle callback that runs once its
 * last byte is sent.
 *
 * @example
 * ```ts
 * import { WriteQueue } from "./write_queue.ts";
 * const q = new WriteQueue();
 * q.push(new Uint8Array([1, 2, 3]), () => console.log("sent"));
 * q.consume(3); // "sent"
 * console.log(q.bytes); // 0
 * ```
 *
 * @module
 */

interface Chunk {
  data: Uint8Array;
  offset: number;
  done: ((error?: Error) => void) | undefined;
  /** A file segment's descriptor (its bytes go by sendfile), or -1 for `data`. */
  fd: number;
  /** A file segment: where it starts in the file. */
  position: number;
  /**
   * The chunk's byte count, fixed when it is queued (a file segment's
   * length, or `data.length` then): io_uring queues a caller's view whose
   * bytes it copied out at once (poll/uring/transport.ts), and the caller
   * may then detach or reuse that memory (the server frees a taken body
   * once sent, response_peek.ts); counting from `data.length` later took a
   * detached chunk as empty and charged its bytes to the next chunk.
   */
  size: number;
}

/**
 * The unsent part of a file segment at the head of a queue (see
 * {@link WriteQueue.pushFile}); one object reused by every queue.
 *
 * @example
 * ```ts
 * import type { FileHead } from "./write_queue.ts";
 * const f: FileHead = { fd: 3, position: 0, length: 10 };
 * ```
 */
export interface FileHead {
  /** The file descriptor to send from. */
  fd: number;
  /** The file offset of the next byte to send. */
  position: number;
  /** Bytes still to send. */
  length: number;
}

const fileHead: FileHead = { fd: -1, position: 0, length: 0 };

// Chunks are recycled: an echo-style server queues one per send on the
// io_uring path, and a finished chunk goes back here instead of becoming
// garbage. Bounded, so a burst leaves no lasting memory behind.
const FREE_MAX = 256;
const free: Chunk[] = [];
const NOTHING = new Uint8Array(0);
/** Slots an emptied queue keeps for reuse. */
const SLOTS_KEPT = 16;

function release(chunk: Chunk): void {
  chunk.data = NOTHING;
  chunk.done = undefined;
  chunk.fd = -1;
  if (free.length < FREE_MAX) free.push(chunk);
}

/**
 * FIFO of pending output with a byte count.
 *
 * @example
 * ```ts
 * import { WriteQueue } from "./write_queue.ts";
 * const q = new WriteQueue();
 * q.push(new Uint8Array(10), undefined);
 * console.log(q.head()?.length); // 10
 * ```
 */
export class WriteQueue {
  // Chunks live in #chunks[#first, #end). The array is reused rather than
  // truncated: setting `length` is a runtime call in V8, and an emptied
  // array regrows its backing store on the next push.
  #chunks: (Chunk | undefined)[] = [];
  #first = 0;
  #end = 0;
  #bytes = 0;
  /** Counts `fail()` calls, so `consume` notices one made by a callback. */
  #generation = 0;

  /** Bytes queued and not yet sent. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether nothing is queued (no bytes and no callbacks). */
  get empty(): boolean {
    return this.#first === this.#end;
  }

  /** Queues `data` (kept as is: copy first if the caller reuses it). */
  push(data: Uint8Array, done: ((error?: Error) => void) | undefined): void {
    let chunk = free.pop();
    if (chunk === undefined) chunk = { data, offset: 0, done, fd: -1, position: 0, size: data.length };
    else {
      chunk.data = data;
      chunk.offset = 0;
      chunk.done = done;
      chunk.size = data.length;
    }
    this.#chunks[this.#end++] = chunk;
    this.#bytes += data.length;
  }

  /**
   * Queues `length` bytes of the open file `fd` from `position` on, to be
   * sent by the transport straight from the file (sendfile); `done` runs
   * once they are sent or the queue fails (the place to close `fd`).
   */
  pushFile(fd: number, position: number, length: number, done: ((error?: Error) => void) | undefined): void {
    let chunk = free.pop();
    if (chunk === undefined) chunk = { data: NOTHING, offset: 0, done, fd, position, size: length };
    else {
      chunk.offset = 0;
      chunk.done = done;
      chunk.fd = fd;
      chunk.position = position;
      chunk.size = length;
    }
    this.#chunks[this.#end++] = chunk;
    this.#bytes += length;
  }

  /**
   * The unsent part of the first chunk when it is a file segment (a shared
   * object, valid until the next call), else undefined.
   */
  headFile(): FileHead | undefined {
    if (this.#first === this.#end) return undefined;
    const chunk = this.#chunks[this.#first]!;
    if (chunk.fd < 0) return undefined;
    fileHead.fd = chunk.fd;
    fileHead.position = chunk.position + chunk.offset;
    fileHead.length = chunk.size - chunk.offset;
    return fileHead;
  }

  /** The unsent part of the first chunk, or undefined when empty. */
  head(): Uint8Array | undefined {
    if (this.#first === this.#end) return undefined;
    const chunk = this.#chunks[this.#first]!;
    return chunk.offset === 0 ? chunk.data : chunk.data.subarray(chunk.offset);
  }

  /**
   * Copies unsent bytes from the head on, across chunks, into `target`
   * (without consuming them); returns the count copied.
   */
  copyTo(target: Uint8Array): number {
    let at = 0;
    for (let i = this.#first; i < this.#end && at < target.length; i++) {
      const chunk = this.#chunks[i]!;
      if (chunk.fd >= 0) break; // a file segment goes by sendfile, not through memory
      const n = Math.min(chunk.data.length - chunk.offset, target.length - at);
      if (n === 0) continue;
      target.set(n === chunk.data.length ? chunk.data : chunk.data.subarray(chunk.offset, chunk.offset + n), at);
      at += n;
    }
    return at;
  }

  /** Marks `n` bytes as sent, settling the chunks that are complete. */
  consume(n: number): void {
    this.#bytes -= n;
    const generation = this.#generation;
    while (this.#first < this.#end) {
      const chunk = this.#chunks[this.#first]!;
      const left = chunk.size - chunk.offset;
      if (n < left) {
        chunk.offset += n;
        return;
      }
      n -= left;
      this.#first++;
      const done = chunk.done;
      release(chunk);
      done?.();
      // The callback failed the queue: the bytes left of `n` belonged to
      // chunks that are gone, not to anything queued since.
      if (this.#generation !== generation) return;
      if (n === 0 && this.#first < this.#end && (this.#chunks[this.#first]!.size > 0 || this.#chunks[this.#first]!.fd >= 0)) break;
    }
    this.#compact();
  }

  /** Drops everything, failing the callbacks with `error`. */
  fail(error: Error): void {
    this.#generation++;
    const chunks = this.#chunks.slice(this.#first, this.#end) as Chunk[];
    this.#chunks = [];
    this.#first = 0;
    this.#end = 0;
    this.#bytes = 0;
    for (const c of chunks) {
      const done = c.done;
      release(c);
      done?.(error);
    }
  }

  #compact(): void {
    if (this.#first === this.#end) {
      // Empty: start over at slot 0 (the slots left behind hold released
      // chunks, which refer to nothing); a queue that once held many
      // chunks gives its big array back, so an idle connection stays small.
      if (this.#end > SLOTS_KEPT) this.#chunks = [];
      this.#first = 0;
      this.#end = 0;
    } else if (this.#first > 64 && this.#first * 2 > this.#end) {
      this.#chunks = this.#chunks.slice(this.#first, this.#end);
      this.#end -= this.#first;
      this.#first = 0;
    }
  }
}

/**
 * What {@link flushQueue} sends through: a transport's own send primitive
 * and whether the transport closed (a settle callback may close it).
 *
 * @example
 * ```ts
 * import type { QueueSender } from "./write_queue.ts";
 * const sink: QueueSender = { trySend: (data) => data.length, closed: false };
 * console.log(sink.trySend(new Uint8Array(4))); // 4
 * ```
 */
export interface QueueSender {
  /** Sends what can go now of `data`: the count taken, or -1 after reporting a failure. */
  trySend(data: Uint8Array): number;
  /**
   * Sends what can go now of a file segment (sendfile): the count taken, or
   * -1 after reporting a failure. A sender without it never gets one.
   */
  trySendFile?(fd: number, position: number, length: number): number;
  /** Whether the sender closed. */
  readonly closed: boolean;
}

/**
 * Sends the head of `out` through `sender` until the queue is empty or a
 * send takes less than it was given (EAGAIN, a partial send, no room),
 * consuming what went (settle markers included). Returns the bytes sent,
 * or -1 when the flush stopped: a send failed (already reported) or the
 * sender closed during a settle marker's callback.
 *
 * @example
 * ```ts
 * import { flushQueue, WriteQueue } from "./write_queue.ts";
 * const q = new WriteQueue();
 * q.push(new Uint8Array(10), () => console.log("sent"));
 * const sender = { trySend: (data: Uint8Array) => Math.min(data.length, 6), closed: false };
 * console.log(flushQueue(q, sender)); // 6 (the first send was partial)
 * console.log(flushQueue(q, sender)); // "sent", then 4
 * ```
 */
export function flushQueue(out: WriteQueue, sender: QueueSender): number {
  let sent = 0;
  for (let head = out.head(); head !== undefined; head = out.head()) {
    const file = out.headFile();
    if (file !== undefined) {
      const length = file.length;
      const n = sender.trySendFile!(file.fd, file.position, length);
      if (n < 0) return -1;
      sent += n;
      out.consume(n);
      if (n < length) break;
      continue;
    }
    if (head.length === 0) {
      out.consume(0);
      if (sender.closed) return -1;
      continue;
    }
    const n = sender.trySend(head);
    if (n < 0) return -1;
    sent += n;
    out.consume(n);
    if (n < head.length) break;
  }
  return sent;
}
