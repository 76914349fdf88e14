import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ManualClock } from "./clock.ts";
import { SlidingWindowCounter, TokenBucket } from "./rate_limit.ts";

describe("TokenBucket", () => {
  test("starts full, refills at the rate, caps at the burst", () => {
    const clock = new ManualClock();
    const b = new TokenBucket({ rate: 1000, burst: 100, clock });
    assert.equal(b.rate, 1000);
    assert.equal(b.burst, 100);
    assert.equal(b.available(), 100);
    assert.equal(b.tryAcquire(60), true);
    assert.equal(b.tryAcquire(60), false);
    assert.equal(b.available(), 40);
    clock.advance(10);
    assert.equal(b.available(), 50);
    clock.advance(1000);
    assert.equal(b.available(), 100);
    assert.equal(b.tryAcquire(0), true);
  });

  test("burst defaults to one second of tokens", () => {
    const b = new TokenBucket({ rate: 250, clock: new ManualClock() });
    assert.equal(b.burst, 250);
    assert.equal(b.available(), 250);
  });

  test("waitTimeMs says exactly how long until tryAcquire succeeds", () => {
    const clock = new ManualClock();
    const b = new TokenBucket({ rate: 300, burst: 30, clock });
    assert.equal(b.waitTimeMs(30), 0);
    b.tryAcquire(30);
    assert.equal(b.waitTimeMs(1), 4); // 3.33 ms, rounded up
    assert.equal(b.waitTimeMs(30), 100);
    assert.equal(b.waitTimeMs(31), Infinity);
    clock.advance(3);
    assert.equal(b.tryAcquire(1), false);
    clock.advance(1);
    assert.equal(b.tryAcquire(1), true);
  });

  test("acquireUpTo takes what is there (a partial send)", () => {
    const clock = new ManualClock();
    const b = new TokenBucket({ rate: 1000, burst: 1000, clock });
    assert.equal(b.acquireUpTo(600), 600);
    assert.equal(b.acquireUpTo(600), 400);
    assert.equal(b.acquireUpTo(600), 0);
    clock.advance(0.5);
    assert.equal(b.acquireUpTo(600), 0); // half a token is not a token
    clock.advance(0.5);
    assert.equal(b.acquireUpTo(600), 1);
  });

  test("refund puts unused tokens back, never above the burst", () => {
    const clock = new ManualClock();
    const b = new TokenBucket({ rate: 1000, burst: 1000, clock });
    assert.equal(b.acquireUpTo(800), 800);
    b.refund(300); // the send moved 500 of 800 bytes
    assert.equal(b.available(), 500);
    b.refund(5000);
    assert.equal(b.available(), 1000);
    assert.throws(() => b.refund(-1), RangeError);
    assert.throws(() => b.refund(Number.NaN), RangeError);
  });

  test("configure keeps accrued tokens, capped at the new burst", () => {
    const clock = new ManualClock();
    const b = new TokenBucket({ rate: 100, burst: 100, clock });
    b.tryAcquire(50);
    clock.advance(100); // +10 at the old rate
    b.configure(1000, 20);
    assert.equal(b.available(), 20);
    b.tryAcquire(20);
    clock.advance(10);
    assert.equal(b.available(), 10);
    b.configure(10);
    assert.equal(b.burst, 10);
    assert.equal(b.available(), 10);
    b.reset();
    assert.equal(b.available(), 10);
  });

  test("an infinite rate never limits", () => {
    const clock = new ManualClock();
    const b = new TokenBucket({ rate: Infinity, clock });
    assert.equal(b.tryAcquire(1e12), true);
    assert.equal(b.waitTimeMs(1e12), 0);
    assert.equal(b.acquireUpTo(5000), 5000);
    assert.equal(b.available(), Infinity);
    b.configure(10, 10);
    assert.equal(b.available(), 10);
    assert.equal(b.tryAcquire(11), false);
  });

  test("bad arguments", () => {
    const clock = new ManualClock();
    assert.throws(() => new TokenBucket({ rate: 0, clock }), RangeError);
    assert.throws(() => new TokenBucket({ rate: -1, clock }), RangeError);
    assert.throws(() => new TokenBucket({ rate: Number.NaN, clock }), RangeError);
    assert.throws(() => new TokenBucket({ rate: 10, burst: 0, clock }), RangeError);
    assert.throws(() => new TokenBucket({ rate: 10, burst: Infinity, clock }), RangeError);
    assert.throws(() => new TokenBucket({ rate: "10" as unknown as number, clock }), TypeError);
    assert.throws(() => new TokenBucket(null as unknown as { rate: number }), TypeError);
    const b = new TokenBucket({ rate: 10, clock });
    assert.throws(() => b.tryAcquire(-1), RangeError);
    assert.throws(() => b.tryAcquire(Infinity), RangeError);
    assert.throws(() => b.waitTimeMs(Number.NaN), RangeError);
    assert.throws(() => b.configure(0), RangeError);
    assert.equal(b.rate, 10); // a failed configure changes nothing
  });

  test("property: never more than burst + rate × time, and waitTimeMs is enough", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.array(
          fc.record({ advance: fc.integer({ min: 0, max: 50 }), n: fc.integer({ min: 0, max: 6_000 }) }),
          { maxLength: 50, size: "max" },
        ),
        (rate, burst, steps) => {
          const clock = new ManualClock();
          const b = new TokenBucket({ rate, burst, clock });
          let taken = 0;
          for (const step of steps) {
            clock.advance(step.advance);
            const wait = b.waitTimeMs(step.n);
            const ok = b.tryAcquire(step.n);
            assert.equal(ok, wait === 0);
            if (ok) taken += step.n;
            else if (step.n <= burst) {
              clock.advance(wait);
              assert.equal(b.tryAcquire(step.n), true);
              taken += step.n;
            } else assert.equal(wait, Infinity);
            assert.ok(taken <= burst + (rate * clock.now()) / 1000 + 1e-6);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("SlidingWindowCounter", () => {
  test("counts events in the window and expires them bucket by bucket", () => {
    const clock = new ManualClock();
    const c = new SlidingWindowCounter({ windowMs: 1000, limit: 3, clock });
    assert.equal(c.windowMs, 1000);
    assert.equal(c.limit, 3);
    assert.equal(c.record(), true);
    clock.advance(500);
    assert.equal(c.record(2), true);
    assert.equal(c.remaining(), 0);
    assert.equal(c.record(), false);
    assert.equal(c.exceeded(), true);
    assert.equal(c.count(), 4);
    clock.advance(599); // t = 1099: the event at 0 may still count (one bucket of slack)
    assert.equal(c.count(), 4);
    clock.advance(1); // t = 1100: the first bucket is out
    assert.equal(c.count(), 3);
    clock.advance(600); // t = 1700
    assert.equal(c.count(), 0);
    assert.equal(c.exceeded(), false);
  });

  test("tryRecord records only within the limit", () => {
    const clock = new ManualClock();
    const c = new SlidingWindowCounter({ windowMs: 100, limit: 2, buckets: 1, clock });
    assert.equal(c.tryRecord(), true);
    assert.equal(c.tryRecord(2), false);
    assert.equal(c.tryRecord(), true);
    assert.equal(c.tryRecord(), false);
    assert.equal(c.count(), 2);
    c.reset();
    assert.equal(c.count(), 0);
    assert.equal(c.tryRecord(2), true);
  });

  test("a long pause clears everything; a clock origin below zero works", () => {
    const clock = new ManualClock(-5000);
    const c = new SlidingWindowCounter({ windowMs: 1000, limit: 10, clock });
    c.record(5);
    clock.advance(999);
    assert.equal(c.count(), 5);
    clock.advance(1_000_000);
    assert.equal(c.count(), 0);
  });

  test("bad arguments", () => {
    const clock = new ManualClock();
    assert.throws(() => new SlidingWindowCounter({ windowMs: 0, limit: 1, clock }), RangeError);
    assert.throws(() => new SlidingWindowCounter({ windowMs: Infinity, limit: 1, clock }), RangeError);
    assert.throws(() => new SlidingWindowCounter({ windowMs: 10, limit: -1, clock }), RangeError);
    assert.throws(() => new SlidingWindowCounter({ windowMs: 10, limit: 1, buckets: 0, clock }), RangeError);
    assert.throws(() => new SlidingWindowCounter({ windowMs: 10, limit: 1, buckets: 1.5, clock }), RangeError);
    assert.throws(() => new SlidingWindowCounter({ windowMs: 10, limit: "1" as unknown as number, clock }), TypeError);
    const c = new SlidingWindowCounter({ windowMs: 10, limit: 1, clock });
    assert.throws(() => c.record(-1), RangeError);
  });

  test("property: the count lies between the exact window and the window plus one bucket", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.record({ advance: fc.integer({ min: 0, max: 300 }), n: fc.integer({ min: 0, max: 5 }) }), {
          maxLength: 80,
          size: "max",
        }),
        (windowMs, buckets, steps) => {
          const clock = new ManualClock();
          const c = new SlidingWindowCounter({ windowMs, limit: 1e9, buckets, clock });
          const events: { at: number; n: number }[] = [];
          const bucketMs = windowMs / buckets;
          for (const step of steps) {
            clock.advance(step.advance);
            c.record(step.n);
            events.push({ at: clock.now(), n: step.n });
            const now = clock.now();
            const within = (age: number) =>
              events.filter((e) => now - e.at < age).reduce((s, e) => s + e.n, 0);
            const count = c.count();
            assert.ok(count >= within(windowMs), `count ${count} < exact ${within(windowMs)}`);
            assert.ok(count <= within(windowMs + bucketMs), `count ${count} too large`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
