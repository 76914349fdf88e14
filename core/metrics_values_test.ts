// Values a metric refuses, per kind: a counter goes up by a finite number
// >= 0 (negative, NaN, ±Infinity and non-numbers are RangeErrors), a gauge
// takes any number but NaN (nor an inc/dec that makes it NaN), a histogram
// a finite number >= 0. A refused value changes nothing: no series is left
// NaN or +Inf for good.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { MetricsRegistry } from "./metrics.ts";
import { toPrometheusText } from "./prometheus.ts";

const NOT_NUMBERS = ["1", null, undefined, {}] as unknown as number[];

describe("metric values", () => {
  test("a counter refuses negative, NaN, ±Infinity and non-numbers, by inc and by value", () => {
    const r = new MetricsRegistry();
    const plain = r.counter("plain_total");
    const child = r.counter("labelled_total", { labelNames: ["k"] }).labels("a");
    for (const c of [plain, child]) {
      c.inc(2);
      for (const bad of [-1, -0.5, NaN, Infinity, -Infinity, ...NOT_NUMBERS.filter((x) => x !== undefined)]) {
        assert.throws(() => c.inc(bad), RangeError, String(bad));
        assert.throws(() => (c.value = bad), RangeError, String(bad));
      }
      c.inc(0);
      c.inc();
      assert.equal(c.value, 3);
      c.value = 0;
      assert.equal(c.value, 0);
    }
    assert.doesNotMatch(toPrometheusText(r.snapshot()), /NaN|Inf/);
  });

  test("a gauge takes ±Infinity but refuses NaN and an inc or dec that would make it NaN", () => {
    const g = new MetricsRegistry().gauge("temp");
    for (const bad of [NaN, ...NOT_NUMBERS.filter((x) => x !== undefined)]) {
      assert.throws(() => g.set(bad), RangeError, String(bad));
      assert.throws(() => (g.value = bad), RangeError, String(bad));
      assert.throws(() => g.inc(bad), RangeError, String(bad));
      assert.throws(() => g.dec(bad), RangeError, String(bad));
    }
    assert.equal(g.value, 0);
    g.set(Infinity);
    assert.throws(() => g.dec(Infinity), RangeError);
    assert.throws(() => g.inc(-Infinity), RangeError);
    assert.equal(g.value, Infinity);
    g.set(-Infinity);
    g.dec(5);
    assert.equal(g.value, -Infinity);
    g.set(1.5);
    g.inc();
    g.dec(0.5);
    assert.equal(g.value, 2);
  });

  test("a histogram refuses negative, NaN, ±Infinity and non-numbers, by observe and by record", () => {
    const r = new MetricsRegistry();
    const plain = r.histogram("plain_seconds");
    const child = r.histogram("labelled_seconds", { labelNames: ["k"] }).labels("a");
    for (const h of [plain, child]) {
      for (const bad of [-1, NaN, Infinity, -Infinity, ...NOT_NUMBERS]) {
        assert.throws(() => h.observe(bad), RangeError, String(bad));
        assert.throws(() => h.record(bad), RangeError, String(bad));
      }
      h.observe(0);
      h.record(Number.MAX_VALUE);
      assert.equal(h.sketch.count, 2);
      assert.equal(h.sketch.max, Number.MAX_VALUE);
    }
    assert.doesNotMatch(toPrometheusText(r.snapshot()), /NaN/);
  });

  test("any double is taken or refused by the rule, and no series becomes NaN (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { maxLength: 50 }), (values) => {
        const r = new MetricsRegistry();
        const c = r.counter("c_total");
        const h = r.histogram("h_seconds");
        for (const v of values) {
          const ok = v >= 0 && Number.isFinite(v);
          for (const take of [() => c.inc(v), () => h.observe(v)]) {
            if (ok) take();
            else assert.throws(take, RangeError);
          }
        }
        assert.ok(!Number.isNaN(c.value));
        assert.ok(!Number.isNaN(h.sketch.sum));
      }),
      { numRuns: 200 },
    );
  });
});
