import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isValidUtf8, Utf8Validator } from "./utf8.ts";
import { nativeUtf8 } from "../ffi/utf8_native.ts";
import { hex, reference, utf8Inputs, utf8Vectors } from "./utf8_fixtures_test.ts";

const vectors = utf8Vectors;

/** Encodes one code point in the generalized (unchecked) UTF-8 scheme. */
function encodeRaw(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

describe("utf8: Autobahn 6.5–6.23 vectors", () => {
  test("every vector, whole and byte by byte", () => {
    assert.equal(vectors.vectors.length, 132);
    for (const v of vectors.vectors) {
      const bytes = hex(v.hex);
      assert.equal(isValidUtf8(bytes), v.valid, `${v.id} one-shot`);
      const inc = new Utf8Validator();
      let ok = true;
      for (let i = 0; i < bytes.length && ok; i++) ok = inc.push(bytes, i, i + 1);
      assert.equal(ok && inc.finish(), v.valid, `${v.id} byte by byte`);
    }
  });

  test("incremental checks: fail-fast position per chunk", () => {
    for (const check of vectors.validator_incremental.incremental_validator_checks) {
      const v = new Utf8Validator();
      check.chunks_hex.forEach((h, k) => {
        const [ok, complete, curr, total] = check.results[k]!;
        assert.equal(v.push(hex(h)), ok, h);
        assert.equal(v.isComplete, complete, h);
        assert.equal(v.lastIndex, curr, h);
        assert.equal(v.totalIndex, total, h);
      });
    }
  });
});

describe("utf8: rules", () => {
  test("overlongs, surrogates, above U+10FFFF, truncation, bad bytes", () => {
    for (const bad of ["c080", "c1bf", "e08080", "e09fbf", "f08fbfbf", "eda080", "edbfbf", "f4908080", "f5808080", "ff", "fe", "80", "bf", "e282", "f09f98"]) {
      assert.equal(isValidUtf8(hex(bad)), false, bad);
    }
    for (const good of ["c280", "dfbf", "e0a080", "ed9fbf", "ee8080", "efbfbf", "f0908080", "f48fbfbf", "efbfbe"]) {
      assert.equal(isValidUtf8(hex(good)), true, good);
    }
  });

  test("every BMP code point, every lone surrogate", () => {
    const v = new Utf8Validator();
    for (let cp = 0; cp <= 0xffff; cp++) {
      const bytes = new Uint8Array(encodeRaw(cp));
      const surrogate = cp >= 0xd800 && cp <= 0xdfff;
      assert.equal(isValidUtf8(bytes), !surrogate);
      v.reset();
      assert.equal(v.push(bytes) && v.finish(), !surrogate);
    }
  });

  test("surrogate pairs encoded as two 3-byte sequences are rejected (sampled)", () => {
    for (let hi = 0xd800; hi <= 0xdbff; hi += 7) {
      for (let lo = 0xdc00; lo <= 0xdfff; lo += 61) {
        assert.equal(isValidUtf8(new Uint8Array([...encodeRaw(hi), ...encodeRaw(lo)])), false);
        assert.equal(isValidUtf8(new Uint8Array([...encodeRaw(lo), ...encodeRaw(hi)])), false);
      }
    }
  });

  test("long ASCII runs at every alignment, with a bad byte anywhere", () => {
    const base = new Uint8Array(300).fill(0x61);
    for (let off = 0; off < 8; off++) {
      for (const at of [0, 1, 15, 31, 32, 33, 100, 254, 255, 291]) {
        const buf = base.slice();
        buf[off + at] = 0xff;
        const view = buf.subarray(off, off + 292);
        assert.equal(isValidUtf8(view), at >= 292, `off ${off} at ${at}`);
        const v = new Utf8Validator();
        assert.equal(v.push(view), at >= 292);
        if (at < 292) assert.equal(v.lastIndex, at);
      }
      assert.equal(isValidUtf8(base.subarray(off)), true);
    }
  });

  test("property: agrees with TextDecoder({fatal:true}) on any bytes and any split", () => {
    const nearUtf8 = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.string({ unit: "binary", maxLength: 60 }).map((s) => new TextEncoder().encode(s)),
      fc.array(fc.oneof(fc.integer({ min: 0, max: 0x10ffff + 0x1000 }), fc.constantFrom(0xd800, 0xdfff, 0x110000)), { maxLength: 20 })
        .map((cps) => new Uint8Array(cps.flatMap((c) => encodeRaw(c).map((x) => x & 0xff)))),
    );
    fc.assert(
      fc.property(nearUtf8, fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
        const expected = reference(bytes);
        assert.equal(isValidUtf8(bytes), expected);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const v = new Utf8Validator();
        let prev = 0;
        let ok = true;
        for (const p of [...points, bytes.length]) {
          ok = v.push(bytes, prev, p) && ok;
          prev = p;
        }
        assert.equal(ok && v.finish(), expected);
      }),
      { numRuns: 1000 },
    );
  });
});

