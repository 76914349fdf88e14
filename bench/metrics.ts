/**
 * Metrics costs. Micro (mitata, ns per operation, against a plain-number
 * baseline doing the same bookkeeping by hand): a counter increment, a
 * labelled child's increment (child cached), a label lookup plus
 * increment (against a `Map` lookup), a histogram observation (against
 * `count++; sum += v`), a `withHttpMetrics` wrapped handler call (against
 * the bare handler), and a Prometheus scrape of 100 series (against
 * `JSON.stringify` of the same snapshot). End to end: the ffinet
 * `http_server` hello world with request metrics on (`withHttpMetrics`
 * plus loop and server collectors) against off, each in a child process
 * loaded by `wrk -t1 -c50` in alternating rounds (METRICS_ROUNDS, default
 * 3, of METRICS_SECONDS, default 3): median req/s and server CPU µs per
 * request. Needs `wrk` for the end-to-end part (skipped without it).
 *
 * Run: node scripts/bench.mjs metrics [--runtime=node]
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { cpuTicks, type ServerChild, startServerChild, wrk } from "./_wrk_server.ts";
import { compare, finish, record, RUNTIME } from "./harness.ts";
import { MetricsRegistry } from "../core/metrics.ts";
import { toPrometheusText } from "../core/prometheus.ts";
import { withHttpMetrics } from "../http/server/metrics_handler.ts";

const proc = (globalThis as unknown as { process: { execPath: string; argv: string[]; env: Record<string, string | undefined> } }).process;
const ROUNDS = Number(proc.env.METRICS_ROUNDS ?? 3);
const SECONDS = Number(proc.env.METRICS_SECONDS ?? 3);
const CLK_TCK = 100;

function hello(_request: Request): Response {
  return new Response("Hello, World!", { headers: { "content-type": "text/plain" } });
}

async function runServer(withMetrics: boolean): Promise<void> {
  const { serve } = await import("../http/server/serve.ts");
  let port: number;
  if (withMetrics) {
    const { serverCollector } = await import("../http/server/metrics_handler.ts");
    const { loopCollector } = await import("../poll/loop_metrics.ts");
    const { defaultLoop } = await import("../poll/loop.ts");
    const registry = new MetricsRegistry();
    const server = serve({ port: 0, fetch: withHttpMetrics(registry, hello) });
    registry.collect(loopCollector({ default: defaultLoop() }));
    registry.collect(serverCollector({ web: server }));
    port = server.addr.port;
  } else {
    port = serve({ port: 0, fetch: hello }).addr.port;
  }
  console.log(`PORT ${port}`);
}

function startServer(kind: string): Promise<ServerChild> {
  return startServerChild("bench/metrics.ts", kind);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

async function endToEnd(): Promise<void> {
  if (spawnSync("wrk", ["--version"]).error !== undefined) {
    console.log("wrk not found: end-to-end case skipped");
    return;
  }
  const servers = { on: await startServer("on"), off: await startServer("off") };
  try {
    const results: Record<"on" | "off", { rps: number[]; cpu: number[] }> = { on: { rps: [], cpu: [] }, off: { rps: [], cpu: [] } };
    for (const s of Object.values(servers)) await wrk(`http://127.0.0.1:${s.port}/`, 1); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of (r % 2 === 0 ? ["on", "off"] : ["off", "on"]) as ("on" | "off")[]) {
        const s = servers[kind];
        const before = cpuTicks(s.pid);
        const rps = await wrk(`http://127.0.0.1:${s.port}/`, SECONDS);
        const ticks = cpuTicks(s.pid) - before;
        results[kind].rps.push(rps);
        results[kind].cpu.push((ticks / CLK_TCK) * 1e6 / (rps * SECONDS));
      }
    }
    record({ bench: "metrics", case: "http hello, metrics on", unit: "req/s", ours: median(results.on.rps), peer: median(results.off.rps), peerName: "metrics off" });
    record({ bench: "metrics", case: "http hello CPU, metrics on", unit: "µs/req", ours: median(results.on.cpu), peer: median(results.off.cpu), peerName: "metrics off" });
  } finally {
    servers.on.kill();
    servers.off.kill();
  }
}

async function micro(): Promise<void> {
  const registry = new MetricsRegistry();
  const counter = registry.counter("c_total");
  const labelled = registry.counter("l_total", { labelNames: ["class"] });
  const child = labelled.labels("2xx");
  const histogram = registry.histogram("h_seconds");
  const plain = { value: 0 };
  const plainMap = new Map<string, { value: number }>([["2xx", { value: 0 }]]);
  const plainHist = { count: 0, sum: 0 };
  let i = 0;
  const values = Float64Array.from({ length: 1024 }, (_, k) => 0.0001 * (1 + ((k * 7919) % 5000)));

  await compare({ bench: "metrics", case: "counter.inc()" }, { ours: () => counter.inc(), peer: () => void plain.value++, peerName: "plain number" });
  await compare({ bench: "metrics", case: "labelled child.inc()" }, { ours: () => child.inc(), peer: () => void plain.value++, peerName: "plain number" });
  await compare({ bench: "metrics", case: "labels('2xx').inc()" }, {
    ours: () => labelled.labels("2xx").inc(),
    peer: () => void plainMap.get("2xx")!.value++,
    peerName: "Map.get + ++",
  });
  await compare({ bench: "metrics", case: "histogram.observe(v)" }, {
    ours: () => histogram.observe(values[i++ & 1023] as number),
    peer: () => {
      plainHist.count++;
      plainHist.sum += values[i++ & 1023] as number;
    },
    peerName: "count+sum",
  });
  // A handler returning one prebuilt Response: what is measured is the wrapper.
  const request = new Request("http://127.0.0.1/");
  const fixed = new Response("Hello, World!");
  const bare = (_r: Request): Response => fixed;
  const measured = withHttpMetrics(new MetricsRegistry(), bare);
  await compare({ bench: "metrics", case: "withHttpMetrics(handler)" }, { ours: () => measured(request, undefined), peer: () => bare(request), peerName: "bare handler" });

  const big = new MetricsRegistry();
  const byRoute = big.counter("req_total", { help: "Requests.", labelNames: ["route", "class"] });
  for (let r = 0; r < 20; r++) for (const c of ["2xx", "3xx", "4xx", "5xx"]) byRoute.labels(`/route/${r}`, c).inc(r);
  const lat = big.histogram("lat_seconds", { help: "Latency.", labelNames: ["route"] });
  for (let r = 0; r < 20; r++) for (let k = 0; k < 100; k++) lat.labels(`/route/${r}`).observe(values[k] as number);
  await compare({ bench: "metrics", case: "scrape 100 series (text)" }, {
    ours: () => toPrometheusText(big.snapshot()),
    peer: () => JSON.stringify(big.snapshot()),
    peerName: "JSON.stringify",
  });
}

const args = RUNTIME === "deno" ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args : proc.argv.slice(2);
const mode = args.find((a) => a.startsWith("serve-"));
if (mode === "serve-on") await runServer(true);
else if (mode === "serve-off") await runServer(false);
else {
  await micro();
  await endToEnd();
  finish();
}
