/**
 * Echo benchmark: our async echo server (poll/listener.ts, handler mode),
 * once with readiness I/O (epoll) and once with io_uring completions
 * (`io: "uring"`), and a bare epoll loop as the floor, vs the runtime's own
 * (node:net, Deno.listen, Bun.listen), each in a child process of this
 * runtime, driven by an external load client (a blocking epoll loop run on
 * Bun, bench/echo_client.ts): 50 connections, 64-byte messages, one in
 * flight per connection. Alternating rounds (ECHO_ROUNDS, default 5; the
 * four servers rotate their order from round to round), median requests/s
 * and the server's CPU µs per request (from /proc/PID/stat; each round also
 * prints the user and system parts), and the median of the per-round
 * ratios. Then 10,000
 * idle connections: server RSS growth per connection, for each server.
 *
 * A fourth server, "floor", is the least any epoll echo server can do: one
 * thread blocked in epoll_wait, one recv and one send per ready connection
 * through FFI, nothing else (bench/echo_server.ts). Its system time per
 * request is the kernel's share that every server pays (recv + send over
 * loopback; on loopback the send also runs the client's receive path). The
 * runtime server's CPU per request divided by it is the most any epoll
 * server could show against that server on this machine; divided by our
 * io_uring server's system time, the same for io_uring (which saves the
 * per-operation system calls). The bench prints both ceilings.
 *
 * Reading the numbers: server and client each keep about one of the two
 * cores busy, so req/s follows the server's CPU per request, and CPU µs per
 * request is the steadier figure. About 5–6 µs of it is kernel time for
 * every server alike; node:net adds ~2.5–3.5 µs/req in user space,
 * Deno.listen ~2, Bun.listen ~0.7–1.1, ffinet ~0.4–1.
 *
 * Run: node scripts/bench.mjs echo [--runtime=node]
 *
 * @module
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { finish, record, RUNTIME } from "./harness.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const proc = (globalThis as unknown as { process: { execPath: string; env: Record<string, string | undefined> } }).process;
const ROUNDS = Number(proc.env.ECHO_ROUNDS ?? 5);
const SECONDS = Number(proc.env.ECHO_SECONDS ?? 3);
const CONNECTIONS = 50;
const IDLE_CONNECTIONS = Number(proc.env.ECHO_IDLE ?? 10_000);
const CLK_TCK = 100;

interface Child {
  pid: number;
  lines: AsyncIterator<string>;
  kill(): void;
  exited: Promise<void>;
}

function start(cmd: string, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...proc.env, ...env } });
  const queue: string[] = [];
  const waiters: ((v: IteratorResult<string>) => void)[] = [];
  let buffer = "";
  let done = false;
  child.stdout!.on("data", (d: Uint8Array) => {
    buffer += String(d);
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const w = waiters.shift();
      if (w) w({ value: line, done: false });
      else queue.push(line);
    }
  });
  const exited = new Promise<void>((resolve) => child.on("close", () => {
    done = true;
    for (const w of waiters.splice(0)) w({ value: undefined, done: true });
    resolve();
  }));
  return {
    pid: child.pid!,
    lines: {
      next: () => {
        const line = queue.shift();
        if (line !== undefined) return Promise.resolve({ value: line, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((r) => waiters.push(r));
      },
    },
    kill: () => child.kill("SIGKILL"),
    exited,
  };
}

function runtimeArgs(script: string): [string, string[]] {
  if (RUNTIME === "deno") return [proc.execPath, ["run", "-A", script]];
  if (RUNTIME === "bun") return [proc.execPath, [script]];
  return [proc.execPath, ["--import", "tsx", script]];
}

async function line(child: Child, prefix: string): Promise<string> {
  for (;;) {
    const r = await child.lines.next();
    if (r.done) throw new Error(`child exited before printing ${prefix}`);
    if (r.value.startsWith(prefix)) return r.value;
  }
}

/** The server's CPU time so far in clock ticks: [user, system]. */
function cpuTicks(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(fields[11]), Number(fields[12])];
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return Number(m?.[1] ?? 0) * 1024;
}

type Kind = "ffinet" | "uring" | "floor" | "native";
const KINDS: Kind[] = ["ffinet", "uring", "floor", "native"];

async function startServer(kind: Kind): Promise<{ server: Child; port: number }> {
  const [cmd, args] = runtimeArgs("bench/echo_server.ts");
  const server = start(cmd, [...args, kind]);
  if (kind === "uring") {
    const io = (await line(server, "IO ")).slice(3);
    if (io !== "io_uring") console.log(`# io_uring unavailable here: the uring server runs ${io}`);
  }
  const port = Number((await line(server, "PORT ")).slice(5));
  return { server, port };
}

async function client(args: string[]): Promise<Child> {
  return start(`${root}node_modules/.bin/bun`, ["bench/echo_client.ts", ...args]);
}

