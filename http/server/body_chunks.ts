/**
 * Helpers shared by the HTTP/1.1 and HTTP/2 response writers for reading a
 * response body stream: {@link settlesSoon} tells a read that is there at
 * once (a few microtask hops) from one that has to wait, so a writer can
 * gather a body that is all there before choosing its framing, and
 * {@link chunkBytes} checks each chunk is bytes.
 *
 * @example
 * ```ts
 * import { chunkBytes, NOT_YET, settlesSoon } from "./body_chunks.ts";
 * const result = await settlesSoon(Promise.resolve(Uint8Array.of(1)));
 * if (result !== NOT_YET) console.log(chunkBytes(result).length); // 1
 * ```
 *
 * @module
 */

/** What {@link settlesSoon} gives for a promise still pending after its hops. */
export const NOT_YET: unique symbol = Symbol("not yet");
/** Microtask hops a read may take and still count as "there at once". */
const SOON_HOPS = 16;

/**
 * The value of `promise` when it settles within a few microtask hops (a
 * rejection is thrown), else {@link NOT_YET} (the promise is still
 * observed, so a later rejection is not unhandled).
 *
 * @example
 * ```ts
 * import { NOT_YET, settlesSoon } from "./body_chunks.ts";
 * console.log(await settlesSoon(Promise.resolve(7))); // 7
 * console.log(await settlesSoon(new Promise(() => {})) === NOT_YET); // true
 * ```
 */
export async function settlesSoon<T>(promise: Promise<T>): Promise<T | typeof NOT_YET> {
  let state = 0;
  let value: T | undefined;
  let error: unknown;
  promise.then((v) => {
    state = 1;
    value = v;
  }, (e) => {
    state = 2;
    error = e;
  });
  for (let i = 0; i < SOON_HOPS && state === 0; i++) await undefined;
  if (state === 2) throw error;
  return state === 1 ? value as T : NOT_YET;
}

/**
 * A response body stream's chunk as bytes (any ArrayBuffer view or an
 * ArrayBuffer, without copying); anything else is a TypeError.
 *
 * @example
 * ```ts
 * import { chunkBytes } from "./body_chunks.ts";
 * console.log(chunkBytes(new ArrayBuffer(3)).length); // 3
 * ```
 */
export function chunkBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`a response body stream must give Uint8Array chunks, got ${typeof value}`);
}

function ignore(): void {}

/**
 * `reader.read()`, observed at once: a writer holds the next read while it
 * waits for room, and a body stream that fails meanwhile must not be an
 * unhandled rejection (awaiting the promise still throws).
 *
 * @example
 * ```ts
 * import { nextRead } from "./body_chunks.ts";
 * const reader = new Response("hi").body!.getReader();
 * console.log((await nextRead(reader)).done); // false
 * ```
 */
export function nextRead(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<ReadableStreamReadResult<Uint8Array>> {
  const read = reader.read();
  read.catch(ignore);
  return read;
}

/** What {@link gatherSettled} read: the chunks, and whether the body goes on. */
export interface Gathered {
  /** The non-empty chunks read so far. */
  chunks: Uint8Array[];
  /** Their byte count. */
  total: number;
  /** The read still in flight (undefined once the stream ended). */
  pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  /** True when the body must be streamed: a read was not there at once, or past `maxBytes`. */
  streaming: boolean;
}

/**
 * Reads the chunks of `reader` that are there at once (see
 * {@link settlesSoon}), up to just past `maxBytes`, so a body made in one
 * go is written with a length; with `streaming` already true it only starts
 * the first read.
 *
 * @example
 * ```ts
 * import { gatherSettled } from "./body_chunks.ts";
 * const reader = new Response("hello").body!.getReader();
 * const { total, streaming } = await gatherSettled(reader, 1 << 20);
 * console.log(total, streaming); // 5 false
 * ```
 */
export async function gatherSettled(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxBytes: number,
  streaming = false,
): Promise<Gathered> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined = nextRead(reader);
  while (!streaming) {
    const result = await settlesSoon(pending!);
    if (result === NOT_YET) {
      streaming = true;
      break;
    }
    if (result.done) {
      pending = undefined;
      break;
    }
    const bytes = chunkBytes(result.value);
    if (bytes.length > 0) {
      chunks.push(bytes);
      total += bytes.length;
    }
    pending = nextRead(reader);
    if (total > maxBytes) streaming = true;
  }
  return { chunks, total, pending, streaming };
}
