/**
 * WHATWG streams over a {@link Connection}, behind its `readable` and
 * `writable` properties (made on first use, one of each per connection):
 *
 * - `readable` is a byte stream (`type: "bytes"`): a BYOB reader's buffer
 *   is filled by `readInto()` (no chunk allocated in between), a default
 *   reader gets `read()`'s chunks. Cancelling it closes the read side.
 * - `writable` writes through `send()`: a write resolves at once while the
 *   connection's queue is below its high-water mark, else once it drained
 *   below it (the stream's backpressure is the socket's); `close()` sends
 *   FIN, `abort()` resets the connection.
 *
 * Byte streams and BYOB readers work on Node (20+), Deno and Bun alike.
 *
 * @example
 * ```ts
 * import type { Connection } from "./connection.ts";
 * async function proxy(from: Connection, to: Connection): Promise<void> {
 *   await from.readable.pipeTo(to.writable);
 * }
 * ```
 *
 * @module
 */
import type { Connection } from "./connection.ts";

/**
 * What the stream adapters need of a connection beyond its public methods;
 * the connection makes it (internal).
 *
 * @example
 * ```ts
 * import type { StreamPort } from "./connection_streams.ts";
 * const detachedPort: StreamPort = {
 *   belowHighWater: () => Promise.resolve(),
 *   cancelRead: () => {},
 *   failure: () => undefined,
 * };
 * ```
 */
export interface StreamPort {
  /** Resolves once the write queue is below the high-water mark; rejects once the connection is closed. */
  belowHighWater(): Promise<void>;
  /** Closes the read side: buffered input dropped, nothing more read, pending reads end. */
  cancelRead(): void;
  /** The error that closed the connection, if one did. */
  failure(): Error | undefined;
}

/**
 * Makes the byte stream behind `conn.readable` (use that property: this
 * takes the connection's internal port).
 *
 * @example
 * ```ts
 * import type { Connection } from "./connection.ts";
 * async function total(conn: Connection): Promise<number> {
 *   const reader = conn.readable.getReader();
 *   let n = 0;
 *   for (let r = await reader.read(); !r.done; r = await reader.read()) n += r.value.length;
 *   return n;
 * }
 * ```
 */
export function readableOf(conn: Connection, port: StreamPort): ReadableStream<Uint8Array> {
  let cancelled = false;
  return new ReadableStream({
    type: "bytes",
    async pull(controller) {
      const request = controller.byobRequest;
      const view = request?.view;
      if (request && view) {
        const n = await conn.readInto(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
        // Cancelled meanwhile: the stream is closed already.
        if (cancelled) return;
        if (n === null) {
          controller.close();
          request.respond(0);
        } else request.respond(n);
        return;
      }
      const chunk = await conn.read();
      if (cancelled) return;
      if (chunk === null) controller.close();
      // read() allocates each chunk: its buffer is an ArrayBuffer of its own.
      else controller.enqueue(chunk as Uint8Array<ArrayBuffer>);
    },
    cancel() {
      cancelled = true;
      port.cancelRead();
    },
  }, { highWaterMark: 0 });
}

/**
 * Makes the stream behind `conn.writable` (use that property: this takes
 * the connection's internal port).
 *
 * @example
 * ```ts
 * import type { Connection } from "./connection.ts";
 * async function greet(conn: Connection): Promise<void> {
 *   const writer = conn.writable.getWriter();
 *   await writer.write(new TextEncoder().encode("hello"));
 *   await writer.close(); // FIN
 * }
 * ```
 */
export function writableOf(conn: Connection, port: StreamPort): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write(chunk) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError(`writable: chunks must be Uint8Array, got ${typeof chunk}`);
      // send() copies what the kernel does not take now: the caller may
      // reuse `chunk` once the write resolved.
      if (conn.send(chunk)) return;
      return port.belowHighWater();
    },
    async close() {
      await conn.end();
      const error = port.failure();
      if (error !== undefined) throw error;
    },
    abort(reason) {
      conn.abort(reason instanceof Error ? reason : undefined);
    },
  });
}

/**
 * The same stream as `conn.readable` (kept for callers of the earlier
 * function).
 *
 * @example
 * ```ts
 * import type { Connection } from "./connection.ts";
 * import { connectionReadable } from "./connection_streams.ts";
 * function same(conn: Connection): boolean {
 *   return connectionReadable(conn) === conn.readable; // true
 * }
 * ```
 */
export function connectionReadable(conn: Connection): ReadableStream<Uint8Array> {
  return conn.readable;
}

/**
 * The same stream as `conn.writable` (kept for callers of the earlier
 * function).
 *
 * @example
 * ```ts
 * import type { Connection } from "./connection.ts";
 * import { connectionWritable } from "./connection_streams.ts";
 * function same(conn: Connection): boolean {
 *   return connectionWritable(conn) === conn.writable; // true
 * }
 * ```
 */
export function connectionWritable(conn: Connection): WritableStream<Uint8Array> {
  return conn.writable;
}
