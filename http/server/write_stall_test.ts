import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { WriteStallWatch } from "./write_stall.ts";

describe("WriteStallWatch", () => {
  test("stalled only after limitMs with nothing taken; any byte taken, or an empty queue, starts over", () => {
    const w = new WriteStallWatch();
    w.handed = 1000;
    assert.equal(w.stalled(1000, 10, 100), false); // stalled since 10
    assert.equal(w.stalled(1000, 109, 100), false);
    assert.equal(w.stalled(999, 150, 100), false); // one byte taken: since 150
    assert.equal(w.stalled(999, 249, 100), false);
    assert.equal(w.stalled(999, 250, 100), true);
    assert.equal(w.stalled(999, 251, 100), false); // starts over after reporting
    assert.equal(w.stalled(0, 400, 100), false); // drained
    w.handed += 50;
    assert.equal(w.stalled(50, 401, 100), false);
    assert.equal(w.stalled(50, 501, 100), true);
  });

  test("a limit of 0 never reports a stall", () => {
    const w = new WriteStallWatch();
    w.handed = 10;
    for (let now = 1; now < 1e6; now *= 10) assert.equal(w.stalled(10, now, 0), false);
  });

  test("property: a client that keeps taking bytes between sweeps is never cut", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 50 }), (takes, step) => {
      const w = new WriteStallWatch();
      let queued = 1e9;
      w.handed = queued;
      let now = 1;
      for (const t of takes) {
        queued -= t;
        now += step;
        if (w.stalled(queued, now, step)) return false;
      }
      return true;
    }));
  });
});
