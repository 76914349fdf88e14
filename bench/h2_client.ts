/**
 * HTTP/2 client benchmark: ffinet `request` and `fetch` (an https: Agent
 * that picks h2 by ALPN: one connection) against node:http2's client (one
 * `ClientHttp2Session`, `session.request()`) and, on Node, npm undici's
 * `request` with `allowH2` — all against one local nginx (bench/_nginx.ts:
 * one worker, the test PKI's certificate, a 1 KiB body; node:http2 servers
 * in a child process when nginx is not installed or with
 * BENCH_SERVER=node), 50 requests in flight on one connection each, every
 * body read. Also an h2c row: ffinet (`http2: "prior-knowledge"`) against
 * node:http2's client on nginx's cleartext h2 port (undici has no h2c).
 * The case names end in the server (`@nginx`, `@node:http2`). Alternating rounds (CLIENT_ROUNDS,
 * default 3, CLIENT_SECONDS each, default 2); median req/s and the client's
 * CPU µs per request, after a warm-up of CLIENT_WARMUP seconds (default 5) per contender.
 * `bench/_h2_client_cpu.ts` measures the client's own CPU per request
 * without I/O (steadier on a loaded machine; A/B across checkouts).
 *
 * Run: node scripts/bench.mjs h2_client [--runtime=node]
 *
 * @module
 */
import { spawn } from "node:child_process";
import http2 from "node:http2";
import { finish, record, RUNTIME } from "./harness.ts";
import { Agent, fetch as ffFetch, Pool, request as ffRequest } from "../http/client/mod.ts";
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
const http2 = require("node:http2");
const body = Buffer.alloc(1024, 120);
const onStream = (stream) => {
  stream.on("error", () => {});
  stream.respond({ ":status": 200, "content-type": "text/plain", "content-length": "1024" });
  stream.end(body);
};
const settings = { maxConcurrentStreams: 1000 };
const tls = http2.createSecureServer({ key: process.env.KEY, cert: process.env.CERT, settings });
tls.on("stream", onStream);
const plain = http2.createServer({ settings });
plain.on("stream", onStream);
tls.listen(0, "127.0.0.1", () => plain.listen(0, "127.0.0.1", () =>
  console.log("PORTS " + tls.address().port + " " + plain.address().port)));
`;

function startServer(key: string, cert: string): Promise<{ tls: number; plain: number; kill(): void }> {
  const child = spawn("node", ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"], env: { ...proc.env, KEY: key, CERT: cert } });
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      buf += String(d);
      const m = /PORTS (\d+) (\d+)/.exec(buf);
      if (m) resolve({ tls: Number(m[1]), plain: Number(m[2]), kill: () => child.kill("SIGKILL") });
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

/**
 * node:http2's client session for one URL, opened again after the server's
 * GOAWAY or a close: nginx ends a connection after its request limit, which
 * a long run (CLIENT_WARMUP=15) reached, and `session.request()` on the
 * old one then threw `ERR_HTTP2_GOAWAY_SESSION`. ffinet's pool does the
 * same (a fresh connection after GOAWAY), so both pay for reconnecting.
 */
class NodeSession {
  readonly url: string;
  readonly options: http2.SecureClientSessionOptions;
  #session: http2.ClientHttp2Session | undefined;
  /** Sessions given up (GOAWAY or closed): each one's successor is opened on demand. */
  reconnects = 0;

  constructor(url: string, options: http2.SecureClientSessionOptions = {}) {
    this.url = url;
    this.options = options;
  }

  /** A session that takes new streams (a new one when the last got GOAWAY or closed). */
  get(): http2.ClientHttp2Session {
    const s = this.#session;
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    const next = http2.connect(this.url, this.options);
    next.on("error", () => {}); // surfaces on its streams
    next.once("goaway", () => this.#retire(next));
    next.once("close", () => this.#retire(next));
    this.#session = next;
    return next;
  }

  /** No new streams on `s`: the next get() opens another; `s` closes once its streams ended. */
  #retire(s: http2.ClientHttp2Session): void {
    if (this.#session === s) {
      this.#session = undefined;
      this.reconnects++;
    }
    if (!s.closed && !s.destroyed) s.close();
  }

  close(): void {
    this.#session?.close();
    this.#session = undefined;
  }
}

/** A stream the server did not take (GOAWAY, refused, the session going away): safe to send again. */
function notProcessed(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === "ERR_HTTP2_GOAWAY_SESSION" || e.code === "ERR_HTTP2_INVALID_SESSION" ||
    e.code === "ERR_HTTP2_STREAM_CANCEL" || (e.code === "ERR_HTTP2_STREAM_ERROR" && /REFUSED_STREAM/.test(String(e.message)));
}

/** One GET on a node:http2 session, reading the body; a stream the server did not take goes again on a fresh session. */
function nodeGet(sessions: NodeSession, tries = 3): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = sessions.get().request({ ":path": path });
    req.on("data", () => {});
    req.on("end", () => resolve());
    req.on("error", reject);
    req.end();
  }).catch((err: unknown) => {
    if (tries > 1 && notProcessed(err)) return nodeGet(sessions, tries - 1);
    throw err;
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const pki = testPKI();
const nginx = proc.env.BENCH_SERVER === "node" ? null : await startNginx({ certPath: pki.paths["leaf_chain.pem"]!, keyPath: pki.paths["leaf.key"]! });
const server = nginx !== null ? { tls: nginx.tlsPort, plain: nginx.h2cPort, kill: () => void nginx.stop() } : await startServer(pki.key, pki.chain);
const path = nginx !== null ? "/1k" : "/";
const tlsUrl = `https://localhost:${server.tls}${path}`;
const plainUrl = `http://127.0.0.1:${server.plain}${path}`;
const at = nginx !== null ? "@nginx" : "@node:http2";
console.log(`# server: ${nginx !== null ? `nginx ${nginx.version}` : "node:http2"}`);
const agent = new Agent({ tls: { ca: pki.root } });
const h2cPool = new Pool(plainUrl, { http2: "prior-knowledge" });
const nodeTls = new NodeSession(tlsUrl, { ca: pki.root });
const nodePlain = new NodeSession(plainUrl);

