import { test } from "node:test";
import assert from "node:assert/strict";
import { DataCopies } from "./data_copies.ts";
import { OutboundBuffer } from "./outbound.ts";

test("DataCopies: copies survive changes to the source, across slabs and for large payloads", () => {
  const copies = new DataCopies();
  const src = new Uint8Array(20000);
  const kept: [Uint8Array, number, number][] = [];
  for (let i = 0; i < 400; i++) {
    const n = [0, 1, 512, 4000, 8192, 8193, 16384][i % 7]!;
    src.fill(i & 0xff, 0, n);
    const c = copies.copy(src.subarray(0, n));
    assert.equal(c.length, n);
    kept.push([c, i & 0xff, n]);
  }
  src.fill(0xee);
  for (const [c, v, n] of kept) {
    assert.equal(c.length, n);
    assert.ok(c.every((b) => b === v));
  }
});

test("OutboundBuffer: reserve, push and take keep bytes in order, small and large", () => {
  const out = new OutboundBuffer();
  assert.equal(out.take().length, 0);
  const want: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 3000; i++) {
      const n = (i * 7) % 23;
      const bytes = new Uint8Array(n).map((_, k) => (i + k) & 0xff);
      if (i & 1) out.push(bytes);
      else {
        const buf = out.reserve(n);
        buf.set(bytes, out.length);
        out.length += n;
      }
      want.push(...bytes);
      if (i % (round === 0 ? 10 : 1000) === 9) {
        assert.deepEqual([...out.take()], want);
        want.length = 0;
      }
    }
    assert.deepEqual([...out.take()], want);
    want.length = 0;
  }
});
