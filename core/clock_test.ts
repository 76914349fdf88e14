import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, monotonicMs, monotonicNs, systemClock, turnClock, turnMs } from "./clock.ts";

describe("clock", () => {
  test("monotonicMs never decreases", () => {
    let last = monotonicMs();
    for (let i = 0; i < 1000; i++) {
      const now = monotonicMs();
      assert.ok(now >= last);
      last = now;
    }
  });

  test("monotonicNs is a non-decreasing bigint", () => {
    let last = monotonicNs();
    assert.equal(typeof last, "bigint");
    for (let i = 0; i < 1000; i++) {
      const now = monotonicNs();
      assert.ok(now >= last);
      last = now;
    }
  });

  test("systemClock reads monotonicMs", () => {
    const a = monotonicMs();
    const b = systemClock.now();
    assert.ok(b >= a);
    assert.ok(Object.isFrozen(systemClock));
  });

  test("turnMs reads the clock once per synchronous run and again after the microtask checkpoint", async () => {
    await Promise.resolve(); // a run of our own
    const before = monotonicMs();
    const a = turnMs();
    assert.ok(a >= before);
    // The clock moves on, the turn's reading does not.
    for (let i = 0; i < 1e7 && monotonicMs() <= a; i++);
    assert.ok(monotonicMs() > a);
    assert.equal(turnMs(), a);
    assert.equal(turnClock.now(), a);
    await Promise.resolve();
    const b = turnMs();
    assert.ok(b > a, "a new turn reads the clock again");
    assert.ok(Object.isFrozen(turnClock));
  });

  test("ManualClock moves only when told, and only forward", () => {
    const clock = new ManualClock(5);
    assert.equal(clock.now(), 5);
    assert.equal(clock.advance(10), 15);
    assert.equal(clock.advance(0.5), 15.5);
    clock.set(20);
    clock.set(20);
    assert.equal(clock.now(), 20);
    assert.throws(() => clock.advance(-1), RangeError);
    assert.throws(() => clock.set(19), RangeError);
    assert.throws(() => clock.advance(Number.NaN), RangeError);
    assert.throws(() => clock.advance(Infinity), RangeError);
    assert.throws(() => new ManualClock(Number.NaN), RangeError);
    assert.throws(() => clock.advance("1" as unknown as number), TypeError);
    assert.equal(new ManualClock().now(), 0);
  });
});
