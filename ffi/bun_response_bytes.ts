/**
 * Bun only: the bytes of a `Response` whose body is held in memory (made
 * from a string, bytes, `Response.json` …), taken without its stream.
 *
 * Bun keeps such a body natively and makes a `ReadableStream` for it only
 * when `body` is read, a stream that then hands it over in 16 KiB pieces,
 * each a fresh buffer: for a 64 KiB body that was ~7 µs of the server's
 * CPU per response here, and for a 13-byte one ~2 µs of ~20, against
 * ~0.3 µs for `response.bytes()`, which Bun settles at once for such a
 * body. But `bytes()` on a streaming body would read all of it, without
 * backpressure, so it is called only when the body is known to be in
 * memory: Bun reports a `Response`'s memory to its garbage collector as
 * a fixed size plus its status text plus its in-memory body (a stream,
 * a Blob or a file counts 0), read with `bun:jsc`'s
 * `estimateShallowMemoryUsageOf`. That reading is checked against known
 * responses once at load; if Bun ever counts differently, or a piece is
 * missing, {@link bunResponseBytes} is undefined and every body goes
 * through its stream as before.
 *
 * What taking the bytes costs beyond the call (Bun 1.4.5, measured for
 * issue 18): `bytes()` does not copy (0.27 µs for 64 KiB against 0.15 for
 * 16 B), but the collector counts the buffer it hands over as a fresh
 * allocation of the body's size, on top of the copy the `Response`
 * constructor already made. With 64 KiB bodies that is twice the eden
 * collections per response (322 against 160 per 20,000 in one loop;
 * `BUN_JSC_logGC=1`), and each costs more in a process that has run a
 * server of JavaScript (`bun:jsc` `edenGC()` after load: 0.22–0.97 ms,
 * median ~0.3, against 0.07–0.40, median ~0.17, in a process serving
 * with Bun's own server; ours took 0.09–0.15 before its first request). `arrayBuffer()`
 * and `blob()` are counted alike; Bun's file writer given the response and
 * a descriptor, the one public way found that is not, is asynchronous and
 * costs 11–16 µs per 64 KiB response.
 *
 * @example
 * ```ts
 * import { bunResponseBytes } from "./bun_response_bytes.ts";
 * const bytes = bunResponseBytes?.(new Response("hi"));
 * console.log(bytes === undefined || bytes.length === 2); // true (2 on Bun)
 * ```
 *
 * @module
 */
import { detectRuntime } from "./runtime.ts";

type Estimate = (value: object) => number;
interface Peek {
  (promise: Promise<unknown>): unknown;
  status(promise: Promise<unknown>): "pending" | "fulfilled" | "rejected";
}

function ignore(): void {}

/** Blobs up to this size are read whole by {@link bunBlobBytes} (the server gathers bodies up to 1 MiB). */
const BLOB_BYTES_MAX = 1 << 20;

interface Readers {
  bytes: (response: Response) => Uint8Array | undefined;
  blobBytes: (blob: Blob) => Uint8Array | undefined;
}

/** `estimate` behaves as described in the module text (a stream, Blob, status text, headers counted as assumed). */
function countsAsAssumed(estimate: Estimate): boolean {
  const base = estimate(new Response(null));
  const stream = () => new ReadableStream<Uint8Array>({ pull: (c) => c.close() });
  // Bytes already queued in a stream must count 0 too (were they counted, bytes() would read a stream).
  const queued = () => new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new Uint8Array(64)) });
  return estimate(new Response("abc")) === base + 3 &&
    estimate(new Response(new Uint8Array(100))) === base + 100 &&
    estimate(new Response(null, { statusText: "Made" })) === base + 4 &&
    estimate(new Response(stream())) === base &&
    estimate(new Response(stream(), { statusText: "ab", headers: { "x-a": "x".repeat(50) } })) === base + 2 &&
    estimate(new Response(queued())) === base &&
    estimate(new Response(new Blob(["abcdef"]))) === base &&
    estimate(new Response("", { headers: { "x-a": "x".repeat(50) } })) === base;
}

