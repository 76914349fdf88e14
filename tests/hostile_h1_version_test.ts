// serve over HTTP/1.1 against request lines whose HTTP-version is wrong:
// every one was answered 505 (HTTP Version Not Supported), also those that
// carry no HTTP-version at all (`http/1.1`, which is case-sensitive, or
// `GET /a b HTTP/1.1`, a space in the target). RFC 9112 §3 makes an
// invalid request-line a 400; 505 is for a well-formed version the server
// does not speak (RFC 9110 §15.6.6). Both close the connection.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../http/server/mod.ts";
import { rawExchangeText } from "./raw_exchange.ts";

/** Writes `raw`, returns what the server sent until it closed (or 10 s passed). */
const exchange = rawExchangeText;

describe("serve over HTTP/1.1: the HTTP-version of a request line", () => {
  test("malformed is 400, well formed but not 1.0 or 1.1 is 505, each with a close; the handler never runs", async () => {
    let calls = 0;
    const s = serve({
      port: 0,
      http2: false,
      fetch: () => {
        calls++;
        return new Response("ok");
      },
    });
    try {
      const cases: Array<[string, number]> = [
        ["GET / http/1.1", 400],
        ["GET /a b HTTP/1.1", 400],
        ["GET / HTTP/1.10", 400],
        ["GET / HTTP/1", 400],
        ["GET / HTTPS/1.1", 400],
        ["GET / HTTP/2.0", 505],
        ["GET / HTTP/3.1", 505],
        ["GET / HTTP/0.9", 505],
        ["GET / HTTP/3.0", 505],
      ];
      for (const [line, status] of cases) {
        // A second request after it must not be answered: the connection closes.
        const reply = await exchange(s.addr.port, `${line}\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n`);
        assert.match(reply, new RegExp(`^HTTP/1\\.1 ${status} `), line);
        assert.equal(reply.split("HTTP/1.1 ").length, 2, `${line}: answered more than once`);
        assert.match(reply, /\r\nconnection: close\r\n/i, line);
      }
      assert.equal(calls, 0);
      assert.match(await exchange(s.addr.port, "GET / HTTP/1.0\r\n\r\n"), /^HTTP\/1\.1 200 /);
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });
});
