/**
 * The benchmark harness: measures our implementation and a peer on the same
 * work in one run, prints a readable row per comparison and, at the end, one
 * JSON line per comparison:
 *
 * `{"bench","runtime","case","unit","ours","peer","peerName","ratio"}`
 *
 * `ratio > 1` always means ffinet is better, whatever the unit.
 *
 * @example
 * ```ts
 * import { compare, finish } from "./harness.ts";
 * await compare({ bench: "demo", case: "sum" }, {
 *   ours: () => [1, 2, 3].reduce((a, b) => a + b),
 *   peer: () => 1 + 2 + 3,
 *   peerName: "inline",
 * });
 * finish();
 * ```
 *
 * @module
 */
import { do_not_optimize, measure } from "mitata";

/** The runtime this benchmark process runs on. */
export const RUNTIME: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** One comparison's result. */
export interface Comparison {
  bench: string;
  runtime: string;
  case: string;
  unit: string;
  ours: number;
  peer: number;
  peerName: string;
  ratio: number;
}

const results: Comparison[] = [];

/** A/B rounds per comparison. */
const ROUNDS = 3;

/** What is compared: a case name within a benchmark. */
export interface CaseId {
  bench: string;
  case: string;
}

/** Two functions that do the same work, one ours and one the peer's. */
export interface Contenders {
  ours: () => unknown;
  peer: () => unknown;
  peerName: string;
  /** Work units per call (bytes for MB/s, messages for msg/s); default 1. */
  unitsPerCall?: number;
  /** "ns/op" (lower is better, the default), "MB/s" or "ops/s" (higher is better). */
  unit?: "ns/op" | "MB/s" | "ops/s";
}

function rate(nsPerCall: number, unit: string, units: number): number {
  if (unit === "MB/s") return (units / nsPerCall) * 1e9 / 1e6;
  if (unit === "ops/s") return (units / nsPerCall) * 1e9;
  return nsPerCall / units;
}

/**
 * Measures both contenders with mitata in alternating rounds (best median ns
 * per call of each side) and records the comparison.
 */
export async function compare(id: CaseId, c: Contenders): Promise<Comparison> {
  const unit = c.unit ?? "ns/op";
  const units = c.unitsPerCall ?? 1;
  // Alternate A/B rounds and keep each side's best median: on a small,
  // shared machine interference only ever makes a run slower.
  let oursNs = Infinity;
  let peerNs = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    oursNs = Math.min(oursNs, (await measure(() => do_not_optimize(c.ours()))).p50);
    peerNs = Math.min(peerNs, (await measure(() => do_not_optimize(c.peer()))).p50);
  }
  const o = rate(oursNs, unit, units);
  const p = rate(peerNs, unit, units);
  return record({ ...id, unit, ours: o, peer: p, peerName: c.peerName });
}

/**
 * Records a comparison measured elsewhere (end-to-end runs, external load
 * generators). `unit` decides the ratio's direction: units ending in "/s"
 * are higher-is-better, everything else lower-is-better.
 */
export function record(r: Omit<Comparison, "runtime" | "ratio">): Comparison {
  const higherIsBetter = r.unit.endsWith("/s");
  const ratio = higherIsBetter ? r.ours / r.peer : r.peer / r.ours;
  const full: Comparison = { ...r, runtime: RUNTIME, ratio: round(ratio) };
  results.push(full);
  console.log(
    `${pad(r.bench, 12)} ${pad(RUNTIME, 5)} ${pad(r.case, 28)} ours ${pad(fmt(r.ours), 10)} ` +
      `${pad(r.peerName, 14)} ${pad(fmt(r.peer), 10)} ${pad(r.unit, 6)} ratio ${full.ratio}`,
  );
  return full;
}

/** Prints one JSON line per recorded comparison. Call once, at the end. */
export function finish(): void {
  for (const r of results) {
    console.log(JSON.stringify({ ...r, ours: round(r.ours), peer: round(r.peer) }));
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}