async function load(): Promise<Readers | undefined> {
  if (detectRuntime() !== "bun") return undefined;
  const peek = (globalThis as unknown as { Bun?: { peek?: Peek } }).Bun?.peek;
  if (typeof peek !== "function" || typeof peek.status !== "function") return undefined;
  let estimate: Estimate;
  try {
    // A specifier in a variable: Deno and tsc must not try to resolve it.
    const spec = "bun:jsc";
    estimate = (await import(spec) as { estimateShallowMemoryUsageOf: Estimate }).estimateShallowMemoryUsageOf;
    if (typeof estimate !== "function" || !countsAsAssumed(estimate)) return undefined;
  } catch {
    return undefined;
  }
  const base = estimate(new Response(null));
  // Bun's own class: this module loads before ffi/bun_response_type.ts installs its subclass.
  const NativeResponse = globalThis.Response;
  const bytes = (response: Response): Uint8Array | undefined => {
    // A fetched response (its url counts too) and a used body are left alone.
    if (response.url !== "" || response.bodyUsed) return undefined;
    const text = response.statusText;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return undefined; // counted in UTF-8 bytes
    if (estimate(response) - base - text.length <= 0) return undefined;
    const promise = response.bytes();
    const status = peek.status(promise);
    if (status === "fulfilled") return peek(promise) as Uint8Array;
    // Not seen (a body in memory settles at once); a locked body rejects,
    // which the caller meets again through `response.body`.
    promise.catch(ignore);
    return undefined;
  };
  const blobBytes = (blob: Blob): Uint8Array | undefined => {
    // A named Blob may be a file (Bun.file, which Bun reads off the loop), a large one is streamed.
    if (typeof (blob as { name?: unknown }).name === "string" || blob.size > BLOB_BYTES_MAX) return undefined;
    const promise = new NativeResponse(blob).bytes();
    if (peek.status(promise) === "fulfilled") return peek(promise) as Uint8Array;
    // Not in memory after all (Bun.file of a descriptor): the caller reads the stream.
    promise.catch(ignore);
    return undefined;
  };
  return { bytes, blobBytes };
}

const readers = await load();

/**
 * On Bun, the bytes of `response`'s body when it is held in memory and
 * unused (reading them uses it, as reading its stream would); undefined
 * for any other body, which must then be read through `response.body`.
 * Undefined itself on Node and Deno (see response_peek.ts for theirs), or
 * when Bun does not behave as the module text says.
 *
 * @example
 * ```ts
 * import { bunResponseBytes } from "./bun_response_bytes.ts";
 * if (bunResponseBytes !== undefined) console.log(bunResponseBytes(new Response(new ReadableStream()))); // undefined
 * ```
 */
export const bunResponseBytes: ((response: Response) => Uint8Array | undefined) | undefined = readers?.bytes;

/**
 * On Bun, a fresh copy of `blob`'s bytes when Bun holds them in memory
 * (a `Blob` made from strings or bytes, a slice of one), read at once
 * through a throwaway `Response` of Bun's own class: `blob.arrayBuffer()`
 * settles only after a trip off the loop (~100 µs later here, 12 µs of
 * CPU for 64 KiB, against ~10 for this). Nobody else holds the copy, so
 * it may be freed once sent. Undefined for a Blob with a `name` (a `File`,
 * or a `Bun.file`, which cannot be told apart and which Bun reads off the
 * loop), one over 1 MiB, or one Bun does not hand over at once (then
 * read, in the background, and dropped); undefined itself where
 * {@link bunResponseBytes} is.
 *
 * @example
 * ```ts
 * import { bunBlobBytes } from "./bun_response_bytes.ts";
 * const bytes = bunBlobBytes?.(new Blob(["hi"]));
 * console.log(bytes === undefined || bytes.length === 2); // true (2 on Bun)
 * ```
 */
export const bunBlobBytes: ((blob: Blob) => Uint8Array | undefined) | undefined = readers?.blobBytes;