/** Pushes `bytes` split at `points` and records what the validator says after each push. */
function trace(v: Utf8Validator, bytes: Uint8Array, points: number[]): string {
  const out: string[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    const ok = v.push(bytes, prev, p);
    out.push(`${ok}/${v.isComplete}/${v.lastIndex}/${v.totalIndex}`);
    prev = p;
  }
  return out.join(" ");
}

const PAD = new TextEncoder().encode("Größe 我能吞下玻璃 ascii text, 한국어 ".repeat(3));

describe("utf8: native-assisted and pure DFA agree", () => {
  test(`native validator: ${nativeUtf8 === null ? "none on this runtime" : `${nativeUtf8.name} from ${nativeUtf8.minBytes} B`}`, () => {
    if (nativeUtf8 === null) return;
    assert.equal(nativeUtf8.isValid(new Uint8Array([0xed, 0xa0, 0x80])), false);
    assert.equal(nativeUtf8.isValid(PAD), true);
  });

  test("every vector at every split, bare and inside long valid text", () => {
    for (const v of vectors.vectors) {
      const bare = hex(v.hex);
      for (const bytes of [bare, new Uint8Array([...PAD, ...bare]), new Uint8Array([...PAD, ...bare, ...PAD])]) {
        const whole = reference(bytes);
        assert.equal(isValidUtf8(bytes), whole, v.id);
        assert.equal(isValidUtf8(bytes, { native: false }), whole, v.id);
        for (let k = 0; k <= bytes.length; k++) {
          const native = new Utf8Validator();
          const pure = new Utf8Validator({ native: false });
          const a = trace(native, bytes, [k]);
          assert.equal(a, trace(pure, bytes, [k]), `${v.id} split at ${k}`);
          assert.equal(native.finish(), whole, `${v.id} split at ${k}`);
        }
      }
    }
  });

  test("property: same results, positions and states on random and mutated inputs at random splits", () => {
    const input = utf8Inputs(["a", " ", "é", "ß", "€", "我", "한", "😀", "\u{10ffff}", "\u{d7ff}", "\u{e000}"], 200, 300);
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
        const expected = reference(bytes);
        assert.equal(isValidUtf8(bytes), expected);
        assert.equal(isValidUtf8(bytes, { native: false }), expected);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const native = new Utf8Validator();
        const pure = new Utf8Validator({ native: false });
        assert.equal(trace(native, bytes, points), trace(pure, bytes, points));
        assert.equal(native.finish(), expected);
        assert.equal(pure.finish(), expected);
      }),
      { numRuns: 600 },
    );
  });

  test("subarray views at odd offsets reach the native check with the right bounds", () => {
    const buf = new Uint8Array([0xff, ...PAD, 0xe2, 0x82, 0xac, 0xff]);
    const view = buf.subarray(1, buf.length - 1);
    assert.equal(isValidUtf8(view), true);
    const v = new Utf8Validator();
    assert.equal(v.push(buf, 1, buf.length - 2), true);
    assert.equal(v.isComplete, false);
    assert.equal(v.push(buf, buf.length - 2, buf.length - 1), true);
    assert.equal(v.isComplete, true);
    assert.equal(v.push(buf, buf.length - 1), false);
    assert.equal(v.totalIndex, PAD.length + 3);
  });
});
