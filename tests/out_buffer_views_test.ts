// OutBuffer keeps the views it hands out (view(), and utf8()'s view of the
// free space) while the buffer and the length stay the same, instead of a
// new subarray per response. A kept view must never show an old buffer or
// an old length: after a reset and a write of the same length the bytes are
// the new ones, after the buffer grew (a large head or body) or shrank back
// (reset past 1 MiB) the view is of the new buffer. And serve's responses,
// whose heads and bodies go through these views, stay byte-exact across a
// keep-alive connection whose bodies change size back and forth (one read
// per request, and pipelined in one write: the cork buffer).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { OutBuffer } from "../http/server/out_buffer.ts";
import { serve, type Server } from "../http/server/mod.ts";
import { rawExchange } from "./raw_exchange.ts";

const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A body of `n` characters, non-ASCII among them (so utf8() does not take its short ASCII way). */
function body(n: number): string {
  let s = "";
  for (let i = 0; s.length < n; i++) s += i % 7 === 0 ? "é" : String.fromCharCode(0x61 + (i % 26));
  return s.slice(0, n);
}

describe("OutBuffer views", () => {
  test("a view after a reset and a write of the same length shows the new bytes", () => {
    const out = new OutBuffer(64);
    out.latin1("abc");
    assert.equal(decode(out.view()), "abc");
    out.reset();
    out.latin1("xyz");
    assert.equal(decode(out.view()), "xyz");
    out.latin1("!");
    assert.equal(decode(out.view()), "xyz!");
  });

  test("a view after the buffer grew is of the new buffer, whole", () => {
    const out = new OutBuffer(16);
    out.latin1("head:");
    assert.equal(decode(out.view()), "head:");
    const big = "x".repeat(100);
    out.latin1(big);
    assert.ok(out.buf.length >= 105);
    assert.equal(decode(out.view()), `head:${big}`);
    assert.equal(out.view().buffer, out.buf.buffer);
  });

  test("utf8() after heads of the same length writes where the buffer now ends", () => {
    const out = new OutBuffer(32);
    const strings = [body(80), body(90), body(2000), body(70), body(80)];
    for (const s of strings) {
      out.reset();
      out.latin1("H:12345\r\n");
      const n = out.utf8(s);
      assert.equal(n, new TextEncoder().encode(s).length);
      assert.equal(decode(out.view()), `H:12345\r\n${s}`);
    }
    // A head of another length in between.
    out.reset();
    out.latin1("H:1\r\n");
    out.utf8(strings[0]!);
    assert.equal(decode(out.view()), `H:1\r\n${strings[0]}`);
  });

  test("after a reset past 1 MiB the views are of the new, small buffer", () => {
    const out = new OutBuffer(16);
    out.utf8(body(400_000)); // reserves 1.2 MB
    assert.ok(out.buf.length > 1 << 20);
    assert.equal(out.view().length, new TextEncoder().encode(body(400_000)).length);
    out.reset();
    assert.ok(out.buf.length <= 1 << 20);
    out.latin1("a");
    assert.equal(decode(out.view()), "a");
    assert.equal(out.view().buffer, out.buf.buffer);
    out.utf8(body(100));
    assert.equal(decode(out.view()), `a${body(100)}`);
  });
});

describe("serve: bodies changing size on one connection", () => {
  let server: Server;
  // Sizes in characters: short, the same twice (kept views), past the 16 KiB buffer, past 64 KiB (another way), back.
  const sizes = [5, 1000, 1000, 1001, 30_000, 1000, 70_000, 1000, 5, 0, 5];

  before(() => {
    server = serve({
      port: 0,
      host: "127.0.0.1",
      fetch: (request) => {
        const n = Number(new URL(request.url).pathname.slice(1));
        return new Response(body(n), { headers: { "content-type": "text/plain;charset=utf-8", "x-n": String(n) } });
      },
    });
  });

  after(async () => {
    await server.shutdown({ deadlineMs: 1000 });
  });

  test("one request at a time, kept alive", async () => {
    for (const n of sizes) {
      const response = await fetch(`http://127.0.0.1:${server.addr.port}/${n}`);
      assert.equal(response.headers.get("x-n"), String(n));
      assert.equal(await response.text(), body(n));
    }
  });

  test("pipelined in one write", async () => {
    const raw = sizes.map((n, i) => `GET /${n} HTTP/1.1\r\nHost: x\r\n${i === sizes.length - 1 ? "Connection: close\r\n" : ""}\r\n`).join("");
    const bytes = await rawExchange(server.addr.port, raw);
    // Split the responses by their Content-Length.
    let at = 0;
    for (const n of sizes) {
      const headEnd = bytes.indexOf("\r\n\r\n", at);
      assert.ok(headEnd > at, `a head for /${n}`);
      const head = bytes.subarray(at, headEnd).toString("latin1");
      assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(head, new RegExp(`\r\nx-n: ${n}\r\n`));
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)![1]);
      const start = headEnd + 4;
      assert.equal(decode(bytes.subarray(start, start + length)), body(n));
      at = start + length;
    }
    assert.equal(at, bytes.length);
  });
});
