// serve() over HTTP/1.1 against hostile or careless clients on raw sockets:
// what a client sends never makes a handler's ordinary calls throw.
// - a GET or HEAD with content (Content-Length or chunked): Node's and
//   Deno's Request refuse a body for them, so touching request.body threw a
//   TypeError in the handler (a 500 and an error logged per request, and a
//   400 for the whole connection on Node 24, where requests are made real at
//   once); the content is now discarded there (Bun's Request keeps it) and
//   the pipelined request after it is answered.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../http/server/mod.ts";
import { rawExchangeText } from "./raw_exchange.ts";

/** Writes `raw`, returns what the server sent until it closed (or 10 s passed). */
const exchange = rawExchangeText;

describe("serve over HTTP/1.1: GET and HEAD with content", () => {
  test("the handler reads request.body and text() without a throw; the content is not taken for the next request", async () => {
    const failures: unknown[] = [];
    const seen: string[] = [];
    const s = serve({
      port: 0,
      http2: false,
      fetch: async (request) => {
        const path = new URL(request.url).pathname;
        try {
          const hasBody = request.body !== null;
          const text = await request.text();
          seen.push(`${request.method} ${path} ${hasBody} ${JSON.stringify(text)}`);
          return new Response(`${path}:${text}`);
        } catch (err) {
          failures.push(err);
          throw err;
        }
      },
    });
    try {
      const out = await exchange(
        s.addr.port,
        "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
          "HEAD /h HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
          "GET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      );
      assert.deepEqual(failures, []);
      const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
      assert.deepEqual(statuses, ["200", "200", "200"], out);
      seen.sort();
      assert.equal(seen.length, 3);
      // Bun's Request carries the content of a GET or HEAD; Node's and Deno's cannot, and it is discarded.
      assert.match(seen[0]!, /^GET \/a (false ""|true "hello")$/);
      assert.equal(seen[1], 'GET /b false ""');
      assert.match(seen[2]!, /^HEAD \/h (false ""|true "abc")$/);
      assert.match(out, /\/b:$/);
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });
});
