import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import fc from "fast-check";
import { histogramSeries, METRICS_LIMITS, MetricsRegistry } from "./metrics.ts";
import { escapeLabelValue, toPrometheusText } from "./prometheus.ts";
import { QUANTILE_RELATIVE_ERROR, QuantileSketch } from "./quantile_sketch.ts";

function exactNearestRank(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] as number;
}

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("QuantileSketch", () => {
  test("quantiles are within 1/32 relative error of the exact nearest-rank value on random data", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-9, max: 1e12, noNaN: true }), { minLength: 1, maxLength: 400 }),
        fc.constantFrom(0, 0.5, 0.9, 0.99, 0.999, 1),
        (values, q) => {
          const s = new QuantileSketch();
          for (const v of values) s.observe(v);
          const exact = exactNearestRank([...values].sort((a, b) => a - b), q);
          const estimate = s.quantile(q);
          assert.ok(Math.abs(estimate - exact) <= exact * QUANTILE_RELATIVE_ERROR + 1e-300, `${estimate} vs ${exact}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("merging two sketches gives the sketch of the union, with exact count, sum, min and max", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true })), fc.array(fc.double({ min: 0, max: 1e6, noNaN: true })), (a, b) => {
        const sa = new QuantileSketch();
        const sb = new QuantileSketch();
        const su = new QuantileSketch();
        for (const v of a) sa.observe(v), su.observe(v);
        for (const v of b) sb.observe(v), su.observe(v);
        sa.merge(sb);
        assert.equal(sa.count, su.count);
        assert.equal(sa.min, su.min);
        assert.equal(sa.max, su.max);
        assert.deepEqual(sa.quantiles([0.1, 0.5, 0.9, 0.999]), su.quantiles([0.1, 0.5, 0.9, 0.999]));
      }),
    );
  });

  test("zero, huge values and Infinity are kept within min and max; bad values and quantiles are RangeErrors", () => {
    const s = new QuantileSketch();
    assert.ok(Number.isNaN(s.quantile(0.5)));
    s.observe(0);
    s.observe(1e300);
    s.observe(Infinity);
    assert.equal(s.quantile(0), 0);
    assert.equal(s.quantile(1), Infinity);
    assert.throws(() => s.observe(-1), RangeError);
    assert.throws(() => s.observe(NaN), RangeError);
    assert.throws(() => s.quantile(1.5), RangeError);
    assert.equal(s.count, 3);
    s.reset();
    assert.equal(s.count, 0);
  });
});

describe("MetricsRegistry", () => {
  test("counters, gauges and histograms with labels; same name and kind is the same instrument", () => {
    const r = new MetricsRegistry();
    const c = r.counter("req_total", { help: "Requests.", labelNames: ["class"] });
    c.labels("2xx").inc();
    c.labels("2xx").inc(2);
    c.labels("5xx").inc();
    assert.equal(r.counter("req_total", { labelNames: ["class"] }), c);
    assert.throws(() => r.gauge("req_total"), TypeError);
    assert.throws(() => r.counter("req_total"), TypeError);
    assert.throws(() => c.inc(-1), RangeError);
    assert.throws(() => c.labels(), TypeError);
    const g = r.gauge("open");
    g.inc(5);
    g.dec(2);
    const h = r.histogram("lat_seconds");
    h.observe(0.5);
    const stop = h.startTimer();
    assert.ok(stop() >= 0);
    const snap = r.snapshot();
    assert.deepEqual(snap[0], {
      name: "req_total",
      help: "Requests.",
      type: "counter",
      series: [{ labels: { class: "2xx" }, value: 3 }, { labels: { class: "5xx" }, value: 1 }],
    });
    assert.deepEqual(snap[1]?.series, [{ labels: {}, value: 3 }]);
    assert.equal(snap[2]?.type, "histogram");
    assert.equal(snap[2]?.type === "histogram" && snap[2].series[0]?.count, 2);
  });

  test("JSON.stringify of an instrument carries its value: name, type, labels and value (a histogram: count, sum, min, max, quantiles; a labelled parent: its series)", () => {
    const r = new MetricsRegistry();
    const c = r.counter("jobs_total");
    c.inc(3);
    assert.deepEqual(JSON.parse(JSON.stringify(c)), { name: "jobs_total", type: "counter", labels: {}, value: 3 });
    const g = r.gauge("queue_depth", { labelNames: ["queue"] });
    g.labels("a").set(7);
    assert.deepEqual(JSON.parse(JSON.stringify(g.labels("a"))), { name: "queue_depth", type: "gauge", labels: { queue: "a" }, value: 7 });
    assert.deepEqual(JSON.parse(JSON.stringify(g)), { name: "queue_depth", type: "gauge", labels: {}, value: 0, series: [{ labels: { queue: "a" }, value: 7 }] });
    const h = r.histogram("latency_seconds");
    h.observe(2);
    h.record(4);
    assert.deepEqual(JSON.parse(JSON.stringify(h)), {
      name: "latency_seconds",
      type: "histogram",
      labels: {},
      count: 2,
      sum: 6,
      min: 2,
      max: 4,
      quantiles: JSON.parse(JSON.stringify(histogramSeries({}, h.sketch).quantiles)),
    });
    // What a fold adds (a registry read) is in the JSON too, as in value.
    let pending = 5;
    r.beforeRead(() => {
      c.inc(pending);
      pending = 0;
    });
    assert.equal(JSON.parse(JSON.stringify({ c })).c.value, 8);
  });

  test("Histogram.record batches values but every reader sees all of them, as observe would have recorded them", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 300 }), fc.nat(300), (values, readAt) => {
        const r = new MetricsRegistry();
        const batched = r.histogram("batched_seconds", { labelNames: ["k"] }).labels("a");
        const direct = new MetricsRegistry().histogram("direct_seconds");
        values.forEach((v, i) => {
          batched.record(v);
          direct.observe(v);
          // A read in the middle (a scrape) sees what was recorded so far.
          if (i === readAt) assert.equal(batched.sketch.count, i + 1);
        });
        const family = r.snapshot()[0]!;
        const series = family.type === "histogram" ? family.series[0]! : undefined;
        assert.equal(series?.count, values.length);
        assert.deepEqual(series?.quantiles, histogramSeries({ k: "a" }, direct.sketch).quantiles);
        assert.equal(batched.sketch.min, direct.sketch.min);
        assert.equal(batched.sketch.max, direct.sketch.max);
        assert.ok(Math.abs(batched.sketch.sum - direct.sketch.sum) <= 1e-9 * Math.max(1, direct.sketch.sum));
      }),
      { numRuns: 50 },
    );
    const h = new MetricsRegistry().histogram("checked_seconds");
    assert.throws(() => h.record(-1), RangeError);
    assert.throws(() => h.record(NaN), RangeError);
    assert.equal(h.sketch.count, 0);
  });

  test("names, label names and options are checked", () => {
    const r = new MetricsRegistry();
    assert.throws(() => r.counter("1bad"), TypeError);
    assert.throws(() => r.counter("ok_total", { labelNames: ["__x"] }), TypeError);
    assert.throws(() => r.counter("ok_total", { labelNames: ["a", "a"] }), TypeError);
    assert.throws(() => r.histogram("h", { labelNames: ["quantile"] }), TypeError);
    assert.throws(() => r.counter("ok_total", { helq: "x" } as never), /unknown option "helq"/);
    assert.throws(() => r.counter("ok_total", { maxSeries: 0 }), RangeError);
  });

  test("a name that is another metric's summary sample (a histogram x beside x_sum or x_count, either made first) is a TypeError", () => {
    const r = new MetricsRegistry();
    r.histogram("lat_seconds");
    assert.throws(() => r.counter("lat_seconds_count"), /same samples as lat_seconds/);
    assert.throws(() => r.gauge("lat_seconds_sum"), TypeError);
    r.counter("jobs_count");
    assert.throws(() => r.histogram("jobs"), /same samples as jobs_count/);
    // Other suffixes, and the same names in another registry, are fine.
    r.counter("lat_seconds_total");
    new MetricsRegistry().counter("lat_seconds_count");
    const clean = new MetricsRegistry();
    clean.histogram("lat_seconds", { help: "Latency." }).observe(0.5);
    assert.throws(() => clean.counter("lat_seconds_count", { help: "Also latency?" }), TypeError);
    clean.counter("lat_seconds_total", { help: "Seconds in all." }).inc();
    const { status, out } = promtool(toPrometheusText(clean.snapshot()));
    assert.equal(status, 0, out);
  });

  test("label sets that differ only where a value holds NUL are different series", () => {
    const r = new MetricsRegistry();
    const c = r.counter("pairs_total", { labelNames: ["a", "b"] });
    c.labels("x\u0000y", "z").inc();
    c.labels("x", "y\u0000z").inc(2);
    assert.deepEqual(c.family().series.map((s) => [s.labels, (s as { value: number }).value]), [[{ a: "x\u0000y", b: "z" }, 1], [{ a: "x", b: "y\u0000z" }, 2]]);
    assert.equal(c.labels("x", "y\u0000z").value, 2);
    assert.throws(() => c.labels(1 as never, "z"), /label values must be strings/);
  });

  test("label sets past maxSeries share one overflow series: memory stays bounded", () => {
    const r = new MetricsRegistry();
    const c = r.counter("paths_total", { labelNames: ["path"], maxSeries: 3 });
    for (let i = 0; i < 100; i++) c.labels(`/p${i}`).inc();
    const f = r.snapshot()[0]!;
    assert.equal(f.series.length, 4);
    assert.deepEqual(f.series[3], { labels: { path: "_overflow" }, value: 97 });
    assert.equal(c.overflowed, 97);
    assert.equal(METRICS_LIMITS.maxSeries, 1000);
  });

  test("the overflow series has the key its label set has: one series per label set, one or two labels", () => {
    const r = new MetricsRegistry();
    for (const names of [["path"], ["path", "code"]]) {
      const values = (v: string) => names.map(() => v);
      // A real label set written as "_overflow" before the limit is the overflow series' own.
      const same = r.counter(`same_${names.length}_total`, { labelNames: names, maxSeries: 2 });
      same.labels(...values("_overflow")).inc();
      same.labels(...values("a")).inc();
      same.labels(...values("b")).inc(10);
      assert.deepEqual(same.family().series.map((s) => [s.labels, (s as { value: number }).value]), [
        [Object.fromEntries(names.map((n) => [n, "_overflow"])), 11],
        [Object.fromEntries(names.map((n) => [n, "a"])), 1],
      ]);
      // Any other value (one that looks like a composite key included) is its own series.
      for (const v of [":_overflow", "9,:_overflow_overflow", "_overflow\u0000_overflow"]) {
        const other = r.counter(`other_${names.length}_${v.length}_total`, { labelNames: names, maxSeries: 2 });
        other.labels(...values(v)).inc();
        other.labels(...values("a")).inc();
        other.labels(...values("b")).inc(10);
        assert.deepEqual(other.family().series.map((s) => [s.labels, (s as { value: number }).value]), [
          [Object.fromEntries(names.map((n) => [n, v])), 1],
          [Object.fromEntries(names.map((n) => [n, "a"])), 1],
          [Object.fromEntries(names.map((n) => [n, "_overflow"])), 10],
        ], v);
      }
    }
  });

  test("collectors run at each snapshot and can be removed; JSON snapshot round-trips", () => {
    const r = new MetricsRegistry();
    let n = 0;
    const remove = r.collect(() => [{ name: "calls_total", help: "Scrapes.", type: "counter", series: [{ labels: {}, value: ++n }] }]);
    r.snapshot();
    const json = JSON.parse(JSON.stringify(r));
    assert.deepEqual(json, { metrics: [{ name: "calls_total", help: "Scrapes.", type: "counter", series: [{ labels: {}, value: 2 }] }] });
    remove();
    assert.deepEqual(r.snapshot(), []);
    r.histogram("empty_seconds");
    const [h] = JSON.parse(JSON.stringify(r)).metrics;
    assert.equal(h.series[0].quantiles[0][1], "NaN");
  });

  test("beforeRead folds run first at every read (snapshot, JSON, Prometheus text) and can be removed; a non-function is a TypeError", () => {
    const r = new MetricsRegistry();
    const hits = r.counter("hits_total", { help: "Hits." });
    const inFlight = r.gauge("in_flight", { help: "Now." });
    const pending = new Float64Array(2);
    const remove = r.beforeRead(() => {
      hits.value += pending[0]!;
      inFlight.value += pending[1]!;
      pending.fill(0);
    });
    pending[0] = 3;
    pending[1] = 2;
    assert.match(toPrometheusText(r.snapshot()), /^hits_total 3$/m);
    pending[0] = 4;
    pending[1] = -2;
    const json = JSON.parse(JSON.stringify(r)).metrics;
    assert.deepEqual(json.map((f: { series: { value: number }[] }) => f.series[0]!.value), [7, 0]);
    remove();
    pending[0] = 100;
    assert.equal((r.snapshot()[0]!.series[0] as { value: number }).value, 7);
    assert.throws(() => r.beforeRead(42 as unknown as () => void), TypeError);
  });

  test("every direct read of an instrument runs the folds first: value, a labels() child, a histogram's sketch, family(); a gauge's set() replaces what was pending", () => {
    const r = new MetricsRegistry();
    const byClass = r.counter("answers_total", { labelNames: ["class"] });
    const ok = byClass.labels("2xx");
    const gauge = r.gauge("in_flight");
    const latency = r.histogram("latency_seconds");
    const pending = { ok: 0, gauge: 0, seconds: [] as number[] };
    let folds = 0;
    r.beforeRead(() => {
      folds++;
      ok.value += pending.ok; // a fold's own reads run no folds
      gauge.value += pending.gauge;
      for (const s of pending.seconds) latency.record(s);
      pending.ok = pending.gauge = 0;
      pending.seconds.length = 0;
    });
    pending.ok = 2;
    assert.equal(ok.value, 2);
    pending.ok = 1;
    assert.equal(byClass.labels("2xx").value, 3); // the same child, read through labels()
    pending.ok = 1;
    assert.deepEqual(byClass.family().series.map((s) => (s as { value: number }).value), [4]);
    pending.gauge = 5;
    assert.equal(gauge.value, 5);
    pending.gauge = 1;
    gauge.set(0); // the pending +1 happened before the set: replaced
    assert.equal(gauge.value, 0);
    pending.seconds.push(0.5, 1.5);
    assert.equal(latency.sketch.count, 2);
    pending.seconds.push(2);
    assert.equal(latency.sketch.quantile(1) >= 1.9, true);
    pending.seconds.push(3);
    const family = latency.family();
    assert.equal(family.type === "histogram" ? family.series[0]!.count : -1, 4);
    // A snapshot runs them once, however many series it reads.
    const before = folds;
    r.snapshot();
    assert.equal(folds, before + 1);
    // Writes run none.
    ok.inc();
    gauge.inc();
    latency.record(1);
    assert.equal(folds, before + 1);
  });

  test("an instrument's reads see a fold registered after it was made, and none once it is removed", () => {
    const r = new MetricsRegistry();
    const c = r.counter("late_total");
    let pending = 3;
    const remove = r.beforeRead(() => {
      c.value += pending;
      pending = 0;
    });
    assert.equal(c.value, 3);
    remove();
    pending = 10;
    assert.equal(c.value, 3);
  });
});

describe("Prometheus text exposition", () => {
  test("escapes label values and help text", () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    const text = toPrometheusText([{ name: "x", help: "line\nbreak \\", type: "gauge", series: [{ labels: { a: "\n" }, value: NaN }] }]);
    assert.equal(text, '# HELP x line\\nbreak \\\\\n# TYPE x gauge\nx{a="\\n"} NaN\n');
  });

  test("families of one name from several collectors merge; a kind clash is a TypeError", () => {
    const one = (v: string) => ({ name: "n_total", help: "N.", type: "counter" as const, series: [{ labels: { loop: v }, value: 1 }] });
    assert.equal(toPrometheusText([one("a"), one("b")]).match(/# TYPE/g)?.length, 1);
    assert.throws(() => toPrometheusText([one("a"), { name: "n_total", help: "", type: "gauge", series: [] }]), TypeError);
  });

  test("a collected family named as a histogram's _sum or _count sample is a TypeError, as a kind clash is", () => {
    const h = (name: string) => ({ name, help: "", type: "histogram" as const, series: [] });
    const c = (name: string) => ({ name, help: "", type: "counter" as const, series: [{ labels: {}, value: 1 }] });
    assert.throws(() => toPrometheusText([h("x"), c("x_count")]), /x_count is also a sample of the histogram x/);
    assert.throws(() => toPrometheusText([c("x_sum"), h("x")]), TypeError);
    assert.equal(toPrometheusText([h("x"), c("x_total")]).includes("x_total 1"), true);
  });

  test("promtool check metrics accepts the output, tricky label values included", () => {
    const r = new MetricsRegistry();
    const c = r.counter("http_requests_total", { help: "Requests by \"path\" \\ status\nclass.", labelNames: ["path", "code"] });
    for (const path of ['/a"b', "/back\\slash", "/new\nline", "/ünïcødé", "", "{}=,"]) c.labels(path, "200").inc();
    r.gauge("temperature_celsius", { help: "Temperature." }).set(-Infinity);
    const h = r.histogram("request_duration_seconds", { help: "Latency.", labelNames: ["method"] });
    for (let i = 0; i < 1000; i++) h.labels("GET").observe(i / 1000);
    h.labels("POST");
    r.histogram("empty_seconds", { help: "Never observed." });
    r.collect(() => [{ name: "loop_events_total", help: "Events.", type: "counter", series: [{ labels: { loop: "0" }, value: 5 }] }]);
    const text = toPrometheusText(r.snapshot());
    const { status, out } = promtool(text);
    assert.equal(status, 0, `${out}\n${text}`);
    assert.match(text, /request_duration_seconds\{method="GET",quantile="0.99"\} 0\.9\d*/);
    assert.match(text, /request_duration_seconds_count\{method="GET"\} 1000/);
  });

  test("promtool rejects what breaks the format (the check is real)", () => {
    const { status } = promtool('# TYPE x counter\nx{a="unterminated} 1\n');
    assert.notEqual(status, 0);
  });
});
