/**
 * TCP over loopback: bulk throughput (64 KiB sendAll chunks into a sink)
 * and ping-pong latency (64-byte messages), ffinet's synchronous `Socket`
 * against the runtime's own TCP client doing the same work: `Deno.connect`
 * on Deno, `Bun.connect` on Bun, node:net on Node (and node:net as a second
 * peer on Deno and Bun). Two settings, each far end in a child process on
 * the same runtime:
 *
 * - shared far end: one node:net sink and echo server for every client, so
 *   only the client side differs (and the shared sink caps bulk rates);
 *   bulk is then run once more into one shared ffinet sink (async
 *   connections, 256 KiB reads), faster than the node:net one, so the
 *   clients' own speed shows more;
 * - both ends: ffinet's client against ffinet's server (async connections,
 *   256 KiB reads) vs the runtime's client against the runtime's server
 *   (`Deno.listen`, `Bun.listen`, node:net) — the same work on each side.
 * Every client runs with TCP_NODELAY (ours by default; the runtimes'
 * clients set it here, node:net's default being Nagle's algorithm).
 * Contenders take turns slice by slice; each keeps its fastest slices
 * (noise on a shared 2-core machine only ever slows a slice down). Each
 * line of slices also prints the paired ratio: the median over rounds of
 * the ratio of two slices run back to back, which the machine's slow
 * drift between phases does not move.
 *
 * It also prints the heap growth per round trip of our ping-pong loop in
 * steady state: the median over many short slices (each too short for a
 * scavenge to hide the garbage it made).
 *
 * Sizes: FFINET_BENCH_BYTES (default 1 GiB) and FFINET_BENCH_ROUNDS
 * (default 100k round trips) make one job, cut into FFINET_BENCH_SLICES
 * slices (default 8) that the contenders take in turn, FFINET_BENCH_REPEAT
 * times over (default 3); each contender's figure is its fastest slices
 * adding up to one whole job.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createConnection, type Socket as NetSocket } from "node:net";
import { fileURLToPath } from "node:url";
import { finish, record, RUNTIME } from "./harness.ts";
import { connectTCPSync, type Socket } from "../socket/mod.ts";

const env = (globalThis as { process: { env: Record<string, string | undefined> } }).process.env;
const TOTAL = Number(env.FFINET_BENCH_BYTES ?? 1024 * 1024 * 1024);
const ROUNDS = Number(env.FFINET_BENCH_ROUNDS ?? 100_000);
const CHUNK = 64 * 1024;
const MESSAGE = 64;

/**
 * Starts `_tcp_stream_far.ts` in a child process on this runtime: the
 * shared node:net sink and echo, or ffinet's or the runtime's own servers.
 */
async function startFarEnd(kind: "shared" | "ffinet" | "runtime" = "shared"): Promise<{ sink: number; echo: number; stop(): void }> {
  const script = fileURLToPath(new URL("./_tcp_stream_far.ts", import.meta.url));
  const p = (globalThis as { process: { execPath: string; execArgv: string[] } }).process;
  const exe = p.execPath;
  const mode = kind === "shared" ? "node-net" : kind;
  const args = RUNTIME === "deno" ? ["run", "-A", script, mode] : RUNTIME === "bun" ? [script, mode] : [...p.execArgv, script, mode];
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

function oursThroughput(port: number, total = TOTAL): number {
  const s: Socket = connectTCPSync("127.0.0.1", port, 5000);
  try {
    const chunk = new Uint8Array(CHUNK).fill(7);
    const ack = new Uint8Array(1);
    const t0 = performance.now();
    s.sendAll(header(total));
    for (let sent = 0; sent < total; sent += CHUNK) s.sendAll(chunk);
    s.recvAll(ack);
    return performance.now() - t0;
  } finally {
    s.close();
  }
}

function oursPingPong(port: number, rounds: number): number {
  const s: Socket = connectTCPSync("127.0.0.1", port, 5000);
  try {
    s.options.noDelay = true;
    const msg = new Uint8Array(MESSAGE).fill(1);
    const back = new Uint8Array(MESSAGE);
    for (let i = 0; i < 1000; i++) { s.sendAll(msg); s.recvAll(back); } // warm-up
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) {
      s.sendAll(msg);
      s.recvAll(back);
    }
    return performance.now() - t0;
  } finally {
    s.close();
  }
}

