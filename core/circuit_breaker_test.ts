import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CircuitBreaker, CircuitOpenError, type CircuitState } from "./circuit_breaker.ts";
import { ManualClock } from "./clock.ts";
import { isRetryable, NetError } from "./errors.ts";

describe("CircuitBreaker", () => {
  test("closed -> open after the threshold, half-open after the reset timeout, closed after a good probe", () => {
    const clock = new ManualClock();
    const changes: string[] = [];
    const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeoutMs: 1000, clock, onStateChange: (to, from) => changes.push(`${from}->${to}`) });
    assert.equal(breaker.state, "closed");
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess(); // a success in between starts the count over
    breaker.recordFailure();
    breaker.recordFailure();
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.failures, 2);
    breaker.recordFailure();
    assert.equal(breaker.state, "open");
    assert.equal(breaker.allow(), false);
    assert.equal(breaker.retryAfterMs(), 1000);
    clock.advance(400);
    assert.equal(breaker.retryAfterMs(), 600);
    clock.advance(600);
    assert.equal(breaker.state, "half-open");
    assert.equal(breaker.allow(), true);
    assert.equal(breaker.allow(), false, "one probe at a time");
    breaker.recordSuccess();
    assert.equal(breaker.state, "closed");
    assert.deepEqual(changes, ["closed->open", "open->half-open", "half-open->closed"]);
  });

  test("a failed probe opens it again for another reset timeout; several probes and successes when asked", () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 100, halfOpenProbes: 2, successThreshold: 2, clock });
    breaker.recordFailure();
    clock.advance(100);
    assert.equal(breaker.allow(), true);
    breaker.recordFailure();
    assert.equal(breaker.state, "open");
    clock.advance(99);
    assert.equal(breaker.state, "open");
    clock.advance(1);
    assert.equal(breaker.allow(), true);
    assert.equal(breaker.allow(), true);
    assert.equal(breaker.allow(), false);
    breaker.recordSuccess();
    assert.equal(breaker.state, "half-open");
    breaker.recordSuccess();
    assert.equal(breaker.state, "closed");
    breaker.recordFailure();
    assert.equal(breaker.state, "open");
    breaker.reset();
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.allow(), true);
  });

  test("run() refuses with CircuitOpenError while open (not retryable), counts only what isFailure says", async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeoutMs: 50, clock });
    const boom = () => Promise.reject(new Error("down"));
    await assert.rejects(breaker.run(boom, (e) => (e as Error).message !== "down"), { message: "down" });
    await assert.rejects(breaker.run(boom, (e) => (e as Error).message !== "down"), { message: "down" });
    assert.equal(breaker.state, "closed");
    await assert.rejects(breaker.run(boom), { message: "down" });
    await assert.rejects(breaker.run(boom), { message: "down" });
    let called = false;
    await assert.rejects(
      breaker.run(() => (called = true)),
      (e) => e instanceof CircuitOpenError && e instanceof NetError && e.code === "ERR_CIRCUIT_OPEN" && e.retryAfterMs === 50 && !isRetryable(e),
    );
    assert.equal(called, false);
    clock.advance(50);
    assert.equal(await breaker.run(() => 7), 7);
    assert.equal(breaker.state, "closed");
  });

  test("options are checked", () => {
    assert.throws(() => new CircuitBreaker({ failureThreshold: 0 }), RangeError);
    assert.throws(() => new CircuitBreaker({ halfOpenProbes: 1.5 }), RangeError);
    assert.throws(() => new CircuitBreaker({ resetTimeoutMs: -1 }), RangeError);
    assert.throws(() => new CircuitBreaker({ resetTimeoutMs: Infinity }), RangeError);
    assert.throws(() => new CircuitBreaker({ onStateChange: 1 } as never), TypeError);
    assert.throws(() => new CircuitBreaker({ threshold: 1 } as never), TypeError);
  });

  test("property: it opens exactly at the threshold of failures in a row, and never lets a call through while open", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.record({ ok: fc.boolean(), wait: fc.integer({ min: 0, max: 300 }) }), { maxLength: 60 }),
        (threshold, resetMs, calls) => {
          const clock = new ManualClock();
          const breaker = new CircuitBreaker({ failureThreshold: threshold, resetTimeoutMs: resetMs, clock });
          let run = 0;
          let openedAt = -1;
          for (const call of calls) {
            clock.advance(call.wait);
            const wasHalfOpen = breaker.state === "half-open";
            const allowed = breaker.allow();
            if (openedAt >= 0 && clock.now() - openedAt < resetMs) assert.equal(allowed, false);
            if (!allowed) continue;
            if (call.ok) {
              breaker.recordSuccess();
              run = 0;
              openedAt = -1;
            } else {
              breaker.recordFailure();
              run++;
              if (wasHalfOpen || run >= threshold) {
                openedAt = clock.now();
                run = 0;
              }
            }
            const state: CircuitState = breaker.state;
            assert.equal(state === "open", openedAt >= 0 && clock.now() - openedAt < resetMs);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
