// serve() over HTTP/1.1 and a handler's field value holding a control
// character (red team, thirteenth pass, handler misuse). Found and fixed:
// `Headers` refuses only NUL, CR and LF in a value, so a handler that
// echoed a query parameter into a field (`x-v: a<ESC>b`, DEL, any C0 but
// HTAB) wrote it into the head as it was: RFC 9110 §5.5 has no such octet
// in a field value, undici and node:http's parser (llhttp) failed the
// whole response (HPE_INVALID_HEADER_TOKEN), and a terminal tailing the
// traffic got the escape sequence. Such a value is now a TypeError where
// the head is built (as node:http's setHeader throws ERR_INVALID_CHAR),
// answered 500 like any response that cannot be written. A field refused
// half-way through the head no longer leaves the part built so far
// (the status line) to go out before the 500.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../http/server/mod.ts";
import { Logger } from "../core/log.ts";
import { rawExchangeText } from "./raw_exchange.ts";

function echoServer() {
  const logged: string[] = [];
  const server = serve({
    port: 0,
    http2: false,
    logger: new Logger({ level: "error", sink: (line) => logged.push(line) }),
    fetch: (request) => {
      const url = new URL(request.url);
      const v = url.searchParams.get("v") ?? "";
      switch (url.pathname) {
        case "/plain": // a light response where the runtime allows it
          return new Response("ok", { headers: { "x-v": v } });
        case "/headers":
          return new Response("ok", { headers: new Headers([["x-a", "1"], ["x-v", v]]) });
        case "/stream":
          return new Response(new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode("ok")), c.close()) }), { headers: { "x-v": v } });
        case "/bytes":
          return new Response(new TextEncoder().encode("ok"), { status: 201, headers: [["x-v", v]] });
        default:
          return new Response("next");
      }
    },
  });
  return { server, logged };
}

const BAD = ["\x01", "\x1b[31m", "\x7f", "\x1f", "\x08", "\x0b", "\x0c"];
const GOOD = ["a\tb", "é", "a b", "~"];

describe("serve over HTTP/1.1: a handler's field value with a control character", () => {
  for (const path of ["/plain", "/headers", "/stream", "/bytes"]) {
    test(`${path}: a clean 500 for each control character; HTAB and obs-text still go out`, async () => {
      const { server, logged } = echoServer();
      try {
        for (const bad of BAD) {
          const v = encodeURIComponent(`a${bad}b`);
          const raw = await rawExchangeText(server.addr.port, `GET ${path}?v=${v} HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
          assert.match(raw, /^HTTP\/1\.1 500 Internal Server Error\r\n/, JSON.stringify(bad));
          assert.equal(raw.match(/HTTP\/1\.1 /g)?.length ?? 0, raw.includes("\r\n\r\nnext") ? 2 : 1, raw);
          assert.ok(!raw.includes(bad.charAt(0)), `the control character went out: ${JSON.stringify(raw)}`);
        }
        assert.equal(logged.filter((l) => l.includes("control character")).length, BAD.length, logged.join("\n"));
        for (const good of GOOD) {
          const raw = await rawExchangeText(server.addr.port, `GET ${path}?v=${encodeURIComponent(good)} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
          assert.match(raw, /^HTTP\/1\.1 20[01] /, raw);
          const field = /\r\nx-v: ([^\r]*)\r\n/.exec(raw);
          assert.ok(field !== null, raw);
          assert.equal(field[1], Buffer.from(good, "latin1").toString("latin1"));
        }
      } finally {
        await server.shutdown({ deadlineMs: 200 });
      }
    });
  }

  test("fetch (undici on Node) reads the 500 where it failed the whole response before", async () => {
    const { server } = echoServer();
    try {
      const response = await fetch(`http://127.0.0.1:${server.addr.port}/plain?v=${encodeURIComponent("a\x1bb")}`);
      assert.equal(response.status, 500);
      await response.arrayBuffer();
      const next = await fetch(`http://127.0.0.1:${server.addr.port}/plain?v=ok`);
      assert.equal(next.headers.get("x-v"), "ok");
      assert.equal(await next.text(), "ok");
    } finally {
      await server.shutdown({ deadlineMs: 200 });
    }
  });
});
