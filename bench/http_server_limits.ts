/**
 * What limits and metrics cost `serve`: the "hello" case of
 * bench/http_server.ts (a 13-byte text body, `wrk -t1 -c50` on keep-alive
 * connections) with everything off against the same server with request
 * metrics (`metrics: registry`: a clock read, a gauge, a counter and a
 * summary per request), a per-client `rateLimit` that never refuses (a
 * token bucket looked up per request by the client's address), `protect`
 * (per-IP admission at accept) and `serverCollector` registered.
 *
 * Each round starts a fresh server of each kind in a child process and,
 * after a warm-up, loads them in turn for HTTP_SLICES slices of
 * HTTP_SECONDS each (defaults 4 and 1; the order alternates), so that both
 * see the same machine: a shared machine's load changes from second to
 * second. Each server's CPU time is read around its own slices only
 * (nanoseconds, from the schedstat of each of its threads), requests from
 * wrk. HTTP_ROUNDS rounds (default 5; 0: the in-process part only);
 * HTTP_ON=metrics (or rateLimit, protect, collector) gives the "on" server
 * that option alone.
 * Reports the median req/s and CPU µs per request with their ranges, the
 * median and range of the per-round on÷off CPU ratios (the figure to
 * trust), and the machine's load average before and after. Target (issue
 * 21): ≤ 3% more CPU per request with them on.
 *
 * Before the rounds, the same per-request work in process (no sockets):
 * the handler as `serve` wraps it for these options (`withServeMetrics`
 * around `withRateLimit`) against the bare handler, called alike (a
 * handler returning one prebuilt `Response`, the same `Request`, a fresh
 * `info` per call as `serve`'s exchange, each result's status checked), in interleaved
 * warmed blocks timed by the process's CPU time; reports each side's
 * median ns per call and the median of the paired per-block differences;
 * then each of the two alone against the bare handler likewise.
 * Then `serve`'s HTTP/1.1 sessions themselves on stand-in connections (no
 * sockets: {@link sessionsOnStandIns}, SESSION_PAIRS), the same options
 * against the bare handler, precise to ±10–30 ns on a loaded machine.
 * Then the whole path in one process (`inProcessOverLoopback`: both
 * servers and their clients on one thread, LOOP_BLOCKS blocks of
 * LOOP_BLOCK requests, defaults 24 and 10 000), CPU µs per request, and
 * the per-option breakdown ({@link inProcessBreakdown}; BREAKDOWN_VARIANTS,
 * e.g. `all,collector`, runs only those; BREAKDOWN_PIPELINE=16 sends 16
 * pipelined requests per write, which shrinks the kernel's share per
 * request and with it much of the noise).
 *
 * WRK_ONLY=1 skips the in-process parts (the server-thread figure and the
 * wrk rounds only). SESSION_THRASH=<KiB> makes the stand-in sessions read
 * that much other memory between turns (untimed; each turn then timed by
 * the thread's CPU clock), as a real request's system calls and the
 * neighbours on the core evict the caches: the real path's cost of the
 * options is several times the warm stand-ins'. TOGGLE_ABLATION=1 gives the
 * switched server and the stand-in sessions other variants: `serve`'s
 * metrics against a replica of their former per-request path
 * ({@link formerMetrics}), old against new in one process.
 *
 * First (and alone with SERVER_THREAD_ONLY=1), the figure for the target:
 * {@link serverThreadToggled}, one server in a child process switching
 * its own `fetch` per block between the bare handler and `serve`'s
 * wrapping, each block timed by the server's main-thread CPU time (not the
 * client's, not the runtime's helper threads), loaded by wrk, with "bare
 * again" as the method's zero (SERVER_THREAD_PAIRS, SERVER_THREAD_BLOCK,
 * SERVER_THREAD_PIPELINE); then the same blocks timed by the whole
 * process's CPU (CLOCK_PROCESS_CPUTIME_ID: the runtime's helper threads too,
 * GC and the parked wait), what the wrk rounds count, paired in one process. The other switched part times the main thread
 * too (and the process, for comparison).
 *
 * The wrk rounds also print each thread group's CPU per request on and
 * off (the main thread, the runtime's compiler, collector and allocator
 * threads by name), and HTTP_WARMUP (seconds of wrk per server before its
 * slices, default 1) lets the rounds start after the runtime's compiler
 * has settled (on Bun its threads are busy for the first ~6 s of load).
 *
 * Needs `wrk`. Run: node scripts/bench.mjs http_server_limits [--runtime=node]
 *
 * @module
 */
import { loadavg } from "node:os";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { startServerChild, wrkInstalled } from "./_wrk_server.ts";
import { finish, record, RUNTIME } from "./harness.ts";
import { libc } from "../ffi/libc.ts";

const proc = (globalThis as unknown as {
  process: { execPath: string; argv: string[]; env: Record<string, string | undefined>; cpuUsage(): { user: number; system: number }; exit(code: number): never };
}).process;
const ROUNDS = Number(proc.env.HTTP_ROUNDS ?? 5);
const SECONDS = Number(proc.env.HTTP_SECONDS ?? 1);
const SLICES = Number(proc.env.HTTP_SLICES ?? 4);
/** What the rounds' "on" server has: "on" (all four, the default) or one of metrics, rateLimit, protect, collector alone. */
const ON_KIND = proc.env.HTTP_ON ?? "on";

function handler(_request: Request): Response {
  return new Response("Hello, World!", { headers: { "content-type": "text/plain" } });
}

