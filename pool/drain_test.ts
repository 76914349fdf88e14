import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ManualClock } from "../core/clock.ts";
import { DrainState } from "./drain.ts";
import { PoolCounters } from "./stats.ts";

describe("DrainState", () => {
  test("running -> draining -> stopped, with the remaining time from the clock", async () => {
    const clock = new ManualClock();
    const drain = new DrainState(clock);
    assert.equal(drain.state, "running");
    assert.equal(drain.remainingMs(), Infinity);
    assert.equal(drain.begin(1000), true);
    clock.advance(250);
    assert.equal(drain.remainingMs(), 750);
    assert.equal(drain.expired(), false);
    clock.advance(750);
    assert.equal(drain.expired(), true);
    drain.stop();
    await drain.whenStopped;
    assert.equal(drain.state, "stopped");
    assert.equal(drain.begin(10), false);
    assert.throws(() => new DrainState().begin(-1), RangeError);
    assert.throws(() => new DrainState().begin(Infinity), RangeError);
  });

  test("property: states only move forward and the deadline only comes sooner", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("begin" as const), ms: fc.integer({ min: 0, max: 10_000 }) }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 5000 }) }),
      fc.record({ kind: fc.constant("stop" as const), ms: fc.constant(0) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const clock = new ManualClock();
      const drain = new DrainState(clock);
      const rank = { running: 0, draining: 1, stopped: 2 };
      let deadline = Infinity;
      for (const o of ops) {
        const before = drain.state;
        if (o.kind === "begin") {
          drain.begin(o.ms);
          if (before !== "stopped") deadline = Math.min(deadline, clock.now() + o.ms);
        } else if (o.kind === "advance") clock.advance(o.ms);
        else drain.stop();
        assert.ok(rank[drain.state] >= rank[before]);
        if (drain.state === "draining") assert.equal(drain.remainingMs(), Math.max(0, deadline - clock.now()));
        if (drain.state === "stopped") assert.equal(drain.remainingMs(), 0);
      }
    }));
  });
});

describe("PoolCounters", () => {
  test("snapshot derives reuse rate, average age and churn; reset zeroes", () => {
    const clock = new ManualClock();
    const c = new PoolCounters(clock);
    assert.deepEqual(c.snapshot({ active: 0, idle: 0, totalAgeMs: 0 }).reuseRate, 0);
    c.added = 4;
    c.removed = 2;
    c.reused = 4;
    clock.advance(2000);
    const s = c.snapshot({ active: 1, idle: 1, totalAgeMs: 3000 });
    assert.equal(s.reuseRate, 0.5);
    assert.equal(s.averageAgeMs, 1500);
    assert.equal(s.churnPerSecond, 3);
    c.reset();
    assert.equal(c.snapshot({ active: 0, idle: 0, totalAgeMs: 0 }).added, 0);
  });
});