/** Median heap growth per round trip over short slices of our ping-pong. */
function oursHeapPerRoundTrip(port: number): number {
  const s: Socket = connectTCPSync("127.0.0.1", port, 5000);
  try {
    s.options.noDelay = true;
    const msg = new Uint8Array(MESSAGE).fill(1);
    const back = new Uint8Array(MESSAGE);
    for (let i = 0; i < 20_000; i++) { s.sendAll(msg); s.recvAll(back); } // optimize first
    gc();
    const perSlice: number[] = [];
    const SLICE = 1000;
    for (let slice = 0; slice < 60; slice++) {
      const h0 = heapUsed();
      for (let i = 0; i < SLICE; i++) {
        s.sendAll(msg);
        s.recvAll(back);
      }
      perSlice.push((heapUsed() - h0) / SLICE);
    }
    perSlice.sort((a, b) => a - b);
    return perSlice[perSlice.length >> 1]!;
  } finally {
    s.close();
  }
}

// ---- peers: the runtime's own sockets

/** A peer client: the same two jobs on the runtime's own sockets. */
interface Peer {
  name: string;
  throughput(port: number, total?: number): Promise<number>;
  pingPong(port: number, rounds: number): Promise<number>;
}

function netConnect(port: number): Promise<NetSocket> {
  return new Promise((resolve, reject) => {
    const c = createConnection({ port, host: "127.0.0.1" }, () => resolve(c));
    c.on("error", reject);
  });
}

const nodeNet: Peer = {
  name: "node:net",
  async throughput(port, total = TOTAL) {
    const c = await netConnect(port);
    c.setNoDelay(true); // as our client (node:net's default is Nagle's algorithm, slower here)
    const chunk = new Uint8Array(CHUNK).fill(7);
    const acked = new Promise<void>((resolve) => c.once("data", () => resolve()));
    const t0 = performance.now();
    c.write(header(total));
    for (let sent = 0; sent < total; sent += CHUNK) {
      if (!c.write(chunk)) await new Promise<void>((resolve) => c.once("drain", () => resolve()));
    }
    await acked;
    const ms = performance.now() - t0;
    c.destroy();
    return ms;
  },
  async pingPong(port, rounds) {
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
  },
};

interface DenoConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  setNoDelay(on?: boolean): void;
  close(): void;
}
interface DenoApi {
  connect(o: { hostname: string; port: number }): Promise<DenoConn>;
}

async function denoWriteAll(c: DenoConn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await c.write(off === 0 ? data : data.subarray(off));
}

async function denoReadExactly(c: DenoConn, buf: Uint8Array): Promise<void> {
  let got = 0;
  while (got < buf.length) {
    const n = await c.read(got === 0 ? buf : buf.subarray(got));
    if (n === null) throw new Error("Deno peer: unexpected end of stream");
    got += n;
  }
}

function denoPeer(deno: DenoApi): Peer {
  return {
    name: "Deno.connect",
    async throughput(port, total = TOTAL) {
      const c = await deno.connect({ hostname: "127.0.0.1", port });
      c.setNoDelay(true);
      const chunk = new Uint8Array(CHUNK).fill(7);
      const t0 = performance.now();
      await denoWriteAll(c, header(total));
      for (let sent = 0; sent < total; sent += CHUNK) await denoWriteAll(c, chunk);
      await denoReadExactly(c, new Uint8Array(1));
      const ms = performance.now() - t0;
      c.close();
      return ms;
    },
    async pingPong(port, rounds) {
      const c = await deno.connect({ hostname: "127.0.0.1", port });
      c.setNoDelay(true);
      const msg = new Uint8Array(MESSAGE).fill(1);
      const back = new Uint8Array(MESSAGE);
      for (let i = 0; i < 1000; i++) { await denoWriteAll(c, msg); await denoReadExactly(c, back); }
      const t0 = performance.now();
      for (let i = 0; i < rounds; i++) {
        await denoWriteAll(c, msg);
        await denoReadExactly(c, back);
      }
      const ms = performance.now() - t0;
      c.close();
      return ms;
    },
  };
}

interface BunSocket {
  write(d: Uint8Array): number;
  setNoDelay?(on: boolean): boolean;
  end(): void;
}
interface BunHandlers {
  data(s: BunSocket, d: Uint8Array): void;
  drain(s: BunSocket): void;
  error(s: BunSocket, e: Error): void;
}
interface BunApi {
  connect(o: { hostname: string; port: number; socket: BunHandlers }): Promise<BunSocket>;
}

/** A Bun.connect client with promise-shaped "room to write" and "n bytes arrived". */
async function bunClient(bun: BunApi, port: number): Promise<{
  socket: BunSocket;
  writeAll(d: Uint8Array): Promise<void>;
  arrived(n: number): Promise<void>;
}> {
  let drained: (() => void) | undefined;
  let received = 0;
  let want = 0;
  let woke: (() => void) | undefined;
  const socket = await bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, d) {
        received += d.length;
        if (woke !== undefined && received >= want) {
          received -= want;
          const w = woke;
          woke = undefined;
          w();
        }
      },
      drain() {
        const d = drained;
        drained = undefined;
        d?.();
      },
      error() {},
    },
  });
  return {
    socket,
    async writeAll(d) {
      let off = 0;
      for (;;) {
        const n = socket.write(off === 0 ? d : d.subarray(off));
        off += Math.max(0, n);
        if (off >= d.length) return;
        await new Promise<void>((resolve) => { drained = resolve; });
      }
    },
    arrived(n) {
      if (received >= n) {
        received -= n;
        return Promise.resolve();
      }
      want = n;
      return new Promise<void>((resolve) => { woke = resolve; });
    },
  };
}

