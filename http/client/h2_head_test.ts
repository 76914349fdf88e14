import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { h2Fields, h2FieldsFrom, h2FieldStrings, h2RequestFields, h2ResponseHead } from "./h2_head.ts";

describe("h2ResponseHead", () => {
  test("fields by name, content-length framing, bytes made when asked for", () => {
    const head = h2ResponseHead(200, ["content-type", "text/plain", "x-a", "1", "x-a", "2", "content-length", "12"], false);
    assert.equal(head.statusCode, 200);
    assert.equal(head.count, 4);
    assert.equal(head.framing, "length");
    assert.equal(head.contentLength, 12);
    assert.equal(head.get("Content-Type"), "text/plain");
    assert.equal(head.get("x-a"), "1, 2");
    assert.deepEqual(head.getAll("x-a"), ["1", "2"]);
    assert.equal(head.has("x-b"), false);
    assert.equal(head.indexOf("content-length"), 3);
    assert.deepEqual(head.entries(), [["content-type", "text/plain"], ["x-a", "1"], ["x-a", "2"], ["content-length", "12"]]);
    assert.equal(new TextDecoder().decode(head.valueBytes(0)), "text/plain");
    assert.equal(head.reason, "");
    assert.deepEqual(h2FieldStrings(head), ["content-type", "text/plain", "x-a", "1", "x-a", "2", "content-length", "12"]);
    assert.equal(h2ResponseHead(204, [], true).framing, "none");
    assert.equal(h2ResponseHead(200, ["x", "y"], false).framing, "chunked");
    assert.equal(h2ResponseHead(200, ["content-length", "1e3"], false).contentLength, -1);
  });

  test("with from: the fields before it (the pseudo-fields) are left out, the list is not copied", () => {
    const all = [":status", "200", "content-type", "text/plain", "x-a", "1", "content-length", "3"];
    const head = h2ResponseHead(200, all, false, 2);
    assert.equal(head.count, 3);
    assert.equal(head.contentLength, 3);
    assert.equal(head.framing, "length");
    assert.equal(head.name(0), "content-type");
    assert.equal(head.value(2), "3");
    assert.ok(head.nameIs(1, "x-a"));
    assert.equal(head.get(":status"), null);
    assert.equal(new TextDecoder().decode(head.valueBytes(1)), "1");
    assert.deepEqual(head.entries(), [["content-type", "text/plain"], ["x-a", "1"], ["content-length", "3"]]);
    assert.deepEqual(h2FieldStrings(head), all.slice(2));
    assert.equal(h2Fields(head), all);
    assert.equal(h2FieldsFrom(head), 2);
    const copy = head.detach();
    assert.deepEqual(copy.entries(), head.entries());
    assert.equal(h2Fields(copy), null);
    assert.equal(h2FieldsFrom(copy), 0);
    assert.equal(h2ResponseHead(200, [":status", "200", "content-length", "1", "content-length", "x"], true, 2).framing, "none");
  });

  test("property: a detached head keeps every field, as bytes and as strings", () => {
    const name = fc.stringMatching(/^[a-z0-9-]{1,10}$/);
    const value = fc.stringMatching(/^[ -~\u00a0-\u00ff]{0,20}$/);
    fc.assert(fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), (pairs) => {
      const head = h2ResponseHead(200, pairs.flat(), false);
      const copy = head.detach();
      assert.equal(h2FieldStrings(copy), null);
      for (let i = 0; i < pairs.length; i++) {
        assert.equal(copy.name(i), pairs[i]![0]);
        assert.equal(copy.value(i), pairs[i]![1]);
        assert.deepEqual([...head.valueBytes(i)], [...pairs[i]![1]].map((c) => c.charCodeAt(0)));
        assert.ok(head.nameIs(i, pairs[i]![0]));
      }
    }), { numRuns: 150 });
  });

  test("content-length is found by its name however the string was made (a decoded literal is a fresh string); other 14-character names are not it", () => {
    const fresh = (s: string) => String.fromCharCode(...[...s].map((c) => c.charCodeAt(0)));
    const head = h2ResponseHead(200, [":status", "200", fresh("accept-charset"), "x", fresh("content-length"), "7"], false, 2);
    assert.equal(head.contentLength, 7);
    assert.equal(head.framing, "length");
    const none = h2ResponseHead(200, ["accept-charset", "12", "content-lengtH", "12", "content-length2", "12"], false);
    assert.equal(none.contentLength, -1);
    assert.equal(none.framing, "chunked");
  });
});

describe("h2RequestFields", () => {
  test("a frozen list of frozen pairs: the same request gets the same list, any other a list of its own", () => {
    const pairs = Object.freeze([Object.freeze(["Accept", "*/*"] as const), Object.freeze(["x-a", " 1 "] as const)]);
    const a = h2RequestFields("GET", "https", "a.test", "/x", pairs, -1);
    assert.deepEqual(a, [":method", "GET", ":scheme", "https", ":authority", "a.test", ":path", "/x", "accept", "*/*", "x-a", "1"]);
    assert.equal(h2RequestFields("GET", "https", "a.test", "/x", pairs, -1), a);
    const other = h2RequestFields("GET", "https", "a.test", "/y", pairs, -1);
    assert.notEqual(other, a);
    assert.equal(other[7], "/y");
    assert.equal(h2RequestFields("POST", "https", "a.test", "/y", pairs, 0).at(-1), "0");
    assert.equal(h2RequestFields("GET", "https", "b.test", "/y", pairs, -1)[5], "b.test");
    // Lists that can change are made again every time: a change is seen.
    const open: Array<[string, string]> = [["x-b", "1"]];
    const b = h2RequestFields("GET", "https", "a.test", "/x", open, -1);
    open[0] = ["x-b", "2"];
    const c = h2RequestFields("GET", "https", "a.test", "/x", open, -1);
    assert.notEqual(c, b);
    assert.deepEqual(c.slice(8), ["x-b", "2"]);
    const shallow = Object.freeze([["x-c", "1"] as [string, string]]);
    const d = h2RequestFields("GET", "https", "a.test", "/x", shallow, -1);
    shallow[0]![1] = "2";
    assert.deepEqual(h2RequestFields("GET", "https", "a.test", "/x", shallow, -1).slice(8), ["x-c", "2"]);
    assert.deepEqual(d.slice(8), ["x-c", "1"]);
    assert.throws(() => h2RequestFields("GET", "https", "a.test", "/x", Object.freeze([Object.freeze(["bad name", "1"] as const)]), -1), TypeError);
  });
});
