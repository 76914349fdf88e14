import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { latin1Decode, latin1Encode } from "./latin1.ts";

function reference(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

describe("latin1 field octets", () => {
  test("every length path (fixed arity, chunked, ASCII native, high octets) matches byte-by-byte", () => {
    for (let n = 0; n <= 140; n++) {
      const ascii = new Uint8Array(n + 6).map((_, i) => 0x20 + ((i * 7) % 95));
      const high = new Uint8Array(n + 6).map((_, i) => (i * 37 + 0x80) & 0xff);
      for (const bytes of [ascii, high]) {
        assert.equal(latin1Decode(bytes, 3, 3 + n), reference(bytes, 3, 3 + n), `length ${n}`);
      }
    }
  });

  test("octets 0x80-0x9f map to U+0080-U+009F (not windows-1252)", () => {
    const bytes = new Uint8Array(64).fill(0x41);
    bytes[60] = 0x80;
    bytes[61] = 0x9f;
    const s = latin1Decode(bytes, 0, 64);
    assert.equal(s.charCodeAt(60), 0x80);
    assert.equal(s.charCodeAt(61), 0x9f);
  });

  test("a leading byte-order mark is kept", () => {
    const bytes = new Uint8Array(60).fill(0x61);
    bytes.set([0xef, 0xbb, 0xbf], 0);
    assert.equal(latin1Decode(bytes, 0, 60), reference(bytes, 0, 60));
  });

  test("decode(encode(s)) is identity for any octet string and offsets", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (bytes, pad) => {
        const s = reference(bytes, 0, bytes.length);
        assert.equal(latin1Decode(bytes, 0, bytes.length), s);
        const out = new Uint8Array(bytes.length + pad);
        assert.equal(latin1Encode(s, out, pad), pad + bytes.length);
        assert.equal(latin1Decode(out, pad, pad + bytes.length), s);
      }),
      { numRuns: 300 },
    );
  });

  test("a code unit above 0xff is refused", () => {
    assert.throws(() => latin1Encode("\u0100", new Uint8Array(1), 0), TypeError);
  });
});