async function loadRound(kind: Kind): Promise<{ rps: number; cpuUs: number; userUs: number; sysUs: number }> {
  const { server, port } = await startServer(kind);
  try {
    const warm = await client(["load", String(port), String(CONNECTIONS), "0.5", "64"]);
    await line(warm, "{");
    const before = cpuTicks(server.pid);
    const load = await client(["load", String(port), String(CONNECTIONS), String(SECONDS), "64"]);
    const result = JSON.parse(await line(load, "{")) as { requests: number; seconds: number };
    const after = cpuTicks(server.pid);
    const perRequest = (ticks: number) => (ticks * 1e6 / CLK_TCK) / result.requests;
    const user = after[0] - before[0];
    const sys = after[1] - before[1];
    return { rps: result.requests / result.seconds, cpuUs: perRequest(user + sys), userUs: perRequest(user), sysUs: perRequest(sys) };
  } finally {
    server.kill();
    await server.exited;
  }
}

async function idleRound(kind: Kind): Promise<number> {
  const { server, port } = await startServer(kind);
  try {
    await new Promise((r) => setTimeout(r, 300));
    const before = rssBytes(server.pid);
    const holder = await client(["idle", String(port), String(IDLE_CONNECTIONS)]);
    await line(holder, "READY");
    await new Promise((r) => setTimeout(r, 500));
    const after = rssBytes(server.pid);
    holder.kill();
    await holder.exited;
    return (after - before) / IDLE_CONNECTIONS;
  } finally {
    server.kill();
    await server.exited;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const peerName = RUNTIME === "node" ? "node:net" : RUNTIME === "deno" ? "Deno.listen" : "Bun.listen";

const runs: Record<Kind, { rps: number[]; cpu: number[]; sys: number[] }> = {
  ffinet: { rps: [], cpu: [], sys: [] },
  uring: { rps: [], cpu: [], sys: [] },
  floor: { rps: [], cpu: [], sys: [] },
  native: { rps: [], cpu: [], sys: [] },
};
for (let round = 0; round < ROUNDS; round++) {
  // Rotate so each server runs first, second and third in turn.
  const order = KINDS.map((_, i) => KINDS[(i + round) % KINDS.length]!);
  for (const kind of order) {
    const r = await loadRound(kind);
    runs[kind].rps.push(r.rps);
    runs[kind].cpu.push(r.cpuUs);
    runs[kind].sys.push(r.sysUs);
    console.log(`# round ${round} ${kind}: ${r.rps.toFixed(0)} req/s, ${r.cpuUs.toFixed(2)} µs CPU/req (${r.userUs.toFixed(2)} user, ${r.sysUs.toFixed(2)} system)`);
  }
}
const label = { ffinet: "epoll", uring: "io_uring", floor: "floor: bare epoll loop," } as const;
for (const kind of ["ffinet", "uring", "floor"] as const) {
  const ours = runs[kind];
  const peer = runs.native;
  record({ bench: "echo", case: `${label[kind]} ${CONNECTIONS} conns 64 B req/s`, unit: "req/s", ours: median(ours.rps), peer: median(peer.rps), peerName });
  record({ bench: "echo", case: `${label[kind]} ${CONNECTIONS} conns CPU/req`, unit: "µs/req", ours: median(ours.cpu), peer: median(peer.cpu), peerName });
  // Paired view: the ratio within each round (the servers of one round ran
  // within seconds of each other, in the same phase of the machine).
  const paired = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!)).toFixed(2);
  console.log(`# ${label[kind]} vs ${peerName}, median of per-round ratios: req/s ${paired(ours.rps, peer.rps)}, CPU/req ${paired(peer.cpu, ours.cpu)}`);
}
{
  // The kernel's share per request: system time of the floor server (epoll)
  // and of our io_uring server (which saves the per-operation system calls).
  const peerCpu = median(runs.native.cpu);
  for (const [name, sys] of [["epoll", median(runs.floor.sys)], ["io_uring", median(runs.uring.sys)]] as const) {
    console.log(`# ${name}: kernel share ${sys.toFixed(2)} µs/req; ${peerName} ${peerCpu.toFixed(2)} µs CPU/req, ` +
      `so a server with no user-space cost at all would reach ${(peerCpu / sys).toFixed(2)}x here`);
  }
}
if (IDLE_CONNECTIONS > 0) {
  const idle = { ffinet: await idleRound("ffinet"), uring: await idleRound("uring"), native: await idleRound("native") };
  for (const kind of ["ffinet", "uring"] as const) {
    record({ bench: "echo", case: `${label[kind]} ${IDLE_CONNECTIONS} idle RSS/conn`, unit: "B/conn", ours: idle[kind], peer: idle.native, peerName });
  }
}
finish();
