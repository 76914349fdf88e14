// The HTTP/2 client against a server that stops reading (RFC 9113 leaves
// it to the client to bound what it holds): the server allows a million
// concurrent streams, then reads nothing. The client's writes stay bounded:
// once the socket takes no more, new requests wait in the pool's queue
// (bounded by its own limit, ERR_POOL_QUEUE_FULL) instead of each one's
// HEADERS being encoded into the connection's output without end (20,000
// requests with 6 kB heads held 160 MB of heap there). When the server reads
// again, the queued requests go out on the same connection and all are
// answered.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { request } from "../http/client/mod.ts";
import { Pool } from "../http/client/pool.ts";
import { encodeFrame, encodeSettings } from "../http/h2/frames.ts";
import { HPACKEncoder } from "../http/hpack/encoder.ts";

const HEADERS = 1, SETTINGS = 4;
const END_STREAM = 1, END_HEADERS = 4;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("HTTP/2 client: a server that stops reading", () => {
  test("new requests wait in the pool's queue once the socket is full; all are answered when the server reads again", async () => {
    let resume = (): void => {};
    const sockets: net.Socket[] = [];
    const server = net.createServer((sock) => {
      sockets.push(sock);
      sock.on("error", () => {});
      sock.write(encodeSettings([[3, 1_000_000]])); // SETTINGS_MAX_CONCURRENT_STREAMS
      const answer = new HPACKEncoder().encode([":status", "200"]);
      let buf = Buffer.alloc(0);
      let offset = 24; // after the client preface
      let answered = 0;
      sock.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (offset + 9 <= buf.length) {
          const len = buf.readUIntBE(offset, 3);
          if (offset + 9 + len > buf.length) break;
          const type = buf[offset + 3];
          if (type === SETTINGS && (buf[offset + 4]! & 1) === 0) sock.write(encodeSettings(null));
          if (type === HEADERS) {
            sock.write(encodeFrame(HEADERS, END_HEADERS | END_STREAM, buf.readUInt32BE(offset + 5) & 0x7fffffff, answer));
            answered++;
          }
          offset += 9 + len;
        }
        buf = buf.subarray(offset);
        offset = 0;
        // The first request answered: read nothing more until told.
        if (answered > 0 && resume === noop) {
          sock.pause();
          resume = () => sock.resume();
        }
      });
    });
    const noop = resume;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const pool = new Pool(origin, { http2: "prior-knowledge" });
    try {
      // A first exchange: the server's SETTINGS are in.
      const first = await request(`${origin}/`, { dispatcher: pool });
      await first.body.text();
      // Heads of ~6 kB each, all different (no HPACK indexing makes them small): 4000 of them are far more than a socket holds.
      const N = 4000;
      const filler = "v".repeat(6000);
      const done = Array.from({ length: N }, (_, i) => request(`${origin}/${i}`, { dispatcher: pool, headers: { "x-fill": `${i}${filler}` } }).then((r) => r.body.text().then(() => r.statusCode)));
      for (const p of done) p.catch(() => {}); // a failed assertion below destroys the pool: these then reject
      // Bounded wait (not timed): the socket fills and requests stay queued in the pool.
      for (let i = 0; i < 400 && pool.stats.queued === 0; i++) await sleep(10);
      assert.ok(pool.stats.queued > 0, `requests waiting in the pool (stats: ${JSON.stringify(pool.stats)})`);
      assert.ok(pool.stats.running < N, JSON.stringify(pool.stats));
      resume();
      const statuses = await Promise.all(done);
      assert.equal(statuses.filter((s) => s === 200).length, N);
      assert.equal(pool.stats.queued, 0);
      assert.equal(pool.stats.connected, 1, "one connection carried every request");
    } finally {
      await pool.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
