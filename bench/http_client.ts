/**
 * HTTP client benchmark: ffinet `request` and `fetch` against undici's
 * `request` and `fetch` (npm undici, a dev dependency) and the runtime's
 * own `fetch`, all against one local nginx (bench/_nginx.ts: one worker,
 * keep-alive, a 1 KiB body; a node:http server in a child process when
 * nginx is not installed or with BENCH_SERVER=node), 50 requests in
 * flight, each client reading every body. The case names end in the
 * server (`@nginx`, `@node:http`). Alternating rounds (CLIENT_ROUNDS, default 3, CLIENT_SECONDS
 * each, default 2); the median req/s of each contender, and the client's
 * CPU µs per request (process.cpuUsage where the runtime has it).
 *
 * A warm-up of CLIENT_WARMUP seconds (default 5) per contender first.
 *
 * Ratios: ffinet request vs undici.request; ffinet fetch vs the runtime's
 * fetch and vs undici fetch. On Bun, `import("undici")` gives Bun's own
 * built-in undici module (its fetch is Bun's fetch), not the npm package.
 *
 * Run: node scripts/bench.mjs http_client [--runtime=node]
 *
 * @module
 */
import { spawn } from "node:child_process";
import { finish, record, RUNTIME } from "./harness.ts";
import { Agent, fetch as ffFetch, request as ffRequest } from "../http/client/mod.ts";
import { testPKI } from "../tests/tls_pki.ts";
import { startNginx } from "./_nginx.ts";

const proc = (globalThis as unknown as { process: { env: Record<string, string | undefined>; cpuUsage?: () => { user: number; system: number } } }).process;
const ROUNDS = Number(proc.env.CLIENT_ROUNDS ?? 3);
const SECONDS = Number(proc.env.CLIENT_SECONDS ?? 2);
// Warm-up per contender before the rounds. JavaScriptCore compiles its optimising tiers on helper threads, which on a
// loaded machine (load 12-17 on 2 cores) took seconds: after 0.5 s, ffinet on Bun still ran at 2-3x its steady CPU per
// request in the first rounds (a native fetch has no such warm-up), which made the Bun rows swing from 0.24 to 1.0; after
// 5 s its first round was at its steady cost.
const WARMUP_SECONDS = Number(proc.env.CLIENT_WARMUP ?? 5);
const IN_FLIGHT = 50;

const SERVER = `
const http = require("node:http");
const body = Buffer.alloc(1024, 120);
const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": "1024" });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log("PORT " + server.address().port));
`;

function startServer(): Promise<{ port: number; kill(): void }> {
  const child = spawn("node", ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      buf += String(d);
      const m = /PORT (\d+)/.exec(buf);
      if (m) resolve({ port: Number(m[1]), kill: () => child.kill("SIGKILL") });
    });
    child.on("close", () => reject(new Error("server exited")));
  });
}

type OneRequest = () => Promise<void>;

async function load(one: OneRequest, seconds: number): Promise<{ rps: number; cpuUs: number }> {
  let count = 0;
  const cpu0 = proc.cpuUsage?.();
  const start = performance.now();
  const end = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      await one();
      count++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const elapsed = (performance.now() - start) / 1000;
  const cpu1 = proc.cpuUsage?.();
  const cpuUs = cpu0 && cpu1 ? (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / count : NaN;
  return { rps: count / elapsed, cpuUs };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const pki = testPKI();
const nginx = proc.env.BENCH_SERVER === "node" ? null : await startNginx({ certPath: pki.paths["leaf_chain.pem"]!, keyPath: pki.paths["leaf.key"]! });
const server = nginx !== null ? { port: nginx.port, kill: () => void nginx.stop() } : await startServer();
const url = nginx !== null ? `http://127.0.0.1:${server.port}/1k` : `http://127.0.0.1:${server.port}/`;
const at = nginx !== null ? "@nginx" : "@node:http";
console.log(`# server: ${nginx !== null ? `nginx ${nginx.version}` : "node:http"}`);
const agent = new Agent({ connections: IN_FLIGHT });

const contenders: Record<string, OneRequest> = {
  "ffinet request": async () => {
    const r = await ffRequest(url, { dispatcher: agent });
    await r.body.arrayBuffer();
  },
  "ffinet fetch": async () => {
    const r = await ffFetch(url, { dispatcher: agent });
    await r.arrayBuffer();
  },
  "runtime fetch": async () => {
    const r = await globalThis.fetch(url);
    await r.arrayBuffer();
  },
};

let undiciAgent: { close(): Promise<void> } | undefined;
try {
  const undici = await import("undici");
  const ua = new undici.Agent({ connections: IN_FLIGHT });
  undiciAgent = ua;
  // On Bun, "undici" is Bun's own module (fetch is Bun's fetch), not npm undici.
  if (RUNTIME === "bun") console.log("# on bun, undici resolves to Bun's built-in undici module");
  contenders["undici.request"] = async () => {
    const r = await undici.request(url, { dispatcher: ua });
    await r.body.arrayBuffer();
  };
  contenders["undici fetch"] = async () => {
    const r = await undici.fetch(url, { dispatcher: ua });
    await r.arrayBuffer();
  };
} catch (err) {
  console.log(`# undici is not usable on ${RUNTIME}: ${String(err).slice(0, 120)}`);
}

try {
  const names = Object.keys(contenders);
  const results: Record<string, { rps: number[]; cpu: number[] }> = {};
  for (const name of names) {
    results[name] = { rps: [], cpu: [] };
    await load(contenders[name]!, WARMUP_SECONDS); // warm-up: connections and JIT
  }
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const res = await load(contenders[name]!, SECONDS);
      results[name]!.rps.push(res.rps);
      results[name]!.cpu.push(res.cpuUs);
      console.log(`# ${RUNTIME} round ${r} ${name}: ${res.rps.toFixed(0)} req/s, ${res.cpuUs.toFixed(1)} µs CPU/req`);
    }
  }
  const rps = (name: string) => median(results[name]!.rps);
  const cpu = (name: string) => median(results[name]!.cpu);
  const pairs: Array<[string, string]> = [["ffinet fetch", "runtime fetch"]];
  if (contenders["undici.request"]) pairs.push(["ffinet request", "undici.request"], ["ffinet fetch", "undici fetch"]);
  // Paired ratios: the same round's numbers, which share the machine's load of that moment (medians over rounds).
  const paired = (xs: number[], ys: number[]) => median(xs.map((x, i) => x / ys[i]!));
  for (const [ours, peer] of pairs) {
    const r = results[ours]!;
    const q = results[peer]!;
    console.log(`# ${RUNTIME} paired ${ours} / ${peer}: req/s ${paired(r.rps, q.rps).toFixed(2)}, CPU/req (peer/ours) ${paired(q.cpu, r.cpu).toFixed(2)}`);
  }
  for (const [ours, peer] of pairs) {
    record({ bench: "http_client", case: `${ours} c${IN_FLIGHT} 1KiB req/s ${at}`, unit: "req/s", ours: rps(ours), peer: rps(peer), peerName: peer });
    if (!Number.isNaN(cpu(ours))) {
      record({ bench: "http_client", case: `${ours} c${IN_FLIGHT} 1KiB CPU/req ${at}`, unit: "µs/req", ours: cpu(ours), peer: cpu(peer), peerName: peer });
    }
  }
  finish();
} finally {
  if (nginx !== null) await nginx.stop();
  else server.kill();
  await agent.destroy();
  if (typeof undiciAgent?.close === "function") await undiciAgent.close();
}
