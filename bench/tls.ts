/**
 * TLS on the loop: ffinet's `listenTLS` + `connectTLS` (fd mode, one
 * shared context per side) against the runtime's own TLS doing the same
 * work with the same ECDSA P-256 certificate and TLS 1.3: node:tls on
 * every runtime (Deno and Bun implement it), plus `Deno.listenTls` /
 * `Deno.connectTls` on Deno and `Bun.listen` / `Bun.connect` with `tls` on
 * Bun. Client and server run in this one process (a pair per contender),
 * so handshake rates are client+server pairs and CPU is both ends.
 *
 * Cases: full handshakes per second and resumed ones (a TLS 1.3 ticket
 * from a first connection offered again; the runtimes without a session
 * API have no resumed row), each with 4 connections in flight, and the
 * process CPU per full handshake (client and server together); bulk
 * throughput client → server in 64 KiB writes under AES-128-GCM (the
 * server acknowledges the last byte), and the process CPU per 64 MiB of it
 * (steadier than MB/s when other work shares the cores). Contenders take turns, round by
 * round, and each keeps its best round.
 *
 * Server only, with a fixed-cost client: `openssl s_time -new` (another
 * process, one connection at a time, full TLS 1.3 handshakes) against each
 * contender's server, so the handshake rate and the process CPU per
 * handshake are the server's alone and the client is the same for every
 * contender. `openssl s_server` (OpenSSL in C, the library ffinet drives)
 * takes a turn too, its CPU read from /proc (Linux): the engine's own cost
 * per handshake with no runtime around it, the floor under ffinet's row.
 *
 * Sizes: FFINET_BENCH_HANDSHAKES (default 400 per round), FFINET_BENCH_BYTES
 * (default 256 MiB per round; a suffix k/m/g is allowed — the issue's
 * 1 GiB is `FFINET_BENCH_BYTES=1g`, about 4× the time of the default),
 * FFINET_BENCH_STIME_SECONDS (s_time per contender and round, default 2;
 * 0 skips the server-only rows), FFINET_BENCH_REPEAT rounds (default 3).
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { connect as netConnect, createServer as createNetServer } from "node:net";
import * as nodeTls from "node:tls";
import { finish, record, RUNTIME } from "./harness.ts";
import { connectTLS, listenTLS, tlsInfo } from "../tls/connect_async.ts";
import { TLSContext } from "../tls/context.ts";
import type { Connection } from "../poll/connection.ts";
import { testPKI } from "../tests/tls_pki.ts";

const env = (globalThis as { process: { env: Record<string, string | undefined> } }).process.env;
const HANDSHAKES = Number(env.FFINET_BENCH_HANDSHAKES ?? 400);
const BYTES = byteCount(env.FFINET_BENCH_BYTES ?? "256m");
const STIME_SECONDS = Number(env.FFINET_BENCH_STIME_SECONDS ?? 2);
const REPEAT = Number(env.FFINET_BENCH_REPEAT ?? 3);
const IN_FLIGHT = 4;
const CHUNK = 64 * 1024;
const SUITE = "TLS_AES_128_GCM_SHA256";

const pki = testPKI();
const CERT = pki.chain;
const KEY = readFileSync(pki.paths["leaf.key"]!, "utf8");
const CA = pki.root;

/** One contender: a server and a client of the same TLS stack. */
interface Contender {
  name: string;
  /** Starts a server: `sink` counts bytes and acknowledges `BYTES` with one byte; otherwise it just ends when the client does. */
  serve(): Promise<{ port: number; close(): void }>;
  /** One handshake (offering `session` when given) and a close; returns the session for a later resumption. */
  handshake(port: number, session: unknown): Promise<unknown>;
  /** Whether `handshake` can resume. */
  resumes: boolean;
  /** Sends `BYTES` in 64 KiB writes and waits for the server's acknowledgement. */
  bulk(port: number): Promise<void>;
}