function bunPeer(bun: BunApi): Peer {
  return {
    name: "Bun.connect",
    async throughput(port, total = TOTAL) {
      const c = await bunClient(bun, port);
      c.socket.setNoDelay?.(true);
      const chunk = new Uint8Array(CHUNK).fill(7);
      const acked = c.arrived(1);
      const t0 = performance.now();
      await c.writeAll(header(total));
      for (let sent = 0; sent < total; sent += CHUNK) await c.writeAll(chunk);
      await acked;
      const ms = performance.now() - t0;
      c.socket.end();
      return ms;
    },
    async pingPong(port, rounds) {
      const c = await bunClient(bun, port);
      c.socket.setNoDelay?.(true);
      const msg = new Uint8Array(MESSAGE).fill(1);
      for (let i = 0; i < 1000; i++) { await c.writeAll(msg); await c.arrived(MESSAGE); }
      const t0 = performance.now();
      for (let i = 0; i < rounds; i++) {
        await c.writeAll(msg);
        await c.arrived(MESSAGE);
      }
      const ms = performance.now() - t0;
      c.socket.end();
      return ms;
    },
  };
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

const g = globalThis as { Deno?: DenoApi; Bun?: BunApi };
const peers: Peer[] = g.Deno ? [denoPeer(g.Deno), nodeNet] : g.Bun ? [bunPeer(g.Bun), nodeNet] : [nodeNet];
// Each measurement is cut into slices that the contenders take in turn,
// rotating who goes first, so every contender gets the same share of the
// machine's fast and slow phases (loopback round trips here drift between
// ~20 and ~80 µs over minutes). A contender's figure is its fastest slices
// adding up to the whole job: noise only ever slows a slice down.
const SLICES = Number(env.FFINET_BENCH_SLICES ?? 8);
const REPEAT = Number(env.FFINET_BENCH_REPEAT ?? 3);
const bulkSlice = Math.max(CHUNK, Math.floor(TOTAL / SLICES / CHUNK) * CHUNK);
const pingSlice = Math.max(1, Math.floor(ROUNDS / SLICES));

/** Slice times (ms) per contender, `SLICES * REPEAT` each, interleaved. */
async function interleave(contenders: readonly (() => number | Promise<number>)[]): Promise<number[][]> {
  const times = contenders.map((): number[] => []);
  for (let i = 0; i < SLICES * REPEAT; i++) {
    for (let j = 0; j < contenders.length; j++) {
      const k = (i + j) % contenders.length;
      times[k]!.push(await contenders[k]!());
    }
  }
  return times;
}

/** The sum of the fastest SLICES slices: the time of one whole job. */
const fastestWhole = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b).slice(0, SLICES).reduce((a, b) => a + b, 0);
/**
 * The median over rounds of theirs ÷ ours slice time: each round's two
 * slices ran back to back, in the same phase of this machine's drift.
 */
const pairedRatio = (ours: readonly number[], theirs: readonly number[]): number => {
  const r = ours.map((t, i) => theirs[i]! / t).sort((a, b) => a - b);
  const mid = r.length >> 1;
  return r.length % 2 === 1 ? r[mid]! : (r[mid - 1]! + r[mid]!) / 2;
};
const paired = (ours: readonly number[], theirs: readonly (readonly number[])[], names: readonly string[]): string =>
  names.map((name, k) => `${name} ${pairedRatio(ours, theirs[k]!).toFixed(2)}`).join(", ");
const spread = (xs: readonly number[], perSlice: (ms: number) => number): string => {
  const v = xs.map(perSlice).sort((a, b) => a - b);
  return `${v[0]!.toFixed(1)}–${v.at(-1)!.toFixed(1)}`;
};

