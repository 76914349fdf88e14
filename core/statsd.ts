/**
 * StatsD, without I/O: metric lines (`name:value|type[|@rate][|#tags]`),
 * their batching into datagrams of at most an MTU, and the translation of
 * a registry snapshot into lines. The UDP client is `poll/statsd_client.ts`.
 *
 * - Types: counters `c`, gauges `g`, timings `ms`, histograms `h`, sets `s`.
 * - A negative gauge value is sent as `name:0|g` then `name:-5|g`, because
 *   a leading sign means "adjust by" in StatsD.
 * - Names lose the characters that break the line format (`:|@#,` and
 *   whitespace become `_`).
 * - Labels become DogStatsD tags (`|#key:value`, understood by Datadog,
 *   Telegraf and statsd_exporter), or, with `tags: false`, dotted name
 *   parts (`name.value`).
 *
 * @example
 * ```ts
 * import { formatStatsdLine, StatsdBatcher } from "./statsd.ts";
 * console.log(formatStatsdLine("hits", 1, "c", { sampleRate: 0.5, tags: { route: "/" } })); // hits:1|c|@0.5|#route:/
 * const batcher = new StatsdBatcher(64);
 * const line = "x".repeat(25) + ":1|c"; // 29 bytes: two fit in 64 with the separator
 * const full = [line, line, line].flatMap((l) => batcher.push(l));
 * console.log(full.length, batcher.flush().length); // 1 1
 * ```
 *
 * @module
 */
import type { Labels, MetricFamily } from "./metrics.ts";

/** A StatsD metric type. */
export type StatsdType = "c" | "g" | "ms" | "h" | "s";

/** Options of one StatsD line. */
export interface StatsdLineOptions {
  /** The fraction of events sent (0 < rate ≤ 1); written as `|@rate` when below 1. */
  sampleRate?: number;
  /** DogStatsD tags. */
  tags?: Labels;
}

/**
 * The largest payload of one datagram we make (a UDP/IPv4 payload limit).
 *
 * @example
 * ```ts
 * import { STATSD_MAX_DATAGRAM } from "./statsd.ts";
 * console.log(STATSD_MAX_DATAGRAM); // 65507
 * ```
 */
export const STATSD_MAX_DATAGRAM = 65507;