/** "268435456", "256m", "1g" → bytes. */
function byteCount(text: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(text.trim());
  if (m === null) throw new RangeError(`FFINET_BENCH_BYTES: a byte count (a k, m or g suffix allowed), got ${JSON.stringify(text)}`);
  const scale = { "": 1, k: 1 << 10, m: 1 << 20, g: 1 << 30 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * scale;
}

function header(total: number): Uint8Array {
  const h = new Uint8Array(8);
  new DataView(h.buffer).setBigUint64(0, BigInt(total), false);
  return h;
}

/** Server side of every contender: the first 8 bytes say how many follow; the last one is acknowledged. */
function sinkCounter(ack: () => void): (bytes: Uint8Array) => void {
  let expected = -1;
  let got = 0;
  let head = new Uint8Array(0);
  return (bytes) => {
    if (expected < 0) {
      const joined = new Uint8Array(head.length + bytes.length);
      joined.set(head);
      joined.set(bytes, head.length);
      if (joined.length < 8) {
        head = joined;
        return;
      }
      expected = Number(new DataView(joined.buffer, joined.byteOffset, 8).getBigUint64(0, false));
      got = joined.length - 8;
      head = new Uint8Array(0);
    } else got += bytes.length;
    if (expected >= 0 && got >= expected) {
      expected = -1;
      got = 0;
      ack();
    }
  };
}

// ---- ffinet

const ffinetServerContext = new TLSContext({ role: "server", cert: CERT, key: KEY, ciphersuites: SUITE });
const ffinetClientContext = new TLSContext({ ca: CA, ciphersuites: SUITE });

const ffinet: Contender = {
  name: "ffinet",
  resumes: true,
  serve() {
    const server = listenTLS({
      port: 0,
      context: ffinetServerContext,
      handler: {
        open: (c) => {
          c.data = sinkCounter(() => c.send(new Uint8Array([1])));
        },
        data: (c, d) => (c.data as (b: Uint8Array) => void)(d),
      },
    });
    return Promise.resolve({ port: server.port, close: () => server.close() });
  },
  async handshake(port, session) {
    const conn = await connectTLS({
      host: "127.0.0.1",
      servername: "localhost",
      port,
      context: ffinetClientContext,
      ...(session instanceof Uint8Array ? { session } : {}),
    });
    const saved = session === null ? await tlsInfo(conn)!.waitSession(2000) : null;
    await conn.close();
    return saved;
  },
  async bulk(port) {
    const conn: Connection = await connectTLS({ host: "127.0.0.1", servername: "localhost", port, context: ffinetClientContext });
    const chunk = new Uint8Array(CHUNK).fill(7);
    const acked = conn.read();
    conn.send(header(BYTES));
    for (let sent = 0; sent < BYTES; sent += CHUNK) await conn.write(chunk);
    await acked;
    await conn.close();
  },
};

// ---- node:tls (every runtime)

const nodeTlsContender: Contender = {
  name: "node:tls",
  resumes: true,
  serve() {
    return new Promise((resolve) => {
      const server = nodeTls.createServer({ cert: CERT, key: KEY, minVersion: "TLSv1.3", ciphers: SUITE }, (s) => {
        const count = sinkCounter(() => s.write(new Uint8Array([1])));
        s.on("data", (d: Uint8Array) => count(d));
        s.on("end", () => s.end());
        s.on("error", () => {});
      });
      server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as { port: number }).port, close: () => server.close() }));
    });
  },
  handshake(port, session) {
    // Resolves once the client is done (as ffinet's: after the handshake,
    // or once the first ticket came when a session is wanted).
    return new Promise((resolve, reject) => {
      const options: nodeTls.ConnectionOptions = { host: "127.0.0.1", servername: "localhost", port, ca: CA, minVersion: "TLSv1.3" };
      if (session instanceof Uint8Array) options.session = session as unknown as NonNullable<nodeTls.ConnectionOptions["session"]>;
      const s = nodeTls.connect(options, () => {
        if (session === null) {
          // A runtime whose node:tls emits no "session" (Deno): no resumed row.
          setTimeout(() => {
            if (session !== null) return;
            session = false;
            s.end();
            resolve(null);
          }, 1000);
          return;
        }
        s.end();
        resolve(null);
      });
      s.on("session", (bytes: Uint8Array) => {
        if (session !== null) return;
        session = false;
        s.end();
        resolve(bytes);
      });
      s.on("error", reject);
      s.resume();
    });
  },
  bulk(port) {
    return new Promise((resolve, reject) => {
      const s = nodeTls.connect({ host: "127.0.0.1", servername: "localhost", port, ca: CA, minVersion: "TLSv1.3" }, async () => {
        s.setNoDelay(true);
        const chunk = new Uint8Array(CHUNK).fill(7);
        s.write(header(BYTES));
        for (let sent = 0; sent < BYTES; sent += CHUNK) {
          if (!s.write(chunk)) await new Promise<void>((r) => s.once("drain", () => r()));
        }
      });
      s.once("data", () => {
        s.end();
        resolve();
      });
      s.on("error", reject);
    });
  },
};

// ---- Deno.listenTls / Deno.connectTls

