import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { MetricsRegistry } from "./metrics.ts";
import { formatStatsdLine, StatsdBatcher, StatsdExporter, statsdName } from "./statsd.ts";

const text = (d: Uint8Array) => new TextDecoder().decode(d);

describe("StatsD lines", () => {
  test("types, sample rates, tags; negative gauges are set from zero", () => {
    assert.equal(formatStatsdLine("a", 3, "c"), "a:3|c");
    assert.equal(formatStatsdLine("a", 1, "c", { sampleRate: 0.25 }), "a:1|c|@0.25");
    assert.equal(formatStatsdLine("t", 12.5, "ms"), "t:12.5|ms");
    assert.equal(formatStatsdLine("h", 7, "h", { tags: { route: "/x", "bad key": "a|b,c" } }), "h:7|h|#route:/x,bad_key:a_b_c");
    assert.equal(formatStatsdLine("g", -2, "g"), "g:0|g\ng:-2|g");
    assert.equal(statsdName("a:b|c@d#e f"), "a_b_c_d_e_f");
    assert.throws(() => formatStatsdLine("a", NaN, "c"), RangeError);
    assert.throws(() => formatStatsdLine("a", 1, "c", { sampleRate: 0 }), RangeError);
    assert.throws(() => formatStatsdLine("a", 1, "c", { sampleRate: 2 }), RangeError);
  });

  test("batches never exceed the MTU (unless one line is longer) and keep every line in order", () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 600 }), fc.array(fc.string({ minLength: 1, maxLength: 120 }).map((s) => statsdName(s) + ":1|c")), (mtu, lines) => {
        const b = new StatsdBatcher(mtu);
        const datagrams = [...lines.flatMap((l) => b.push(l)), ...b.flush()];
        for (const d of datagrams) {
          const body = text(d);
          assert.ok(d.length <= mtu || !body.includes("\n"), `${d.length} > ${mtu}`);
        }
        assert.deepEqual(datagrams.flatMap((d) => text(d).split("\n")), lines);
      }),
    );
    assert.throws(() => new StatsdBatcher(10), RangeError);
    assert.throws(() => new StatsdBatcher(1432).push("x".repeat(70_000)), RangeError);
  });

  test("a registry becomes increases for counters, gauges, and quantile gauges for histograms", () => {
    const r = new MetricsRegistry();
    const c = r.counter("req_total", { labelNames: ["code"] });
    const g = r.gauge("open");
    const h = r.histogram("lat_ms");
    c.labels("200").inc(3);
    g.set(4);
    h.observe(10);
    const ex = new StatsdExporter({ prefix: "p." });
    assert.deepEqual(ex.lines(r.snapshot()), [
      "p.req_total:3|c|#code:200",
      "p.open:4|g",
      "p.lat_ms.count:1|c",
      "p.lat_ms.sum:10|c",
      "p.lat_ms.p50:10|g",
      "p.lat_ms.p90:10|g",
      "p.lat_ms.p99:10|g",
      "p.lat_ms.p999:10|g",
    ]);
    c.labels("200").inc(2);
    assert.equal(ex.lines(r.snapshot())[0], "p.req_total:2|c|#code:200");
    const folded = new StatsdExporter({ tags: false });
    assert.equal(folded.lines(r.snapshot())[0], "req_total.200:5|c");
  });
});
