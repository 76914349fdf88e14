import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isValidUtf8 } from "./utf8.ts";
import { wordView } from "./word_view.ts";
import { countInt32Views } from "../tests/view_count_helpers.ts";

describe("wordView", () => {
  test("one view per buffer, small (two slots) or large (kept while the buffer lives); a new one when the length changed", () => {
    const a = new ArrayBuffer(4096);
    const b = new ArrayBuffer(10);
    const big = new ArrayBuffer(1 << 20);
    const va = wordView(a);
    assert.equal(va.length, 1024);
    assert.equal(wordView(b).length, 2);
    assert.equal(wordView(a), va);
    const vbig = wordView(big);
    // Other buffers take both small slots: the large one's view is still the same.
    wordView(new ArrayBuffer(64));
    wordView(new ArrayBuffer(128));
    assert.equal(wordView(big), vbig);
    const words = new Uint8Array(big);
    words.set([1, 2, 3, 4], 8);
    assert.equal(vbig[2], new DataView(big).getInt32(8, new Uint8Array(new Uint32Array([1]).buffer)[0] === 1));
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    for (const size of [64, 300_000]) {
      const rb = new Resizable(size, { maxByteLength: 2 * size + 8 });
      const before = wordView(rb);
      rb.resize(2 * size + 8);
      const after = wordView(rb);
      assert.notEqual(after, before);
      assert.equal(after.length, (2 * size + 8) >>> 2);
    }
  });

  test("UTF-8 validation of short ASCII texts in one buffer takes its word view once, and still finds every bad byte", () => {
    const buffer = new ArrayBuffer(1 << 16);
    const all = new Uint8Array(buffer).fill(0x61);
    const made = countInt32Views(() => {
      for (let i = 0; i < 200; i++) {
        const at = (i * 37) % 60_000;
        assert.equal(isValidUtf8(all.subarray(at, at + 64), { native: false }), true);
      }
    }, buffer);
    assert.equal(made <= 1, true, `${made} views`);
    // At every offset and length around the word loop's bounds, with one bad byte anywhere.
    for (let off = 0; off < 8; off++) {
      for (const n of [16, 17, 31, 32, 33, 63, 64, 65, 100]) {
        const view = all.subarray(off, off + n);
        assert.equal(isValidUtf8(view, { native: false }), true);
        for (let bad = 0; bad < n; bad++) {
          view[bad] = 0xff;
          assert.equal(isValidUtf8(view, { native: false }), false, `${off} ${n} ${bad}`);
          view[bad] = 0x61;
        }
      }
    }
  });
});
