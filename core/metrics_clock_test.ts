import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { libc } from "../ffi/libc.ts";
import { endAtNextReading, holdLatencies, LatencyRing, metricsNowMs, releaseLatencies, settleLatencies } from "./metrics_clock.ts";

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

describe("LatencyRing", () => {
  const observer = () => {
    const seen: number[] = [];
    return { seen, sink: { observe: (s: number) => void seen.push(s) } };
  };

  test("a start ends at the next reading of the clock, whoever takes it (another ring's, endAtNextReading's, a held read's end), and reaches the sink at flush", async () => {
    const a = observer();
    const b = observer();
    const ringA = new LatencyRing(a.sink);
    const ringB = new LatencyRing(b.sink);
    const start = performance.now() - 5;
    ringA.start(start);
    ringB.start(start);
    const called = performance.now();
    const recorded: number[] = [];
    endAtNextReading({ record: (s) => void recorded.push(s) }, start);
    const now = metricsNowMs(); // ends all three
    // Ended at that reading: flushing later adds nothing to the latency.
    const late = performance.now();
    while (performance.now() - late < 3) { /* a later flush must not count this */ }
    ringA.flush();
    ringB.flush();
    assert.equal(a.seen.length, 1);
    assert.equal(b.seen.length, 1);
    assert.equal(recorded.length, 1);
    for (const s of [a.seen[0]!, b.seen[0]!]) {
      assert.ok(s * 1000 >= called - start - 1 && s * 1000 <= now - start + 1, `${s} s`);
      assert.equal(s, recorded[0]);
    }
    // A held read: no microtask ends it, the read's end does.
    holdLatencies();
    try {
      ringA.start(performance.now());
      await Promise.resolve();
      await Promise.resolve();
      ringA.flush(); // a read meanwhile ends it with a reading of its own
      assert.equal(a.seen.length, 2);
      ringA.start(performance.now());
    } finally {
      releaseLatencies();
    }
    ringA.flush();
    assert.equal(a.seen.length, 3);
    // Not held: the end of the synchronous run ends it, flushed or not.
    const s0 = performance.now();
    ringB.start(s0);
    await Promise.resolve();
    await Promise.resolve();
    const after = performance.now();
    while (performance.now() - after < 3) { /* after the microtask: must not count */ }
    ringB.flush();
    assert.equal(b.seen.length, 2);
    assert.ok(b.seen[1]! * 1000 <= after - s0 + 1, `${b.seen[1]} s`);
    assert.ok(a.seen.concat(b.seen).every((s) => s >= 0));
  });

  test("holds 256: the 257th start adds all of them to the sink first, each from its own start; a start after the reading counts 0", () => {
    const { seen, sink } = observer();
    const ring = new LatencyRing(sink);
    const base = performance.now();
    for (let i = 0; i < 256; i++) {
      ring.start(base - i);
      if (i % 16 === 7) settleLatencies(); // some ended, the last 8 waiting when it fills
    }
    assert.equal(seen.length, 0);
    ring.start(base + 1000); // after the reading that ends it: 0
    assert.equal(seen.length, 256);
    for (let i = 1; i < 256; i++) assert.ok(seen[i]! > seen[i - 1]!, `${i}`);
    ring.flush();
    assert.equal(seen.length, 257);
    assert.equal(seen[256], 0);
    ring.flush(); // nothing held: nothing added
    assert.equal(seen.length, 257);
  });
});
