/**
 * TCP over loopback: bulk throughput (64 KiB sendAll chunks into a sink)
 * and ping-pong latency (64-byte messages), ffinet's synchronous `Socket`
 * against the runtime's node:net client doing the same work. The far end
 * (node:net sink and echo servers) runs in a child process on the same
 * runtime, shared by both contenders.
 *
 * Sizes: FFINET_BENCH_BYTES (default 1 GiB) and FFINET_BENCH_ROUNDS
 * (default 100k round trips).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createConnection, type Socket as NetSocket } from "node:net";
import { fileURLToPath } from "node:url";
import { finish, record, RUNTIME } from "./harness.ts";
import { connectTCP, type Socket } from "../socket/mod.ts";

const env = (globalThis as { process: { env: Record<string, string | undefined> } }).process.env;
const TOTAL = Number(env.FFINET_BENCH_BYTES ?? 1024 * 1024 * 1024);
const ROUNDS = Number(env.FFINET_BENCH_ROUNDS ?? 100_000);
const CHUNK = 64 * 1024;
const MESSAGE = 64;

async function startFarEnd(): Promise<{ sink: number; echo: number; stop(): void }> {
  const script = fileURLToPath(new URL("./_tcp_stream_peer.mjs", import.meta.url));
  const exe = (globalThis as { process: { execPath: string } }).process.execPath;
  const args = RUNTIME === "deno" ? ["run", "-A", script] : [script];
  const child = spawn(exe, args, { stdio: ["pipe", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      if (out.includes("\n")) resolve(out.trim());
    });
    child.on("exit", (code) => reject(new Error(`far end exited with ${code}`)));
  });
  const [, sink, echo] = line.split(" ");
  return { sink: Number(sink), echo: Number(echo), stop: () => child.stdin!.end() };
}

function header(total: number): Uint8Array {
  const h = new Uint8Array(8);
  new DataView(h.buffer).setBigUint64(0, BigInt(total), false);
  return h;
}

// ---- ours: blocking Socket

function oursThroughput(port: number): number {
  const s: Socket = connectTCP("127.0.0.1", port, 5000);
  try {
    const chunk = new Uint8Array(CHUNK).fill(7);
    const ack = new Uint8Array(1);
    const t0 = performance.now();
    s.sendAll(header(TOTAL));
    for (let sent = 0; sent < TOTAL; sent += CHUNK) s.sendAll(chunk);
    s.recvAll(ack);
    return performance.now() - t0;
  } finally {
    s.close();
  }
}

function oursPingPong(port: number, rounds: number): { ms: number; heapPerOp: number } {
  const s: Socket = connectTCP("127.0.0.1", port, 5000);
  try {
    s.options.noDelay = true;
    const msg = new Uint8Array(MESSAGE).fill(1);
    const back = new Uint8Array(MESSAGE);
    for (let i = 0; i < 1000; i++) { s.sendAll(msg); s.recvAll(back); } // warm-up
    gc();
    const heap0 = heapUsed();
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) {
      s.sendAll(msg);
      s.recvAll(back);
    }
    const ms = performance.now() - t0;
    const heapPerOp = (heapUsed() - heap0) / rounds;
    return { ms, heapPerOp };
  } finally {
    s.close();
  }
}

// ---- peer: node:net client

function netConnect(port: number): Promise<NetSocket> {
  return new Promise((resolve, reject) => {
    const c = createConnection({ port, host: "127.0.0.1" }, () => resolve(c));
    c.on("error", reject);
  });
}

async function peerThroughput(port: number): Promise<number> {
  const c = await netConnect(port);
  const chunk = new Uint8Array(CHUNK).fill(7);
  const acked = new Promise<void>((resolve) => c.once("data", () => resolve()));
  const t0 = performance.now();
  c.write(header(TOTAL));
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    if (!c.write(chunk)) await new Promise<void>((resolve) => c.once("drain", () => resolve()));
  }
  await acked;
  const ms = performance.now() - t0;
  c.destroy();
  return ms;
}

async function peerPingPong(port: number, rounds: number): Promise<number> {
  const c = await netConnect(port);
  c.setNoDelay(true);
  const msg = new Uint8Array(MESSAGE).fill(1);
  let pending = 0;
  let wake: (() => void) | undefined;
  c.on("data", (d: Uint8Array) => {
    pending += d.length;
    if (pending >= MESSAGE && wake) {
      pending -= MESSAGE;
      const w = wake;
      wake = undefined;
      w();
    }
  });
  const roundTrip = (): Promise<void> => new Promise<void>((resolve) => {
    wake = resolve;
    c.write(msg);
  });
  for (let i = 0; i < 1000; i++) await roundTrip();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await roundTrip();
  const ms = performance.now() - t0;
  c.destroy();
  return ms;
}

function gc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(sync: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

function heapUsed(): number {
  const p = (globalThis as { process: { memoryUsage(): { heapUsed: number } } }).process;
  return p.memoryUsage().heapUsed;
}

const far = await startFarEnd();
try {
  const mib = TOTAL / (1024 * 1024);
  // Alternate A/B twice and keep the better run of each (noisy 2-core box).
  const oursT: number[] = [];
  const peerT: number[] = [];
  for (let i = 0; i < 2; i++) {
    oursT.push(oursThroughput(far.sink));
    peerT.push(await peerThroughput(far.sink));
  }
  const mbps = (ms: number): number => (TOTAL / 1e6) / (ms / 1000);
  record({
    bench: "tcp_stream", case: `bulk ${mib} MiB, 64 KiB chunks`, unit: "MB/s",
    ours: mbps(Math.min(...oursT)), peer: mbps(Math.min(...peerT)), peerName: "node:net",
  });
  const ours = oursPingPong(far.echo, ROUNDS);
  const peer = await peerPingPong(far.echo, ROUNDS);
  record({
    bench: "tcp_stream", case: `ping-pong 64 B x ${ROUNDS}`, unit: "us/rt",
    ours: (ours.ms * 1000) / ROUNDS, peer: (peer * 1000) / ROUNDS, peerName: "node:net",
  });
  console.log(`tcp_stream ${RUNTIME} ours: heap growth ${ours.heapPerOp.toFixed(2)} bytes per round trip (send+recv) in steady state`);
} finally {
  far.stop();
}
finish();
