/**
 * HTTP server benchmark: ffinet `serve` against the runtime's own server
 * (node:http createServer, Deno.serve, Bun.serve) with the same handler,
 * each in a child process of this runtime, loaded by `wrk -t1 -c50` on
 * keep-alive connections. Cases: "hello" (a 13-byte text body), "json"
 * (a 1 KiB JSON body) and "64 KiB" (a 64 KiB body held in memory, as a
 * cached static file). Alternating rounds (HTTP_ROUNDS, default 3,
 * HTTP_SECONDS each, default 3, after HTTP_WARMUP seconds of wrk, default
 * 5), median req/s and the server's CPU µs per request (from /proc/PID/stat;
 * each round's line also has wrk's own, which above the server's means wrk
 * sets the req/s: 64 KiB responses cost wrk ~45 µs each here, 9 reads and 8
 * ioctls, so both servers get about the same req/s). Then memory per idle keep-alive
 * connection: the server's RSS before and after 2,000 connections that
 * each made one request and stay open (HTTP_IDLE connections), per
 * connection. The ffinet server runs with `serve`'s default options (so
 * its `lightResponse` default: the light `Response` on Node, the
 * runtime's own on Deno and Bun). HTTP_LIGHT=1 or 0 forces
 * `lightResponse: true` or `false` (cases marked "light" or "plain");
 * HTTP_LIGHT=ab pairs the ffinet server with the light `Response` against
 * the same server without it (instead of the runtime's own server; no
 * memory step), the A/B that decides the default per runtime. HTTP_CASES
 * (e.g. "hello,json"; default all of hello, json, file) picks the cases.
 * HTTP_LIGHT=cpu: no sockets, the part the light `Response` changes, in
 * one process: the handler's `Response` made and written by `serve`'s
 * writer (respond.ts) into a sink that drops the bytes, with the light
 * class against the runtime's, in interleaved warmed blocks
 * (HTTP_CPU_BLOCKS, default 40) timed by the process's CPU time; the
 * median ns per response of each and the median of the per-pair ratios. HTTP_LOOP_STATS=1: the
 * ffinet server prints its loop's counters (ticks, polls, parks, wakes,
 * events) on stderr once a second. HTTP_EXTRA_RESPONSES=n: the handler
 * also makes n more hello `Response`s per request and drops them, in both
 * servers alike: paired against 0 (`bench/_http_server_ab.ts` with
 * `AB_ENVS`), the difference ÷ n is what constructing a `Response` (and
 * collecting it) costs inside each server.
 *
 * Needs `wrk` (apt-get install -y wrk). Run: node scripts/bench.mjs http_server [--runtime=node]
 * (or directly: node --import tsx bench/http_server.ts).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { type ServerChild, startServerChild, wrk, wrkInstalled, wrkRound } from "./_wrk_server.ts";
import { finish, record, RUNTIME } from "./harness.ts";

const proc = (globalThis as unknown as { process: { execPath: string; argv: string[]; env: Record<string, string | undefined> } }).process;
const ROUNDS = Number(proc.env.HTTP_ROUNDS ?? 3);
const SECONDS = Number(proc.env.HTTP_SECONDS ?? 3);
/** HTTP_LIGHT: "1" or "0" forces the ffinet server's `lightResponse`; "ab" pairs light against plain. */
const LIGHT_ENV = proc.env.HTTP_LIGHT;
const AB = LIGHT_ENV === "ab";
const LIGHT: boolean | undefined = LIGHT_ENV === "1" ? true : LIGHT_ENV === "0" ? false : undefined;
const CASES = (proc.env.HTTP_CASES ?? "hello,json,file").split(",");
const JSON_BODY = JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item-${i}`, ok: true, pad: "x".repeat(20) })) }).slice(0, 1024);

const FILE_BODY = new Uint8Array(65536).map((_, i) => 32 + (i % 90));

/** HTTP_EXTRA_RESPONSES: hello `Response`s made and dropped per request (see the module text). */
const EXTRA_RESPONSES = Number(proc.env.HTTP_EXTRA_RESPONSES ?? 0);
/** Read by nothing: keeps the extra responses from being optimised away. */
let extraStatus = 0;

function handler(request: Request): Response {
  const url = request.url;
  for (let i = 0; i < EXTRA_RESPONSES; i++) extraStatus += new Response("Hello, World!", { headers: { "content-type": "text/plain" } }).status;
  if (url.endsWith("/json")) return new Response(JSON_BODY, { headers: { "content-type": "application/json" } });
  if (url.endsWith("/file")) return new Response(FILE_BODY, { headers: { "content-type": "application/octet-stream" } });
  return new Response("Hello, World!", { headers: { "content-type": "text/plain" } });
}

async function runServer(kind: string): Promise<void> {
  let port = 0;
  if (kind.startsWith("ffinet")) {
    const { serve } = await import("../http/server/mod.ts");
    // Default options unless forced (HTTP_LIGHT, or the A/B's two kinds).
    const light = kind === "ffinet-light" ? true : kind === "ffinet-plain" ? false : LIGHT;
    port = serve(light === undefined ? { port: 0, fetch: handler } : { port: 0, fetch: handler, lightResponse: light }).addr.port;
    if (proc.env.HTTP_LOOP_STATS === "1") {
      // The loop's counters once a second on stderr (parks and wake-ups per request under load).
      const { defaultLoop } = await import("../poll/loop.ts");
      setInterval(() => console.error(`LOOP ${performance.now().toFixed(0)} ${JSON.stringify(defaultLoop().stats)}`), 1000).unref?.();
    }
  } else if (RUNTIME === "deno") {
    const D = (globalThis as unknown as { Deno: { serve(o: object, h: (r: Request) => Response): { addr: { port: number } } } }).Deno;
    port = D.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler).addr.port;
  } else if (RUNTIME === "bun") {
    const B = (globalThis as unknown as { Bun: { serve(o: object): { port: number } } }).Bun;
    port = B.serve({ port: 0, hostname: "127.0.0.1", fetch: handler }).port;
  } else {
    const http = await import("node:http");
    const server = http.createServer((req, res) => {
      if (req.url === "/file") {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.end(FILE_BODY);
        return;
      }
      const json = req.url === "/json";
      res.writeHead(200, { "content-type": json ? "application/json" : "text/plain" });
      res.end(json ? JSON_BODY : "Hello, World!");
    });
    port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  }
  console.log(`PORT ${port}`);
}

function startServer(kind: string): Promise<ServerChild> {
  return startServerChild("bench/http_server.ts", kind);
}

function round(kind: string, path: string): Promise<{ rps: number; cpuUs: number; clientUs: number }> {
  return wrkRound("bench/http_server.ts", kind, path, SECONDS);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

/** RSS growth of a server per idle keep-alive connection (KiB), `count` connections that made one request each. */
async function idleMemory(kind: string, count: number): Promise<number> {
  const net = await import("node:net");
  const server = await startServer(kind);
  const sockets: Array<{ destroy(): void }> = [];
  try {
    const url = `http://127.0.0.1:${server.port}/`;
    await wrk(url, 1); // warm-up, as for the throughput rounds
    await new Promise((r) => setTimeout(r, 300));
    const before = rssKiB(server.pid);
    const request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    for (let batch = 0; batch < count; batch += 100) {
      await Promise.all(Array.from({ length: Math.min(100, count - batch) }, () => new Promise<void>((resolve, reject) => {
        const sock = net.connect(server.port, "127.0.0.1");
        sockets.push(sock);
        let got = "";
        sock.on("error", reject);
        sock.on("connect", () => sock.write(request));
        sock.on("data", (d: Uint8Array) => {
          got += String(d);
          if (got.includes("Hello, World!")) resolve();
        });
      })));
    }
    await new Promise((r) => setTimeout(r, 500));
    return (rssKiB(server.pid) - before) / count;
  } finally {
    for (const s of sockets) s.destroy();
    server.kill();
  }
}

