// Pool: requests go out in the order they were dispatched. A request
// dispatched while others wait for a connection queues behind them, even
// when a connection could take it; one dispatched while nothing waits goes
// straight to a connection with room (Pool.dispatch's direct path). Over
// HTTP/1.1 (one connection) and HTTP/2 (h2c, a server that allows one
// stream at a time), with and without an AbortSignal.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Pool } from "../http/client/pool.ts";
import { request } from "../http/client/request.ts";
import { listenRawHTTP } from "./raw_http_server.ts";

/** The request line's path of a raw head. */
const pathOf = (head: string): string => head.split(" ")[1]!;

async function get(pool: Pool, base: string, path: string, signal?: AbortSignal): Promise<string> {
  const r = await request(`${base}${path}`, signal === undefined ? { dispatcher: pool } : { dispatcher: pool, signal });
  return await r.body.text();
}

/** A raw HTTP/1.1 server that answers each request with its path as the body, recording the paths in `seen`. */
function pathEchoServer(seen: string[]): ReturnType<typeof listenRawHTTP> {
  return listenRawHTTP((socket, head) => {
    const path = pathOf(head);
    seen.push(path);
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
  });
}

describe("Pool request order", () => {
  test("HTTP/1.1, one connection: queued requests go out in dispatch order, later ones behind them", async () => {
    const seen: string[] = [];
    const server = await pathEchoServer(seen);
    const pool = new Pool(server.base, { connections: 1 });
    try {
      const controller = new AbortController();
      const first = ["/a", "/b", "/c"].map((p, i) => get(pool, server.base, p, i === 1 ? controller.signal : undefined));
      // /a is on the connection (or connecting), /b and /c wait: /d queues behind them.
      const d = get(pool, server.base, "/d");
      assert.deepEqual(await Promise.all([...first, d]), ["/a", "/b", "/c", "/d"]);
      assert.deepEqual(seen, ["/a", "/b", "/c", "/d"]);
      // Nothing waits now: the next one goes straight to the idle connection.
      assert.equal(await get(pool, server.base, "/e"), "/e");
      assert.equal(server.connections, 1);
      assert.equal(pool.stats.queued, 0);
    } finally {
      await pool.close();
      await server.close();
    }
  });

  test("HTTP/2 (h2c), one stream at a time: queued requests go out in dispatch order; with room, at once", async () => {
    const seen: string[] = [];
    const server = http2.createServer({ settings: { maxConcurrentStreams: 1 } });
    server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      stream.on("error", () => {});
      const path = String(headers[":path"]);
      seen.push(path);
      stream.respond({ ":status": 200 });
      stream.end(path);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const pool = new Pool(base, { http2: "prior-knowledge" });
    try {
      // The connection opens; its SETTINGS allow one stream: the rest wait in the pool's queue, in order.
      const controller = new AbortController();
      const paths = ["/1", "/2", "/3", "/4", "/5"];
      const answers = paths.map((p, i) => get(pool, base, p, i % 2 === 0 ? controller.signal : undefined));
      assert.deepEqual(await Promise.all(answers), paths);
      assert.deepEqual(seen, paths);
      assert.equal(pool.stats.queued, 0);
      // Nothing waits and the connection has room: each goes out at once, one after the other.
      for (const p of ["/6", "/7"]) assert.equal(await get(pool, base, p), p);
      assert.deepEqual(seen.slice(5), ["/6", "/7"]);
      assert.equal(pool.protocol, "h2");
    } finally {
      await pool.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test("an aborted request leaves the queue; the ones behind it keep their order", async () => {
    const seen: string[] = [];
    const server = await pathEchoServer(seen);
    const pool = new Pool(server.base, { connections: 1 });
    try {
      const controller = new AbortController();
      const a = get(pool, server.base, "/a");
      const b = get(pool, server.base, "/b", controller.signal);
      const c = get(pool, server.base, "/c");
      controller.abort();
      await assert.rejects(b, { name: "AbortError" });
      assert.deepEqual(await Promise.all([a, c]), ["/a", "/c"]);
      assert.deepEqual(seen, ["/a", "/c"]);
    } finally {
      await pool.close();
      await server.close();
    }
  });
});
