// The HTTP client (fetch, request) against hostile servers on raw sockets:
// what a server sends cannot make the client spend memory or CPU out of
// proportion to it.
// - a chunked body of 100,000 one-byte chunks reaches the reader as a few
//   large pieces (one per read), not 100,000 queued chunks: 2 MB of them
//   took seconds of CPU and some 240 MB of heap in fetch's queue;
// - a server that sends 1xx heads without end: the request fails after
//   1000 of them (it was held, a core busy parsing, until the headers
//   timeout); a few 1xx before the final response are fine.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { Agent, fetch, request } from "../http/client/mod.ts";

const CHUNKS = 100_000;
let server: net.Server;
let port = 0;
/** 1xx heads the /interim server sends before its 200. */
let interimCount = 0;
const agent = new Agent();

before(async () => {
  server = net.createServer((sock) => {
    sock.on("error", () => {});
    let asked = false;
    sock.on("data", (d: Buffer) => {
      if (asked) return;
      asked = true;
      if (d.toString("latin1").startsWith("GET /interim ")) {
        let sent = 0;
        const more = (): void => {
          while (sent < interimCount) {
            const n = Math.min(500, interimCount - sent);
            sent += n;
            if (!sock.write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n".repeat(n))) return void sock.once("drain", more);
          }
          sock.end("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlast");
        };
        more();
        return;
      }
      sock.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
      let sent = 0;
      const more = (): void => {
        while (sent < CHUNKS) {
          const n = Math.min(5000, CHUNKS - sent);
          sent += n;
          if (!sock.write("1\r\na\r\n".repeat(n))) return void sock.once("drain", more);
        }
        sock.end("0\r\n\r\n");
      };
      more();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  await agent.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function countPieces(body: AsyncIterable<Uint8Array>): Promise<{ pieces: number; bytes: number; allA: boolean }> {
  let pieces = 0;
  let bytes = 0;
  let allA = true;
  for await (const piece of body) {
    pieces++;
    bytes += piece.length;
    if (allA && piece.some((b) => b !== 0x61)) allA = false;
  }
  return { pieces, bytes, allA };
}

describe("HTTP client: a chunked body of one-byte chunks", () => {
  test("fetch: 100,000 one-byte chunks arrive whole, in a few large pieces", async () => {
    const response = await fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent });
    const { pieces, bytes, allA } = await countPieces(response.body!);
    assert.equal(bytes, CHUNKS);
    assert.ok(allA);
    assert.ok(pieces <= CHUNKS / 20, `${pieces} pieces for ${CHUNKS} chunks`);
  });

  test("request(): the same body through ResponseBody", async () => {
    const response = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
    const { pieces, bytes, allA } = await countPieces(response.body);
    assert.equal(bytes, CHUNKS);
    assert.ok(allA);
    assert.ok(pieces <= CHUNKS / 20, `${pieces} pieces for ${CHUNKS} chunks`);
  });
});

describe("HTTP client: interim (1xx) responses", () => {
  test("a few 103s before the final response: the final response is the answer", async () => {
    interimCount = 20;
    const response = await request(`http://127.0.0.1:${port}/interim`, { dispatcher: agent });
    assert.equal(response.statusCode, 200);
    assert.equal(await response.body.text(), "last");
  });

  test("1xx heads without end: the request fails with ERR_HTTP_HEADER_OVERFLOW after 1000", async () => {
    interimCount = 20_000;
    await assert.rejects(request(`http://127.0.0.1:${port}/interim`, { dispatcher: agent }), (err: Error & { code?: string }) => {
      assert.equal(err.code, "ERR_HTTP_HEADER_OVERFLOW");
      assert.match(err.message, /1000 interim/);
      return true;
    });
  });
});
