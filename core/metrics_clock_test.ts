import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { libc } from "../ffi/libc.ts";
import { endAtNextReading, holdLatencies, metricsNowMs, releaseLatencies, settleLatencies } from "./metrics_clock.ts";

describe("metricsNowMs", () => {
  test("reads performance.now()'s clock: each reading lies between two performance.now() readings around it, and never goes back", () => {
    // Before and after libc is loaded (on Deno the FFI clock takes over once it is).
    for (const loadLibc of [false, true]) {
      if (loadLibc) {
        libc();
        metricsNowMs(); // the first reading after it decides which clock to read
      }
      let last = -Infinity;
      for (let i = 0; i < 2000; i++) {
        const before = performance.now();
        const now = metricsNowMs();
        const after = performance.now();
        // The FFI clock is shifted onto performance.now()'s origin to within half its
        // tightest bracket (well under a microsecond); a millisecond of slack covers it.
        assert.ok(now >= before - 1 && now <= after + 1, `${before} <= ${now} <= ${after}`);
        assert.ok(now >= last, `went back from ${last} to ${now}`);
        last = now;
      }
    }
  });
});

describe("endAtNextReading", () => {
  test("a latency ends at the next metricsNowMs() reading, settleLatencies() or the end of the synchronous run, never before the call", async () => {
    const seen: number[] = [];
    const sink = { record: (seconds: number) => void seen.push(seconds) };
    // Ended by the next reading, whoever takes it: at least the time from its start to the call.
    const start = performance.now() - 5;
    endAtNextReading(sink, start);
    const called = performance.now();
    assert.deepEqual(seen, []);
    const now = metricsNowMs();
    assert.equal(seen.length, 1);
    assert.ok(seen[0]! * 1000 >= called - start - 1 && seen[0]! * 1000 <= now - start + 1, `${seen[0]} s`);
    // Ended by settleLatencies (what the HTTP sessions call at the end of a read).
    endAtNextReading(sink, performance.now());
    settleLatencies();
    assert.equal(seen.length, 2);
    assert.ok(seen[1]! >= 0);
    settleLatencies(); // nothing waits: nothing recorded
    assert.equal(seen.length, 2);
    // Ended when the synchronous run ends (a microtask), if nothing read the clock before.
    endAtNextReading(sink, performance.now());
    assert.equal(seen.length, 2);
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(seen.length, 3);
  });

  test("at most 64 wait: the 65th ends them at once, each into its own sink, in order", () => {
    const into: [number, number][] = [];
    const sinks = [0, 1].map((k) => ({ record: (seconds: number) => void into.push([k, seconds]) }));
    const base = performance.now();
    for (let i = 0; i < 64; i++) endAtNextReading(sinks[i % 2]!, base - i);
    assert.equal(into.length, 0);
    endAtNextReading(sinks[0]!, base);
    assert.equal(into.length, 64);
    assert.deepEqual(into.map(([k]) => k), Array.from({ length: 64 }, (_, i) => i % 2));
    // Each from its own start: the earlier the start, the longer.
    for (let i = 1; i < 64; i++) assert.ok(into[i]![1] > into[i - 1]![1], `${i}`);
    settleLatencies();
    assert.equal(into.length, 65);
  });

  test("inside a held read no microtask ends a latency: releaseLatencies() does, and holds nest", async () => {
    const seen: number[] = [];
    const sink = { record: (s: number) => void seen.push(s) };
    holdLatencies();
    holdLatencies();
    try {
      endAtNextReading(sink, performance.now());
      await Promise.resolve();
      await Promise.resolve();
      assert.equal(seen.length, 0); // no microtask settled it
      releaseLatencies(); // the inner read ends: ended
      assert.equal(seen.length, 1);
      endAtNextReading(sink, performance.now());
    } finally {
      releaseLatencies();
    }
    assert.equal(seen.length, 2);
    // Released: the microtask is back.
    endAtNextReading(sink, performance.now());
    await Promise.resolve();
    assert.equal(seen.length, 3);
    releaseLatencies(); // unbalanced: harmless
    assert.ok(seen.every((s) => s >= 0));
  });

  test("a start after the end's reading (clocks aligned to well under a microsecond, not exactly) counts 0, not a negative latency", () => {
    const seen: number[] = [];
    endAtNextReading({ record: (s) => void seen.push(s) }, performance.now() + 1000);
    settleLatencies();
    assert.deepEqual(seen, [0]);
  });
});
