/**
 * Metrics: a registry of counters, gauges and histograms, with labels under
 * a cardinality bound, and pull-style collectors that read existing
 * statistics at scrape time.
 *
 * **Cost.** An instrument is a plain object whose `inc`/`set`/`observe`
 * add to a number field (a histogram also bumps one bucket of a
 * {@link QuantileSketch}); nothing is formatted, allocated or locked until
 * someone reads the registry. Code that is not given a registry pays
 * nothing at all: the built-in metrics of the loop, listeners, TLS, DNS and
 * HTTP are collectors ({@link MetricsRegistry.collect}) that read the
 * counters those components keep anyway.
 *
 * **Labels.** A metric declares its label names; `labels(...values)`
 * returns (and caches) the child series for those values. At most
 * `maxSeries` children exist per metric (default
 * {@link METRICS_LIMITS}`.maxSeries`); further label sets all share one
 * overflow series whose every label is `"_overflow"`, and
 * `overflowed` counts them — memory stays bounded whatever the input.
 *
 * **Reads see every write.** Code on a hot path may count into a compact
 * record of its own and add it to a registry's instruments later
 * ({@link MetricsRegistry.beforeRead}: `serve({ metrics })` does). Every
 * read of an instrument made by a registry — a counter's or gauge's
 * `value`, a histogram's `sketch` (count, sum, quantiles), `family()`, a
 * child's from `labels(...)`, a snapshot and every export built on it —
 * runs those folds first, so it sees everything recorded before it, with
 * or without a scrape. A read costs the folds' few additions when any are
 * registered, nothing more otherwise.
 *
 * Exports: `prometheus.ts` (text exposition 0.0.4), `statsd.ts` (StatsD
 * lines and datagrams), and {@link MetricsRegistry.toJSON}.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * const registry = new MetricsRegistry();
 * const requests = registry.counter("requests_total", { help: "Requests served.", labelNames: ["class"] });
 * const latency = registry.histogram("request_seconds", { help: "Request latency." });
 * requests.labels("2xx").inc();
 * latency.observe(0.012);
 * console.log(registry.snapshot().map((f) => f.name)); // ["requests_total", "request_seconds"]
 * ```
 *
 * @module
 */
import { checkOptions } from "./options.ts";
import { QuantileSketch } from "./quantile_sketch.ts";

/**
 * Default bounds of a {@link MetricsRegistry}.
 *
 * @example
 * ```ts
 * import { METRICS_LIMITS } from "./metrics.ts";
 * console.log(METRICS_LIMITS.maxSeries); // 1000
 * ```
 */
export const METRICS_LIMITS: Readonly<{ maxSeries: number; maxMetrics: number }> = Object.freeze({
  /** Label sets per metric; more share one overflow series. */
  maxSeries: 1000,
  /** Metrics (and collectors) per registry; one more is a RangeError. */
  maxMetrics: 10_000,
});

/**
 * The quantiles every histogram reports: p50, p90, p99, p99.9.
 *
 * @example
 * ```ts
 * import { DEFAULT_QUANTILES } from "./metrics.ts";
 * console.log(DEFAULT_QUANTILES); // [0.5, 0.9, 0.99, 0.999]
 * ```
 */
export const DEFAULT_QUANTILES: readonly number[] = Object.freeze([0.5, 0.9, 0.99, 0.999]);

/** Label name → value of one series. */
export type Labels = Readonly<Record<string, string>>;

/** One counter or gauge series in a snapshot. */
export interface ValueSeries {
  /** The series' labels. */
  readonly labels: Labels;
  /** Its value. */
  readonly value: number;
}

/** One histogram series in a snapshot: exact count, sum, min, max and estimated quantiles. */
export interface HistogramSeries {
  /** The series' labels. */
  readonly labels: Labels;
  /** Observations recorded. */
  readonly count: number;
  /** Their sum. */
  readonly sum: number;
  /** The smallest observation (0 when empty). */
  readonly min: number;
  /** The largest observation (0 when empty). */
  readonly max: number;
  /** `[q, estimate]` pairs (NaN estimates when empty). */
  readonly quantiles: readonly (readonly [number, number])[];
}