interface DenoTlsConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  handshake(): Promise<unknown>;
  close(): void;
}
interface DenoTlsListener extends AsyncIterable<DenoTlsConn> {
  addr: { port: number };
  close(): void;
}
interface DenoTlsApi {
  listenTls(o: { port: number; hostname: string; cert: string; key: string }): DenoTlsListener;
  connectTls(o: { port: number; hostname: string; caCerts: string[] }): Promise<DenoTlsConn>;
}

function denoContender(): Contender | undefined {
  const deno = (globalThis as { Deno?: DenoTlsApi }).Deno;
  if (deno === undefined) return undefined;
  return {
    name: "Deno.*Tls",
    resumes: false,
    serve() {
      const listener = deno.listenTls({ port: 0, hostname: "127.0.0.1", cert: CERT, key: KEY });
      void (async () => {
        try {
          for await (const conn of listener) {
            void (async () => {
              const count = sinkCounter(() => void conn.write(new Uint8Array([1])).catch(() => {}));
              const buf = new Uint8Array(256 * 1024);
              try {
                for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) count(buf.subarray(0, n));
              } catch {
                // the client went away
              }
              try {
                conn.close();
              } catch {
                // closed already
              }
            })();
          }
        } catch {
          // the listener closed
        }
      })();
      return Promise.resolve({ port: listener.addr.port, close: () => listener.close() });
    },
    async handshake(port) {
      // The IP literal is checked against the certificate's IP address.
      const conn = await deno.connectTls({ port, hostname: "127.0.0.1", caCerts: [CA] });
      await conn.handshake();
      conn.close();
      return null;
    },
    async bulk(port) {
      const conn = await deno.connectTls({ port, hostname: "127.0.0.1", caCerts: [CA] });
      const chunk = new Uint8Array(CHUNK).fill(7);
      await conn.write(header(BYTES));
      const acked = conn.read(new Uint8Array(1));
      for (let sent = 0; sent < BYTES; sent += CHUNK) {
        for (let off = 0; off < CHUNK;) off += await conn.write(off === 0 ? chunk : chunk.subarray(off));
      }
      await acked;
      conn.close();
    },
  };
}

// ---- Bun.listen / Bun.connect with tls

interface BunSocket {
  write(d: Uint8Array): number;
  end(): void;
  data: unknown;
}
interface BunApi {
  listen(o: object): { port: number; stop(force?: boolean): void };
  connect(o: object): Promise<BunSocket>;
}

function bunContender(): Contender | undefined {
  const bun = (globalThis as { Bun?: BunApi }).Bun;
  if (bun === undefined) return undefined;
  return {
    name: "Bun tls",
    resumes: false,
    serve() {
      const server = bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        tls: { cert: CERT, key: KEY },
        socket: {
          open(s: BunSocket) {
            s.data = sinkCounter(() => s.write(new Uint8Array([1])));
          },
          data(s: BunSocket, d: Uint8Array) {
            (s.data as (b: Uint8Array) => void)(d);
          },
          end(s: BunSocket) {
            s.end();
          },
          error() {},
        },
      });
      return Promise.resolve({ port: server.port, close: () => server.stop(true) });
    },
    handshake(port) {
      return new Promise((resolve, reject) => {
        void bun.connect({
          hostname: "127.0.0.1",
          port,
          tls: { ca: CA, serverName: "localhost" },
          socket: {
            handshake(s: BunSocket, ok: boolean) {
              s.end();
              if (ok) resolve(null);
              else reject(new Error("Bun tls handshake failed"));
            },
            data() {},
            error(_s: BunSocket, e: Error) {
              reject(e);
            },
          },
        }).catch(reject);
      });
    },
    bulk(port) {
      return new Promise((resolve, reject) => {
        const chunk = new Uint8Array(CHUNK).fill(7);
        let sent = -1; // -1: the header is next
        let offset = 0;
        const pump = (s: BunSocket) => {
          while (sent < BYTES) {
            const piece = sent < 0 ? header(BYTES) : chunk;
            const n = s.write(offset === 0 ? piece : piece.subarray(offset));
            offset += n;
            if (offset < piece.length) return; // wait for drain
            offset = 0;
            sent = sent < 0 ? 0 : sent + CHUNK;
          }
        };
        void bun.connect({
          hostname: "127.0.0.1",
          port,
          tls: { ca: CA, serverName: "localhost" },
          socket: {
            handshake: (s: BunSocket) => pump(s),
            drain: (s: BunSocket) => pump(s),
            data(s: BunSocket) {
              s.end();
              resolve();
            },
            error(_s: BunSocket, e: Error) {
              reject(e);
            },
          },
        }).catch(reject);
      });
    },
  };
}

