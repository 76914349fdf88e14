import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { wasmReadBuffer } from "../../core/mask_wasm.ts";
import { JOIN_BYTES, type JoinTarget, ReceiveJoin } from "./recv_join.ts";

/** A target that records copies of what it is delivered, and the views themselves. */
function recorder(): JoinTarget & { got: number[][]; views: Uint8Array[] } {
  const got: number[][] = [];
  const views: Uint8Array[] = [];
  return { got, views, deliverJoined: (bytes) => void (got.push([...bytes]), views.push(bytes)) };
}

describe("ReceiveJoin", () => {
  test("pieces appended for one owner reach it as one delivery, in order; the join is empty after", () => {
    const join = new ReceiveJoin();
    const a = recorder();
    join.append(a, 9, new Uint8Array([1, 2, 3]));
    join.append(a, 9, new Uint8Array([4]));
    assert.equal(join.owner, a);
    assert.equal(join.tag, 9);
    assert.equal(join.length, 4);
    assert.deepEqual(a.got, [], "nothing before the flush");
    join.flush();
    assert.deepEqual(a.got, [[1, 2, 3, 4]]);
    assert.deepEqual([join.owner, join.tag, join.length], [undefined, -1, 0]);
    join.flush();
    assert.equal(a.got.length, 1, "an empty join delivers nothing");
  });

  test("another owner's piece delivers the first owner's bytes before it is joined", () => {
    const join = new ReceiveJoin();
    const a = recorder();
    const b = recorder();
    join.append(a, 1, new Uint8Array([1]));
    join.append(b, 2, new Uint8Array([2, 2]));
    assert.deepEqual(a.got, [[1]]);
    assert.deepEqual([join.owner, join.tag, join.length], [b, 2, 2]);
    join.flush();
    assert.deepEqual(b.got, [[2, 2]]);
  });

  test("drop forgets its owner's bytes only", () => {
    const join = new ReceiveJoin();
    const a = recorder();
    const b = recorder();
    join.append(a, 1, new Uint8Array([1]));
    join.drop(b);
    assert.equal(join.length, 1, "another owner's drop leaves them");
    join.drop(a);
    assert.deepEqual([join.owner, join.length], [undefined, 0]);
    join.flush();
    assert.deepEqual(a.got, []);
  });

  test(`bounded: at most ${JOIN_BYTES} bytes; a piece past that is a RangeError and changes nothing`, () => {
    const join = new ReceiveJoin();
    const a = recorder();
    assert.equal(join.capacity, JOIN_BYTES);
    join.append(a, 1, new Uint8Array(JOIN_BYTES - 1).fill(7));
    assert.equal(join.fits(1), true);
    assert.equal(join.fits(2), false);
    assert.throws(() => join.append(a, 1, new Uint8Array(2)), RangeError);
    assert.equal(join.length, JOIN_BYTES - 1);
    join.append(a, 1, new Uint8Array([8]));
    join.flush();
    assert.equal(a.got[0]!.length, JOIN_BYTES);
    assert.equal(a.got[0]![JOIN_BYTES - 1], 8);
  });

  test("the area is the WebAssembly masking module's read buffer where there is one (frames unmasked in place there)", () => {
    const join = new ReceiveJoin();
    const a = recorder();
    join.append(a, 1, new Uint8Array([5, 6]));
    join.flush();
    const wasm = wasmReadBuffer();
    if (wasm !== null) assert.equal(a.views[0]!.buffer, wasm.buffer);
    assert.deepEqual(a.got, [[5, 6]]);
  });
});
