/**
 * WHATWG stream adapters for a {@link Connection}: a pull-based
 * `ReadableStream` over `read()` and a `WritableStream` whose writes resolve
 * once the kernel took the bytes (so the stream's backpressure is the
 * socket's).
 *
 * @example
 * ```ts
 * import { connectionReadable, connectionWritable } from "./connection_streams.ts";
 * // const readable = connectionReadable(conn);
 * // await readable.pipeTo(connectionWritable(other));
 * ```
 *
 * @module
 */
import type { Connection } from "./connection.ts";

/**
 * A `ReadableStream` of the connection's incoming bytes; cancelling it
 * aborts the connection.
 *
 * @example
 * ```ts
 * import { connectionReadable } from "./connection_streams.ts";
 * // for await (const chunk of connectionReadable(conn)) console.log(chunk.length);
 * ```
 */
export function connectionReadable(conn: Connection): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await conn.read();
      if (chunk === null) controller.close();
      else controller.enqueue(chunk);
    },
    cancel() {
      conn.abort();
    },
  }, { highWaterMark: 0 });
}

/**
 * A `WritableStream` into the connection: `close()` half-closes (FIN),
 * `abort()` resets the connection.
 *
 * @example
 * ```ts
 * import { connectionWritable } from "./connection_streams.ts";
 * // const writer = connectionWritable(conn).getWriter();
 * // await writer.write(new Uint8Array([1])); await writer.close();
 * ```
 */
export function connectionWritable(conn: Connection): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write(chunk) {
      return conn.write(chunk);
    },
    close() {
      return conn.end();
    },
    abort(reason) {
      conn.abort(reason instanceof Error ? reason : undefined);
    },
  });
}
