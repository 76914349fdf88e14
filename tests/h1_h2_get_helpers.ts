/**
 * One GET to a server under test over HTTP/1.1 (the runtime's fetch) or
 * HTTP/2 (a node:http2 session, h2c), read whole: status, the fields asked
 * for, body. Shared by the http_server tests that check one answer over both
 * versions (string, Blob and implied-type bodies).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import http2 from "node:http2";

/** An answer read whole. */
export interface Got {
  status: number;
  /** A field's value (HTTP/2: joined as a string), null when absent. */
  header(name: string): string | null;
  body: Uint8Array;
}

/**
 * GET `path` from 127.0.0.1:`port` over HTTP/1.1 with the runtime's fetch.
 *
 * @example
 * ```ts ignore
 * const got = await getH1(server.addr.port, "/");
 * ```
 */
export async function getH1(port: number, path: string, init?: RequestInit): Promise<Got> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const body = new Uint8Array(await r.arrayBuffer());
  return { status: r.status, header: (name) => r.headers.get(name), body };
}

/**
 * GET `path` on `session`, with `extra` request fields.
 *
 * @example
 * ```ts ignore
 * const got = await getH2(session, "/", { "accept-encoding": "gzip" });
 * ```
 */
export function getH2(session: http2.ClientHttp2Session, path: string, extra: http2.OutgoingHttpHeaders = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":path": path, ...extra });
    const chunks: Uint8Array[] = [];
    let head: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => (head = h));
    req.on("data", (d: Uint8Array) => chunks.push(d));
    req.on("end", () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      resolve({
        status: Number(head[":status"]),
        header: (name) => {
          const v = head[name.toLowerCase()];
          return v === undefined ? null : String(v);
        },
        body,
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * An h2c session to 127.0.0.1:`port`, once the server's SETTINGS came.
 *
 * @example
 * ```ts ignore
 * const session = await connectH2(server.addr.port);
 * ```
 */
export function connectH2(port: number): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once("remoteSettings", () => resolve(session));
    session.once("error", reject);
  });
}

/**
 * Closes `session` and resolves once it is closed.
 *
 * @example
 * ```ts ignore
 * await closeH2(session);
 * ```
 */
export function closeH2(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => session.close(() => resolve()));
}