const contenders: Record<string, OneRequest> = {
  "ffinet request h2": async () => {
    const r = await ffRequest(tlsUrl, { dispatcher: agent });
    await r.body.arrayBuffer();
  },
  "ffinet fetch h2": async () => {
    const r = await ffFetch(tlsUrl, { dispatcher: agent });
    await r.arrayBuffer();
  },
  "node:http2 h2": () => nodeGet(nodeTls),
  "ffinet request h2c": async () => {
    const r = await ffRequest(plainUrl, { dispatcher: h2cPool });
    await r.body.arrayBuffer();
  },
  "node:http2 h2c": () => nodeGet(nodePlain),
};

let undiciAgent: { close(): Promise<void> } | undefined;
if (RUNTIME === "node") {
  try {
    const undici = await import("undici");
    const ua = new undici.Agent({ allowH2: true, connections: 1, connect: { ca: pki.root } });
    undiciAgent = ua;
    contenders["undici.request h2"] = async () => {
      const r = await undici.request(tlsUrl, { dispatcher: ua });
      await r.body.arrayBuffer();
    };
  } catch (err) {
    console.log(`# undici is not usable: ${String(err).slice(0, 120)}`);
  }
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
  const pairs: Array<[string, string]> = [
    ["ffinet request h2", "node:http2 h2"],
    ["ffinet fetch h2", "node:http2 h2"],
    ["ffinet request h2c", "node:http2 h2c"],
  ];
  if (contenders["undici.request h2"]) pairs.push(["ffinet request h2", "undici.request h2"]);
  // Paired ratios: the same round's numbers, which share the machine's load of that moment (medians over rounds).
  const paired = (xs: number[], ys: number[]) => median(xs.map((x, i) => x / ys[i]!));
  for (const [ours, peer] of pairs) {
    const r = results[ours]!;
    const q = results[peer]!;
    console.log(`# ${RUNTIME} paired ${ours} / ${peer}: req/s ${paired(r.rps, q.rps).toFixed(2)}, CPU/req (peer/ours) ${paired(q.cpu, r.cpu).toFixed(2)}`);
  }
  for (const [ours, peer] of pairs) {
    record({ bench: "h2_client", case: `${ours} c${IN_FLIGHT} 1KiB req/s ${at}`, unit: "req/s", ours: rps(ours), peer: rps(peer), peerName: peer });
    if (!Number.isNaN(cpu(ours)) && !Number.isNaN(cpu(peer))) {
      record({ bench: "h2_client", case: `${ours} c${IN_FLIGHT} 1KiB CPU/req ${at}`, unit: "µs/req", ours: cpu(ours), peer: cpu(peer), peerName: peer });
    }
  }
  console.log(`# node:http2 sessions opened again after GOAWAY/close: h2 ${nodeTls.reconnects}, h2c ${nodePlain.reconnects}`);
  finish();
} finally {
  nodeTls.close();
  nodePlain.close();
  await agent.destroy();
  await h2cPool.destroy();
  if (typeof undiciAgent?.close === "function") await undiciAgent.close();
  if (nginx !== null) await nginx.stop();
  else server.kill();
}