async function runServer(kind: string): Promise<void> {
  const { serve } = await import("../http/server/mod.ts");
  const { MetricsRegistry } = await import("../core/metrics.ts");
  const { serverCollector } = await import("../http/server/metrics_handler.ts");
  // "on": all four; "metrics", "rateLimit", "protect", "collector": that one alone (HTTP_ON); "off": none.
  const registry = new MetricsRegistry();
  const options: Parameters<typeof serve>[0] = { port: 0, fetch: handler };
  if (kind === "metrics" || kind === "on") options.metrics = registry;
  if (kind === "rateLimit" || kind === "on") options.rateLimit = { perSecond: 1e9, burst: 1e9 };
  if (kind === "protect" || kind === "on") options.protect = { maxPerIp: 10_000 };
  const server = serve(options);
  if (kind === "collector" || kind === "on") registry.collect(serverCollector({ web: server }));
  console.log(`PORT ${server.addr.port}`);
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
  // libc loaded, as a server's sockets have it (request metrics read their clock through it on Deno: core/metrics_clock.ts).
  (await import("../ffi/libc.ts")).libc();
  let refused = 0;
  // One prebuilt response: making a real one (tens of µs on Node in a tight loop) would drown the wrapping's cost.
  const hello = handler(new Request("http://127.0.0.1/"));
  const prebuilt = (_request: Request, _info: Info): Response | undefined => hello;
  const limit = { perSecond: 1e12, burst: 1e12 };
  const on = withServeMetrics(new MetricsRegistry(), withRateLimit(limit, prebuilt, () => void refused++));
  const off = prebuilt;
  // Each option alone, for the breakdown.
  const metricsAlone = withServeMetrics(new MetricsRegistry(), prebuilt);
  const limitAlone = withRateLimit(limit, prebuilt, () => void refused++);
  const request = new Request("http://127.0.0.1/");
  // A fresh `info` per call, as `serve` makes one per request: an ExchangeInfo, whose
  // address getter (what the rate limit reads per request) asks its session.
  const { ExchangeInfo } = await import("../http/server/exchange_info.ts");
  type Conn = import("../poll/connection.ts").Connection;
  type Host = import("../http/server/exchange_info.ts").ExchangeHost;
  const address = Object.freeze({ family: "ipv4", host: "127.0.0.1", port: 40000 });
  const session: Host = { conn: { get remoteAddress() { return address; } } as unknown as Conn, peer: undefined };
  class BenchExchange extends ExchangeInfo {
    protected host(): Host {
      return session;
    }
    protected trailersNow(): Headers | undefined {
      return undefined;
    }
  }
  const BLOCK = 50_000;
  const BLOCKS = 40;
  let checked = 0;
  let calls = 0;
  // CPU time of the process (not wall time: on a shared machine the block may be preempted).
  const cpuNow = (): number => {
    const u = proc.cpuUsage();
    return (u.user + u.system) * 1000;
  };
  const block = async (fetch: typeof on): Promise<number> => {
    const t0 = cpuNow();
    for (let i = 0; i < BLOCK; i++) {
      let r = fetch(request, new BenchExchange() as unknown as Info);
      if (r instanceof Promise) r = await r;
      checked += r!.status;
    }
    calls += BLOCK;
    return (cpuNow() - t0) / BLOCK;
  };
  /** `blocks` pairs of blocks of `x` and `y` after `warm` pairs (which goes first alternates, so neither always follows the other's garbage). */
  const paired = async (x: typeof on, y: typeof on, blocks: number, warm: number) => {
    for (let w = 0; w < warm; w++) {
      await block(x);
      await block(y);
    }
    const xNs: number[] = [];
    const yNs: number[] = [];
    const diff: number[] = [];
    for (let b = 0; b < blocks; b++) {
      let a: number;
      let c: number;
      if (b % 2 === 0) {
        a = await block(x);
        c = await block(y);
      } else {
        c = await block(y);
        a = await block(x);
      }
      xNs.push(a);
      yNs.push(c);
      diff.push(a - c);
    }
    return { xNs, yNs, diff };
  };
  const { xNs: onNs, yNs: offNs, diff } = await paired(on, off, BLOCKS, 5);
  console.log(`# ${RUNTIME} in process, ns per call: on ${median(onNs).toFixed(0)} (${range(onNs, 0)}), bare ${median(offNs).toFixed(0)} (${range(offNs, 0)}), paired on−bare ${median(diff).toFixed(0)} (${range(diff, 0)}) (process CPU time)`);
  record({ bench: "http_server_limits", case: "handler + rateLimit + metrics, in process", unit: "ns/op", ours: median(onNs), peer: median(offNs), peerName: "bare handler" });
  for (const [name, fetch] of [["metrics", metricsAlone], ["rateLimit", limitAlone]] as const) {
    const one = await paired(fetch, off, BLOCKS / 2, 2);
    console.log(`# ${RUNTIME} in process, ${name} alone: ${median(one.xNs).toFixed(0)} ns per call (${range(one.xNs, 0)}), paired ${name}−bare ${median(one.diff).toFixed(0)} (${range(one.diff, 0)})`);
    record({ bench: "http_server_limits", case: `handler + ${name}, in process`, unit: "ns/op", ours: median(one.xNs), peer: median(one.yNs), peerName: "bare handler" });
  }
  if (checked !== calls * 200 || refused !== 0) throw new Error("in-process: a response was not 200");
}

/**
 * The whole request path without the machine's scheduler in the way: an
 * "on" and an "off" server and their clients (16 keep-alive connections of
 * our own, each sending the next GET when its response is complete) in
 * this one process and thread, so each turn's batch of requests is the
 * program's doing, not the machine's; alternating blocks of LOOP_BLOCK
 * requests timed by the process's CPU time. The difference per request is
 * the server's extra work (client and loop are the same on both sides).
 * A loaded machine still shifts whole blocks (caches, migrations): at
 * load 10 on 2 cores the paired differences spread ±10 µs.
 */
