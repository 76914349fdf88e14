// RequestHeadMemo: a request that repeats the last one's header section and
// target on its connection shares its fields and URL; anything else (a byte
// changed anywhere, a field more, another Host or target) gets its own, as
// RequestFields.from and head.target give. Through serve: each request of a
// connection that mixes repeated and changed requests sees its own URL and
// Host.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import net from "node:net";
import fc from "fast-check";
import { HTTP1Parser } from "../h1/parser.ts";
import type { MessageHead } from "../h1/fields.ts";
import { RequestFields, RequestHeadMemo } from "./request_fields.ts";
import { serve } from "./serve.ts";

interface Seen {
  fields: RequestFields;
  target: string;
  expected: RequestFields;
  expectedTarget: string;
}

/** Parses `requests` (one after another on one parser) and takes each head's fields and target from `memo` and fresh. */
function parseAll(memo: RequestHeadMemo, requests: string[]): Seen[] {
  const seen: Seen[] = [];
  const parser = new HTTP1Parser({ kind: "request" }, {
    onHead: (head: MessageHead) => {
      const target = memo.targetOf(head);
      seen.push({ fields: memo.fieldsOf(head), target, expected: RequestFields.from(head), expectedTarget: head.target });
    },
  });
  const enc = new TextEncoder();
  for (const r of requests) parser.push(enc.encode(r));
  return seen;
}

function sameFields(a: RequestFields, b: RequestFields): void {
  assert.equal(a.text, b.text);
  assert.deepEqual(a.spans, b.spans);
  assert.equal(a.count, b.count);
  for (let i = 0; i < a.count; i++) {
    assert.equal(a.rawName(i), b.rawName(i));
    assert.equal(a.value(i), b.value(i));
  }
}

describe("RequestHeadMemo", () => {
  test("the same header section and target give the same fields and target; a change anywhere gives new ones", () => {
    const memo = new RequestHeadMemo();
    const seen = parseAll(memo, [
      "GET /a HTTP/1.1\r\nHost: h:1\r\nX-Id: 7\r\n\r\n",
      "GET /a HTTP/1.1\r\nHost: h:1\r\nX-Id: 7\r\n\r\n",
      "GET /b HTTP/1.1\r\nHost: h:1\r\nX-Id: 7\r\n\r\n",
      "GET /b HTTP/1.1\r\nHost: h:2\r\nX-Id: 7\r\n\r\n",
      "GET /b HTTP/1.1\r\nHost: h:2\r\nX-Id:    7  \r\n\r\n",
      "GET /b HTTP/1.1\r\nHost: h:2\r\nX-Id: 7\r\nA: b\r\n\r\n",
    ]);
    assert.equal(seen[1]!.fields, seen[0]!.fields);
    assert.equal(seen[1]!.target, seen[0]!.target);
    assert.equal(seen[2]!.fields, seen[0]!.fields);
    assert.notEqual(seen[3]!.fields, seen[2]!.fields);
    // OWS around a value is not part of it, but the bytes differ: new fields, the same values
    assert.notEqual(seen[4]!.fields, seen[3]!.fields);
    assert.notEqual(seen[5]!.fields, seen[4]!.fields);
    for (const s of seen) {
      sameFields(s.fields, s.expected);
      assert.equal(s.target, s.expectedTarget);
    }
    assert.equal(seen[3]!.fields.get("host"), "h:2");
  });

  test("the URL is remembered only for the fields and target it was made for", () => {
    const memo = new RequestHeadMemo();
    const [a] = parseAll(memo, ["GET /a HTTP/1.1\r\nHost: h\r\n\r\n"]);
    memo.url = "http://h/a";
    const [b] = parseAll(memo, ["GET /a HTTP/1.1\r\nHost: h\r\n\r\n"]);
    assert.equal(b!.fields, a!.fields);
    assert.equal(memo.url, "http://h/a");
    parseAll(memo, ["GET /c HTTP/1.1\r\nHost: h\r\n\r\n"]);
    assert.equal(memo.url, undefined);
    memo.url = "http://h/c";
    parseAll(memo, ["GET /c HTTP/1.1\r\nHost: i\r\n\r\n"]);
    assert.equal(memo.url, undefined);
  });

  test("any sequence of requests: what the memo gives is what a fresh decode gives", () => {
    const host = fc.constantFrom("a", "a:1", "b", "127.0.0.1:8080", "[::1]:80");
    const target = fc.constantFrom("/", "/x", "/y", "/x?q=1", "*", "http://c/x");
    const extra = fc.array(fc.tuple(fc.constantFrom("X-A", "x-a", "Accept", "Cookie"), fc.constantFrom("1", "2", "", "v v", "1 ")), { maxLength: 3 });
    const request = fc.tuple(host, target, extra).map(([h, t, e]) =>
      `${t === "*" ? "OPTIONS" : "GET"} ${t} HTTP/1.1\r\nHost: ${h}\r\n${e.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`
    );
    fc.assert(fc.property(fc.array(request, { minLength: 1, maxLength: 8 }), (requests) => {
      const seen = parseAll(new RequestHeadMemo(), requests);
      assert.equal(seen.length, requests.length);
      for (const s of seen) {
        sameFields(s.fields, s.expected);
        assert.equal(s.target, s.expectedTarget);
      }
    }), { numRuns: 200 });
  });
});

/** Sends `requests` at once on one connection and resolves with everything read until the server closes it. */
function exchange(port: number, requests: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setEncoding("latin1");
    let text = "";
    socket.on("data", (d: string) => (text += d));
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
    socket.write(requests);
  });
}

describe("serve over HTTP/1.1: repeated and changed requests on one connection", () => {
  test("each request's url and Host are its own", async () => {
    await using server = serve({
      port: 0,
      http2: false,
      fetch: (request) => new Response(`${request.url} ${request.headers.get("host")} ${request.headers.get("x-a")};`),
    });
    const req = (target: string, host: string, extra = "") => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`;
    const text = await exchange(
      server.addr.port,
      req("/a", "h:1") + req("/a", "h:1") + req("/b", "h:1") + req("/b", "h:2") + req("/b", "h:2", "X-A: 1\r\n") +
        req("/b", "h:2", "X-A: 2\r\n") + req("http://abs:9/p", "h:2", "X-A: 2\r\n") + req("/b", "h:2", "X-A: 2\r\n") +
        "GET /b HTTP/1.1\r\nHost: h:2\r\nX-A: 2\r\nConnection: close\r\n\r\n",
    );
    const bodies = text.split("HTTP/1.1 200 OK").slice(1).map((r) => r.slice(r.indexOf("\r\n\r\n") + 4));
    assert.deepEqual(bodies, [
      "http://h:1/a h:1 null;",
      "http://h:1/a h:1 null;",
      "http://h:1/b h:1 null;",
      "http://h:2/b h:2 null;",
      "http://h:2/b h:2 1;",
      "http://h:2/b h:2 2;",
      "http://abs:9/p abs:9 2;",
      "http://h:2/b h:2 2;",
      "http://h:2/b h:2 2;",
    ]);
  });

  test("a bad Host after a repeated request is still refused (400)", async () => {
    await using server = serve({ port: 0, http2: false, fetch: (request) => new Response(request.url) });
    const ok = "GET / HTTP/1.1\r\nHost: good\r\n\r\n";
    const text = await exchange(server.addr.port, ok + ok + "GET / HTTP/1.1\r\nHost: b d\r\n\r\n");
    assert.equal(text.split("HTTP/1.1 200 OK").length - 1, 2);
    assert.match(text, /HTTP\/1\.1 400 /);
    assert.equal(text.split("http://good/").length - 1, 2);
  });
});
