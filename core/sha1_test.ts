import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { sha1 } from "./sha1.ts";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

describe("sha1: pure TypeScript SHA-1", () => {
  test("RFC 3174 §7.3 test vectors", () => {
    assert.equal(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert.equal(
      hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
    );
    assert.equal(hex(sha1(new Uint8Array(1_000_000).fill(0x61))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    assert.equal(hex(sha1("01234567".repeat(80))), "dea356a2cddd90c7a7ecedc5ebb563934f460452");
  });

  test("the empty input and the RFC 6455 §1.3 accept key", () => {
    assert.equal(hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const digest = sha1("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    assert.equal(btoa(String.fromCharCode(...digest)), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  test("strings hash as their UTF-8 bytes", () => {
    assert.deepEqual(sha1("κόσμε €"), sha1(new TextEncoder().encode("κόσμε €")));
  });

  test("every length around the padding boundaries matches node:crypto", () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let n = 0; n <= 300; n++) {
      const input = data.subarray(0, n);
      assert.equal(hex(sha1(input)), createHash("sha1").update(input).digest("hex"), `length ${n}`);
    }
  });

  test("property: random inputs (views at any offset) match node:crypto", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(16), (bytes, offset) => {
        const backing = new Uint8Array(offset + bytes.length);
        backing.set(bytes, offset);
        const view = backing.subarray(offset);
        assert.equal(hex(sha1(view)), createHash("sha1").update(bytes).digest("hex"));
      }),
      { numRuns: 300 },
    );
  });

  test("property: random strings match node:crypto", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (text) => {
        assert.equal(hex(sha1(text)), createHash("sha1").update(text, "utf8").digest("hex"));
      }),
      { numRuns: 200 },
    );
  });
});
