/**
 * The Prometheus text exposition format, version 0.0.4: `# HELP` and
 * `# TYPE` lines, one sample per line, label values escaped (`\\`, `\"`,
 * `\n`). Counters and gauges are written as such; a histogram is written
 * as a `summary` (its p50/p90/p99/p99.9 as `quantile` labels, then `_sum`
 * and `_count`), because the sketch's 1,280 buckets are too many for `le`
 * buckets and summaries carry the quantiles directly. Families with the
 * same name (one per loop or listener from collectors) are merged into one.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./metrics.ts";
 * import { PROMETHEUS_CONTENT_TYPE, toPrometheusText } from "./prometheus.ts";
 * const registry = new MetricsRegistry();
 * registry.counter("jobs_total", { help: "Jobs done." }).inc(3);
 * console.log(toPrometheusText(registry.snapshot()));
 * // # HELP jobs_total Jobs done.
 * // # TYPE jobs_total counter
 * // jobs_total 3
 * console.log(PROMETHEUS_CONTENT_TYPE); // text/plain; version=0.0.4; charset=utf-8
 * ```
 *
 * @module
 */
import { type Labels, type MetricFamily, SUMMARY_SUFFIXES } from "./metrics.ts";

/**
 * The Content-Type of the text exposition format.
 *
 * @example
 * ```ts
 * import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";
 * console.log(PROMETHEUS_CONTENT_TYPE.startsWith("text/plain")); // true
 * ```
 */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * A label value escaped for the text format: backslash, double quote and
 * line feed.
 *
 * @example
 * ```ts
 * import { escapeLabelValue } from "./prometheus.ts";
 * console.log(escapeLabelValue('a "b"\n\\')); // a \"b\"\n\\
 * ```
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\\" ? "\\\\" : c === '"' ? '\\"' : "\\n");
}

function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => c === "\\" ? "\\\\" : "\\n");
}

/**
 * A sample value as the text format writes it (`NaN`, `+Inf`, `-Inf`, or
 * the shortest round-tripping decimal).
 *
 * @example
 * ```ts
 * import { formatSampleValue } from "./prometheus.ts";
 * console.log(formatSampleValue(Infinity), formatSampleValue(0.25)); // +Inf 0.25
 * ```
 */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelText(labels: Labels, extra?: readonly [string, string]): string {
  const parts: string[] = [];
  for (const name in labels) parts.push(`${name}="${escapeLabelValue(labels[name] as string)}"`);
  if (extra !== undefined) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function merged(families: Iterable<MetricFamily>): MetricFamily[] {
  const byName = new Map<string, MetricFamily>();
  for (const f of families) {
    const seen = byName.get(f.name);
    if (seen === undefined) {
      byName.set(f.name, { ...f, series: [...f.series] } as MetricFamily);
    } else if (seen.type === f.type) {
      (seen.series as unknown[]).push(...f.series);
    } else {
      throw new TypeError(`metric ${f.name} is reported as both ${seen.type} and ${f.type}`);
    }
  }
  for (const f of byName.values()) {
    if (f.type !== "histogram") continue;
    for (const suffix of SUMMARY_SUFFIXES) {
      if (byName.has(f.name + suffix)) throw new TypeError(`metric ${f.name + suffix} is also a sample of the histogram ${f.name}`);
    }
  }
  return [...byName.values()];
}

/**
 * Writes families in the text exposition format (ending with a line feed;
 * an empty string for no families).
 *
 * @example
 * ```ts
 * import { toPrometheusText } from "./prometheus.ts";
 * const text = toPrometheusText([{ name: "up", help: "Up.", type: "gauge", series: [{ labels: { job: 'a"b' }, value: 1 }] }]);
 * console.log(text.split("\n")[2]); // up{job="a\"b"} 1
 * ```
 */
export function toPrometheusText(families: Iterable<MetricFamily>): string {
  const lines: string[] = [];
  for (const f of merged(families)) {
    if (f.help !== "") lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    if (f.type === "histogram") {
      lines.push(`# TYPE ${f.name} summary`);
      for (const s of f.series) {
        for (const [q, v] of s.quantiles) lines.push(`${f.name}${labelText(s.labels, ["quantile", String(q)])} ${formatSampleValue(v)}`);
        lines.push(`${f.name}_sum${labelText(s.labels)} ${formatSampleValue(s.sum)}`);
        lines.push(`${f.name}_count${labelText(s.labels)} ${formatSampleValue(s.count)}`);
      }
    } else {
      lines.push(`# TYPE ${f.name} ${f.type}`);
      for (const s of f.series) lines.push(`${f.name}${labelText(s.labels)} ${formatSampleValue(s.value)}`);
    }
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}
