/**
 * HTTP/2 server benchmark: ffinet `serve` over h2c (prior knowledge)
 * against `node:http2` createServer on the same runtime, the same
 * "Hello, World!" handler, each in a child process of this runtime, loaded
 * by `h2load -c10 -m10` (10 connections, 10 streams each). Alternating
 * rounds (H2_ROUNDS, default 3, H2_SECONDS each, default 3, after
 * H2_WARMUP seconds of load, default 3), median req/s
 * and the server's CPU µs per request (from /proc/PID/stat). Cases: "hello"
 * (13-byte body), "json 1 KiB" and "64 KiB" (a byte body, more than one
 * DATA frame: queued, then framed by the flush); H2_CASES picks some by
 * name (comma-separated, e.g. `H2_CASES="64 KiB"`). H2_LIGHT=1: the ffinet server runs with
 * `installLightResponse()` (the same handler, the runtime's `Response`
 * replaced by the light one; cases marked "light"; the child inherits the
 * environment).
 *
 * Needs `h2load` (apt-get install -y nghttp2-client). Run: node scripts/bench.mjs h2_server [--runtime=node]
 * (or directly: node --import tsx bench/h2_server.ts).
 *
 * @module
 */
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { finish, record, RUNTIME } from "./harness.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const proc = (globalThis as unknown as { process: { execPath: string; argv: string[]; env: Record<string, string | undefined> } }).process;
const ROUNDS = Number(proc.env.H2_ROUNDS ?? 3);
const SECONDS = Number(proc.env.H2_SECONDS ?? 3);
/** Seconds of load before each measured run: the JIT's compile threads of the first seconds are not counted (http_server's reason for HTTP_WARMUP). */
const WARMUP = Number(proc.env.H2_WARMUP ?? 3);
const CLK_TCK = 100;
const LIGHT = proc.env.H2_LIGHT === "1";
const FILE_BODY = new Uint8Array(65536).map((_, i) => 32 + (i % 90));
const CASES = proc.env.H2_CASES?.split(",").map((c) => c.trim());
const JSON_BODY = JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item-${i}`, ok: true, pad: "x".repeat(20) })) }).slice(0, 1024);

function handler(request: Request): Response {
  if (request.url.endsWith("/file")) return new Response(FILE_BODY, { headers: { "content-type": "application/octet-stream" } });
  if (request.url.endsWith("/json")) return new Response(JSON_BODY, { headers: { "content-type": "application/json" } });
  return new Response("Hello, World!", { headers: { "content-type": "text/plain" } });
}

async function runServer(kind: string): Promise<void> {
  let port = 0;
  if (kind === "ffinet") {
    const { installLightResponse, serve } = await import("../http/server/mod.ts");
    if (LIGHT) installLightResponse();
    port = serve({ port: 0, fetch: handler }).addr.port;
  } else {
    const http2 = await import("node:http2");
    const server = http2.createServer((req, res) => {
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

function runtimeArgs(): [string, string[]] {
  const script = "bench/h2_server.ts";
  if (RUNTIME === "deno") return [proc.execPath, ["run", "-A", script]];
  if (RUNTIME === "bun") return [proc.execPath, [script]];
  return [proc.execPath, ["--import", "tsx", script]];
}

function startServer(kind: string): Promise<{ pid: number; port: number; kill(): void; exited: Promise<void> }> {
  const [cmd, args] = runtimeArgs();
  const child = spawn(cmd, [...args, `serve-${kind}`], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      buf += String(d);
      const m = /PORT (\d+)/.exec(buf);
      if (m) resolve({ pid: child.pid!, port: Number(m[1]), kill: () => child.kill("SIGKILL"), exited });
    });
    void exited.then(() => reject(new Error(`${kind} server exited`)));
  });
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** h2load -c10 -m10 for `seconds`; resolves with req/s (only when every request succeeded). */
function h2load(url: string, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile("h2load", ["-c10", "-m10", "-t1", "-D", String(seconds), url], { timeout: (seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(err);
      const m = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(stdout);
      const counts = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(stdout);
      if (!m || !counts) return reject(new Error(`h2load said: ${stdout}`));
      if (counts[4] !== "0" || counts[5] !== "0") return reject(new Error(`h2load: ${counts[4]} failed, ${counts[5]} errored`));
      resolve(Number(m[1]));
    });
  });
}

async function round(kind: string, path: string): Promise<{ rps: number; cpuUs: number }> {
  const server = await startServer(kind);
  let exited = false;
  server.exited.then(() => (exited = true));
  try {
    const url = `http://127.0.0.1:${server.port}${path}`;
    await h2load(url, WARMUP);
    const before = cpuTicks(server.pid);
    const rps = await h2load(url, SECONDS);
    if (exited) throw new Error(`the ${kind} server exited during the run`);
    const ticks = cpuTicks(server.pid) - before;
    return { rps, cpuUs: (ticks / CLK_TCK) * 1e6 / (rps * SECONDS) };
  } finally {
    server.kill();
  }
}

function h2loadInstalled(): Promise<boolean> {
  return new Promise((resolve) => execFile("h2load", ["--version"], (err) => resolve(err === null || (err as { code?: unknown }).code !== "ENOENT")));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const args = RUNTIME === "deno" ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args : proc.argv.slice(2);
const serveArg = args.find((a) => a.startsWith("serve-"));
if (serveArg !== undefined) {
  await runServer(serveArg.slice(6));
} else if (!(await h2loadInstalled())) {
  console.log("# h2load is not installed (apt-get install -y nghttp2-client): h2_server skipped");
  finish();
} else {
  const peerName = "node:http2";
  for (const [plain, path] of [["hello", "/"], ["json 1 KiB", "/json"], ["64 KiB", "/file"]] as const) {
    if (CASES !== undefined && !CASES.includes(plain)) continue;
    const name = LIGHT ? `${plain} light` : plain;
    const ours = { rps: [] as number[], cpu: [] as number[] };
    const peer = { rps: [] as number[], cpu: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? ["ffinet", "native"] : ["native", "ffinet"];
      for (const kind of order) {
        let res: { rps: number; cpuUs: number };
        try {
          res = await round(kind, path);
        } catch (err) {
          // Deno's node:http2 server has died mid-run here (free(): invalid pointer): the round is left out, and said.
          console.log(`# ${RUNTIME} ${name} round ${r} ${kind}: failed (${(err as Error).message.split("\n")[0]})`);
          continue;
        }
        const into = kind === "ffinet" ? ours : peer;
        into.rps.push(res.rps);
        into.cpu.push(res.cpuUs);
        console.log(`# ${RUNTIME} ${name} round ${r} ${kind}: ${res.rps.toFixed(0)} req/s, ${res.cpuUs.toFixed(1)} µs/req`);
      }
    }
    if (ours.rps.length === 0 || peer.rps.length === 0) {
      console.log(`# ${RUNTIME} ${name}: no comparison (a side failed every round)`);
      continue;
    }
    record({ bench: "h2_server", case: `${name} h2load -c10 -m10 req/s`, unit: "req/s", ours: median(ours.rps), peer: median(peer.rps), peerName });
    record({ bench: "h2_server", case: `${name} h2load -c10 -m10 CPU/req`, unit: "µs/req", ours: median(ours.cpu), peer: median(peer.cpu), peerName });
  }
  finish();
}
