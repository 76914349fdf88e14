import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { hex, reference, utf8Inputs, utf8Vectors as vectors } from "../core/utf8_fixtures_test.ts";
import { nativeUtf8, wasmUtf8Validator } from "./utf8_native.ts";

const wasm = wasmUtf8Validator();
const small = wasmUtf8Validator(7);

describe("utf8_native: the WebAssembly SIMD validator", () => {
  test("is available (WebAssembly SIMD) on this runtime", () => {
    assert.notEqual(wasm, null);
  });

  test("every 1- and 2-byte input", () => {
    for (let a = 0; a < 256; a++) {
      assert.equal(wasm!(new Uint8Array([a])), reference(new Uint8Array([a])), a.toString(16));
      for (let b = 0; b < 256; b++) {
        const bytes = new Uint8Array([a, b]);
        assert.equal(wasm!(bytes), reference(bytes), `${a.toString(16)} ${b.toString(16)}`);
      }
    }
  });

  test("3- and 4-byte forms around every range boundary, across a 16-byte block edge", () => {
    const edges = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    const leads = [0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xff];
    for (const lead of leads) {
      for (const b of edges) {
        for (const c of edges) {
          for (const d of [0x00, 0x80, 0xbf, 0xc0]) {
            const seq = [lead, b, c, d];
            for (const off of [0, 12, 13, 14, 15]) {
              const bytes = new Uint8Array([...new Array<number>(off).fill(0x61), ...seq]);
              if (wasm!(bytes) !== reference(bytes)) assert.fail(`${seq.map((x) => x.toString(16))} at ${off}`);
              const cut = bytes.subarray(0, off + 3);
              if (wasm!(cut) !== reference(cut)) assert.fail(`${seq.slice(0, 3).map((x) => x.toString(16))} at ${off}`);
            }
          }
        }
      }
    }
  });

  test("Autobahn vectors at every offset inside ASCII and non-ASCII text", () => {
    const text = new TextEncoder().encode("é我😀a");
    for (const v of vectors.vectors) {
      const bytes = hex(v.hex);
      for (let off = 0; off < 20; off++) {
        for (const pad of [0x61, -1]) {
          const before = pad === 0x61 ? new Array<number>(off).fill(0x61) : Array.from({ length: off }, (_, i) => text[i % text.length]!);
          const whole = new Uint8Array([...(pad === 0x61 ? before : []), ...bytes, 0x61]);
          assert.equal(wasm!(whole), reference(whole), `${v.id} after ${off}`);
        }
      }
      assert.equal(wasm!(bytes), v.valid, v.id);
      assert.equal(small!(bytes), v.valid, `${v.id} in pieces`);
    }
  });

  test("property: agrees with TextDecoder({fatal:true}), whole and in small pieces", () => {
    const input = utf8Inputs(["a", "é", "€", "我", "😀", "\u{10ffff}", "\u{d7ff}", "\u{e000}"], 120, 100);
    fc.assert(
      fc.property(input, fc.integer({ min: 4, max: 40 }), (bytes, piece) => {
        const expected = reference(bytes);
        assert.equal(wasm!(bytes), expected);
        assert.equal(small!(bytes), expected);
        assert.equal(wasmUtf8Validator(piece)!(bytes), expected);
      }),
      { numRuns: 300 },
    );
  });

  test("inputs larger than its memory, and views at any offset", () => {
    const unit = new TextEncoder().encode("我能吞下玻璃 Größe 😀 ");
    const big = new Uint8Array(600_000);
    for (let at = 0; at + unit.length <= big.length; at += unit.length) big.set(unit, at);
    const valid = reference(big);
    assert.equal(wasm!(big), valid);
    for (const at of [0, 1, 262_079, 262_080, 262_081, 524_160, 599_999]) {
      const bad = big.slice();
      bad[at] = 0xff;
      assert.equal(wasm!(bad), false, `0xff at ${at}`);
    }
    assert.equal(wasm!(big.subarray(3, 3 + 4000)), reference(big.subarray(3, 3 + 4000)));
    assert.throws(() => wasmUtf8Validator(3), RangeError);
  });
});

describe("utf8_native: the selected validator", () => {
  test(`${nativeUtf8 === null ? "none" : `from ${nativeUtf8.minBytes} B`}: strict where present`, () => {
    if (nativeUtf8 === null) return;
    assert.equal(nativeUtf8.isValid(new Uint8Array([0xf4, 0x90, 0x80, 0x80])), false);
    assert.equal(nativeUtf8.isValid(new Uint8Array([0xf4, 0x8f, 0xbf, 0xbf])), true);
    assert.ok(nativeUtf8.minBytes > 0);
  });
});
