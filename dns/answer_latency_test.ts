import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { AnswerLatency, NEAR_ANSWER_MS } from "./answer_latency.ts";

describe("AnswerLatency", () => {
  test("before any answer the server counts as near (2 ms); the first answer sets the estimate", () => {
    const l = new AnswerLatency();
    assert.equal(l.smoothedMs, -1);
    assert.equal(l.expectMs(), 2);
    l.observe(0.2);
    assert.equal(l.smoothedMs, 0.2);
    assert.equal(l.expectMs(), 1); // three answer times, at least 1 ms
    l.observe(1.8);
    assert.equal(l.smoothedMs, 0.4);
    assert.ok(Math.abs(l.expectMs() - 1.2) < 1e-9);
  });

  test("a slow server (or one that timed out) is not expected; it becomes near again as fast answers come", () => {
    const l = new AnswerLatency();
    l.observe(0.3);
    l.observe(2000); // a query given up after its timeout
    assert.equal(l.expectMs(), 0);
    let n = 0;
    while (l.expectMs() === 0) {
      l.observe(0.3);
      assert.ok(++n < 100, "fast answers bring the estimate back down");
    }
    assert.ok(l.smoothedMs <= NEAR_ANSWER_MS);
  });

  test("negative and NaN samples are ignored", () => {
    const l = new AnswerLatency();
    l.observe(-1);
    l.observe(Number.NaN);
    assert.equal(l.smoothedMs, -1);
  });

  test("the window is 0 or within 1..5 ms, whatever the samples", () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 50 }), (samples) => {
      const l = new AnswerLatency();
      for (const s of samples) l.observe(s);
      const w = l.expectMs();
      return w === 0 ? l.smoothedMs > NEAR_ANSWER_MS : w >= 1 && w <= 5;
    }));
  });
});
