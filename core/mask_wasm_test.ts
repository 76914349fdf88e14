import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { maskModuleBytes, WASM_MASK_PIECE, wasmMasker } from "./mask_wasm.ts";

/** The plain JavaScript reference: byte i is XORed with key byte i & 3. */
function reference(src: Uint8Array, srcAt: number, n: number, keyWord: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = src[srcAt + i]! ^ ((keyWord >>> (8 * (i & 3))) & 0xff);
  return out;
}

describe("mask_wasm: masking in WebAssembly SIMD", () => {
  test("the module is valid, imports nothing and exports only its function and memory", () => {
    const bytes = maskModuleBytes();
    assert.ok(WebAssembly.validate(bytes));
    const module = new WebAssembly.Module(bytes);
    assert.deepEqual(WebAssembly.Module.imports(module), []);
    assert.deepEqual(
      WebAssembly.Module.exports(module).map((e) => `${e.kind} ${e.name}`).sort(),
      ["function mask", "memory memory"],
    );
  });

  test("compiles on this runtime (WebAssembly SIMD is available on Node, Deno and Bun)", () => {
    assert.notEqual(wasmMasker(), null);
  });

  test("property: matches the JavaScript reference for random lengths, offsets and keys, copying and in place", () => {
    const masker = wasmMasker()!;
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 3 * WASM_MASK_PIECE + 5 })),
        fc.nat(15),
        fc.nat(15),
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        fc.integer(),
        (n, srcAt, dstAt, keyWord, seed) => {
          const src = new Uint8Array(srcAt + n + 3);
          for (let i = 0, x = seed | 1; i < src.length; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            src[i] = x;
          }
          const before = src.slice();
          const expected = reference(src, srcAt, n, keyWord);
          const dst = new Uint8Array(dstAt + n + 3).fill(0xee);
          masker.mask(src, srcAt, dst, dstAt, n, keyWord);
          assert.deepEqual(dst.subarray(dstAt, dstAt + n), expected);
          assert.ok(dst.subarray(0, dstAt).every((b) => b === 0xee), "bytes before the range are untouched");
          assert.ok(dst.subarray(dstAt + n).every((b) => b === 0xee), "bytes after the range are untouched");
          assert.deepEqual(src, before, "the source is only read");
          masker.mask(src, srcAt, src, srcAt, n, keyWord);
          assert.deepEqual(src.subarray(srcAt, srcAt + n), expected);
          assert.deepEqual(src.subarray(0, srcAt), before.subarray(0, srcAt));
          assert.deepEqual(src.subarray(srcAt + n), before.subarray(srcAt + n));
        },
      ),
      { numRuns: 150 },
    );
  });

  test("a short piece after a long one copies out only its own bytes", () => {
    const masker = wasmMasker()!;
    const long = new Uint8Array(5000).fill(0xff);
    masker.mask(long, 0, long, 0, long.length, 0);
    const out = new Uint8Array(8).fill(0x11);
    masker.mask(new Uint8Array([1, 2, 3, 4, 5]), 0, out, 1, 5, 0x01010101);
    assert.deepEqual(out, new Uint8Array([0x11, 0, 3, 2, 5, 4, 0x11, 0x11]));
  });
});