/**
 * One metric with all its series, as collectors produce it and exporters
 * read it.
 *
 * @example
 * ```ts
 * import type { MetricFamily } from "./metrics.ts";
 * const family: MetricFamily = { name: "up", help: "Is it up.", type: "gauge", series: [{ labels: {}, value: 1 }] };
 * console.log(family.series.length); // 1
 * ```
 */
export type MetricFamily =
  | { readonly name: string; readonly help: string; readonly type: "counter" | "gauge"; readonly series: readonly ValueSeries[] }
  | { readonly name: string; readonly help: string; readonly type: "histogram"; readonly series: readonly HistogramSeries[] };

/** A function run at every scrape that reports families read from elsewhere. */
export type MetricsCollector = () => Iterable<MetricFamily>;

/** Options of a metric. */
export interface MetricOptions {
  /** One line of description (the Prometheus HELP text). */
  help?: string;
  /** Label names, in the order `labels(...)` takes their values. */
  labelNames?: readonly string[];
  /** Label sets kept before the overflow series (default `METRICS_LIMITS.maxSeries`). */
  maxSeries?: number;
}

const METRIC_OPTION_KEYS: ReadonlySet<string> = new Set(["help", "labelNames", "maxSeries"]);
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const OVERFLOW_VALUE = "_overflow";
/**
 * The map key of a label set: a single value itself; for two or more, the
 * lengths of all but the last, then the values, so no two sets share a
 * key whatever their values hold (a plain join by NUL made `["a\0b", "c"]`
 * and `["a", "b\0c"]` one series). Every key (the overflow series' too)
 * is made here, so one label set has one key.
 */
function seriesKey(values: readonly string[]): string {
  if (values.length === 1) return values[0] as string;
  let lengths = "";
  for (let i = 0; i < values.length - 1; i++) {
    const v: unknown = values[i];
    lengths += `${typeof v === "string" ? v.length : -1},`; // a non-string is refused after the lookup
  }
  return `${lengths}:${values.join("")}`;
}

/**
 * The samples a histogram writes beside its own name (as a Prometheus
 * summary): no other metric may be named so.
 *
 * @example
 * ```ts
 * import { SUMMARY_SUFFIXES } from "./metrics.ts";
 * console.log(SUMMARY_SUFFIXES.map((s) => "latency_seconds" + s)); // [ "latency_seconds_sum", "latency_seconds_count" ]
 * ```
 */
export const SUMMARY_SUFFIXES: readonly string[] = ["_sum", "_count"];
/** Values a histogram's `record` holds before adding them to its sketch. */
const PENDING = 64;

/**
 * Throws TypeError unless `name` is a valid Prometheus metric name.
 *
 * @example
 * ```ts
 * import { checkMetricName } from "./metrics.ts";
 * checkMetricName("http_requests_total"); // passes
 * ```
 */
export function checkMetricName(name: string): void {
  if (typeof name !== "string" || !METRIC_NAME.test(name)) throw new TypeError(`invalid metric name ${JSON.stringify(name)}`);
}

function checkLabelNames(names: readonly string[]): void {
  if (!Array.isArray(names)) throw new TypeError("labelNames must be an array of strings");
  const seen = new Set<string>();
  for (const n of names) {
    if (typeof n !== "string" || !LABEL_NAME.test(n) || n.startsWith("__") || n === "quantile" || n === "le") {
      throw new TypeError(`invalid label name ${JSON.stringify(n)}`);
    }
    if (seen.has(n)) throw new TypeError(`label name ${JSON.stringify(n)} appears twice`);
    seen.add(n);
  }
}