const far = await startFarEnd();
try {
  const mib = TOTAL / (1024 * 1024);
  const mbps = (ms: number, bytes = bulkSlice * SLICES): number => (bytes / 1e6) / (ms / 1000);
  const usPerRt = (ms: number, rounds = pingSlice * SLICES): number => (ms * 1000) / rounds;
  const warm = Math.min(TOTAL, 64 * 1024 * 1024);
  const sliceMb = (ms: number) => mbps(ms, bulkSlice);
  const sliceUs = (ms: number) => usPerRt(ms, pingSlice);
  const names = peers.map((p) => p.name);
  /** Bulk from ours and every peer into one shared sink: warm-up, interleaved slices, records, a line of slices. */
  const bulkInto = async (sink: number, what: string): Promise<void> => {
    // Warm every path (ours, each peer, and the far end's handlers) first.
    oursThroughput(sink, warm);
    for (const p of peers) await p.throughput(sink, warm);
    const [ours, ...theirs] = await interleave([() => oursThroughput(sink, bulkSlice), ...peers.map((p) => () => p.throughput(sink, bulkSlice))]);
    for (const [k, p] of peers.entries()) {
      record({
        bench: "tcp_stream", case: `bulk ${mib} MiB, 64 KiB chunks${what}`, unit: "MB/s",
        ours: mbps(fastestWhole(ours!)), peer: mbps(fastestWhole(theirs[k]!)), peerName: p.name,
      });
    }
    console.log(`tcp_stream ${RUNTIME}${what === "" ? "" : `${what},`} bulk slices (MB/s, slowest–fastest): ours ${spread(ours!, sliceMb)}; ` +
      peers.map((p, k) => `${p.name} ${spread(theirs[k]!, sliceMb)}`).join("; ") + `; paired ratio ${paired(ours!, theirs, names)}`);
  };
  await bulkInto(far.sink, "");
  const [oursP, ...peerP] = await interleave([() => oursPingPong(far.echo, pingSlice), ...peers.map((p) => () => p.pingPong(far.echo, pingSlice))]);
  for (const [k, p] of peers.entries()) {
    record({
      bench: "tcp_stream", case: `ping-pong 64 B x ${ROUNDS}`, unit: "us/rt",
      ours: usPerRt(fastestWhole(oursP!)), peer: usPerRt(fastestWhole(peerP[k]!)), peerName: p.name,
    });
  }
  console.log(`tcp_stream ${RUNTIME} ping-pong slices (µs/rt, fastest–slowest): ours ${spread(oursP!, sliceUs)}; ` +
    peers.map((p, k) => `${p.name} ${spread(peerP[k]!, sliceUs)}`).join("; ") + `; paired ratio ${paired(oursP!, peerP, names)}`);
  const heap = oursHeapPerRoundTrip(far.echo);
  console.log(`tcp_stream ${RUNTIME} ours: heap growth ${heap.toFixed(2)} bytes per round trip (send+recv), median of 60 slices of 1000`);

  // Both ends: our client against our server (async connections) in a child,
  // the runtime's own client against the runtime's own server in a child.
  const farOurs = await startFarEnd("ffinet");
  let farOwn: Awaited<ReturnType<typeof startFarEnd>> | undefined;
  try {
    // First every client again into one faster shared sink (ffinet's, 256 KiB
    // reads): the node:net sink above caps every client at about its own
    // rate, so there only the sink shows.
    await bulkInto(farOurs.sink, ", shared ffinet sink");
    farOwn = await startFarEnd("runtime");
    const own = peers[0]!;
    const ownName = `${own.name} to ${RUNTIME === "deno" ? "Deno.listen" : RUNTIME === "bun" ? "Bun.listen" : "node:net"}`;
    oursThroughput(farOurs.sink, warm);
    await own.throughput(farOwn.sink, warm);
    const [ob, pb] = await interleave([() => oursThroughput(farOurs.sink, bulkSlice), () => own.throughput(farOwn!.sink, bulkSlice)]);
    record({
      bench: "tcp_stream", case: `bulk ${mib} MiB, 64 KiB chunks, both ends`, unit: "MB/s",
      ours: mbps(fastestWhole(ob!)), peer: mbps(fastestWhole(pb!)), peerName: ownName,
    });
    const [op, pp] = await interleave([() => oursPingPong(farOurs.echo, pingSlice), () => own.pingPong(farOwn!.echo, pingSlice)]);
    record({
      bench: "tcp_stream", case: `ping-pong 64 B x ${ROUNDS}, both ends`, unit: "us/rt",
      ours: usPerRt(fastestWhole(op!)), peer: usPerRt(fastestWhole(pp!)), peerName: ownName,
    });
    console.log(`tcp_stream ${RUNTIME} both ends, bulk slices (MB/s, slowest–fastest): ours ${spread(ob!, sliceMb)}; ${ownName} ${spread(pb!, sliceMb)}; paired ratio ${pairedRatio(ob!, pb!).toFixed(2)}`);
    console.log(`tcp_stream ${RUNTIME} both ends, ping-pong slices (µs/rt, fastest–slowest): ours ${spread(op!, sliceUs)}; ${ownName} ${spread(pp!, sliceUs)}; paired ratio ${pairedRatio(op!, pp!).toFixed(2)}`);
  } finally {
    farOurs.stop();
    farOwn?.stop();
  }
} finally {
  far.stop();
}
finish();