// ---- the runs

/** CPU (user + system, both ends: this process) per handshake of the last handshakeRate() call, in ms. */
let lastCpuMs = 0;

async function handshakeRate(c: Contender, port: number, session: unknown): Promise<number> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    while (next < HANDSHAKES) {
      next++;
      await c.handshake(port, session);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lastCpuMs = (cpu.user + cpu.system) / 1000 / HANDSHAKES;
  return HANDSHAKES / seconds;
}

/** Process CPU (client and server) per 64 MiB of the last {@link bulkRate}: steadier than MB/s on a busy machine. */
let lastBulkCpuMs = 0;

async function bulkRate(c: Contender, port: number): Promise<number> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await c.bulk(port);
  const cpu = process.cpuUsage(cpu0);
  lastBulkCpuMs = (cpu.user + cpu.system) / 1000 / (BYTES / (64 << 20));
  return BYTES / 1e6 / ((performance.now() - t0) / 1000);
}

/** Server CPU (this process) per handshake of the last {@link serverOnlyRate}, in ms. */
let lastServerCpuMs = 0;

/**
 * `openssl s_time -new` against `port` for {@link STIME_SECONDS}: full
 * handshakes per second, one at a time from another process (the client's
 * cost is the same for every server); the process CPU is the server's.
 */