/**
 * What is shared by the three instrument kinds (Counter, Gauge, Histogram): name, help and label handling.
 *
 * @example
 * ```ts
 * import { type Counter, type Instrument, MetricsRegistry } from "./metrics.ts";
 * const c: Instrument<Counter> = new MetricsRegistry().counter("hits_total", { labelNames: ["path"] });
 * console.log(c.labels("/").labelValues); // { path: "/" }
 * ```
 */
class Instrument<T extends Instrument<T>> {
  /** The metric name. */
  readonly name: string;
  /** The HELP text. */
  readonly help: string;
  /** The declared label names. */
  readonly labelNames: readonly string[];
  /** This series' labels ({} for the parent). */
  readonly labelValues: Labels;
  /** Label sets that went to the overflow series because `maxSeries` was reached. */
  overflowed = 0;
  readonly #children: Map<string, T> | undefined;
  readonly #maxSeries: number;
  /** What a read runs first (its registry's folds), if it has a registry. */
  readonly #beforeRead: (() => void) | undefined;

  /**
   * Creates the parent series (`labels` null) or the child series with
   * `labels` of metric `name`; `beforeRead` (given by a registry) is run
   * before every read of the series and of its children.
   */
  constructor(name: string, options: MetricOptions, labels: Labels | null, beforeRead?: () => void) {
    this.#beforeRead = beforeRead;
    this.name = name;
    this.help = options.help ?? "";
    this.labelNames = options.labelNames ?? [];
    this.labelValues = labels ?? {};
    this.#maxSeries = options.maxSeries ?? METRICS_LIMITS.maxSeries;
    this.#children = labels === null && this.labelNames.length > 0 ? new Map() : undefined;
  }

  /** Makes the child series for `_labels`, whose reads run `_beforeRead` first (each instrument kind overrides it). */
  protected child(_labels: Labels, _beforeRead: (() => void) | undefined): T {
    throw new TypeError("not an instrument kind");
  }

  /** Brings in what was recorded but not yet added (its registry's folds): every public read calls it first. */
  protected sync(): void {
    const before = this.#beforeRead;
    if (before !== undefined) before();
  }

