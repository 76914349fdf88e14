/**
 * Short connections, readiness I/O against io_uring: `serve` (a 13-byte
 * hello) loaded by `wrk -t1 -c50 -H "Connection: close"`, so every request
 * is a connect, a request, a response and a close. Over io_uring a
 * connection that stops reading arms a multishot POLL_ADD for the peer's
 * hang-up (poll/uring/stream.ts) and cancels it at close: this A/B prices
 * that and the rest of io_uring's per-connection cost (accept, ring
 * registration, close through the ring) against epoll's.
 *
 * Alternating rounds (SHORT_ROUNDS, default 6; SHORT_SECONDS each, default
 * 4, after SHORT_WARMUP seconds of wrk, default 2), each a fresh server
 * child with FFINET_IO set; the median connections per second and the
 * server's CPU µs per connection (/proc/PID/stat), the median of the
 * per-round ratios, and the load. SHORT_VARIANTS (default
 * "readiness,uring") names the variants; "NAME=DIR:IO" runs the server
 * from another checkout DIR (a clone with a change to compare) with
 * FFINET_IO=IO.
 *
 * Run: node --import tsx bench/_short_conn_ab.ts (Node; SHORT_RUNTIME=deno
 * or bun runs the servers on that runtime). Needs wrk.
 *
 * @module
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const proc = (globalThis as unknown as { process: { argv: string[]; env: Record<string, string | undefined>; execPath: string } }).process;
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");

if (proc.argv.includes("serve")) {
  const { serve } = await import("../http/server/mod.ts");
  const server = serve({ port: 0, fetch: () => new Response("Hello, World!") });
  console.log(`PORT ${server.addr.port} IO ${proc.env.FFINET_IO ?? ""}`);
} else {
  const ROUNDS = Number(proc.env.SHORT_ROUNDS ?? 6);
  const SECONDS = Number(proc.env.SHORT_SECONDS ?? 4);
  const WARMUP = Number(proc.env.SHORT_WARMUP ?? 2);
  const RUNTIME = proc.env.SHORT_RUNTIME ?? "node";
  const CLK_TCK = 100;
  const variants = (proc.env.SHORT_VARIANTS ?? "readiness,uring").split(",").map((v) => {
    const m = /^([^=]+)=(.+):(\w+)$/.exec(v);
    return m ? { name: m[1]!, dir: m[2]!, io: m[3]! } : { name: v, dir: root, io: v };
  });

  const command = (dir: string): [string, string[]] => {
    const script = resolve(dir, "bench/_short_conn_ab.ts");
    const exe = (name: string): string => (existsSync(resolve(root, "node_modules/.bin", name)) ? resolve(root, "node_modules/.bin", name) : name);
    if (RUNTIME === "deno") return [exe("deno"), ["run", "-A", script, "serve"]];
    if (RUNTIME === "bun") return [exe("bun"), [script, "serve"]];
    return [proc.execPath, ["--import", "tsx", script, "serve"]];
  };
  const ticks = (pid: number): number => {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  };
  const wrk = (port: number, seconds: number): Promise<number> =>
    new Promise((res, rej) =>
      execFile("wrk", ["-t1", "-c50", `-d${seconds}s`, "-H", "Connection: close", `http://127.0.0.1:${port}/`], (err, out) => {
        if (err) return rej(err);
        const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
        if (!m || /Socket errors/.test(out) && /read \d+[1-9]/.test(out)) console.error(out);
        m ? res(Number(m[1])) : rej(new Error(out));
      })
    );
  const round = async (v: { dir: string; io: string }): Promise<{ cps: number; us: number }> => {
    const [cmd, args] = command(v.dir);
    const child = spawn(cmd, args, { cwd: v.dir, stdio: ["ignore", "pipe", "inherit"], env: { ...proc.env, FFINET_IO: v.io } });
    try {
      const port = await new Promise<number>((res, rej) => {
        let buf = "";
        child.stdout!.on("data", (d: Uint8Array) => {
          buf += String(d);
          const m = /PORT (\d+)/.exec(buf);
          if (m) res(Number(m[1]));
        });
        child.on("close", () => rej(new Error("server exited")));
      });
      await wrk(port, WARMUP);
      const before = ticks(child.pid!);
      const cps = await wrk(port, SECONDS);
      const us = ((ticks(child.pid!) - before) / CLK_TCK) * 1e6 / (cps * SECONDS);
      return { cps, us };
    } finally {
      child.kill("SIGKILL");
    }
  };
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const results = variants.map(() => ({ cps: [] as number[], us: [] as number[] }));
  const loads: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? variants.map((_, i) => i) : variants.map((_, i) => i).reverse();
    for (const i of order) {
      const got = await round(variants[i]!);
      results[i]!.cps.push(got.cps);
      results[i]!.us.push(got.us);
      loads.push(loadavg()[0]!);
      console.log(`round ${r + 1} ${variants[i]!.name}: ${got.cps.toFixed(0)} conn/s, ${got.us.toFixed(1)} µs CPU/conn (load ${loadavg()[0]!.toFixed(1)})`);
    }
  }
  const base = results[0]!;
  for (let i = 0; i < variants.length; i++) {
    const res = results[i]!;
    const ratio = median(res.us.map((u, k) => base.us[k]! / u));
    console.log(`# ${RUNTIME} ${variants[i]!.name}: ${median(res.cps).toFixed(0)} conn/s, ${median(res.us).toFixed(1)} µs CPU/conn; ${variants[0]!.name}÷this CPU per conn, median of rounds ${ratio.toFixed(3)}`);
  }
  console.log(`# load during the rounds ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`);
}
