import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SEND_SLAB_BYTES, SendSlots } from "./send_slots.ts";

describe("SendSlots", () => {
  test("no slab until a slot is taken; then one slab per 64 KiB of slots, in take order", () => {
    using slots = new SendSlots(100, 2048); // 32 slots per slab: slabs of 32, 32, 32, 4
    const perSlab = SEND_SLAB_BYTES / 2048;
    assert.equal(slots.slabs, 0, "nothing allocated up front");
    assert.equal(slots.free, 100);
    const taken: number[] = [];
    for (let i = 0; i < perSlab; i++) taken.push(slots.take());
    assert.deepEqual(taken, Array.from({ length: perSlab }, (_, i) => i), "slot 0 first, then up");
    assert.equal(slots.slabs, 1, "the first 32 slots share the first slab");
    taken.push(slots.take());
    assert.equal(slots.slabs, 2, "slot 32 makes the second");
    for (let i = taken.length; i < 100; i++) taken.push(slots.take());
    assert.equal(slots.slabs, 4, "the last slab holds the 4 slots left");
    assert.equal(slots.take(), -1, "none left");
    assert.equal(slots.free, 0);
    for (const s of taken) slots.give(s);
    assert.equal(slots.free, 100);
    assert.equal(slots.slabs, 4, "slabs stay for reuse");
  });

  test("a slot's bytes are its own, and addresses are slotBytes apart within a slab", () => {
    using slots = new SendSlots(70, 1024); // 64 per slab: slabs of 64 and 6
    const all: number[] = [];
    for (let i = 0; i < 70; i++) all.push(slots.take());
    for (const s of all) {
      const bytes = slots.bytes(s);
      assert.equal(bytes.length, 1024);
      bytes.fill(s & 0xff);
      assert.equal(slots.bytes(s), bytes, "one view per slot");
    }
    for (const s of all) assert.ok(slots.bytes(s).every((b) => b === (s & 0xff)), `slot ${s} kept its bytes`);
    for (let s = 1; s < 64; s++) assert.equal(slots.address(s) - slots.address(s - 1), 1024);
    for (let s = 65; s < 70; s++) assert.equal(slots.address(s) - slots.address(s - 1), 1024);
    const first = slots.address(0);
    const second = slots.address(64);
    assert.ok(second >= first + 64 * 1024 || second + 6 * 1024 <= first, "the two slabs do not overlap");
  });

  test("a slot larger than a slab gets a slab of its own", () => {
    using slots = new SendSlots(3, SEND_SLAB_BYTES * 2);
    assert.equal(slots.take(), 0);
    assert.equal(slots.take(), 1);
    assert.equal(slots.slabs, 2);
    assert.equal(slots.bytes(1).length, SEND_SLAB_BYTES * 2);
  });

  test("after close or abandon no slot is taken; closing twice is quiet", () => {
    const a = new SendSlots(4, 64);
    const s = a.take();
    assert.equal(s, 0);
    a.give(s);
    a.close();
    assert.equal(a.take(), -1);
    a.close();
    const b = new SendSlots(4, 64);
    b.take();
    b.abandon();
    assert.equal(b.take(), -1);
    const never = new SendSlots(4, 64);
    never.close(); // no slab was made
    assert.equal(never.slabs, 0);
  });

  test("bad sizes are RangeErrors", () => {
    assert.throws(() => new SendSlots(0, 64), RangeError);
    assert.throws(() => new SendSlots(4, 0), RangeError);
    assert.throws(() => new SendSlots(1.5, 64), RangeError);
  });
});
