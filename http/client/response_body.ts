/**
 * `ResponseBody`: the body of a response from {@link request}, as undici's
 * `BodyReadable` without a Node stream under it. Chunks the connection hands
 * over are queued; above a high-water mark the connection stops reading
 * (the server sees TCP backpressure) until the consumer catches up. Read it
 * once: `text()`, `json()`, `arrayBuffer()`, `bytes()`, async iteration, or
 * `stream()` for a WHATWG `ReadableStream`; `dump()` drops it.
 *
 * @example
 * ```ts
 * import { ResponseBody } from "./response_body.ts";
 * const body = new ResponseBody();
 * body.push(new TextEncoder().encode('{"ok":true}'));
 * body.end();
 * console.log(await body.json()); // { ok: true }
 * ```
 *
 * @module
 */
import { UseAfterCloseError } from "../../core/errors.ts";

/** Bytes queued before the source is asked to pause. */
const HIGH_WATER_MARK = 256 * 1024;

/**
 * Where a {@link ResponseBody}'s bytes come from: told to pause, resume and
 * stop.
 *
 * @example
 * ```ts
 * import type { BodySource } from "./response_body.ts";
 * const source: BodySource = { pause() {}, resume() {}, cancel(reason) { console.log(reason); } };
 * ```
 */
export interface BodySource {
  /** Stop delivering for now (the queue is full). */
  pause(): void;
  /** Deliver again. */
  resume(): void;
  /** The consumer gave up on the rest: stop for good (closes the connection). */
  cancel(reason: Error): void;
}

const NO_SOURCE: BodySource = { pause() {}, resume() {}, cancel() {} };

const decoder = new TextDecoder();

