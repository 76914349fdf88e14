import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ManualClock } from "./clock.ts";
import { DNSError, SocketError, TLSVerifyError } from "./errors.ts";
import { backoffDelay, checkBackoff, retry } from "./retry.ts";
import { TimerHeap } from "./timer_heap.ts";

const refused = () => new SocketError("ECONNREFUSED", "refused");
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe("backoffDelay", () => {
  test("grows by the multiplier up to the maximum; the midpoint of the jitter is the base", () => {
    const mid = () => 0.5;
    assert.deepEqual([0, 1, 2, 3, 8, 9, 5000].map((n) => backoffDelay(n, {}, mid)), [100, 200, 400, 800, 25600, 30000, 30000]);
    assert.equal(backoffDelay(0, { jitter: 0.25 }, () => 0), 75);
    assert.equal(backoffDelay(0, { jitter: 0.25 }, () => 0.999999) > 124.99, true);
    assert.equal(backoffDelay(3, { initialDelayMs: 10, multiplier: 3, maxDelayMs: 100, jitter: 0 }), 100);
  });

  test("bad options are RangeErrors", () => {
    assert.throws(() => checkBackoff({ jitter: 1.5 }), RangeError);
    assert.throws(() => checkBackoff({ multiplier: 0.5 }), RangeError);
    assert.throws(() => checkBackoff({ initialDelayMs: -1 }), RangeError);
    assert.throws(() => checkBackoff({ maxDelayMs: Infinity }), RangeError);
    assert.throws(() => backoffDelay(-1), RangeError);
  });

  test("property: within [base × (1 − jitter), base × (1 + jitter)] and [0, max]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 1, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.9999999, noNaN: true }),
        (n, initial, max, multiplier, jitter, r) => {
          const d = backoffDelay(n, { initialDelayMs: initial, maxDelayMs: max, multiplier, jitter }, () => r);
          const base = Math.min(max, initial * multiplier ** n);
          assert.ok(d >= 0 && d <= max + 1e-9);
          assert.ok(d >= base * (1 - jitter) - 1e-6 && d <= base * (1 + jitter) + 1e-6);
        },
      ),
    );
  });

  test("property: a finite delay in [0, max] for any retry index (multiplier^n past Infinity, initialDelayMs 0) and any random() value (NaN, outside [0, 1))", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.constant(Number.MAX_SAFE_INTEGER)),
        fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10_000 })),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 1, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 1, -0.5, 7)),
        (n, initial, max, multiplier, jitter, r) => {
          const d = backoffDelay(n, { initialDelayMs: initial, maxDelayMs: max, multiplier, jitter }, () => r);
          assert.ok(Number.isFinite(d) && d >= 0 && d <= max, `delay ${d}`);
          const base = initial === 0 ? 0 : Math.min(max, initial * multiplier ** Math.min(n, 1075));
          assert.ok(d >= base * (1 - jitter) - 1e-6 && d <= base * (1 + jitter) + 1e-6, `delay ${d}, base ${base}`);
        },
      ),
    );
    // The cases that were NaN (and made a reconnect's timer throw) or past the spread.
    assert.equal(backoffDelay(1100, { initialDelayMs: 0 }), 0);
    assert.equal(backoffDelay(3, {}, () => NaN), 800);
    assert.equal(backoffDelay(3, { jitter: 0.25 }, () => 7), 1000);
    assert.equal(backoffDelay(3, { jitter: 0.25 }, () => -3), 600);
  });
});

describe("retry", () => {
  test("retries retryable errors with the backoff delays (a manual clock), then succeeds", async () => {
    const clock = new ManualClock();
    const timers = new TimerHeap({ clock });
    const delays: number[] = [];
    let calls = 0;
    const done = retry(async (attempt) => {
      calls++;
      assert.equal(attempt, calls);
      if (attempt < 4) throw refused();
      return "ok";
    }, { attempts: 5, timers, random: () => 0.5, onRetry: (_e, _a, ms) => delays.push(ms) });
    for (const step of [100, 200, 400]) {
      await settle();
      assert.equal(timers.size, 1);
      clock.advance(step - 1);
      timers.runDue();
      await settle();
      assert.equal(calls, delays.length, "not before the delay");
      clock.advance(1);
      timers.runDue();
    }
    assert.equal(await done, "ok");
    assert.equal(calls, 4);
    assert.deepEqual(delays, [100, 200, 400]);
  });

  test("gives up with the last error after the attempts, at once for what is not retryable", async () => {
    let calls = 0;
    await assert.rejects(retry(() => {
      calls++;
      throw refused();
    }, { attempts: 3, initialDelayMs: 0 }), (e) => e instanceof SocketError && e.code === "ECONNREFUSED");
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(retry(() => {
      calls++;
      throw new TLSVerifyError("ERR_TLS_CERT", "bad certificate");
    }, { attempts: 5, initialDelayMs: 0 }), TLSVerifyError);
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(retry(() => {
      calls++;
      throw new DNSError("ENOTFOUND", "no such name");
    }, { attempts: 5, initialDelayMs: 0, shouldRetry: (_e, attempt) => attempt < 2 }), DNSError);
    assert.equal(calls, 2);
  });

  test("the signal stops a wait, a running call, and a retry before it starts", async () => {
    const clock = new ManualClock();
    const timers = new TimerHeap({ clock });
    const controller = new AbortController();
    const waiting = retry(() => Promise.reject(refused()), { attempts: 10, timers, signal: controller.signal });
    await settle();
    assert.equal(timers.size, 1);
    controller.abort(new Error("stop"));
    await assert.rejects(waiting, { message: "stop" });
    assert.equal(timers.size, 0, "the wait's timer is cancelled");
    const running = new AbortController();
    let seen: AbortSignal | undefined;
    const hanging = retry((_a, signal) => {
      seen = signal;
      return new Promise<never>(() => {});
    }, { signal: running.signal });
    running.abort(new Error("gone"));
    await assert.rejects(hanging, { message: "gone" });
    assert.equal(seen, running.signal);
    await assert.rejects(retry(() => 1, { signal: AbortSignal.abort(new Error("early")) }), { message: "early" });
  });

  test("options are checked", async () => {
    await assert.rejects(retry(() => 1, { attempts: 0 }), RangeError);
    await assert.rejects(retry(() => 1, { jitter: 2 }), RangeError);
    await assert.rejects(retry(() => 1, { tries: 2 } as never), TypeError);
    await assert.rejects(retry(1 as never), TypeError);
    assert.equal(await retry(() => 5), 5);
  });
});
