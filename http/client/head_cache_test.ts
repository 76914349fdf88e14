import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { HTTP1Parser } from "../h1/parser.ts";
import type { MessageHead } from "../h1/fields.ts";
import { HeadCache } from "./head_cache.ts";
import { h2ResponseHead } from "./h2_head.ts";

function parse(text: string): MessageHead {
  let head: MessageHead | undefined;
  new HTTP1Parser({ kind: "response" }, { onHead: (h) => head = h.detach() }).push(new TextEncoder().encode(text));
  assert.ok(head);
  return head;
}

function decoded(head: MessageHead): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < head.count; i++) out.push([head.name(i), head.value(i)]);
  return out;
}

const OK = "HTTP/1.1 200 OK\r\nServer: x\r\nDate: Sun, 06 Dec 2026 11:00:00 GMT\r\nContent-Length: 0\r\n\r\n";

describe("HeadCache", () => {
  test("the same head of an origin gets the same pairs back, counted as hits", () => {
    const cache = new HeadCache();
    const a = cache.fields("http://a", parse(OK));
    assert.equal(a.hits, 0);
    assert.deepEqual(a.pairs, [["server", "x"], ["date", "Sun, 06 Dec 2026 11:00:00 GMT"], ["content-length", "0"]]);
    const b = cache.fields("http://a", parse(OK));
    assert.equal(b, a);
    assert.equal(b.hits, 1);
  });

  test("a changed byte, another field count or case of a name gives fresh pairs", () => {
    const cache = new HeadCache();
    const a = cache.fields("http://a", parse(OK));
    const b = cache.fields("http://a", parse(OK.replace("11:00:00", "11:00:01")));
    assert.notEqual(b, a);
    assert.equal(b.pairs[1]![1], "Sun, 06 Dec 2026 11:00:01 GMT");
    const c = cache.fields("http://a", parse(OK.replace("Server: x\r\n", "")));
    assert.equal(c.pairs.length, 2);
    const d = cache.fields("http://a", parse(OK.replace("Server: x\r\n", "SERVER: x\r\n")));
    assert.notEqual(d, c);
    assert.equal(d.pairs[0]![0], "server");
    // Name and value borders count: "ab: c" is not "a: bc".
    const e = cache.fields("http://a", parse("HTTP/1.1 200 OK\r\nab: c\r\n\r\n"));
    const f = cache.fields("http://a", parse("HTTP/1.1 200 OK\r\na: bc\r\n\r\n"));
    assert.notEqual(f, e);
    assert.deepEqual(f.pairs, [["a", "bc"]]);
  });

  test("origins are kept apart", () => {
    const cache = new HeadCache();
    const a = cache.fields("http://a", parse(OK));
    const b = cache.fields("http://b", parse(OK));
    assert.notEqual(b, a);
    assert.equal(cache.fields("http://a", parse(OK)), a);
    assert.equal(cache.fields("http://b", parse(OK)), b);
  });

  test("HTTP/2 heads are compared by their strings", () => {
    const cache = new HeadCache();
    const a = cache.fields("https://a", h2ResponseHead(200, ["server", "x", "content-length", "2"], false));
    assert.equal(cache.fields("https://a", h2ResponseHead(200, ["server", "x", "content-length", "2"], false)), a);
    const b = cache.fields("https://a", h2ResponseHead(200, ["server", "y", "content-length", "2"], false));
    assert.notEqual(b, a);
    assert.deepEqual(b.pairs, [["server", "y"], ["content-length", "2"]]);
    // Heads over a decoded list with its pseudo-fields (from 2 on): compared from there, whatever the status.
    const c = cache.fields("https://a", h2ResponseHead(200, [":status", "200", "server", "y", "content-length", "2"], false, 2));
    assert.equal(c, b);
    assert.equal(cache.fields("https://a", h2ResponseHead(404, [":status", "404", "server", "y", "content-length", "2"], false, 2)), b);
    const d = cache.fields("https://a", h2ResponseHead(200, [":status", "200", "server", "y"], false, 2));
    assert.notEqual(d, b);
    assert.deepEqual(d.pairs, [["server", "y"]]);
    assert.equal(cache.fields("https://a", h2ResponseHead(200, ["server", "y"], false)), d);
  });

  test("a large head is not kept", () => {
    const cache = new HeadCache();
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(5000)}\r\n\r\n`;
    const a = cache.fields("http://a", parse(big));
    const b = cache.fields("http://a", parse(big));
    assert.notEqual(b, a);
    assert.equal(b.hits, 0);
    assert.equal(b.pairs[0]![1].length, 5000);
  });

  test("property: the pairs always equal the head's own strings, whatever came before", () => {
    const token = fc.stringMatching(/^[A-Za-z0-9-]{1,8}$/);
    const value = fc.stringMatching(/^[ -~]{0,12}$/).map((v) => v.trim());
    const headArb = fc.array(fc.tuple(token, value), { maxLength: 6 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom("http://a", "http://b"), headArb), { minLength: 1, maxLength: 8 }), (heads) => {
      const cache = new HeadCache();
      for (const [origin, fields] of heads) {
        const head = parse(`HTTP/1.1 200 OK\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`);
        assert.deepEqual(cache.fields(origin, head).pairs, decoded(head));
      }
    }), { numRuns: 200 });
  });
});