/** The bytes' own ArrayBuffer when they fill it, else a copy's. */
function ownBuffer(b: Uint8Array): ArrayBuffer {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer as ArrayBuffer : b.slice().buffer;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * A response body read once, with backpressure. See the module documentation.
 *
 * @example
 * ```ts
 * import { ResponseBody } from "./response_body.ts";
 * const body = new ResponseBody();
 * body.push(Uint8Array.of(1, 2));
 * body.end();
 * for await (const chunk of body) console.log(chunk); // Uint8Array [1, 2]
 * ```
 */
export class ResponseBody implements AsyncIterable<Uint8Array> {
  #source: BodySource;
  #queue: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
  #ended = false;
  #error: Error | undefined;
  #used = false;
  #paused = false;
  #wake: (() => void) | undefined;
  #whole: Promise<Uint8Array> | undefined;
  /** What `arrayBuffer()` or `text()` took whole: a later `bytes()` answers with it (its promise made only then). */
  #taken: Uint8Array | undefined;

  /** Wraps `source` (default: an empty body). */
  constructor(source: BodySource = NO_SOURCE) {
    this.#source = source;
  }

  /** True once a reader took the body. */
  get bodyUsed(): boolean {
    return this.#used;
  }

  /** True when every byte arrived (or the body failed). */
  get complete(): boolean {
    return this.#ended || this.#error !== undefined;
  }

  /** Sets the source (the connection glue does, once the head arrived). */
  attach(source: BodySource): void {
    this.#source = source;
  }

  /**
   * Queues a chunk the body now owns. Returns false when the queue is full:
   * the source should pause (it is also told so through `pause()`).
   */
  push(chunk: Uint8Array): boolean {
    if (this.#ended || this.#error) return false;
    if (chunk.length === 0) return true;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#wakeReader();
    if (this.#queued >= HIGH_WATER_MARK && !this.#paused) {
      this.#paused = true;
      this.#source.pause();
      return false;
    }
    return true;
  }

  /** The last byte arrived. */
  end(): void {
    if (this.#ended || this.#error) return;
    this.#ended = true;
    this.#wakeReader();
  }

  /** The body failed: pending and later reads reject with `error`. */
  fail(error: Error): void {
    if (this.#ended || this.#error) return;
    this.#error = error;
    this.#queue.length = this.#head = this.#queued = 0;
    this.#wakeReader();
  }

  /** The next chunk, or null at the end. */
  async read(): Promise<Uint8Array | null> {
    this.#used = true;
    for (;;) {
      if (this.#head < this.#queue.length) {
        const chunk = this.#queue[this.#head]!;
        this.#queue[this.#head++] = undefined as unknown as Uint8Array;
        if (this.#head === this.#queue.length) this.#queue.length = this.#head = 0;
        this.#queued -= chunk.length;
        if (this.#paused && this.#queued < HIGH_WATER_MARK / 2) {
          this.#paused = false;
          this.#source.resume();
        }
        return chunk;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  /** Every byte, once the body ended. */
  bytes(): Promise<Uint8Array> {
    if (this.#whole) return this.#whole;
    if (this.#taken !== undefined) return this.#whole = Promise.resolve(this.#taken);
    if (this.#used) return Promise.reject(new TypeError("the body was already read"));
    // Usually the whole body is in by the time it is asked for (HTTP/2: its DATA came in the HEADERS' read): no reads.
    const all = this.takeAll();
    if (all !== null) return this.#whole = Promise.resolve(all);
    this.#used = true;
    return this.#whole = this.#collect();
  }

  /** Every byte as an ArrayBuffer. */
  arrayBuffer(): Promise<ArrayBuffer> {
    // The whole body already in (usual: HTTP/2 DATA comes in the HEADERS' read): no async function, no await.
    const all = this.#takeWhole();
    if (all !== null) return Promise.resolve(ownBuffer(all));
    return this.bytes().then(ownBuffer);
  }

  /** The body decoded as UTF-8. */
  text(): Promise<string> {
    const all = this.#takeWhole();
    if (all !== null) return Promise.resolve(decoder.decode(all));
    return this.bytes().then((b) => decoder.decode(b));
  }

  /** {@link takeAll}, kept as {@link bytes}' answer too (so a later `bytes()` gives the same bytes, as it did). */
  #takeWhole(): Uint8Array | null {
    if (this.#whole !== undefined || this.#taken !== undefined || this.#used) return null;
    const all = this.takeAll();
    if (all !== null) this.#taken = all;
    return all;
  }

  /** The body parsed as JSON. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** The body as a Blob. */
  async blob(): Promise<Blob> {
    return new Blob([await this.bytes() as Uint8Array<ArrayBuffer>]);
  }

  /**
   * Every byte at once when the whole body has arrived (and nothing read
   * it yet): the bytes, and the body is used; otherwise null.
   */
  takeAll(): Uint8Array<ArrayBuffer> | null {
    if (!this.#ended || this.#used || this.#error) return null;
    this.#used = true;
    const queue = this.#queue;
    // One piece, the usual case: handed over as it is (its `buffer` is not asked for: on JavaScriptCore that makes
    // an ArrayBuffer object, which text() and json() never need). Pieces are copies this body owns, never shared memory.
    let all: Uint8Array;
    if (queue.length - this.#head === 1) all = queue[this.#head]!;
    else {
      const chunks = queue.slice(this.#head);
      let total = 0;
      for (const c of chunks) total += c.length;
      all = concat(chunks, total);
    }
    queue.length = this.#head = this.#queued = 0;
    return all as Uint8Array<ArrayBuffer>;
  }

  /** Reads and drops the rest (the connection can be reused afterwards). */
  async dump(): Promise<void> {
    this.#used = true;
    while ((await this.read()) !== null);
  }

  /**
   * Gives up on the rest: the connection is closed (its remaining bytes
   * would otherwise have to be read).
   */
  cancel(reason?: unknown): void {
    this.#used = true;
    if (this.#ended || this.#error) return;
    const error = reason instanceof Error ? reason : new UseAfterCloseError("response body");
    this.fail(error);
    this.#source.cancel(error);
  }

  /** A WHATWG ReadableStream over the body (takes the body). */
  stream(): ReadableStream<Uint8Array> {
    if (this.#used) throw new TypeError("the body was already read");
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await this.read();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: (reason) => this.cancel(reason),
    }, { highWaterMark: 0 });
  }

  /** Iterates the body's chunks as they arrive; the body is used after this. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    let done = false;
    try {
      for (;;) {
        const chunk = await this.read();
        if (chunk === null) {
          done = true;
          return;
        }
        yield chunk;
      }
    } finally {
      if (!done) this.cancel();
    }
  }

  async #collect(): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = await this.read();
      if (chunk === null) break;
      chunks.push(chunk);
      total += chunk.length;
    }
    return chunks.length === 0 ? new Uint8Array(0) : concat(chunks, total);
  }

  #wakeReader(): void {
    const wake = this.#wake;
    if (wake) {
      this.#wake = undefined;
      wake();
    }
  }
}
