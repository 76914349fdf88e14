/**
 * A raw HTTP/1.1 test server over node:net for the client tests: it reads
 * request heads off each connection (any number, keep-alive; a body sized
 * by Content-Length is skipped) and hands each head to `onRequest`, which
 * writes whatever bytes the test wants (a valid answer, a lie, nothing).
 * `close()` destroys every connection still open, then closes the server.
 *
 * @example
 * ```ts ignore
 * import { listenRawHTTP } from "./raw_http_server.ts";
 * const server = await listenRawHTTP((socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
 * const r = await fetch(`${server.base}/`);
 * await server.close();
 * ```
 *
 * @module
 */
import net from "node:net";

/** A running {@link listenRawHTTP} server. */
export interface RawHTTPServer {
  /** `http://host:port` (host 127.0.0.1 unless listening elsewhere). */
  readonly base: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Destroys the connections still open and closes the server. */
  close(): Promise<void>;
}

/** Where and how {@link listenRawHTTP} listens. */
export interface RawHTTPServerOptions {
  /** The address to listen on (default 127.0.0.1). */
  host?: string;
  /** Called with each connection as it is accepted (before any head). */
  onConnection?: (socket: net.Socket, connection: number) => void;
  /**
   * Call `onRequest` once the request's body (by Content-Length) has all
   * come, not at its head: a test that checks the body arrived without
   * counting bytes itself (bytes that came with the head are never seen
   * by a `data` listener the callback adds).
   */
  afterBody?: boolean;
}

/**
 * Listens on a free port and calls `onRequest(socket, head, index,
 * connection)` per request head received: `head` is the request line and
 * fields without the blank line, `index` counts requests over the server,
 * `connection` the connection's number.
 *
 * @example
 * ```ts ignore
 * const server = await listenRawHTTP((socket, head) => {
 *   if (head.startsWith("GET /close ")) socket.end("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
 *   else socket.write("HTTP/1.1 204 No Content\r\n\r\n");
 * });
 * ```
 */
export function listenRawHTTP(
  onRequest: (socket: net.Socket, head: string, index: number, connection: number) => void,
  options: RawHTTPServerOptions = {},
): Promise<RawHTTPServer> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let requests = 0;
  const server = net.createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    options.onConnection?.(socket, connection);
    let buffer = Buffer.alloc(0);
    let skip = 0;
    /** A head whose body is still coming (with `afterBody`). */
    let waiting: string | undefined;
    socket.on("data", (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buffer.length);
          buffer = buffer.subarray(n);
          skip -= n;
          if (skip > 0) return;
        }
        if (waiting !== undefined) {
          const head = waiting;
          waiting = undefined;
          onRequest(socket, head, requests++, connection);
        }
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString("latin1");
        buffer = buffer.subarray(end + 4);
        const m = /\r\ncontent-length: *(\d+)/i.exec(head);
        skip = m ? Number(m[1]) : 0;
        if (options.afterBody === true && skip > 0) waiting = head;
        else onRequest(socket, head, requests++, connection);
      }
    });
  });
  const host = options.host ?? "127.0.0.1";
  return new Promise((resolve) => {
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        base: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
        port,
        get connections() {
          return connections;
        },
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });
}