async function inProcessOverLoopback(): Promise<void> {
  if (!(Number(proc.env.LOOP_BLOCKS ?? 24) > 0)) return;
  const { serve } = await import("../http/server/mod.ts");
  const { MetricsRegistry } = await import("../core/metrics.ts");
  const { serverCollector } = await import("../http/server/metrics_handler.ts");
  const { connect } = await import("../poll/connect.ts");
  const registry = new MetricsRegistry();
  // Long timeouts: a side's connections wait while the other side's block runs.
  const timeouts = { keepAliveTimeoutMs: 600_000, headersTimeoutMs: 600_000 };
  const servers = {
    on: serve({ port: 0, fetch: handler, metrics: registry, rateLimit: { perSecond: 1e9, burst: 1e9 }, protect: { maxPerIp: 10_000 }, ...timeouts }),
    off: serve({ port: 0, fetch: handler, ...timeouts }),
  };
  registry.collect(serverCollector({ web: servers.on }));
  const REQUEST = new TextEncoder().encode("GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
  const CONNS = 16;
  const LOOP_BLOCK = Number(proc.env.LOOP_BLOCK ?? 10_000);
  const LOOP_BLOCKS = Number(proc.env.LOOP_BLOCKS ?? 24);
  const clients = async (port: number) => {
    const conns = await Promise.all(Array.from({ length: CONNS }, () => connect({ host: "127.0.0.1", port })));
    // One response's length (the hello response has a fixed size: content-length and a fixed-width date).
    await conns[0]!.write(REQUEST);
    let first = "";
    while (!/\r\n\r\nHello, World!$/.test(first)) first += new TextDecoder().decode((await conns[0]!.read())!);
    const size = new TextEncoder().encode(first).length;
    return { conns, size };
  };
  const sides = { on: await clients(servers.on.addr.port), off: await clients(servers.off.addr.port) };
  const cpuNow = (): number => {
    const u = proc.cpuUsage();
    return (u.user + u.system) * 1000;
  };
  const block = (side: { conns: import("../poll/connection.ts").Connection[]; size: number }): Promise<number> =>
    new Promise((resolve) => {
      let sent = 0;
      let done = 0;
      const t0 = cpuNow();
      for (const conn of side.conns) {
        let pending = 0;
        conn.setHandler({
          data: (c, bytes) => {
            pending += bytes.length;
            while (pending >= side.size) {
              pending -= side.size;
              if (++done === LOOP_BLOCK) return resolve((cpuNow() - t0) / LOOP_BLOCK);
              if (sent < LOOP_BLOCK) {
                sent++;
                c.send(REQUEST);
              }
            }
          },
        });
        sent++;
        conn.send(REQUEST);
      }
    });
  for (let w = 0; w < 2; w++) {
    await block(sides.on);
    await block(sides.off);
  }
  const onNs: number[] = [];
  const offNs: number[] = [];
  const diff: number[] = [];
  for (let b = 0; b < LOOP_BLOCKS; b++) {
    let a: number;
    let y: number;
    if (b % 2 === 0) {
      a = await block(sides.on);
      y = await block(sides.off);
    } else {
      y = await block(sides.off);
      a = await block(sides.on);
    }
    onNs.push(a);
    offNs.push(y);
    diff.push(a - y);
  }
  for (const side of Object.values(sides)) for (const c of side.conns) c.abort();
  await Promise.all([servers.on.shutdown({ deadlineMs: 100 }), servers.off.shutdown({ deadlineMs: 100 })]);
  const ratio = median(onNs) / median(offNs);
  console.log(
    `# ${RUNTIME} in process over loopback (server + client), µs per request: on ${(median(onNs) / 1000).toFixed(2)} (${range(onNs.map((x) => x / 1000), 2)}), ` +
      `off ${(median(offNs) / 1000).toFixed(2)} (${range(offNs.map((x) => x / 1000), 2)}), paired on−off ${median(diff).toFixed(0)} ns (${range(diff, 0)}), on÷off ${ratio.toFixed(3)}`,
  );
  record({ bench: "http_server_limits", case: "hello limits+metrics, one process CPU/req", unit: "µs/req", ours: median(onNs) / 1000, peer: median(offNs) / 1000, peerName: "serve, all off" });
}

/**
 * Which option costs what, on the whole request path in one process: for
 * each of `metrics`, `rateLimit`, `protect`, `serverCollector` (registered
 * on a registry that nobody reads) alone and all four together, a server
 * with it and one with everything off, each with 16 keep-alive clients of
 * our own as in {@link inProcessOverLoopback}, loaded in BREAKDOWN_ROUNDS
 * pairs of alternating blocks (default 20; 0 skips this part) of
 * BREAKDOWN_BLOCK requests (default 4000) timed by the process's CPU
 * time; then both are shut down and the next pair starts. A variant's
 * cost is the median of its paired per-block differences, ns per request.
 * `collector` costs nothing per request by construction (the collector
 * runs when the registry is read): its line is the method's zero and
 * spread. (One "off" server shared by all the variants, in blocks side by
 * side, made `collector` itself look 300–700 ns dearer than "off" in four
 * runs at load 10–16, presumably because the shared server ran every
 * other block and stayed warmer.) On a loaded machine the spread is wide:
 * at load 15–19 `collector`'s median landed anywhere in ±1.3 µs, so read
 * these lines from a quiet window, and the in-process ones above anytime.
 */
async function inProcessBreakdown(): Promise<void> {
  const ROUNDS_B = Number(proc.env.BREAKDOWN_ROUNDS ?? 20);
  if (!(ROUNDS_B > 0)) return;
  const BLOCK_B = Number(proc.env.BREAKDOWN_BLOCK ?? 4000);
  const { serve } = await import("../http/server/mod.ts");
  const { MetricsRegistry } = await import("../core/metrics.ts");
  const { serverCollector } = await import("../http/server/metrics_handler.ts");
  const { connect } = await import("../poll/connect.ts");
  type Conn = import("../poll/connection.ts").Connection;
  const timeouts = { keepAliveTimeoutMs: 600_000, headersTimeoutMs: 600_000 };
  const ALL_VARIANTS = ["metrics", "rateLimit", "protect", "collector", "all"] as const;
  type Variant = typeof ALL_VARIANTS[number] | "off";
  const chosen = (proc.env.BREAKDOWN_VARIANTS ?? "").split(",").filter((v) => v !== "");
  const variants = chosen.length === 0 ? ALL_VARIANTS : ALL_VARIANTS.filter((v) => chosen.includes(v));
  const start = (kind: Variant) => {
    const registry = new MetricsRegistry();
    const options: Parameters<typeof serve>[0] = { port: 0, fetch: handler, ...timeouts };
    if (kind === "metrics" || kind === "all") options.metrics = registry;
    if (kind === "rateLimit" || kind === "all") options.rateLimit = { perSecond: 1e9, burst: 1e9 };
    if (kind === "protect" || kind === "all") options.protect = { maxPerIp: 10_000 };
    const server = serve(options);
    if (kind === "collector" || kind === "all") registry.collect(serverCollector({ web: server }));
    return server;
  };
  const REQUEST = new TextEncoder().encode("GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
  const clients = async (port: number): Promise<{ conns: Conn[]; size: number }> => {
    const conns = await Promise.all(Array.from({ length: 16 }, () => connect({ host: "127.0.0.1", port })));
    await conns[0]!.write(REQUEST);
    let first = "";
    while (!/\r\n\r\nHello, World!$/.test(first)) first += new TextDecoder().decode((await conns[0]!.read())!);
    return { conns, size: new TextEncoder().encode(first).length };
  };
  const cpuNow = (): number => {
    const u = proc.cpuUsage();
    return (u.user + u.system) * 1000;
  };
  // BREAKDOWN_PIPELINE requests per write (HTTP/1.1 pipelining; default 1): the kernel's share
  // per request, and with it most of the noise, shrinks; the server's per-request work stays.
  const PIPE = Math.max(1, Number(proc.env.BREAKDOWN_PIPELINE ?? 1));
  const BATCH = new Uint8Array(REQUEST.length * PIPE);
  for (let i = 0; i < PIPE; i++) BATCH.set(REQUEST, i * REQUEST.length);
  const UNITS = Math.max(1, Math.round(BLOCK_B / PIPE));
  const block = (side: { conns: Conn[]; size: number }): Promise<number> =>
    new Promise((resolve) => {
      let sent = 0;
      let done = 0;
      const t0 = cpuNow();
      const unit = side.size * PIPE;
      for (const conn of side.conns) {
        let pending = 0;
        conn.setHandler({
          data: (c, bytes) => {
            pending += bytes.length;
            while (pending >= unit) {
              pending -= unit;
              if (++done === UNITS) return resolve((cpuNow() - t0) / (UNITS * PIPE));
              if (sent < UNITS) {
                sent++;
                c.send(BATCH);
              }
            }
          },
        });
        sent++;
        conn.send(BATCH);
      }
    });
  const offAll: number[] = [];
  const lines: string[] = [];
  for (const v of variants) {
    const servers = { v: start(v), off: start("off") };
    const sides = { v: await clients(servers.v.addr.port), off: await clients(servers.off.addr.port) };
    for (let w = 0; w < 2; w++) {
      await block(sides.v);
      await block(sides.off);
    }
    const vNs: number[] = [];
    const offNs: number[] = [];
    const diff: number[] = [];
    for (let r = 0; r < ROUNDS_B; r++) {
      let a: number;
      let y: number;
      if (r % 2 === 0) {
        a = await block(sides.v);
        y = await block(sides.off);
      } else {
        y = await block(sides.off);
        a = await block(sides.v);
      }
      vNs.push(a);
      offNs.push(y);
      diff.push(a - y);
    }
    for (const side of Object.values(sides)) for (const c of side.conns) c.abort();
    await Promise.all([servers.v.shutdown({ deadlineMs: 100 }), servers.off.shutdown({ deadlineMs: 100 })]);
    offAll.push(...offNs);
    const d = median(diff);
    const off = median(offNs);
    lines.push(
      `# ${RUNTIME}   ${(v === "all" ? "all four" : v + " alone").padEnd(15)}: ${(median(vNs) / 1000).toFixed(2)} µs/req against ${(off / 1000).toFixed(2)}, ` +
        `paired ${v}−off ${d.toFixed(0)} ns (${range(diff, 0)}), ${((d / off) * 100).toFixed(1)} %`,
    );
    record({ bench: "http_server_limits", case: `hello ${v === "all" ? "all four" : v + " alone"}, one process CPU/req`, unit: "µs/req", ours: median(vNs) / 1000, peer: off / 1000, peerName: "serve, all off" });
  }
  console.log(`# ${RUNTIME} per option, in process over loopback, ${ROUNDS_B} pairs of blocks of ${UNITS * PIPE} requests each${PIPE > 1 ? ` (${PIPE} per write)` : ""}, off ${(median(offAll) / 1000).toFixed(2)} µs/req (load ${load()}):`);
  for (const line of lines) console.log(line);
}

/**
 * The per-request options on the real request path, paired as tightly as
 * a shared machine allows: ONE server (16 keep-alive clients of our own in
 * this process, as above) whose `fetch` switches, block by block, between
 * the bare handler and the handler as `serve` wraps it for `metrics` and
 * `rateLimit` together, and for each alone (`withServeMetrics`,
 * `withRateLimit`, the functions `serve` itself uses), in a rotating order
 * (TOGGLE_PAIRS rounds, default 150, 0 skips; TOGGLE_BLOCK requests per
 * block, default 2000). Same server, connections, parser state and caches
 * for every variant, so a block's difference from the bare block of its
 * round is the options' work in the server's own dispatch (what the
 * in-process calls above cannot show: its caches, its inlining); the
 * switch is one call more for every variant alike; "empty wrapper" (a
 * wrapper that only calls the handler) shows what the method itself adds
 * to any wrapping. `protect` and
 * `serverCollector` have no per-request part (they work per accepted
 * connection and per scrape), so they are not in this part.
 */
async function inProcessToggled(): Promise<void> {
  const PAIRS = Number(proc.env.TOGGLE_PAIRS ?? 150);
  if (!(PAIRS > 0)) return;
  const BLOCK_T = Number(proc.env.TOGGLE_BLOCK ?? 2000);
  const { serve } = await import("../http/server/mod.ts");
  const { MetricsRegistry } = await import("../core/metrics.ts");
  const { withServeMetrics } = await import("../http/server/metrics_handler.ts");
  const { withRateLimit } = await import("../http/server/limits_http.ts");
  const { connect } = await import("../poll/connect.ts");
  type Conn = import("../poll/connection.ts").Connection;
  type Info = import("../http/server/mod.ts").ServeHandlerInfo;
  type Fetch = (request: Request, info: Info) => Response | undefined | Promise<Response | undefined>;
  const limit = { perSecond: 1e9, burst: 1e9 };
  const variants: [string, Fetch][] = [
    ["bare", handler],
    ["metrics + rateLimit", withServeMetrics(new MetricsRegistry(), withRateLimit(limit, handler))],
    ["metrics alone", withServeMetrics(new MetricsRegistry(), handler)],
    ["rateLimit alone", withRateLimit(limit, handler)],
    // One more call around the handler and nothing else (what any wrapper pays before its work).
    ["empty wrapper", (request, info) => (handler as Fetch)(request, info)],
    // The method's zero: the bare handler again, in a block of its own (an A/A pair: whatever it shows is the method's bias and spread).
    ["bare again", handler],
  ];
  let current: Fetch = handler;
  const server = serve({ port: 0, fetch: (request, info) => current(request, info), keepAliveTimeoutMs: 600_000, headersTimeoutMs: 600_000 });
  const REQUEST = new TextEncoder().encode("GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
  const conns: Conn[] = await Promise.all(Array.from({ length: 16 }, () => connect({ host: "127.0.0.1", port: server.addr.port })));
  await conns[0]!.write(REQUEST);
  let first = "";
  while (!/\r\n\r\nHello, World!$/.test(first)) first += new TextDecoder().decode((await conns[0]!.read())!);
  const size = new TextEncoder().encode(first).length;
  const cpuNow = (): number => {
    const u = proc.cpuUsage();
    return (u.user + u.system) * 1000;
  };
  // The main thread's CPU time (server and clients run on it), without the runtime's helper threads (JIT
  // compilers, concurrent GC: on Bun they moved the process's time by hundreds of ns per request from block
  // to block); the process's time alongside, for comparison.
  const threadNs = threadCpuClock();
  const processNs: number[] = [];
  const block = (fetch: Fetch): Promise<number> =>
    new Promise((resolve) => {
      current = fetch;
      let sent = 0;
      let done = 0;
      const p0 = cpuNow();
      const t0 = threadNs();
      for (const conn of conns) {
        let pending = 0;
        conn.setHandler({
          data: (c, bytes) => {
            pending += bytes.length;
            while (pending >= size) {
              pending -= size;
              if (++done === BLOCK_T) {
                const thread = (threadNs() - t0) / BLOCK_T;
                processNs.push((cpuNow() - p0) / BLOCK_T);
                return resolve(thread);
              }
              if (sent < BLOCK_T) {
                sent++;
                c.send(REQUEST);
              }
            }
          },
        });
        sent++;
        conn.send(REQUEST);
      }
    });
  for (let w = 0; w < 3; w++) for (const [, f] of variants) await block(f);
  processNs.length = 0;
  const ns = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  const pns = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  const loadBefore = load();
  for (let r = 0; r < PAIRS; r++) {
    // Rotate which variant goes first, so none always follows another.
    for (let i = 0; i < variants.length; i++) {
      const [name, f] = variants[(r + i) % variants.length]!;
      ns.get(name)!.push(await block(f));
      pns.get(name)!.push(processNs.pop()!);
    }
  }
  for (const c of conns) c.abort();
  await server.shutdown({ deadlineMs: 100 });
  for (const [clock, table] of [["main thread", ns], ["process", pns]] as const) {
    const bare = table.get("bare")!;
    console.log(`# ${RUNTIME} one server, fetch switched per block (${PAIRS} rounds of ${variants.length} blocks of ${BLOCK_T} requests, ${clock} CPU: server + client), bare ${(median(bare) / 1000).toFixed(2)} µs/req (load ${loadBefore} before, ${load()} after):`);
    for (const [name] of variants.slice(1)) {
      const xs = table.get(name)!;
      const diff = xs.map((x, i) => x - bare[i]!);
      const d = median(diff);
      const se = medianSE(diff);
      console.log(`# ${RUNTIME}   ${name.padEnd(19)}: paired −bare ${d.toFixed(0)} ± ${se.toFixed(0)} ns (median ± its standard error; middle half ${quartiles(diff)}), ${((d / median(bare)) * 100).toFixed(2)} % of the bare request (server and client)`);
      if (clock === "main thread") {
        record({ bench: "http_server_limits", case: `hello ${name}, one server switched, thread CPU/req`, unit: "µs/req", ours: median(xs) / 1000, peer: median(bare) / 1000, peerName: "same server, bare handler" });
      }
    }
  }
}

/** The variants of the switched-server parts: the bare handler, serve's wrapping for the options, and two zeros. */
type AnyFetch = (request: Request, info: import("../http/server/mod.ts").ServeHandlerInfo) => Response | undefined | Promise<Response | undefined>;

/**
 * A replica of `serve({ metrics })`'s former per-request path (before the
 * latency ring: each latency through `endAtNextReading` into the
 * histogram's `record`, the status through the response's accessor), for
 * old-against-new in one process (TOGGLE_ABLATION=1; synchronous handlers only).
 */
async function formerMetrics(inner: AnyFetch): Promise<AnyFetch> {
  const { MetricsRegistry } = await import("../core/metrics.ts");
  const { turnMs } = await import("../core/clock.ts");
  const { endAtNextReading } = await import("../core/metrics_clock.ts");
  const histogram = new MetricsRegistry().histogram("former_seconds");
  const counts = new Float64Array(7);
  const isAnswer = (result: unknown): boolean => result === undefined || (typeof result === "object" && result !== null && typeof (result as { then?: unknown }).then !== "function");
  const count = (response: Response | undefined): void => {
    if (response === undefined) {
      counts[2]!++;
      return;
    }
    const status = typeof response === "object" && response !== null ? (response as { status?: unknown }).status : undefined;
    if (typeof status !== "number") {
      counts[1]!++;
      return;
    }
    const cls = ((status / 100) | 0) - 1;
    counts[2 + (cls >= 0 && cls < 5 ? cls : 4)]!++;
  };
  const finishServed = (start: number, response: Response | undefined): Response | undefined => {
    counts[0]!--;
    endAtNextReading(histogram, start);
    count(response);
    return response;
  };
  return (request, info) => {
    const start = turnMs();
    counts[0]!++;
    let result: ReturnType<AnyFetch>;
    try {
      result = inner(request, info);
    } catch (error) {
      counts[0]!--;
      throw error;
    }
    if (!isAnswer(result)) throw new Error("formerMetrics: a synchronous handler only");
    return finishServed(start, result as Response | undefined);
  };
}

async function toggleVariants(): Promise<[string, (request: Request, info: import("../http/server/mod.ts").ServeHandlerInfo) => Response | undefined | Promise<Response | undefined>][]> {
  const { MetricsRegistry } = await import("../core/metrics.ts");
  const { withServeMetrics } = await import("../http/server/metrics_handler.ts");
  const { withRateLimit } = await import("../http/server/limits_http.ts");
  type Fetch = (request: Request, info: import("../http/server/mod.ts").ServeHandlerInfo) => Response | undefined | Promise<Response | undefined>;
  const limit = { perSecond: 1e9, burst: 1e9 };
  if (proc.env.TOGGLE_ABLATION === "1") {
    return [
      ["bare", handler],
      ["metrics alone", withServeMetrics(new MetricsRegistry(), handler)],
      ["metrics, former path", await formerMetrics(handler)],
      ["bare again", handler],
    ];
  }
  return [
    ["bare", handler],
    ["metrics + rateLimit", withServeMetrics(new MetricsRegistry(), withRateLimit(limit, handler))],
    ["metrics alone", withServeMetrics(new MetricsRegistry(), handler)],
    ["rateLimit alone", withRateLimit(limit, handler)],
    ["empty wrapper", (request, info) => (handler as Fetch)(request, info)],
    ["bare again", handler],
  ];
}

/**
 * The server of {@link serverThreadToggled}, in a child process: one
 * `serve` with `protect` on whose `fetch` moves to the next variant every
 * SERVER_THREAD_BLOCK requests (default 2000), rotating the order per
 * round, and reads its own thread's CPU time at each switch; after 3
 * warm-up rounds and SERVER_THREAD_PAIRS rounds (default 100) it writes
 * the ns per request of every block to `out` (JSON) and keeps serving.
 */
async function runToggleServer(out: string): Promise<void> {
  const { serve } = await import("../http/server/mod.ts");
  const { writeFileSync } = await import("node:fs");
  type Fetch = Awaited<ReturnType<typeof toggleVariants>>[number][1];
  const variants = await toggleVariants();
  const PAIRS = Number(proc.env.SERVER_THREAD_PAIRS ?? 100);
  const BLOCK = Number(proc.env.SERVER_THREAD_BLOCK ?? 2000);
  const WARM = 3;
  const threadNs = threadCpuClock();
  const processNs = threadCpuClock(CLOCK_PROCESS_CPUTIME_ID);
  const ns: number[][] = variants.map(() => []);
  // The whole process's CPU per block too (its helper threads: GC, the parked wait), for comparison.
  const pns: number[][] = variants.map(() => []);
  let round = 0;
  let slot = 0; // the variant's place in this round's order
  let count = 0;
  let current: Fetch = variants[0]![1];
  let t0 = threadNs();
  let p0 = processNs();
  const next = (): void => {
    const now = threadNs();
    const pNow = processNs();
    const index = (round + slot) % variants.length;
    if (round >= WARM && round < WARM + PAIRS) {
      ns[index]!.push((now - t0) / BLOCK);
      pns[index]!.push((pNow - p0) / BLOCK);
    }
    if (++slot === variants.length) {
      slot = 0;
      if (++round === WARM + PAIRS) writeFileSync(out, JSON.stringify({ names: variants.map(([name]) => name), ns, pns }));
    }
    current = variants[(round + slot) % variants.length]![1];
    count = 0;
    p0 = processNs();
    t0 = threadNs();
  };
  const server = serve({
    port: 0,
    protect: { maxPerIp: 10_000 },
    keepAliveTimeoutMs: 600_000,
    headersTimeoutMs: 600_000,
    fetch: (request, info) => {
      if (++count === BLOCK) next();
      return current(request, info);
    },
  });
  console.log(`PORT ${server.addr.port}`);
}

/**
 * The options' cost on the server's thread alone: a server in a child
 * process ({@link runToggleServer}) switches its `fetch` between the bare
 * handler and `serve`'s wrapping per block of requests itself and times
 * each block by its main thread's CPU time (CLOCK_THREAD_CPUTIME_ID: its
 * JavaScript, parsing, writing and system calls; not the runtime's helper
 * threads, not the client's work), while `wrk -t1 -c16` (another process)
 * keeps 16 keep-alive connections busy. The same server and connections
 * for every variant; "bare again" is the bare handler in a block of its
 * own, the method's zero (an A/A pair), "empty wrapper" one call more.
 * SERVER_THREAD_PAIRS (default 100; 0 skips), SERVER_THREAD_BLOCK
 * (default 2000); SERVER_THREAD_ONLY=1 runs only this part.
 * SERVER_THREAD_PIPELINE=16 has wrk send 16 pipelined requests per write
 * (a Lua script): a sixteenth of the system calls per request, and with
 * them most of the per-block noise; the options' work per request stays
 * (the percentage is then of a cheaper request: read it against the
 * unpipelined bare request's CPU).
 */
async function serverThreadToggled(): Promise<void> {
  const { existsSync, readFileSync: read, rmSync, writeFileSync } = await import("node:fs");
  const stamp = `${RUNTIME}_${Date.now()}`;
  const out = `/tmp/ffinet_limits_toggle_${stamp}.json`;
  const pipeline = Math.max(1, Number(proc.env.SERVER_THREAD_PIPELINE ?? 1));
  const script = `/tmp/ffinet_limits_pipeline_${stamp}.lua`;
  if (pipeline > 1) {
    writeFileSync(
      script,
      `init = function(args)\n  local r = {}\n  for i = 1, ${pipeline} do r[i] = wrk.format(nil, "/") end\n  req = table.concat(r)\nend\n` +
        `request = function()\n  return req\nend\n`,
    );
  }
  const server = await startServerChild("bench/http_server_limits.ts", `toggle:${out}`);
  const loadBefore = load();
  try {
    for (let chunk = 0; chunk < 120 && !existsSync(out); chunk++) {
      const wrkArgs = ["-t1", "-c16", "-d5s", ...(pipeline > 1 ? ["-s", script] : []), `http://127.0.0.1:${server.port}/`];
      await new Promise<void>((resolve, reject) => {
        execFile("wrk", wrkArgs, (err) => (err ? reject(err) : resolve()));
      });
    }
  } finally {
    server.kill();
    if (pipeline > 1) rmSync(script, { force: true });
  }
  if (!existsSync(out)) throw new Error("the toggled server did not finish its rounds in 10 minutes");
  const { names, ns, pns } = JSON.parse(read(out, "utf8")) as { names: string[]; ns: number[][]; pns: number[][] };
  rmSync(out);
  const bare = ns[0]!;
  console.log(`# ${RUNTIME} server thread only, fetch switched per block (${bare.length} rounds of ${names.length} blocks, server's main-thread CPU; wrk -c16${pipeline > 1 ? `, ${pipeline} pipelined requests per write,` : ""} in another process), bare ${(median(bare) / 1000).toFixed(2)} µs/req (load ${loadBefore} before, ${load()} after):`);
  for (let i = 1; i < names.length; i++) {
    const xs = ns[i]!;
    const diff = xs.map((x, j) => x - bare[j]!);
    const d = median(diff);
    console.log(`# ${RUNTIME}   ${names[i]!.padEnd(19)}: paired −bare ${d.toFixed(0)} ± ${medianSE(diff).toFixed(0)} ns (median ± its standard error; middle half ${quartiles(diff)}), ${((d / median(bare)) * 100).toFixed(2)} % of the bare request's server CPU`);
    record({ bench: "http_server_limits", case: `hello ${names[i]}, server thread, switched${pipeline > 1 ? `, pipelined ${pipeline}` : ""}, CPU/req`, unit: "µs/req", ours: median(xs) / 1000, peer: median(bare) / 1000, peerName: "same server, bare handler" });
  }
  // The same blocks timed by the whole process's CPU (every thread: GC helpers, the parked wait): what the
  // wrk rounds count, but paired within one process.
  const pBare = pns[0]!;
  console.log(`# ${RUNTIME} the same blocks, whole process's CPU (all its threads), bare ${(median(pBare) / 1000).toFixed(2)} µs/req:`);
  for (let i = 1; i < names.length; i++) {
    const diff = pns[i]!.map((x, j) => x - pBare[j]!);
    const d = median(diff);
    console.log(`# ${RUNTIME}   ${names[i]!.padEnd(19)}: paired −bare ${d.toFixed(0)} ± ${medianSE(diff).toFixed(0)} ns (middle half ${quartiles(diff)}), ${((d / median(pBare)) * 100).toFixed(2)} % of the bare request's process CPU`);
  }
}

const CLOCK_PROCESS_CPUTIME_ID = 2; // Linux (the bench reads /proc anyway)
const CLOCK_THREAD_CPUTIME_ID = 3;

/**
 * Nanoseconds of CPU the calling thread has run (CLOCK_THREAD_CPUTIME_ID through FFI; the process's CPU
 * time where that clock is missing), or with `clock` CLOCK_PROCESS_CPUTIME_ID every thread of the process.
 */
function threadCpuClock(clock = CLOCK_THREAD_CPUTIME_ID): () => number {
  const ts = new Uint8Array(16);
  const view = new DataView(ts.buffer);
  let gettime: ((clock: number, out: Uint8Array) => number) | undefined;
  return () => {
    gettime ??= (libcNow as { clock_gettime: (clock: number, out: Uint8Array) => number }).clock_gettime;
    if (gettime(clock, ts) !== 0) {
      const u = proc.cpuUsage();
      return (u.user + u.system) * 1000;
    }
    return Number(view.getBigInt64(0, true)) * 1e9 + Number(view.getBigInt64(8, true));
  };
}

/**
 * The server's own per-request JavaScript, without sockets or the kernel:
 * `serve`'s HTTP/1.1 sessions (h1_session.ts's `sessionHandler`, with the
 * light Response where `serve` installs it) on 16 stand-in connections
 * whose sends only count bytes, each fed the hello GET once per turn (a
 * new turn of the clock, then a microtask checkpoint, as the loop does),
 * `fetch` switched per block between the bare handler and `serve`'s
 * wrapping for `metrics` and `rateLimit` together and alone, in a rotating
 * order (SESSION_PAIRS rounds, default 150, 0 skips; SESSION_TURNS turns
 * of SESSION_CONNS requests per block, defaults 500 and 16; SESSION_CONNS=1
 * is the unpipelined regime of wrk -c16 against a server faster than it,
 * each request a turn of its own with its per-turn work: microtasks, clock
 * readings; SESSIONS_ONLY=1 runs only this part). Without system calls in the
 * blocks, their differences are the options' own work to ±10–30 ns even on
 * a loaded machine; the sockets' share (the rest of a request's CPU) comes
 * from the parts above.
 */
async function sessionsOnStandIns(): Promise<void> {
  const PAIRS = Number(proc.env.SESSION_PAIRS ?? 150);
  if (!(PAIRS > 0)) return;
  const TURNS = Number(proc.env.SESSION_TURNS ?? 500);
  const CONNS = Math.max(1, Number(proc.env.SESSION_CONNS ?? 16));
  const { sessionHandler } = await import("../http/server/h1_session.ts");
  type SessionConfig = import("../http/server/h1_session.ts").SessionConfig;
  type Info = import("../http/server/mod.ts").ServeHandlerInfo;
  type Conn = import("../poll/connection.ts").Connection;
  type Fetch = (request: Request, info: Info) => Response | undefined | Promise<Response | undefined>;
  const { installLightResponse, LIGHT_RESPONSE_DEFAULT } = await import("../http/server/light_response.ts");
  const { MetricsRegistry } = await import("../core/metrics.ts");
  const { withServeMetrics } = await import("../http/server/metrics_handler.ts");
  const { withRateLimit } = await import("../http/server/limits_http.ts");
  const { newTurn } = await import("../core/clock.ts");
  (await import("../ffi/libc.ts")).libc(); // as a server's sockets have it (the metrics clock reads through it on Deno)
  const uninstall = LIGHT_RESPONSE_DEFAULT ? installLightResponse() : undefined;
  const limit = { perSecond: 1e9, burst: 1e9 };
  const variants: [string, Fetch][] = [
    ["bare", handler],
    ["metrics + rateLimit", withServeMetrics(new MetricsRegistry(), withRateLimit(limit, handler))],
    ["metrics alone", withServeMetrics(new MetricsRegistry(), handler)],
    ["rateLimit alone", withRateLimit(limit, handler)],
  ];
  // TOGGLE_ABLATION=1: the current metrics against a replica of their former path instead.
  if (proc.env.TOGGLE_ABLATION === "1") variants.splice(1, 3, ["metrics alone", withServeMetrics(new MetricsRegistry(), handler)], ["metrics, former path", await formerMetrics(handler)]);
  let current: Fetch = handler;
  // As serve makes it, with serve's default timeouts (the keep-alive wait is armed after each response).
  const config: SessionConfig = {
    fetch: ((request: Request, info: Info) => current(request, info)) as SessionConfig["fetch"],
    onError: undefined,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5_000,
    bodyTimeoutMs: 30_000,
    writeTimeoutMs: 30_000,
    maxConnections: Infinity,
    maxRequestsPerConnection: Infinity,
    parser: { kind: "request" },
    authority: "127.0.0.1:8000",
    origin: "http://",
    rejected: { maxConnections: 0, rateLimit: 0, protect: 0 },
    sessions: new Set(),
    upgraded: new Set(),
    draining: false,
    unrefed: false,
    sessionOpened: () => {},
    sessionClosed: () => {},
    report: (error) => console.error(error),
  };
  const sessions = sessionHandler(config);
  let bytesOut = 0;
  const conns: Conn[] = [];
  for (let i = 0; i < CONNS; i++) {
    const address = Object.freeze({ family: "ipv4", host: "127.0.0.1", port: 40000 + i });
    const conn = {
      closed: false,
      bufferedAmount: 0,
      highWaterMark: 1 << 20,
      canSendFile: false,
      data: undefined as unknown,
      get remoteAddress() {
        return address;
      },
      send(bytes: Uint8Array) {
        bytesOut += bytes.length;
        return true;
      },
      sendPair(head: Uint8Array, body: Uint8Array) {
        bytesOut += head.length + body.length;
        return true;
      },
      pause() {},
      resume() {},
      unref() {},
      // What the session asks of the loop after a read answered at once (the next request is expected soon).
      loop: { stats: { ticks: 0 }, expectEvents() {} },
      abort() {
        throw new Error("a stand-in connection was aborted: the session refused the request");
      },
    } as unknown as Conn;
    conns.push(conn);
    sessions.open!(conn);
  }
  const REQUEST = new TextEncoder().encode("GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
  const cpuNow = (): number => {
    const u = proc.cpuUsage();
    return (u.user + u.system) * 1000;
  };
  let requests = 0;
  // SESSION_THRASH=<KiB>: each turn then reads that much other memory (a 64-byte stride), as a real request's
  // system calls and the client's process sharing the core evict the caches between requests.
  const thrash = new Uint8Array(Math.max(0, Number(proc.env.SESSION_THRASH ?? 0)) * 1024);
  let thrashSum = 0;
  // With thrashing, only the turns themselves are timed (this thread's CPU clock around each).
  const threadNs = threadCpuClock();
  const block = async (fetch: Fetch): Promise<number> => {
    current = fetch;
    if (thrash.length > 0) {
      let ns = 0;
      for (let t = 0; t < TURNS; t++) {
        for (let j = 0; j < thrash.length; j += 64) thrashSum += thrash[j]!++;
        const t0 = threadNs();
        newTurn();
        for (let i = 0; i < conns.length; i++) sessions.data!(conns[i]!, REQUEST);
        await null; // the turn's microtasks
        ns += threadNs() - t0;
      }
      requests += TURNS * conns.length;
      return ns / (TURNS * conns.length);
    }
    const t0 = cpuNow();
    for (let t = 0; t < TURNS; t++) {
      newTurn();
      for (let i = 0; i < conns.length; i++) sessions.data!(conns[i]!, REQUEST);
      await null; // the turn's microtasks
    }
    requests += TURNS * conns.length;
    return (cpuNow() - t0) / (TURNS * conns.length);
  };
  for (let w = 0; w < 5; w++) for (const [, f] of variants) await block(f);
  const ns = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let r = 0; r < PAIRS; r++) {
    for (let i = 0; i < variants.length; i++) {
      const [name, f] = variants[(r + i) % variants.length]!;
      ns.get(name)!.push(await block(f));
    }
  }
  uninstall?.();
  if (thrashSum < 0) console.log(thrashSum);
  // Each response is the same size: all of them went out whole.
  if (bytesOut % requests !== 0) throw new Error("stand-in sessions: a response was not the hello response");
  const bare = ns.get("bare")!;
  console.log(`# ${RUNTIME} serve's sessions on stand-in connections (no sockets; ${PAIRS} rounds of ${variants.length} blocks of ${TURNS * conns.length} requests), bare ${median(bare).toFixed(0)} ns/req (load ${load()}):`);
  for (const [name] of variants.slice(1)) {
    const xs = ns.get(name)!;
    const diff = xs.map((x, i) => x - bare[i]!);
    console.log(`# ${RUNTIME}   ${name.padEnd(19)}: paired −bare ${median(diff).toFixed(0)} ± ${medianSE(diff).toFixed(0)} ns (middle half ${quartiles(diff)})`);
    record({ bench: "http_server_limits", case: `hello ${name}, sessions without sockets, CPU/req`, unit: "ns/req", ours: median(xs), peer: median(bare), peerName: "bare handler" });
  }
}

/**
 * CPU nanoseconds (schedstat's first field) process `pid` ran so far per group of threads: "main"
 * (the thread with the process's id) and the others by their name with
 * trailing digits dropped (Bun: `JITWorker`, `JSCWarmUp`, `HeapHelper`,
 * `mi-scavenger`; Node: `V8 DefaultWorke`, …): which of the runtime's
 * threads an option's extra whole-process cost lands on.
 */
function threadGroupNs(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
      const name = task === String(pid) ? "main" : readFileSync(`/proc/${pid}/task/${task}/comm`, "utf8").trim().replace(/[\d:#]+$/, "") || "?";
      out[name] = (out[name] ?? 0) + ns;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Seconds of wrk each server of a round gets before its measured slices (HTTP_WARMUP, default 1; Bun's compiler threads are busy for ~6 s). */
const WARMUP = Number(proc.env.HTTP_WARMUP ?? 1);
/** Per thread group, CPU ns and requests summed over every round's slices, per side. */
const groupSums = { on: {} as Record<string, number>, off: {} as Record<string, number>, requests: { on: 0, off: 0 } };

/** `wrk -t1 -c50` for `seconds`: the requests it completed. */
function wrkRequests(port: number, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile("wrk", ["-t1", "-c50", `-d${seconds}s`, `http://127.0.0.1:${port}/`], (err, stdout) => {
      if (err) return reject(err);
      const m = /(\d+) requests in/.exec(stdout);
      if (!m) return reject(new Error(`wrk said: ${stdout}`));
      resolve(Number(m[1]));
    });
  });
}

/** One round: both servers, warmed, loaded in alternating slices. */
async function round(r: number): Promise<Record<"on" | "off", { rps: number; cpuUs: number }>> {
  const servers = { on: await startServerChild("bench/http_server_limits.ts", ON_KIND), off: await startServerChild("bench/http_server_limits.ts", "off") };
  try {
    const sum = { on: { ns: 0, requests: 0 }, off: { ns: 0, requests: 0 } };
    for (const kind of ["on", "off"] as const) await wrkRequests(servers[kind].port, WARMUP); // warm-up
    for (let slice = 0; slice < SLICES; slice++) {
      const order = (r + slice) % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const);
      for (const kind of order) {
        const before = threadGroupNs(servers[kind].pid);
        const requests = await wrkRequests(servers[kind].port, SECONDS);
        const after = threadGroupNs(servers[kind].pid);
        for (const [group, ns] of Object.entries(after)) {
          const spent = ns - (before[group] ?? 0);
          sum[kind].ns += spent;
          groupSums[kind][group] = (groupSums[kind][group] ?? 0) + spent;
        }
        sum[kind].requests += requests;
        groupSums.requests[kind] += requests;
      }
    }
    const result = (k: "on" | "off") => ({ rps: sum[k].requests / (SLICES * SECONDS), cpuUs: sum[k].ns / 1000 / sum[k].requests });
    return { on: result("on"), off: result("off") };
  } finally {
    servers.on.kill();
    servers.off.kill();
  }
}

/** libc, loaded once the bench runs (FFI permission on Deno). */
let libcNow: unknown;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quartiles = (xs: number[]): string => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `${sorted[Math.floor(sorted.length / 4)]!.toFixed(0)} to ${sorted[Math.floor((sorted.length * 3) / 4)]!.toFixed(0)}`;
};
/** The median's standard error, from the spread of the middle half (σ ≈ IQR / 1.349; SE ≈ 1.2533 σ / √n). */
const medianSE = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const iqr = sorted[Math.floor((sorted.length * 3) / 4)]! - sorted[Math.floor(sorted.length / 4)]!;
  return (1.2533 * (iqr / 1.349)) / Math.sqrt(xs.length);
};
const range = (xs: number[], digits: number): string => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(" ");

const args = RUNTIME === "deno" ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args : proc.argv.slice(2);
const serveArg = args.find((a) => a.startsWith("serve-"));
if (serveArg !== undefined && serveArg.startsWith("serve-toggle:")) {
  libcNow = libc();
  await runToggleServer(serveArg.slice("serve-toggle:".length));
} else if (serveArg !== undefined) {
  await runServer(serveArg.slice(6));
} else if (!(await wrkInstalled())) {
  console.log("# wrk is not installed (apt-get install -y wrk): http_server_limits skipped");
  finish();
} else {
  libcNow = libc();
  console.log(`# ${RUNTIME} load average before: ${load()}`);
  if (Number(proc.env.SERVER_THREAD_PAIRS ?? 100) > 0) {
    await serverThreadToggled();
    if (proc.env.SERVER_THREAD_ONLY === "1") {
      finish();
      proc.exit(0);
    }
  }
  if (proc.env.SESSIONS_ONLY === "1") {
    await sessionsOnStandIns();
    finish();
    proc.exit(0);
  }
  if (proc.env.WRK_ONLY !== "1") {
    await inProcess();
    await sessionsOnStandIns();
    await inProcessOverLoopback();
    await inProcessBreakdown();
    await inProcessToggled();
  }
  if (ROUNDS > 0) await wrkRounds();
  finish();
}

async function wrkRounds(): Promise<void> {
  const on = { rps: [] as number[], cpu: [] as number[] };
  const off = { rps: [] as number[], cpu: [] as number[] };
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const res = await round(r);
    for (const kind of ["on", "off"] as const) {
      const into = kind === "on" ? on : off;
      into.rps.push(res[kind].rps);
      into.cpu.push(res[kind].cpuUs);
    }
    ratios.push(res.on.cpuUs / res.off.cpuUs);
    console.log(`# ${RUNTIME} hello round ${r}: on ${res.on.rps.toFixed(0)} req/s ${res.on.cpuUs.toFixed(2)} µs/req, off ${res.off.rps.toFixed(0)} req/s ${res.off.cpuUs.toFixed(2)} µs/req, on÷off ${ratios[r]!.toFixed(3)} (load ${load()})`);
  }
  console.log(`# ${RUNTIME} load average after: ${load()}`);
  console.log(`# ${RUNTIME} req/s on ${median(on.rps).toFixed(0)} (${range(on.rps, 0)}), off ${median(off.rps).toFixed(0)} (${range(off.rps, 0)})`);
  console.log(`# ${RUNTIME} CPU µs/req on ${median(on.cpu).toFixed(2)} (${range(on.cpu, 2)}), off ${median(off.cpu).toFixed(2)} (${range(off.cpu, 2)})`);
  console.log(`# ${RUNTIME} CPU/req on÷off per round: median ${median(ratios).toFixed(3)} (${range(ratios, 3)})`);
  // Where the whole process's difference lands: each thread group's CPU per request over all the rounds' slices.
  const groups = [...new Set([...Object.keys(groupSums.on), ...Object.keys(groupSums.off)])];
  const per = (kind: "on" | "off", group: string): number => (groupSums[kind][group] ?? 0) / groupSums.requests[kind];
  groups.sort((a, b) => per("off", b) - per("off", a));
  console.log(`# ${RUNTIME} by thread (all rounds, warm-up ${WARMUP} s), ns/req on / off / on−off: ` + groups.filter((g) => per("on", g) + per("off", g) >= 20).map((g) => `${g} ${per("on", g).toFixed(0)} / ${per("off", g).toFixed(0)} / ${(per("on", g) - per("off", g)).toFixed(0)}`).join("; "));
  record({ bench: "http_server_limits", case: "hello limits+metrics req/s", unit: "req/s", ours: median(on.rps), peer: median(off.rps), peerName: "serve, all off" });
  record({ bench: "http_server_limits", case: "hello limits+metrics CPU/req", unit: "µs/req", ours: median(on.cpu), peer: median(off.cpu), peerName: "serve, all off" });
}
