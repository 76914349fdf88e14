/**
 * What limits and metrics cost `serve`: the "hello" case of
 * bench/http_server.ts (a 13-byte text body, `wrk -t1 -c50` on keep-alive
 * connections) with everything off against the same server with request
 * metrics (`withHttpMetrics`: two clock reads, a counter and a summary per
 * request), a per-client `rateLimit` that never refuses (a token bucket
 * looked up per request), `protect` (per-IP admission at accept) and
 * `serverCollector` registered. Each round starts a fresh server of each
 * kind in a child process, in alternating order; HTTP_ROUNDS rounds
 * (default 5) of HTTP_SECONDS each (default 3). Reports the median req/s
 * and server CPU µs per request (from /proc/PID/stat) with their ranges,
 * and the machine's load average before and after (the machine is shared).
 * Target (issue 21): ≤ 3% more CPU per request with them on. Before the
 * rounds, the same per-request work in process (mitata, no sockets): the
 * handler wrapped by the rate limit and the metrics against the bare
 * handler, ns per request, which a loaded machine disturbs less.
 *
 * Needs `wrk`. Run: node scripts/bench.mjs http_server_limits [--runtime=node]
 *
 * @module
 */
import { loadavg } from "node:os";
import { wrkInstalled, wrkRound } from "./_wrk_server.ts";
import { compare, finish, record, RUNTIME } from "./harness.ts";

const proc = (globalThis as unknown as { process: { execPath: string; argv: string[]; env: Record<string, string | undefined> } }).process;
const ROUNDS = Number(proc.env.HTTP_ROUNDS ?? 5);
const SECONDS = Number(proc.env.HTTP_SECONDS ?? 3);

function handler(_request: Request): Response {
  return new Response("Hello, World!", { headers: { "content-type": "text/plain" } });
}

async function runServer(kind: string): Promise<void> {
  const { serve } = await import("../http/server/mod.ts");
  let port: number;
  if (kind === "on") {
    const { MetricsRegistry } = await import("../core/metrics.ts");
    const { serverCollector, withHttpMetrics } = await import("../http/server/metrics_handler.ts");
    const registry = new MetricsRegistry();
    const server = serve({
      port: 0,
      fetch: withHttpMetrics(registry, handler),
      rateLimit: { perSecond: 1e9, burst: 1e9 },
      protect: { maxPerIp: 10_000 },
    });
    registry.collect(serverCollector({ web: server }));
    port = server.addr.port;
  } else {
    port = serve({ port: 0, fetch: handler }).addr.port;
  }
  console.log(`PORT ${port}`);
}

function round(kind: string): Promise<{ rps: number; cpuUs: number }> {
  return wrkRound("bench/http_server_limits.ts", kind, "/", SECONDS);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[], digits: number): string => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(" ");

const args = RUNTIME === "deno" ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args : proc.argv.slice(2);
const serveArg = args.find((a) => a.startsWith("serve-"));
if (serveArg !== undefined) {
  await runServer(serveArg.slice(6));
} else if (!(await wrkInstalled())) {
  console.log("# wrk is not installed (apt-get install -y wrk): http_server_limits skipped");
  finish();
} else {
  console.log(`# ${RUNTIME} load average before: ${load()}`);
  {
    const { MetricsRegistry } = await import("../core/metrics.ts");
    const { withHttpMetrics } = await import("../http/server/metrics_handler.ts");
    const { rateLimit, withMiddleware } = await import("../http/server/mod.ts");
    const registry = new MetricsRegistry();
    const limited = withMiddleware([rateLimit({ perSecond: 1e12, burst: 1e12 })], withHttpMetrics(registry, handler));
    const request = new Request("http://127.0.0.1/");
    const info = { remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" } } as Parameters<typeof limited>[1];
    await compare({ bench: "http_server_limits", case: "handler + rateLimit + metrics, in process" }, {
      ours: () => limited(request, info),
      peer: () => handler(request),
      peerName: "bare handler",
    });
  }
  const on = { rps: [] as number[], cpu: [] as number[] };
  const off = { rps: [] as number[], cpu: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ["on", "off"] : ["off", "on"];
    for (const kind of order) {
      const res = await round(kind);
      const into = kind === "on" ? on : off;
      into.rps.push(res.rps);
      into.cpu.push(res.cpuUs);
      console.log(`# ${RUNTIME} hello round ${r} limits+metrics ${kind}: ${res.rps.toFixed(0)} req/s, ${res.cpuUs.toFixed(1)} µs/req`);
    }
  }
  console.log(`# ${RUNTIME} load average after: ${load()}`);
  console.log(`# ${RUNTIME} req/s on ${median(on.rps).toFixed(0)} (${range(on.rps, 0)}), off ${median(off.rps).toFixed(0)} (${range(off.rps, 0)})`);
  console.log(`# ${RUNTIME} CPU µs/req on ${median(on.cpu).toFixed(2)} (${range(on.cpu, 2)}), off ${median(off.cpu).toFixed(2)} (${range(off.cpu, 2)})`);
  record({ bench: "http_server_limits", case: "hello limits+metrics req/s", unit: "req/s", ours: median(on.rps), peer: median(off.rps), peerName: "serve, all off" });
  record({ bench: "http_server_limits", case: "hello limits+metrics CPU/req", unit: "µs/req", ours: median(on.cpu), peer: median(off.cpu), peerName: "serve, all off" });
  finish();
}