async function serverOnlyRate(port: number, cpuMs: () => number = processCpuMs): Promise<number> {
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn("openssl", ["s_time", "-connect", `127.0.0.1:${port}`, "-new", "-tls1_3", "-ciphersuites", SUITE, "-time", String(STIME_SECONDS)], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout!.on("data", (d: Uint8Array) => (text += new TextDecoder().decode(d)));
    child.stderr!.on("data", (d: Uint8Array) => (text += new TextDecoder().decode(d)));
    child.once("error", reject);
    child.once("exit", () => resolve(text));
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuMs() - cpu0;
  // "1234 connections in 2 real seconds, …" (whole seconds: the rate is taken over the run's own wall time)
  const m = /(\d+) connections in \d+ real seconds/.exec(out);
  if (m === null || Number(m[1]) === 0) throw new Error(`s_time made no connections: ${out.slice(0, 400)}`);
  const count = Number(m[1]);
  lastServerCpuMs = cpu / count;
  return count / seconds;
}

function processCpuMs(): number {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1000;
}

/**
 * `openssl s_server` with the same certificate, key, suite and TLS 1.3
 * only, on a port of its own; its CPU (user + system) in ms from
 * /proc/<pid>/stat. null where that cannot run (no /proc, no openssl).
 */
async function openSSLServer(): Promise<{ port: number; cpuMs(): number; close(): void } | null> {
  const tick = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim());
  if (!(tick > 0)) return null;
  // A free port (-quiet would hide s_server's own "ACCEPT host:port" line, and
  // without -quiet it prints every session: CPU of its own in the measurement).
  const port = await new Promise<number | null>((resolve) => {
    const probe = createNetServer();
    probe.once("error", () => resolve(null));
    probe.listen(0, "127.0.0.1", () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
  if (port === null) return null;
  const child = spawn("openssl", [
    "s_server", "-accept", `127.0.0.1:${port}`, "-cert", pki.paths["leaf_chain.pem"]!, "-key", pki.paths["leaf.key"]!,
    "-tls1_3", "-ciphersuites", SUITE, "-quiet",
  ], { stdio: ["ignore", "ignore", "ignore"] });
  const up = await new Promise<boolean>((resolve) => {
    // Ready once it accepts a TCP connection (tried every 50 ms, for up to 5 s).
    let tries = 0;
    const attempt = () => {
      const c = netConnect(port, "127.0.0.1");
      c.once("connect", () => {
        c.destroy();
        resolve(true);
      });
      c.once("error", () => (++tries < 100 ? setTimeout(attempt, 50) : resolve(false)));
    };
    child.once("exit", () => resolve(false));
    attempt();
  });
  const close = () => void child.kill();
  if (!up || child.pid === undefined) {
    close();
    return null;
  }
  const stat = `/proc/${child.pid}/stat`;
  const cpuMs = () => {
    // Fields 14 and 15 (utime, stime), counted after the ")" that ends the command name.
    const fields = readFileSync(stat, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / tick;
  };
  try {
    cpuMs();
  } catch {
    close();
    return null;
  }
  return { port, cpuMs, close };
}

/** Whether `openssl s_time` runs here (the server-only rows need it). */
function haveSTime(): boolean {
  return STIME_SECONDS > 0 && spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0;
}

async function main(): Promise<void> {
  const peers = [nodeTlsContender, denoContender(), bunContender()].filter((p): p is Contender => p !== undefined);
  const servers = new Map<Contender, { port: number; close(): void }>();
  for (const c of [ffinet, ...peers]) servers.set(c, await c.serve());
  const sessions = new Map<Contender, unknown>();
  for (const c of [ffinet, ...peers]) {
    await handshakeRate(c, servers.get(c)!.port, null); // warm-up
    if (c.resumes) {
      const session = await c.handshake(servers.get(c)!.port, null);
      if (session instanceof Uint8Array) sessions.set(c, session);
    }
  }
  const serverOnly = haveSTime();
  const cServer = serverOnly ? await openSSLServer() : null;
  const best = new Map<string, number>();
  const keep = (key: string, value: number) => best.set(key, Math.max(best.get(key) ?? 0, value));
  const keepLow = (key: string, value: number) => best.set(key, Math.min(best.get(key) ?? Infinity, value));
  for (let round = 0; round < REPEAT; round++) {
    for (const c of [ffinet, ...peers]) {
      const port = servers.get(c)!.port;
      keep(`${c.name} full`, await handshakeRate(c, port, false));
      keepLow(`${c.name} cpu`, lastCpuMs);
      if (sessions.has(c)) keep(`${c.name} resumed`, await handshakeRate(c, port, sessions.get(c)));
      keep(`${c.name} bulk`, await bulkRate(c, port));
      keepLow(`${c.name} bulk cpu`, lastBulkCpuMs);
      if (serverOnly) {
        keep(`${c.name} server`, await serverOnlyRate(port));
        keepLow(`${c.name} server cpu`, lastServerCpuMs);
      }
    }
    if (cServer !== null) {
      keep("s_server server", await serverOnlyRate(cServer.port, cServer.cpuMs));
      keepLow("s_server server cpu", lastServerCpuMs);
    }
  }
  cServer?.close();
  for (const peer of peers) {
    record({ bench: "tls", case: "full handshakes (pairs)", unit: "handshakes/s", ours: best.get("ffinet full")!, peer: best.get(`${peer.name} full`)!, peerName: peer.name });
    record({ bench: "tls", case: "CPU per full handshake pair", unit: "ms", ours: best.get("ffinet cpu")!, peer: best.get(`${peer.name} cpu`)!, peerName: peer.name });
    if (sessions.has(peer) && sessions.has(ffinet)) {
      record({ bench: "tls", case: "resumed handshakes (pairs)", unit: "handshakes/s", ours: best.get("ffinet resumed")!, peer: best.get(`${peer.name} resumed`)!, peerName: peer.name });
    }
    if (serverOnly) {
      record({ bench: "tls", case: "full handshakes, server only (openssl s_time client)", unit: "handshakes/s", ours: best.get("ffinet server")!, peer: best.get(`${peer.name} server`)!, peerName: peer.name });
      record({ bench: "tls", case: "server CPU per full handshake (s_time client)", unit: "ms", ours: best.get("ffinet server cpu")!, peer: best.get(`${peer.name} server cpu`)!, peerName: peer.name });
    }
    record({ bench: "tls", case: `bulk ${BYTES >= 1 << 30 ? `${BYTES / (1 << 30)} GiB` : `${BYTES >> 20} MiB`} AES-128-GCM`, unit: "MB/s", ours: best.get("ffinet bulk")!, peer: best.get(`${peer.name} bulk`)!, peerName: peer.name });
    record({ bench: "tls", case: "CPU per 64 MiB bulk (both ends)", unit: "ms", ours: best.get("ffinet bulk cpu")!, peer: best.get(`${peer.name} bulk cpu`)!, peerName: peer.name });
  }
  if (cServer !== null) {
    const name = "openssl s_server";
    record({ bench: "tls", case: "full handshakes, server only (openssl s_time client)", unit: "handshakes/s", ours: best.get("ffinet server")!, peer: best.get("s_server server")!, peerName: name });
    record({ bench: "tls", case: "server CPU per full handshake (s_time client)", unit: "ms", ours: best.get("ffinet server cpu")!, peer: best.get("s_server server cpu")!, peerName: name });
  }
  for (const server of servers.values()) server.close();
  ffinetServerContext.close();
  ffinetClientContext.close();
  finish();
  console.log(`(${RUNTIME}: client and server in one process; ${HANDSHAKES} handshakes, ${IN_FLIGHT} in flight, per round; best of ${REPEAT})`);
}

await main();
