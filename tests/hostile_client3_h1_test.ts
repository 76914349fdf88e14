// The HTTP/1.1 client against a server that sends bytes after a response
// that has no body (204, 304, a response to HEAD) in the same write: bytes
// that begin another response ("HTTP/", or a whole head without its blank
// line) came with no request outstanding. They must not become the start
// of the next request's response on that connection (it failed with
// HPE_INVALID_VERSION, or read the server's planted head): the connection
// is dropped, and the next request goes on a new one and gets its own
// answer (client red team, third round).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Agent, fetch, request } from "../http/client/mod.ts";
import { listenRawHTTP, type RawHTTPServer } from "./raw_http_server.ts";

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood";

const FIRSTS: Array<[string, string, string]> = [
  ["a 204 with Content-Length: 5 and 'HTTP/'", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/"],
  ["a 304 with Content-Length: 5 and 'HTTP/'", "GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nHTTP/"],
  ["a response to HEAD followed by its 5-byte body 'HTTP/'", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/"],
  ["a 204 followed by a planted head without its blank line", "GET", "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-A: "],
  ["a 200 followed by one byte 'H'", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokH"],
];

let server: RawHTTPServer;
let first = "";

before(async () => {
  // The first request on each connection gets `first`; any later one, OK.
  const served = new Map<number, number>();
  server = await listenRawHTTP((sock, _head, _index, connection) => {
    const n = served.get(connection) ?? 0;
    served.set(connection, n + 1);
    sock.write(n === 0 && first !== "" ? first : OK);
  });
});

after(() => server.close());

describe("HTTP/1.1 client: bytes after a bodiless response with no request outstanding", () => {
  for (const [name, method, answer] of FIRSTS) {
    for (const api of ["request", "fetch"] as const) {
      test(`${api}: ${name}: the first response stands, the next request gets its own answer on a new connection`, async () => {
        const agent = new Agent();
        try {
          first = answer;
          const before = server.connections;
          if (api === "request") {
            const a = await request(`${server.base}/a`, { method, dispatcher: agent });
            await a.body.text();
            first = "";
            const b = await request(`${server.base}/b`, { dispatcher: agent });
            assert.equal(b.statusCode, 200);
            assert.equal(await b.body.text(), "good");
          } else {
            const a = await fetch(`${server.base}/a`, { method, dispatcher: agent });
            await a.arrayBuffer();
            first = "";
            const b = await fetch(`${server.base}/b`, { dispatcher: agent });
            assert.equal(b.status, 200);
            assert.equal(await b.text(), "good");
          }
          assert.equal(server.connections - before, 2);
        } finally {
          first = "";
          await agent.close();
        }
      });
    }
  }

  test("a stray CRLF after a response keeps the connection (RFC 9112 §2.2)", async () => {
    const agent = new Agent();
    try {
      first = "HTTP/1.1 204 No Content\r\n\r\n\r\n";
      const before = server.connections;
      const a = await request(`${server.base}/a`, { dispatcher: agent });
      await a.body.text();
      first = "";
      const b = await request(`${server.base}/b`, { dispatcher: agent });
      assert.equal(await b.body.text(), "good");
      assert.equal(server.connections - before, 1);
    } finally {
      first = "";
      await agent.close();
    }
  });
});
