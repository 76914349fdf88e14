import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createRequire } from "node:module";
import { HPACKError } from "../../core/errors.ts";
import { huffmanDecode, huffmanEncode, huffmanEncodedLength, huffmanEncodeWithin } from "./huffman.ts";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman_table.ts";
import { latin1Decode } from "./latin1.ts";
import { hex, toHex } from "./rfc7541_vectors_test.ts";

function enc(s: string): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(s));
  assert.equal(huffmanEncode(s, out, 0), out.length);
  return out;
}

function dec(bytes: Uint8Array): string {
  const scratch = { bytes: new Uint8Array(4) };
  const n = huffmanDecode(bytes, 0, bytes.length, scratch);
  return latin1Decode(scratch.bytes, 0, n);
}

// Huffman strings from RFC 7541 Appendix C.4 and C.6.
const VECTORS: [string, string][] = [
  ["www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"],
  ["no-cache", "a8eb10649cbf"],
  ["custom-key", "25a849e95ba97d7f"],
  ["custom-value", "25a849e95bb8e8b4bf"],
  ["302", "6402"],
  ["private", "aec3771a4b"],
  ["Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"],
  ["https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"],
  ["307", "640eff"],
  ["gzip", "9bd9ab"],
];

describe("HPACK Huffman code", () => {
  test("RFC 7541 Appendix C strings encode and decode", () => {
    for (const [text, bytes] of VECTORS) {
      assert.equal(toHex(enc(text)), bytes, text);
      assert.equal(dec(hex(bytes)), text, text);
    }
  });

  test("agrees with the hpack.js code table", () => {
    const require = createRequire(import.meta.url);
    const peer = require("hpack.js/lib/hpack/huffman.js") as { encode: [number, number][] };
    for (let sym = 0; sym < 257; sym++) {
      assert.deepEqual(peer.encode[sym], [HUFFMAN_LENGTHS[sym], HUFFMAN_CODES[sym]], `symbol ${sym}`);
    }
  });

  test("every octet round-trips, including long codes", () => {
    let all = "";
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    assert.equal(dec(enc(all)), all);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const s = latin1Decode(bytes, 0, bytes.length);
        assert.equal(dec(enc(s)), s);
      }),
      { numRuns: 300 },
    );
  });

  test("huffmanEncodeWithin writes the same bytes when they fit and -1 when they do not", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: -3, max: 3 }), fc.nat(4), (bytes, slack, offset) => {
        const s = latin1Decode(bytes, 0, bytes.length);
        const want = enc(s);
        const limit = offset + want.length + slack;
        const out = new Uint8Array(offset + want.length + 8);
        const end = huffmanEncodeWithin(s, out, offset, limit);
        if (slack < 0) assert.equal(end, -1);
        else {
          assert.equal(end, offset + want.length);
          assert.deepEqual(out.subarray(offset, end), want);
        }
      }),
      { numRuns: 400 },
    );
    assert.throws(() => huffmanEncodeWithin("\u0100", new Uint8Array(8), 0, 8), TypeError);
  });

  test("huffmanEncode throws RangeError instead of truncating when out lacks room", () => {
    const s = "www.example.com";
    assert.throws(() => huffmanEncode(s, new Uint8Array(huffmanEncodedLength(s) - 1), 0), RangeError);
    assert.throws(() => huffmanEncode(s, new Uint8Array(20), 9), RangeError);
    assert.equal(huffmanEncode(s, new Uint8Array(20), 8), 20);
  });

  test("padding longer than 7 bits is an error", () => {
    // "a" is 00011; then 11 bits of ones.
    assert.throws(() => dec(hex("1fff")), (e: unknown) => e instanceof HPACKError && e.code === "ERR_HPACK_HUFFMAN_PADDING");
    // A whole byte of ones after a complete symbol.
    assert.throws(() => dec(hex("f1e3c2e5f23a6ba0ab90f4ffff")), HPACKError);
    // A single byte of ones is 8 bits of padding.
    assert.throws(() => dec(hex("ff")), HPACKError);
  });

  test("padding that is not all ones is an error", () => {
    // "a" (00011) followed by 000 instead of 111.
    assert.throws(() => dec(hex("18")), (e: unknown) => e instanceof HPACKError && e.code === "ERR_HPACK_HUFFMAN_PADDING");
  });

  test("EOS inside a string is an error", () => {
    assert.throws(() => dec(hex("ffffffff")), (e: unknown) => e instanceof HPACKError && e.code === "ERR_HPACK_HUFFMAN_EOS");
    assert.throws(() => dec(hex("1fffffffff")), HPACKError);
  });

  test("an empty string decodes to empty", () => {
    assert.equal(dec(new Uint8Array(0)), "");
    assert.equal(huffmanEncodedLength(""), 0);
  });

  test("code units above 0xff are rejected", () => {
    assert.throws(() => enc("\u0100"), TypeError);
  });
});