  /**
   * The series for these label values (one per declared label name, in
   * order), made on first use.
   */
  labels(...values: string[]): T {
    const children = this.#children;
    if (children === undefined) throw new TypeError(`${this.name}: labels() on a metric without label names (or on a child)`);
    if (values.length !== this.labelNames.length) {
      throw new TypeError(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
    }
    const key = seriesKey(values);
    const found = children.get(key);
    if (found !== undefined) return found;
    for (const v of values) if (typeof v !== "string") throw new TypeError(`${this.name}: label values must be strings`);
    const overflow = children.size >= this.#maxSeries;
    if (overflow) {
      this.overflowed++;
      const overflowKey = seriesKey(this.labelNames.map(() => OVERFLOW_VALUE));
      const existing = children.get(overflowKey);
      if (existing !== undefined) return existing;
    }
    const labels: Record<string, string> = {};
    this.labelNames.forEach((n, i) => labels[n] = overflow ? OVERFLOW_VALUE : values[i] as string);
    const made = this.child(labels, this.#beforeRead);
    children.set(overflow ? seriesKey(this.labelNames.map(() => OVERFLOW_VALUE)) : key, made);
    return made;
  }

  /** The series to export: the children, or this one when there are no labels. */
  protected seriesList(): readonly T[] {
    return this.#children === undefined ? [this as unknown as T] : [...this.#children.values()];
  }
}
export type { Instrument };

/**
 * A number that only goes up (requests, bytes, errors).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * const c = new MetricsRegistry().counter("errors_total");
 * c.inc();
 * c.inc(2);
 * console.log(c.value); // 3
 * ```
 */
export class Counter extends Instrument<Counter> {
  #value = 0;
  /** The count (with everything recorded so far: see the module text). */
  get value(): number {
    this.sync();
    return this.#value;
  }
  set value(v: number) {
    if (typeof v !== "number" || !(v >= 0 && v < Infinity)) throw new RangeError(`${this.name}: a counter's value must be a finite number >= 0, got ${String(v)}`);
    this.sync();
    this.#value = v;
  }
  /**
   * Adds `n` (default 1). A negative `n` is a RangeError (a counter only
   * goes up; client_golang's `Add` panics alike), and so are NaN and
   * Infinity: either would leave the series NaN or +Inf for good, and a
   * rate over it meaningless.
   */
  inc(n = 1): void {
    if (typeof n !== "number" || !(n >= 0 && n < Infinity)) throw new RangeError(`${this.name}: a counter only goes up by a finite number >= 0, got ${String(n)}`);
    this.#value += n;
  }
  /** A child series of this metric for `labels`. */
  protected override child(labels: Labels, beforeRead: (() => void) | undefined): Counter {
    return new Counter(this.name, this, labels, beforeRead);
  }
  /** This metric's family, as a snapshot reports it. */
  family(): MetricFamily {
    this.sync();
    return { name: this.name, help: this.help, type: "counter", series: this.seriesList().map((s) => ({ labels: s.labelValues, value: s.#value })) };
  }
  /**
   * What `JSON.stringify` writes for this series: name, type, labels and
   * value (with everything recorded so far); a metric with label names
   * adds its children as `series`.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "./metrics.ts";
   * const c = new MetricsRegistry().counter("errors_total");
   * c.inc();
   * console.log(JSON.stringify(c)); // {"name":"errors_total","type":"counter","labels":{},"value":1}
   * ```
   */
  toJSON(): InstrumentJSON {
    return valueJSON(this, "counter", this.value);
  }
}

/**
 * A number that goes up and down (open connections, queue depth).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * const g = new MetricsRegistry().gauge("open_connections");
 * g.inc();
 * g.dec();
 * g.set(7);
 * console.log(g.value); // 7
 * ```
 */
export class Gauge extends Instrument<Gauge> {
  #value = 0;
  /** The current value (with everything recorded so far: see the module text). */
  get value(): number {
    this.sync();
    return this.#value;
  }
  set value(v: number) {
    this.set(v);
  }
  /**
   * Sets the value (changes recorded before it and not yet added are added
   * first, then replaced). ±Infinity is a value a gauge may have; NaN is a
   * RangeError (it would stay until the next `set`, and every `inc` and
   * `dec` after it would stay NaN too).
   */
  set(v: number): void {
    if (v !== v || typeof v !== "number") throw new RangeError(`${this.name}: a gauge's value must be a number (not NaN), got ${String(v)}`);
    this.sync();
    this.#value = v;
  }
  /** Adds `n` (default 1); a NaN `n`, or one that makes the value NaN (Infinity to -Infinity), is a RangeError and changes nothing. */
  inc(n = 1): void {
    const v = this.#value + n;
    if (v !== v || typeof n !== "number") throw new RangeError(`${this.name}: a gauge cannot add ${String(n)} to ${String(this.#value)} (NaN)`);
    this.#value = v;
  }
  /** Subtracts `n` (default 1); a NaN `n`, or one that makes the value NaN, is a RangeError and changes nothing. */
  dec(n = 1): void {
    const v = this.#value - n;
    if (v !== v || typeof n !== "number") throw new RangeError(`${this.name}: a gauge cannot subtract ${String(n)} from ${String(this.#value)} (NaN)`);
    this.#value = v;
  }
  /** A child series of this metric for `labels`. */
  protected override child(labels: Labels, beforeRead: (() => void) | undefined): Gauge {
    return new Gauge(this.name, this, labels, beforeRead);
  }
  /** This metric's family, as a snapshot reports it. */
  family(): MetricFamily {
    this.sync();
    return { name: this.name, help: this.help, type: "gauge", series: this.seriesList().map((s) => ({ labels: s.labelValues, value: s.#value })) };
  }
  /**
   * What `JSON.stringify` writes for this series: name, type, labels and
   * value; a metric with label names adds its children as `series`.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "./metrics.ts";
   * const g = new MetricsRegistry().gauge("open_connections");
   * g.set(2);
   * console.log(JSON.stringify(g)); // {"name":"open_connections","type":"gauge","labels":{},"value":2}
   * ```
   */
  toJSON(): InstrumentJSON {
    return valueJSON(this, "gauge", this.value);
  }
}

/**
 * A distribution (latencies, sizes) kept in a {@link QuantileSketch}:
 * exact count, sum, min and max; quantiles within 3.125 % relative error;
 * 10.3 KB per series.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * const h = new MetricsRegistry().histogram("latency_seconds");
 * h.observe(0.010);
 * h.observe(0.030);
 * console.log(h.sketch.count, h.sketch.max); // 2 0.03
 * ```
 */
export class Histogram extends Instrument<Histogram> {
  readonly #sketch: QuantileSketch = new QuantileSketch();
  /** Values {@link Histogram.record} took and the sketch has not yet. */
  readonly #pending = new Float64Array(PENDING);
  #pendingCount = 0;
  /**
   * The observations (values `record` holds back, and those its registry's
   * folds add, are added first). Read it again for each use: a reference
   * kept from an earlier read does not see up to 63 values `record` took
   * since, nor what the folds hold.
   */
  get sketch(): QuantileSketch {
    this.sync();
    return this.#drained();
  }
  /** The sketch with this series' own held-back values added (no folds). */
  #drained(): QuantileSketch {
    if (this.#pendingCount !== 0) this.#flush();
    return this.#sketch;
  }
  /**
   * Records one value: a finite number ≥ 0 (durations, sizes). A negative
   * value, NaN or Infinity is a RangeError: the series' sum (and max)
   * would stay NaN or +Inf for good.
   */
  observe(value: number): void {
    if (typeof value !== "number" || !(value >= 0 && value < Infinity)) throw new RangeError(`${this.name}: a histogram value must be a finite number >= 0, got ${String(value)}`);
    this.#sketch.observe(value);
  }
  /**
   * Records one value (a finite number ≥ 0; else a RangeError) as {@link Histogram.observe}
   * does, but adds it to the sketch with up to 63 others at once, when
   * they fill a small buffer or someone reads `sketch` (a snapshot does):
   * cheaper per value on a hot path (one store and a compare, the bucket
   * work in a tight loop later). Readers see every value either way.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "./metrics.ts";
   * const h = new MetricsRegistry().histogram("latency_seconds");
   * h.record(0.002);
   * console.log(h.sketch.count); // 1
   * ```
   */
  record(value: number): void {
    if (typeof value !== "number" || !(value >= 0 && value < Infinity)) throw new RangeError(`${this.name}: a histogram value must be a finite number >= 0, got ${String(value)}`);
    const n = this.#pendingCount;
    this.#pending[n] = value;
    this.#pendingCount = n + 1;
    if (n === PENDING - 1) this.#flush();
  }
  #flush(): void {
    const n = this.#pendingCount;
    this.#pendingCount = 0;
    const pending = this.#pending;
    const sketch = this.#sketch;
    for (let i = 0; i < n; i++) sketch.observe(pending[i]!);
  }
  /** Starts a timer; calling the result observes the elapsed seconds (from `performance.now()`). */
  startTimer(): () => number {
    const start = performance.now();
    return () => {
      const seconds = (performance.now() - start) / 1000;
      this.#sketch.observe(seconds);
      return seconds;
    };
  }
  /** A child series of this metric for `labels`. */
  protected override child(labels: Labels, beforeRead: (() => void) | undefined): Histogram {
    return new Histogram(this.name, this, labels, beforeRead);
  }
  /** This metric's family, as a snapshot reports it. */
  family(): MetricFamily {
    this.sync();
    return {
      name: this.name,
      help: this.help,
      type: "histogram",
      series: this.seriesList().map((s) => histogramSeries(s.labelValues, s.#drained())),
    };
  }
  /**
   * What `JSON.stringify` writes for this series: name, type, labels,
   * count, sum, min, max and the {@link DEFAULT_QUANTILES} (as a snapshot's
   * series has them); a metric with label names adds its children as
   * `series`.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "./metrics.ts";
   * const h = new MetricsRegistry().histogram("latency_seconds");
   * h.observe(0.5);
   * console.log(JSON.parse(JSON.stringify(h)).count); // 1
   * ```
   */
  toJSON(): InstrumentJSON {
    const own = histogramSeries(this.labelValues, this.sketch);
    const out: InstrumentJSON = { name: this.name, type: "histogram", ...own };
    if (this.labelNames.length > 0 && Object.keys(this.labelValues).length === 0) out.series = this.family().series;
    return out;
  }
}

/**
 * What an instrument's `toJSON()` returns (`JSON.stringify(counter)`): the
 * series' name, type and labels with its value (a counter or gauge) or its
 * count, sum, min, max and quantiles (a histogram); a metric with label
 * names adds its children's series.
 *
 * @example
 * ```ts
 * import type { InstrumentJSON } from "./metrics.ts";
 * const j: InstrumentJSON = { name: "up", type: "gauge", labels: {}, value: 1 };
 * console.log(j.value); // 1
 * ```
 */
export interface InstrumentJSON {
  /** The metric name. */
  name: string;
  /** The instrument kind. */
  type: "counter" | "gauge" | "histogram";
  /** This series' labels ({} for the parent). */
  labels: Labels;
  /** A counter's or gauge's value. */
  value?: number;
  /** A histogram's count. */
  count?: number;
  /** A histogram's sum. */
  sum?: number;
  /** A histogram's smallest value (0 when empty). */
  min?: number;
  /** A histogram's largest value (0 when empty). */
  max?: number;
  /** A histogram's estimated quantiles, as `[q, value]` pairs. */
  quantiles?: readonly (readonly [number, number])[];
  /** A labelled metric's children, as a snapshot reports them. */
  series?: readonly (ValueSeries | HistogramSeries)[];
}

function valueJSON(instrument: Counter | Gauge, type: "counter" | "gauge", value: number): InstrumentJSON {
  const out: InstrumentJSON = { name: instrument.name, type, labels: instrument.labelValues, value };
  if (instrument.labelNames.length > 0 && Object.keys(instrument.labelValues).length === 0) out.series = instrument.family().series;
  return out;
}

/**
 * A snapshot series for a sketch, with the {@link DEFAULT_QUANTILES}.
 *
 * @example
 * ```ts
 * import { histogramSeries } from "./metrics.ts";
 * import { QuantileSketch } from "./quantile_sketch.ts";
 * const s = new QuantileSketch();
 * s.observe(2);
 * console.log(histogramSeries({}, s).quantiles[0]); // [0.5, 2]
 * ```
 */
export function histogramSeries(labels: Labels, sketch: QuantileSketch): HistogramSeries {
  const estimates = sketch.quantiles(DEFAULT_QUANTILES);
  return {
    labels,
    count: sketch.count,
    sum: sketch.sum,
    min: sketch.count === 0 ? 0 : sketch.min,
    max: sketch.count === 0 ? 0 : sketch.max,
    quantiles: DEFAULT_QUANTILES.map((q, i) => [q, estimates[i] as number] as const),
  };
}

type AnyInstrument = Counter | Gauge | Histogram;

/**
 * Metrics and collectors, read together by {@link MetricsRegistry.snapshot}.
 * Asking twice for the same name with the same kind and label names
 * returns the same instrument (so modules can declare what they use);
 * another kind or other labels is a TypeError.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * const registry = new MetricsRegistry();
 * registry.collect(() => [{ name: "up", help: "Always 1.", type: "gauge", series: [{ labels: {}, value: 1 }] }]);
 * console.log(JSON.stringify(registry.toJSON().metrics[0]?.series)); // [{"labels":{},"value":1}]
 * ```
 */
export class MetricsRegistry {
  readonly #metrics = new Map<string, AnyInstrument>();
  readonly #collectors = new Set<MetricsCollector>();
  readonly #folds = new Set<() => void>();
  /** The folds as an array (what a read runs; rebuilt when one is added or removed). */
  #foldList: (() => void)[] = [];
  /** Folds are running: a read they make themselves runs none. */
  #folding = false;
  /** What the registry's instruments run before each read: the folds. */
  readonly #beforeRead = (): void => {
    const list = this.#foldList;
    if (list.length === 0 || this.#folding) return;
    this.#folding = true;
    try {
      for (let i = 0; i < list.length; i++) list[i]!();
    } finally {
      this.#folding = false;
    }
  };

  /**
   * The counter named `name`, made on first use.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "./metrics.ts";
   * const r = new MetricsRegistry();
   * console.log(r.counter("a_total") === r.counter("a_total")); // true
   * ```
   */
  counter(name: string, options: MetricOptions = {}): Counter {
    return this.#get(name, options, Counter);
  }

  /**
   * The gauge named `name`, made on first use.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "./metrics.ts";
   * new MetricsRegistry().gauge("queue_depth", { help: "Jobs waiting." }).set(3);
   * ```
   */
  gauge(name: string, options: MetricOptions = {}): Gauge {
    return this.#get(name, options, Gauge);
  }

  /**
   * The histogram named `name`, made on first use.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "./metrics.ts";
   * new MetricsRegistry().histogram("size_bytes", { labelNames: ["route"] }).labels("/").observe(512);
   * ```
   */
  histogram(name: string, options: MetricOptions = {}): Histogram {
    return this.#get(name, options, Histogram);
  }

  /**
   * Adds a collector run at every snapshot; returns a function that
   * removes it.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "./metrics.ts";
   * const r = new MetricsRegistry();
   * const remove = r.collect(() => []);
   * remove();
   * ```
   */
  collect(collector: MetricsCollector): () => void {
    if (typeof collector !== "function") throw new TypeError("a collector must be a function");
    if (this.#metrics.size + this.#collectors.size >= METRICS_LIMITS.maxMetrics) throw new RangeError("too many metrics in one registry");
    this.#collectors.add(collector);
    return () => void this.#collectors.delete(collector);
  }

  /**
   * Adds a function run before every read of this registry's instruments
   * (a counter's or gauge's `value`, a histogram's `sketch`, `family()`,
   * the same on a child from `labels(...)`) and at the start of every
   * snapshot: for code that counts on a hot path into a compact record of
   * its own (a few stores per event) and adds it to this registry's
   * instruments only when they are read. Readers then see everything
   * recorded before they read, scraped or not. A fold should be cheap
   * when nothing is pending (it runs at every read); reads it makes
   * itself run no folds. Returns a function that removes it.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "./metrics.ts";
   * const r = new MetricsRegistry();
   * const hits = r.counter("hits_total");
   * let pending = 0;
   * r.beforeRead(() => {
   *   hits.value += pending;
   *   pending = 0;
   * });
   * pending += 3;
   * console.log(JSON.stringify(r.snapshot()[0]?.series)); // [{"labels":{},"value":3}]
   * ```
   */
  beforeRead(fold: () => void): () => void {
    if (typeof fold !== "function") throw new TypeError("a fold must be a function");
    if (this.#folds.size >= METRICS_LIMITS.maxMetrics) throw new RangeError("too many folds in one registry");
    this.#folds.add(fold);
    this.#foldList = [...this.#folds];
    return () => {
      this.#folds.delete(fold);
      this.#foldList = [...this.#folds];
    };
  }

  /**
   * Every metric and collected family, in registration order (collectors
   * after instruments).
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "./metrics.ts";
   * console.log(new MetricsRegistry().snapshot()); // []
   * ```
   */
  snapshot(): MetricFamily[] {
    this.#beforeRead();
    const out: MetricFamily[] = [];
    // The folds ran once: the instruments' own reads below skip them.
    const folding = this.#folding;
    this.#folding = true;
    try {
      for (const m of this.#metrics.values()) out.push(m.family());
    } finally {
      this.#folding = folding;
    }
    for (const c of this.#collectors) for (const f of c()) out.push(f);
    return out;
  }

  /**
   * The JSON snapshot: `{ metrics: MetricFamily[] }` (non-finite numbers
   * become strings, as JSON has none).
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "./metrics.ts";
   * const r = new MetricsRegistry();
   * r.gauge("temp").set(21.5);
   * console.log(JSON.stringify(r)); // {"metrics":[{"name":"temp","help":"","type":"gauge","series":[{"labels":{},"value":21.5}]}]}
   * ```
   */
  toJSON(): { metrics: MetricFamily[] } {
    const fix = (v: number): number => Number.isFinite(v) ? v : String(v) as unknown as number;
    const metrics = this.snapshot().map((f): MetricFamily =>
      f.type === "histogram"
        ? { ...f, series: f.series.map((s) => ({ ...s, sum: fix(s.sum), min: fix(s.min), max: fix(s.max), quantiles: s.quantiles.map(([q, v]) => [q, fix(v)] as const) })) }
        : { ...f, series: f.series.map((s) => ({ ...s, value: fix(s.value) })) }
    );
    return { metrics };
  }

  /**
   * The metric whose exposed sample names `name` would share: a histogram
   * is written as a summary with `_sum` and `_count` samples, so
   * `x_count` beside a histogram `x` (either made first) would give
   * Prometheus one name in two families, and it would refuse the scrape.
   */
  #sampleClash(name: string, histogram: boolean): string | undefined {
    for (const suffix of SUMMARY_SUFFIXES) {
      if (histogram && this.#metrics.has(name + suffix)) return name + suffix;
      if (name.endsWith(suffix) && this.#metrics.get(name.slice(0, -suffix.length)) instanceof Histogram) return name.slice(0, -suffix.length);
    }
    return undefined;
  }

  #get<T extends AnyInstrument>(
    name: string,
    options: MetricOptions,
    kind: new (name: string, options: MetricOptions, labels: Labels | null, beforeRead?: () => void) => T,
  ): T {
    const existing = this.#metrics.get(name);
    if (existing !== undefined) {
      const sameLabels = (existing.labelNames.join(",") === (options.labelNames ?? []).join(","));
      if (!(existing instanceof kind) || !sameLabels) throw new TypeError(`metric ${name} exists as another kind or with other labels`);
      return existing;
    }
    checkOptions(options, METRIC_OPTION_KEYS, name);
    checkMetricName(name);
    const clash = this.#sampleClash(name, (kind as unknown) === Histogram);
    if (clash !== undefined) throw new TypeError(`metric ${name} would write the same samples as ${clash} (a histogram's _sum and _count)`);
    if (options.labelNames !== undefined) checkLabelNames(options.labelNames);
    if (options.maxSeries !== undefined && !(Number.isInteger(options.maxSeries) && options.maxSeries >= 1)) {
      throw new RangeError(`${name}: maxSeries must be a positive integer`);
    }
    if (options.help !== undefined && typeof options.help !== "string") throw new TypeError(`${name}: help must be a string`);
    if (this.#metrics.size + this.#collectors.size >= METRICS_LIMITS.maxMetrics) throw new RangeError("too many metrics in one registry");
    const made = new kind(name, options, null, this.#beforeRead);
    this.#metrics.set(name, made);
    return made;
  }
}
