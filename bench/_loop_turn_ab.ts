/**
 * A paired, in-process A/B of the Loop's own per-turn cost between
 * checkouts: each tree's `poll/loop.ts` and `socket/socket.ts` are imported
 * into this one process, each serves a strict ping-pong (one byte each way
 * over TCP on 127.0.0.1, a python3 client per tree driven over its stdin),
 * and rounds alternate between the trees (which goes first alternates
 * too). Per round: this process's CPU µs per round trip
 * (`process.cpuUsage`, every thread: the loop's helper too) and the loop's
 * stats per round trip. One round trip is one loop tick on the server: the
 * regime of a server faster than its client. Not part of
 * `scripts/bench.mjs` (a helper, `_`).
 *
 * Run: `ROOTS=/old/checkout,/new/checkout node --import tsx bench/_loop_turn_ab.ts`
 * (or `bun`, or `deno run -A`); `LT_ROUNDS` (default 10), `LT_TRIPS` round
 * trips per round (default 4000).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { RUNTIME } from "./harness.ts";

const proc = (globalThis as unknown as {
  process: { env: Record<string, string | undefined>; cpuUsage(): { user: number; system: number } };
}).process;
const roots = (proc.env.ROOTS ?? "").split(",").filter((r) => r !== "");
if (roots.length !== 2) throw new Error("ROOTS=/old,/new");
const ROUNDS = Number(proc.env.LT_ROUNDS ?? 10);
const TRIPS = Number(proc.env.LT_TRIPS ?? 4000);

const CLIENT = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for line in sys.stdin:
    n = int(line)
    for _ in range(n):
        s.sendall(b"x")
        if not s.recv(1): sys.exit(1)
    sys.stdout.write("done\\n"); sys.stdout.flush()
`;

interface LoopLike {
  stats: Record<string, number>;
  watch(fd: number, events: number, cb: (ev: number) => void): { close(): void };
  close(): void;
}
interface SocketLike {
  fd: number;
  bind(host: string, port: number): void;
  listen(): void;
  localAddress(): { port?: number };
  acceptTimeout(ms: number, o: { nonBlocking: boolean }): SocketLike | null;
  recv(b: Uint8Array): number | null;
  send(b: Uint8Array): number;
  close(): void;
}

async function side(root: string) {
  const { Loop, READABLE } = await import(`${root}/poll/loop.ts`) as { Loop: new () => LoopLike; READABLE: number };
  const { Socket } = await import(`${root}/socket/socket.ts`) as {
    Socket: { create(f: string, t: string): SocketLike };
  };
  const listener = Socket.create("ipv4", "stream");
  listener.bind("127.0.0.1", 0);
  listener.listen();
  const child = spawn("python3", ["-c", CLIENT, String(listener.localAddress().port)], { stdio: ["pipe", "pipe", "inherit"] });
  const conn = listener.acceptTimeout(5000, { nonBlocking: true })!;
  const loop = new Loop();
  const buf = new Uint8Array(64);
  const one = new Uint8Array([121]);
  loop.watch(conn.fd, READABLE, () => {
    const n = conn.recv(buf);
    if (n !== null && n > 0) conn.send(one);
  });
  let waiting: (() => void) | undefined;
  let out = "";
  child.stdout!.on("data", (d: Uint8Array) => {
    out += String(d);
    if (out.includes("done\n")) {
      out = "";
      waiting?.();
    }
  });
  return {
    root,
    loop,
    async round(trips: number): Promise<{ us: number; stats: Record<string, number> }> {
      const before = { ...loop.stats };
      const c0 = proc.cpuUsage();
      await new Promise<void>((r) => {
        waiting = r;
        child.stdin!.write(`${trips}\n`);
      });
      const c1 = proc.cpuUsage();
      const stats: Record<string, number> = {};
      for (const k of Object.keys(loop.stats)) stats[k] = (loop.stats[k]! - (before[k] ?? 0)) / trips;
      return { us: (c1.user - c0.user + c1.system - c0.system) / trips, stats };
    },
    close(): void {
      child.stdin!.end();
      loop.close();
      conn.close();
      listener.close();
    },
  };
}

const sides = [await side(roots[0]!), await side(roots[1]!)];
for (const s of sides) await s.round(TRIPS); // warm-up
const ratios: number[] = [];
const per: number[][] = [[], []];
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? [0, 1] : [1, 0];
  const res: { us: number; stats: Record<string, number> }[] = [];
  for (const i of order) res[i] = await sides[i]!.round(TRIPS);
  per[0]!.push(res[0]!.us);
  per[1]!.push(res[1]!.us);
  ratios.push(res[0]!.us / res[1]!.us);
  const fmt = (s: Record<string, number>): string => Object.entries(s).filter(([, v]) => v !== 0).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
  console.log(`round ${r}: ${res[0]!.us.toFixed(1)} / ${res[1]!.us.toFixed(1)} µs/trip, ratio ${ratios[r]!.toFixed(3)}  [A: ${fmt(res[0]!.stats)}] [B: ${fmt(res[1]!.stats)}]`);
}
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(`${RUNTIME}: medians ${median(per[0]!).toFixed(1)} / ${median(per[1]!).toFixed(1)} µs per round trip; paired ratio (A/B, > 1: B uses less) median ${median(ratios).toFixed(3)}`);
for (const s of sides) s.close();
