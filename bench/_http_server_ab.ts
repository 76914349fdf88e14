/**
 * A paired A/B of the ffinet HTTP server between checkouts: one server
 * child per tree (`bench/http_server.ts serve-ffinet` of each, on the
 * current runtime, started once and kept), loaded in turn by
 * `wrk -t1 -c50` for short rounds, alternating which goes first; per round
 * the server's CPU µs per request (from /proc/PID/stat) and the ratio of
 * the pair. On a loaded machine the per-round ratio is far steadier than
 * each side's own numbers. Not part of `scripts/bench.mjs` (a helper, `_`).
 *
 * Run: `ROOTS=/old/checkout,/new/checkout node --import tsx bench/_http_server_ab.ts`
 * (or `bun`, or `deno run -A`). `AB_PATH` (default `/file`, the 64 KiB
 * body; `/json`, `/`), `AB_ROUNDS` (default 10), `AB_SECONDS` (default 2),
 * `AB_WARMUP` seconds per server first (default 4), `AB_CONNS` wrk's
 * connections (default 50; 1: strict ping-pong, each request a loop turn
 * of its own, as when a server is faster than its client); `HTTP_LIGHT=1` is passed
 * on to the servers. A root written `native:/checkout` runs that tree's
 * benchmark with the runtime's own server instead (node:http, Deno.serve,
 * Bun.serve), for the ratio against it. `AB_STRACE=1` prints instead each server's system
 * calls per request (`strace -c -f` over one round). The medians of user
 * and system CPU and of minor page faults per request are printed too.
 * `AB_ENVS` gives each server (in `ROOTS` order) its own environment, one
 * `;`-separated list of `NAME=value` per root, the lists separated by `,`:
 * `ROOTS=$PWD,$PWD AB_ENVS=FFINET_IO=readiness,FFINET_IO=uring` compares
 * readiness I/O with io_uring on one tree.
 *
 * @module
 */
import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { type ServerChild, wrk } from "./_wrk_server.ts";
import { RUNTIME } from "./harness.ts";

const proc = (globalThis as unknown as { process: { execPath: string; env: Record<string, string | undefined> } }).process;
const here = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const roots = (proc.env.ROOTS ?? here).split(",");
const PATH = proc.env.AB_PATH ?? "/file";
const ROUNDS = Number(proc.env.AB_ROUNDS ?? 10);
const SECONDS = Number(proc.env.AB_SECONDS ?? 2);
const WARMUP = Number(proc.env.AB_WARMUP ?? 4);
const CONNS = Number(proc.env.AB_CONNS ?? 50);
/** Each root's extra environment (`AB_ENVS`: `A=1;B=2,A=3`, in `ROOTS` order). */
const envs: Record<string, string>[] = roots.map((_, i) => {
  const spec = (proc.env.AB_ENVS ?? "").split(",")[i] ?? "";
  return Object.fromEntries(spec.split(";").filter((kv) => kv.includes("=")).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
});
const label = (i: number): string => `${roots[i]}${Object.keys(envs[i]!).length > 0 ? ` (${Object.entries(envs[i]!).map(([k, v]) => `${k}=${v}`).join(" ")})` : ""}`;

/** `root` may be `native:ROOT`: that tree's benchmark serving with the runtime's own server. */
function start(spec: string, env: Record<string, string>): Promise<ServerChild> {
  const native = spec.startsWith("native:");
  const root = native ? spec.slice(7) : spec;
  const script = "bench/http_server.ts";
  const [cmd, args] = RUNTIME === "deno"
    ? [proc.execPath, ["run", "-A", script]]
    : RUNTIME === "bun"
    ? [proc.execPath, [script]]
    : [proc.execPath, ["--import", "tsx", script]];
  const child = spawn(cmd, [...args, native ? "serve-native" : "serve-ffinet"], {
    cwd: root,
    env: { ...proc.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      buf += String(d);
      const m = /PORT (\d+)/.exec(buf);
      if (m) resolve({ pid: child.pid!, port: Number(m[1]), kill: () => child.kill("SIGKILL") });
    });
    child.on("close", () => reject(new Error(`server of ${root} exited`)));
  });
}

function strace(pid: number, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const st = spawn("strace", ["-c", "-f", "-p", String(pid)], { stdio: ["ignore", "ignore", "pipe"] });
    let out = "";
    st.stderr!.on("data", (d: Uint8Array) => (out += String(d)));
    st.on("close", () => resolve(out));
    setTimeout(() => {
      wrk(url, SECONDS, CONNS).then((rps) => {
        out += `# ${rps.toFixed(0)} req/s during the trace\n`;
        st.kill("SIGINT");
      }, reject);
    }, 500);
  });
}

/** User and system CPU ticks and minor page faults of process `pid` so far (/proc/PID/stat). */
function usage(pid: number): { user: number; system: number; faults: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]), system: Number(f[12]), faults: Number(f[7]) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const uptime = (): Promise<string> => new Promise((r) => execFile("uptime", (_e, out) => r(String(out).trim())));

const servers: ServerChild[] = [];
try {
  for (const [i, root] of roots.entries()) servers.push(await start(root, envs[i]!));
  for (const s of servers) await wrk(`http://127.0.0.1:${s.port}${PATH}`, WARMUP, CONNS);
  if (proc.env.AB_STRACE === "1") {
    for (let i = 0; i < servers.length; i++) {
      console.log(`## ${label(i)}`);
      console.log(await strace(servers[i]!.pid, `http://127.0.0.1:${servers[i]!.port}${PATH}`));
    }
  } else {
    const cpu: number[][] = servers.map(() => []);
    const split: Array<{ user: number[]; system: number[]; faults: number[] }> = servers.map(() => ({ user: [], system: [], faults: [] }));
    const ratios: number[] = [];
    console.log(`# ${RUNTIME} ${PATH} -c${CONNS} light=${proc.env.HTTP_LIGHT === "1"} ${await uptime()}`);
    for (let r = 0; r < ROUNDS; r++) {
      const order = servers.map((_, i) => i);
      if (r % 2 === 1) order.reverse();
      const us: number[] = [];
      for (const i of order) {
        const s = servers[i]!;
        const before = usage(s.pid);
        const rps = await wrk(`http://127.0.0.1:${s.port}${PATH}`, SECONDS, CONNS);
        const after = usage(s.pid);
        const requests = rps * SECONDS;
        const user = ((after.user - before.user) / 100) * 1e6 / requests;
        const system = ((after.system - before.system) / 100) * 1e6 / requests;
        us[i] = user + system;
        cpu[i]!.push(us[i]!);
        split[i]!.user.push(user);
        split[i]!.system.push(system);
        split[i]!.faults.push((after.faults - before.faults) / requests);
      }
      if (servers.length === 2) ratios.push(us[0]! / us[1]!);
      console.log(`round ${r}: ${us.map((u) => u.toFixed(1)).join(" / ")} µs/req${servers.length === 2 ? `, ratio ${(us[0]! / us[1]!).toFixed(3)}` : ""}`);
    }
    for (const i of roots.keys()) {
      const p = split[i]!;
      console.log(`${label(i)}: user ${median(p.user).toFixed(1)} + system ${median(p.system).toFixed(1)} µs/req, ${median(p.faults).toFixed(2)} minor faults/req (medians)`);
    }
    console.log(`medians: ${cpu.map((c) => median(c).toFixed(1)).join(" / ")} µs/req${ratios.length > 0 ? `; paired ratio (A/B, > 1: B uses less) median ${median(ratios).toFixed(3)}` : ""}; ${await uptime()}`);
  }
} finally {
  for (const s of servers) s.kill();
}
