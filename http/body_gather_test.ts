import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BodyGather } from "./body_gather.ts";

describe("BodyGather: one read's body pieces handed on as one", () => {
  test("nothing gathered: take and takeCopy give undefined, the counts are zero", () => {
    const gather = new BodyGather();
    assert.equal(gather.take(), undefined);
    assert.equal(gather.takeCopy(), undefined);
    assert.equal(gather.count, 0);
    assert.equal(gather.bytes, 0);
  });

  test("a lone piece: take hands the view itself, takeCopy a copy of it", () => {
    const read = Uint8Array.of(1, 2, 3, 4);
    const gather = new BodyGather();
    gather.add(read.subarray(1, 3));
    const view = gather.take()!;
    assert.equal(view.buffer, read.buffer);
    assert.deepEqual([...view], [2, 3]);
    gather.add(read.subarray(1, 3));
    const copy = gather.takeCopy()!;
    assert.notEqual(copy.buffer, read.buffer);
    read.fill(0); // the read's memory reused: the copy keeps its bytes
    assert.deepEqual([...copy], [2, 3]);
  });

  test("clear drops what was gathered", () => {
    const gather = new BodyGather();
    gather.add(Uint8Array.of(1));
    gather.add(Uint8Array.of(2));
    gather.clear();
    assert.equal(gather.count, 0);
    assert.equal(gather.take(), undefined);
  });

  test("property: any split of a read gives its bytes back as one fresh array, and the gather starts over", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 20 }), fc.boolean(), (bytes, cuts, copy) => {
      const read = bytes.slice();
      const points = [...new Set(cuts.map((c) => c % (read.length + 1)))].sort((a, b) => a - b);
      const pieces: Uint8Array[] = [];
      let at = 0;
      for (const p of [...points, read.length]) {
        if (p > at) pieces.push(read.subarray(at, p));
        at = Math.max(at, p);
      }
      const gather = new BodyGather();
      for (const p of pieces) gather.add(p);
      assert.equal(gather.count, pieces.length);
      assert.equal(gather.bytes, read.length);
      const out = copy ? gather.takeCopy()! : gather.take()!;
      assert.deepEqual(out, bytes);
      // Several pieces (or any with takeCopy) come out in memory of their own.
      if (copy || pieces.length > 1) assert.notEqual(out.buffer, read.buffer);
      assert.equal(gather.count, 0);
      assert.equal(gather.bytes, 0);
      assert.equal(gather.take(), undefined);
    }));
  });
});
