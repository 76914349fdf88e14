/**
 * What limits and metrics cost `serve`: the "hello" case of
 * bench/http_server.ts (a 13-byte text body, `wrk -t1 -c50` on keep-alive
 * connections) with everything off against the same server with request
 * metrics (`metrics: registry`: a clock read, a gauge, a counter and a
 * summary per request), a per-client `rateLimit` that never refuses (a
 * token bucket looked up per request by the client's address), `protect`
 * (per-IP admission at accept) and `serverCollector` registered. Each round starts a fresh server of each
 * kind in a child process, in alternating order; HTTP_ROUNDS rounds
 * (default 5) of HTTP_SECONDS each (default 3). Reports the median req/s
 * and server CPU µs per request (from /proc/PID/stat) with their ranges,
 * and the machine's load average before and after (the machine is shared).
 * Target (issue 21): ≤ 3% more CPU per request with them on. Before the
 * rounds, the same per-request work in process (no sockets): the handler
 * as `serve` wraps it for these options (`withServeMetrics` around
 * `withRateLimit`) against the bare handler, called alike (a handler
 * returning one prebuilt `Response`, the same `Request`, an `info` whose
 * address is known, each result's status checked), in
 * interleaved warmed blocks; reports each side's median ns per call and
 * the median of the paired per-block differences, which a loaded machine
 * disturbs less.
 *
 * Needs `wrk`. Run: node scripts/bench.mjs http_server_limits [--runtime=node]
 *
 * @module
 */
import { loadavg } from "node:os";
import { wrkInstalled, wrkRound } from "./_wrk_server.ts";
import { finish, record, RUNTIME } from "./harness.ts";

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
    const { serverCollector } = await import("../http/server/metrics_handler.ts");
    const registry = new MetricsRegistry();
    const server = serve({
      port: 0,
      fetch: handler,
      metrics: registry,
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

/**
 * The per-request work of the "on" server without sockets: `serve`'s
 * wrapping for `metrics` + `rateLimit` against the bare handler, in
 * alternating blocks of BLOCK calls after warming both.
 */
async function inProcess(): Promise<void> {
  const { MetricsRegistry } = await import("../core/metrics.ts");
  const { withServeMetrics } = await import("../http/server/metrics_handler.ts");
  const { withRateLimit } = await import("../http/server/limits_http.ts");
  type Info = import("../http/server/mod.ts").ServeHandlerInfo;
  let refused = 0;
  // One prebuilt response: making a real one (tens of µs on Node in a tight loop) would drown the wrapping's cost.
  const hello = handler(new Request("http://127.0.0.1/"));
  const prebuilt = (_request: Request, _info: Info): Response | undefined => hello;
  const on = withServeMetrics(new MetricsRegistry(), withRateLimit({ perSecond: 1e12, burst: 1e12 }, prebuilt, () => void refused++));
  const off = prebuilt;
  const request = new Request("http://127.0.0.1/");
  const info = { remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" } } as Info;
  const BLOCK = 20_000;
  const BLOCKS = 30;
  let checked = 0;
  const block = async (fetch: typeof on): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < BLOCK; i++) {
      let r = fetch(request, info);
      if (r instanceof Promise) r = await r;
      checked += r!.status;
    }
    return (performance.now() - t0) * 1e6 / BLOCK;
  };
  for (let w = 0; w < 5; w++) {
    await block(on);
    await block(off);
  }
  const onNs: number[] = [];
  const offNs: number[] = [];
  const diff: number[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    // Alternate which goes first, so neither always follows the other's garbage.
    let a: number;
    let y: number;
    if (b % 2 === 0) {
      a = await block(on);
      y = await block(off);
    } else {
      y = await block(off);
      a = await block(on);
    }
    onNs.push(a);
    offNs.push(y);
    diff.push(a - y);
  }
  if (checked !== (BLOCKS + 5) * 2 * BLOCK * 200 || refused !== 0) throw new Error("in-process: a response was not 200");
  console.log(`# ${RUNTIME} in process, ns per call: on ${median(onNs).toFixed(0)} (${range(onNs, 0)}), bare ${median(offNs).toFixed(0)} (${range(offNs, 0)}), paired on−bare ${median(diff).toFixed(0)} (${range(diff, 0)})`);
  record({ bench: "http_server_limits", case: "handler + rateLimit + metrics, in process", unit: "ns/op", ours: median(onNs), peer: median(offNs), peerName: "bare handler" });
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
  await inProcess();
  if (ROUNDS > 0) await wrkRounds();
  finish();
}

async function wrkRounds(): Promise<void> {
  const on = { rps: [] as number[], cpu: [] as number[] };
  const off = { rps: [] as number[], cpu: [] as number[] };
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ["on", "off"] : ["off", "on"];
    for (const kind of order) {
      const res = await round(kind);
      const into = kind === "on" ? on : off;
      into.rps.push(res.rps);
      into.cpu.push(res.cpuUs);
      console.log(`# ${RUNTIME} hello round ${r} limits+metrics ${kind}: ${res.rps.toFixed(0)} req/s, ${res.cpuUs.toFixed(1)} µs/req`);
    }
    ratios.push(on.cpu[r]! / off.cpu[r]!);
  }
  console.log(`# ${RUNTIME} load average after: ${load()}`);
  console.log(`# ${RUNTIME} req/s on ${median(on.rps).toFixed(0)} (${range(on.rps, 0)}), off ${median(off.rps).toFixed(0)} (${range(off.rps, 0)})`);
  console.log(`# ${RUNTIME} CPU µs/req on ${median(on.cpu).toFixed(2)} (${range(on.cpu, 2)}), off ${median(off.cpu).toFixed(2)} (${range(off.cpu, 2)})`);
  console.log(`# ${RUNTIME} CPU/req on÷off per round: median ${median(ratios).toFixed(3)} (${range(ratios, 3)})`);
  record({ bench: "http_server_limits", case: "hello limits+metrics req/s", unit: "req/s", ours: median(on.rps), peer: median(off.rps), peerName: "serve, all off" });
  record({ bench: "http_server_limits", case: "hello limits+metrics CPU/req", unit: "µs/req", ours: median(on.cpu), peer: median(off.cpu), peerName: "serve, all off" });
}