const NAME_UNSAFE = /[:|@#,\s]/g;
const TAG_UNSAFE = /[|,#\s]/g;

/**
 * A name (or name part) with the characters that break a StatsD line
 * replaced by `_`.
 *
 * @example
 * ```ts
 * import { statsdName } from "./statsd.ts";
 * console.log(statsdName("a:b|c d")); // a_b_c_d
 * ```
 */
export function statsdName(name: string): string {
  return name.replace(NAME_UNSAFE, "_");
}

function tagText(tags: Labels | undefined): string {
  if (tags === undefined) return "";
  const parts: string[] = [];
  for (const k in tags) parts.push(`${k.replace(TAG_UNSAFE, "_").replace(/:/g, "_")}:${(tags[k] as string).replace(TAG_UNSAFE, "_")}`);
  return parts.length === 0 ? "" : `|#${parts.join(",")}`;
}

/**
 * One StatsD line (or two, joined by `\n`, for a negative gauge).
 *
 * @example
 * ```ts
 * import { formatStatsdLine } from "./statsd.ts";
 * console.log(formatStatsdLine("temp", -3, "g")); // "temp:0|g\ntemp:-3|g"
 * ```
 */
export function formatStatsdLine(name: string, value: number, type: StatsdType, options: StatsdLineOptions = {}): string {
  if (!Number.isFinite(value)) throw new RangeError(`a StatsD value must be finite, got ${String(value)}`);
  const rate = options.sampleRate ?? 1;
  if (!(rate > 0 && rate <= 1)) throw new RangeError(`sampleRate must be within (0, 1], got ${String(rate)}`);
  const safe = statsdName(name);
  const tail = `|${type}${rate < 1 ? `|@${rate}` : ""}${tagText(options.tags)}`;
  if (type === "g" && value < 0) return `${safe}:0${tail}\n${safe}:${value}${tail}`;
  return `${safe}:${value}${tail}`;
}

/**
 * Packs lines into datagrams of at most `mtu` bytes, lines separated by
 * `\n` (a line longer than `mtu` travels alone; one longer than
 * {@link STATSD_MAX_DATAGRAM} is a RangeError).
 *
 * @example
 * ```ts
 * import { StatsdBatcher } from "./statsd.ts";
 * const b = new StatsdBatcher(1432);
 * b.push("a:1|c");
 * b.push("b:1|c");
 * console.log(new TextDecoder().decode(b.flush()[0])); // "a:1|c\nb:1|c"
 * ```
 */
export class StatsdBatcher {
  /** The datagram size bound in bytes. */
  readonly mtu: number;
  #lines: string[] = [];
  #bytes = 0;
  readonly #encoder = new TextEncoder();

  /** A packer for datagrams of at most `mtu` bytes (64 to the StatsD maximum). */
  constructor(mtu: number) {
    if (!(Number.isInteger(mtu) && mtu >= 64 && mtu <= STATSD_MAX_DATAGRAM)) throw new RangeError(`mtu must be an integer within [64, ${STATSD_MAX_DATAGRAM}], got ${String(mtu)}`);
    this.mtu = mtu;
  }

  /** Bytes waiting for the next datagram. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  /** Adds one line (or a `\n`-joined pair); returns the datagrams it completed. */
  push(line: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const one of line.split("\n")) {
      const size = this.#encoder.encode(one).length;
      if (size > STATSD_MAX_DATAGRAM) throw new RangeError(`a StatsD line of ${size} bytes does not fit in a datagram`);
      const needed = this.#lines.length === 0 ? size : this.#bytes + 1 + size;
      if (needed > this.mtu && this.#lines.length > 0) out.push(...this.flush());
      this.#bytes = this.#lines.length === 0 ? size : this.#bytes + 1 + size;
      this.#lines.push(one);
    }
    return out;
  }

  /** The datagram of the waiting lines ([] when none). */
  flush(): Uint8Array[] {
    if (this.#lines.length === 0) return [];
    const datagram = this.#encoder.encode(this.#lines.join("\n"));
    this.#lines = [];
    this.#bytes = 0;
    return [datagram];
  }
}

/** How a registry snapshot becomes StatsD lines. */
export interface StatsdExportOptions {
  /** Prepended to every name (e.g. `"app."`). */
  prefix?: string;
  /** Labels as DogStatsD tags (default) or, when false, as dotted name parts. */
  tags?: boolean;
}

/**
 * Turns snapshots into StatsD lines: gauges as `g`; counters as `c` with
 * the increase since the previous call (the first call sends the whole
 * count); histograms as gauges `name.p50`, `.p90`, `.p99`, `.p999` and
 * counters `name.count`, `name.sum` (increases). Remembers one number per
 * counter series, so it is bounded by the registry's own bounds.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * import { StatsdExporter } from "./statsd.ts";
 * const registry = new MetricsRegistry();
 * const c = registry.counter("jobs_total", { labelNames: ["queue"] });
 * const exporter = new StatsdExporter({ prefix: "app." });
 * c.labels("mail").inc(5);
 * console.log(exporter.lines(registry.snapshot())); // ["app.jobs_total:5|c|#queue:mail"]
 * c.labels("mail").inc(2);
 * console.log(exporter.lines(registry.snapshot())); // ["app.jobs_total:2|c|#queue:mail"]
 * ```
 */
export class StatsdExporter {
  readonly #prefix: string;
  readonly #tags: boolean;
  readonly #last = new Map<string, number>();

  /** An exporter with its own memory of the last counter values. */
  constructor(options: StatsdExportOptions = {}) {
    this.#prefix = options.prefix ?? "";
    this.#tags = options.tags ?? true;
  }

  /** The lines for one snapshot. */
  lines(families: Iterable<MetricFamily>): string[] {
    const out: string[] = [];
    for (const f of families) {
      for (const s of f.series) {
        const base = this.#name(f.name, s.labels);
        const opts: StatsdLineOptions = this.#tags ? { tags: s.labels } : {};
        if ("value" in s) {
          if (!Number.isFinite(s.value)) continue;
          if (f.type === "gauge") out.push(formatStatsdLine(base, s.value, "g", opts));
          else out.push(formatStatsdLine(base, this.#delta(`${f.name}\u0000${base}\u0000${tagText(s.labels)}`, s.value), "c", opts));
        } else {
          const key = `${f.name}\u0000${base}\u0000${tagText(s.labels)}`;
          out.push(formatStatsdLine(`${base}.count`, this.#delta(`${key}\u0000count`, s.count), "c", opts));
          out.push(formatStatsdLine(`${base}.sum`, this.#delta(`${key}\u0000sum`, s.sum), "c", opts));
          if (s.count === 0) continue;
          for (const [q, v] of s.quantiles) {
            if (Number.isFinite(v)) out.push(formatStatsdLine(`${base}.p${String(q).replace(/^0\./, "").padEnd(2, "0")}`, v, "g", opts));
          }
        }
      }
    }
    return out;
  }

  #name(name: string, labels: Labels): string {
    let full = this.#prefix + name;
    if (!this.#tags) for (const k in labels) full += `.${statsdName(labels[k] as string).replace(/\./g, "_")}`;
    return full;
  }

  #delta(key: string, value: number): number {
    const before = this.#last.get(key) ?? 0;
    this.#last.set(key, value);
    return value >= before ? value - before : value; // a reset counter starts over
  }
}
