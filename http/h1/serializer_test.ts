import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HeaderList } from "../core/headers.ts";
import { encodeChunk, encodeLastChunk, writeChunkHeader, writeLastChunk } from "./chunked.ts";
import { encodeRequestHead, encodeResponseHead, writeRequestHead } from "./serializer.ts";

const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);

describe("RFC 9112 §3, §4, §5 serializer", () => {
  test("request head from a HeaderList (raw order and case kept)", () => {
    const h = new HeaderList([["Host", "a"], ["X-B", "1"], ["x-b", "2"]]);
    assert.equal(
      text(encodeRequestHead({ method: "GET", target: "/p?q", headers: h })),
      "GET /p?q HTTP/1.1\r\nHost: a\r\nX-B: 1\r\nx-b: 2\r\n\r\n",
    );
  });
  test("response head with default and custom reason, HTTP/1.0", () => {
    assert.equal(text(encodeResponseHead({ status: 200 })), "HTTP/1.1 200 OK\r\n\r\n");
    assert.equal(text(encodeResponseHead({ status: 299, version: "HTTP/1.0" })), "HTTP/1.0 299 \r\n\r\n");
    assert.equal(text(encodeResponseHead({ status: 200, reason: "Fine" })), "HTTP/1.1 200 Fine\r\n\r\n");
  });
  test("validated on the way out", () => {
    assert.throws(() => encodeRequestHead({ method: "G T", target: "/" }), TypeError);
    assert.throws(() => encodeRequestHead({ method: "GET", target: "/a b" }), TypeError);
    assert.throws(() => encodeRequestHead({ method: "GET", target: "/", headers: [["X", "a\r\nInjected: 1"]] }), TypeError);
    assert.throws(() => encodeRequestHead({ method: "GET", target: "/", headers: [["X", "a\0"]] }), TypeError);
    assert.throws(() => encodeRequestHead({ method: "GET", target: "/", headers: [["X Y", "a"]] }), TypeError);
    assert.throws(() => encodeResponseHead({ status: 200, reason: "a\nb" }), TypeError);
    assert.throws(() => encodeResponseHead({ status: 99 }), RangeError);
    assert.throws(() => encodeResponseHead({ status: 200, headers: [["X", "\u0100"]] }), TypeError);
  });
  test("caller-supplied buffer: -1 when too small, and still validates", () => {
    const small = new Uint8Array(8);
    assert.equal(writeRequestHead(small, 0, { method: "GET", target: "/", headers: { Host: "example.com" } }), -1);
    assert.throws(() => writeRequestHead(small, 0, { method: "GET", target: "/", headers: { Host: "a\rb" } }), TypeError);
    const big = new Uint8Array(100);
    const end = writeRequestHead(big, 10, { method: "GET", target: "/", headers: { Host: "a" } });
    assert.equal(text(big.subarray(10, end)), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  });
});

describe("RFC 9112 §7.1 chunked encoder", () => {
  test("chunk pieces, no copy of the data", () => {
    const data = new Uint8Array(300);
    const parts = encodeChunk(data);
    assert.equal(text(parts[0]!), "12c\r\n");
    assert.equal(parts[1], data);
    assert.equal(text(parts[2]!), "\r\n");
    assert.deepEqual(encodeChunk(new Uint8Array(0)), []);
  });
  test("last chunk with trailers; framing fields refused", () => {
    assert.equal(text(encodeLastChunk()), "0\r\n\r\n");
    assert.equal(text(encodeLastChunk({ "X-Sum": "abc" })), "0\r\nX-Sum: abc\r\n\r\n");
    assert.throws(() => encodeLastChunk({ "Content-Length": "1" }), TypeError);
    const out = new Uint8Array(40);
    const end = writeLastChunk(out, 2, [["X-A", "1"]]);
    assert.equal(text(out.subarray(2, end)), "0\r\nX-A: 1\r\n\r\n");
    assert.equal(writeLastChunk(new Uint8Array(2), 0), -1);
    assert.throws(() => writeLastChunk(new Uint8Array(2), 0, [["X", "a\nb"]]), TypeError);
  });
  test("chunk header", () => {
    const out = new Uint8Array(4);
    assert.equal(writeChunkHeader(out, 0, 0xfff), -1);
    assert.throws(() => writeChunkHeader(out, 0, 0), RangeError);
  });
});