/** HTTP_LIGHT=cpu: see the module text. */
async function lightInProcess(): Promise<void> {
  const { writeResponse } = await import("../http/server/respond.ts");
  const { installLightResponse } = await import("../http/server/light_response.ts");
  const Native = globalThis.Response;
  installLightResponse();
  const Light = globalThis.Response;
  const use = (R: typeof Response) => Object.defineProperty(globalThis, "Response", { value: R, writable: true, configurable: true });
  const sink = { send: (_b: Uint8Array) => true, drained: () => Promise.resolve(), gone: false };
  const cpuNs = (): number => {
    const u = (globalThis as unknown as { process: { cpuUsage(): { user: number; system: number } } }).process.cpuUsage();
    return (u.user + u.system) * 1000;
  };
  const blocks = Number(proc.env.HTTP_CPU_BLOCKS ?? 40);
  // Blocks short enough, with a turn of the event loop between them, that what the runtime defers (finalizers, promise jobs) runs as in a server.
  const cases = [["hello", "http://h/", 2_000], ["json 1 KiB", "http://h/json", 2_000], ["64 KiB", "http://h/file", 500]] as const;
  const turn = () => new Promise((resolve) => setTimeout(resolve, 1));
  for (const [name, url, n] of cases.filter(([, u]) => CASES.includes(u.endsWith("/json") ? "json" : u.endsWith("/file") ? "file" : "hello"))) {
    const request = { url } as Request;
    const block = (R: typeof Response): number => {
      use(R);
      const t = cpuNs();
      for (let i = 0; i < n; i++) {
        const ctx = { head: false, http10: false, close: false };
        if (writeResponse(sink, handler(request), ctx) !== true) throw new Error("not written at once");
      }
      return (cpuNs() - t) / n;
    };
    for (let w = 0; w < 10; w++) {
      block(w % 2 === 0 ? Light : Native);
      await turn();
    }
    const light: number[] = [];
    const native: number[] = [];
    for (let b = 0; b < blocks; b++) {
      for (const R of b % 2 === 0 ? [Light, Native] : [Native, Light]) {
        (R === Light ? light : native).push(block(R));
        await turn();
      }
    }
    const ratios = light.map((l, i) => native[i]! / l);
    console.log(`# ${RUNTIME} ${name} in process: light ${median(light).toFixed(0)} ns, runtime's ${median(native).toFixed(0)} ns per response; runtime's÷light median ${median(ratios).toFixed(2)} (range ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}); load ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    record({ bench: "http_server", case: `${name} light vs runtime's Response, in process`, unit: "ns/response", ours: median(light), peer: median(native), peerName: "runtime's Response" });
  }
  use(Native);
  finish();
}

const args = RUNTIME === "deno" ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args : proc.argv.slice(2);
const serveArg = args.find((a) => a.startsWith("serve-"));
if (serveArg !== undefined) {
  await runServer(serveArg.slice(6));
} else if (LIGHT_ENV === "cpu") {
  await lightInProcess();
} else if (!(await wrkInstalled())) {
  console.log("# wrk is not installed (apt-get install -y wrk): http_server skipped");
  finish();
} else {
  const peerName = AB ? "ffinet plain" : RUNTIME === "deno" ? "Deno.serve" : RUNTIME === "bun" ? "Bun.serve" : "node:http";
  const [oursKind, peerKind] = AB ? ["ffinet-light", "ffinet-plain"] : ["ffinet", "native"];
  const all = [["hello", "/", "hello"], ["json 1 KiB", "/json", "json"], ["64 KiB", "/file", "file"]] as const;
  for (const [name, path] of all.filter(([, , key]) => CASES.includes(key)).map(([n, p]) => [n, p] as const)) {
    const ours = { rps: [] as number[], cpu: [] as number[] };
    const peer = { rps: [] as number[], cpu: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [oursKind, peerKind] : [peerKind, oursKind];
      for (const kind of order) {
        const res = await round(kind, path);
        const into = kind === oursKind ? ours : peer;
        into.rps.push(res.rps);
        into.cpu.push(res.cpuUs);
        console.log(`# ${RUNTIME} ${name} round ${r} ${kind}: ${res.rps.toFixed(0)} req/s, ${res.cpuUs.toFixed(1)} µs/req (wrk ${res.clientUs.toFixed(1)})`);
      }
    }
    // Per round, the pair's ratios (peer CPU ÷ ours: above 1 is ours cheaper; ours req/s ÷ peer's): steadier than either side on a loaded machine.
    const cpuRatios = ours.cpu.map((c, i) => peer.cpu[i]! / c);
    const rpsRatios = ours.rps.map((x, i) => x / peer.rps[i]!);
    console.log(`# ${RUNTIME} ${name} paired: CPU/req ${peerKind}÷${oursKind} median ${median(cpuRatios).toFixed(2)} [${cpuRatios.map((x) => x.toFixed(2)).join(" ")}], req/s ${oursKind}÷${peerKind} median ${median(rpsRatios).toFixed(2)} [${rpsRatios.map((x) => x.toFixed(2)).join(" ")}]; load ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    const label = AB ? `${name} light vs plain` : LIGHT === true ? `${name} light` : LIGHT === false ? `${name} plain` : name;
    record({ bench: "http_server", case: `${label} wrk -c50 req/s`, unit: "req/s", ours: median(ours.rps), peer: median(peer.rps), peerName });
    record({ bench: "http_server", case: `${label} wrk -c50 CPU/req`, unit: "µs/req", ours: median(ours.cpu), peer: median(peer.cpu), peerName });
  }
  if (!AB) {
    const idle = Number(proc.env.HTTP_IDLE ?? 2000);
    const oursKiB = await idleMemory("ffinet", idle);
    const peerKiB = await idleMemory("native", idle);
    console.log(`# ${RUNTIME} idle keep-alive memory: ffinet ${oursKiB.toFixed(2)} KiB/conn, ${peerName} ${peerKiB.toFixed(2)} KiB/conn (${idle} connections)`);
    record({ bench: "http_server", case: `idle keep-alive RSS per conn`, unit: "KiB", ours: oursKiB, peer: peerKiB, peerName });
  }
  finish();
}
