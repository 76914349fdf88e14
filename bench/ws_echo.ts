/**
 * WebSocket echo: 50 connections, one message in flight each, 64-byte and
 * 16 KiB messages (text and binary; text also with permessage-deflate where
 * the peer has it), messages per second and CPU µs per message of the
 * process under test.
 *
 * Every side is its own process: the servers (`_ws_echo_server.ts`) and
 * the load generators (`_ws_echo_load.ts`), so a load generator's work is
 * never charged to the side measured. CPU is read from /proc/PID/stat of
 * the measured process around each round (10 ms ticks), so it counts that
 * process only, connection set-up excluded.
 *
 * - Server rows: ffinet's `serve` websocket handlers against npm `ws`
 *   (Node), `Deno.upgradeWebSocket` (Deno) or `Bun.serve`'s websocket
 *   (Bun), both on this runtime, loaded by npm `ws` clients in a Node
 *   process (the same load for both); CPU is the server's.
 * - Client rows: ffinet's WHATWG `WebSocket` against npm `ws`'s client
 *   (Node) or the runtime's own `WebSocket` (Deno, Bun), each in a load
 *   process on this runtime, against one npm `ws` server on Node; CPU is
 *   the client process's.
 *
 * With permessage-deflate, ffinet's server agrees to the same parameters
 * as the peer server of the runtime (on Bun, Bun.serve's
 * `client_no_context_takeover; server_no_context_takeover` with a shared
 * compressor; on Node, npm `ws`'s kept contexts): npm `ws`'s client
 * compresses every message while its context is kept and only those of
 * 1 KiB and more when it is not, so different parameters would load the
 * two servers with different work.
 *
 * Rounds alternate ours/peer after warm-up rounds (`WS_ECHO_WARMUP` each,
 * default 6; `WS_ECHO_ROUNDS` measured, default 3); the row shows the
 * median and the range. One warm-up round was not enough on Bun: with the
 * raw load, JavaScriptCore's JIT threads of our server still spent 5–8 µs
 * per message compiling in the first measured round (0.5–1 from the third
 * on), and the measured CPU is the whole process's. Three were not enough
 * with io_uring: a tick there handles 6–13 messages instead of 25–30, and
 * the loop's per-tick functions (`#turn`, `#next`, `runDue`, the ring's
 * reap and dispatch) reached the optimising tier only in rounds 4–6
 * (JITWorker threads 20–90 ms per 20,000-message round, 1–4.5 µs per
 * message, in the rounds then measured; none from round 7 on). Server rows also
 * print our server's loop counts per round (from its `Loop.stats`, asked
 * before and after): messages per tick (one tick: one wait, its events
 * dispatched, one runtime turn), lingers per tick and parks per message.
 * A park (a wait handed to the helper thread) costs 100–190 µs of CPU
 * here, so these counts explain CPU per message where the CPU readings
 * are too noisy to; over io_uring, also the receive buffers its ring was
 * given by the end (they grow as receives run dry) and how often they ran
 * dry. Round trips per connection per round:
 * `WS_ECHO_ROUND_TRIPS` (default 400 for 64 B, a quarter of that for
 * 16 KiB).
 *
 * `WS_ECHO_IO` (default: unset, our server takes the library's default
 * I/O, io_uring on Linux 6.1+; e.g. "readiness,uring") lists the I/O
 * modes of our server (`FFINET_IO` in its process): with several, each
 * case runs one of our servers per mode, their rounds interleaved with
 * the peer's in the same run ("server uring …" rows), and a line gives
 * the per-round CPU ratio readiness ÷ uring. A mode the machine refuses
 * (no io_uring) shows as what the server fell back to.
 *
 * `WS_ECHO_LOAD=raw` loads the server rows with `_ws_echo_raw_load.ts` on
 * Bun (one blocking epoll loop, like bench/echo.ts's client; no deflate
 * rows) instead of npm `ws` clients in Node. The npm `ws` clients cost
 * about as much CPU per message as the server and answer slowly enough
 * that our server runs 5–9 messages per tick and parks 11–34 times per
 * 1000 messages; under the raw client it runs 30–40 per tick and parks
 * 0–4 times (load 18–28), so CPU per message then shows the server's own
 * work rather than how it idles between a slow client's messages.
 * `WS_ECHO_DEPTH` (default 1; raw load only) has each raw connection send
 * that many messages at once and wait for all their echoes: a pipelining
 * client, whose messages the server reads several at a time (its echoes
 * of one read go out with one send).
 *
 * Run: node scripts/bench.mjs ws_echo [--runtime=node]
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { finish, record, RUNTIME } from "./harness.ts";

const CONNECTIONS = Number(process.env.WS_ECHO_CONNECTIONS ?? 50);
const TRIPS = Number(process.env.WS_ECHO_ROUND_TRIPS ?? 400);
const ROUNDS = Number(process.env.WS_ECHO_ROUNDS ?? 3);
/** Unmeasured rounds of each side first (the JIT settles; on Bun it takes more than one). */
const WARMUP = Number(process.env.WS_ECHO_WARMUP ?? 6);
if (!(Number.isInteger(WARMUP) && WARMUP >= 0)) throw new TypeError(`WS_ECHO_WARMUP: a whole number, got ${process.env.WS_ECHO_WARMUP}`);
const ONLY = process.env.WS_ECHO_ONLY; // "server" or "client"
const CASES_FILTER = process.env.WS_ECHO_CASES; // a substring of the case names
/** The server rows' load: npm `ws` clients in Node (default) or the raw epoll client on Bun. */
const RAW_LOAD = process.env.WS_ECHO_LOAD === "raw";
/** Messages each raw connection sends at once (WS_ECHO_LOAD=raw only). */
const DEPTH = Number(process.env.WS_ECHO_DEPTH ?? 1);
if (!(Number.isInteger(DEPTH) && DEPTH >= 1 && DEPTH <= 64)) throw new TypeError(`WS_ECHO_DEPTH: 1..64, got ${process.env.WS_ECHO_DEPTH}`);
if (DEPTH > 1 && !RAW_LOAD) throw new TypeError("WS_ECHO_DEPTH needs WS_ECHO_LOAD=raw");
/** Our server's I/O modes (FFINET_IO of its process), one server each. */
const IO_MODES = process.env.WS_ECHO_IO === undefined ? ["default"] : process.env.WS_ECHO_IO.split(",").map((m) => m.trim()).filter((m) => m !== "");
for (const mode of IO_MODES) if (mode !== "readiness" && mode !== "uring" && mode !== "default") throw new TypeError(`WS_ECHO_IO: "readiness", "uring" or "default", got ${mode}`);
const root = fileURLToPath(new URL("..", import.meta.url));
/** Ticks of /proc/PID/stat's utime and stime per second (CLK_TCK on Linux). */
const TICKS_PER_SECOND = 100;

/** A child process speaking lines. */
class Child {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #waiter: (() => void) | undefined;
  #exited: number | null | undefined;

  constructor(runtime: "node" | "deno" | "bun", script: string, args: string[], env: Record<string, string> = {}) {
    const file = fileURLToPath(new URL(script, import.meta.url));
    const [cmd, argv] = runtime === "node"
      ? [RUNTIME === "node" ? process.execPath : "node", ["--import", "tsx", file]]
      : runtime === "deno"
      ? [process.execPath, ["run", "-A", "--no-check", file]]
      : [RUNTIME === "bun" ? process.execPath : `${root}node_modules/.bin/bun`, [file]];
    this.#child = spawn(cmd, [...argv, ...args], { cwd: root, stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...env } });
    let text = "";
    this.#child.stdout!.on("data", (d: Uint8Array) => {
      text += new TextDecoder().decode(d);
      let nl: number;
      while ((nl = text.indexOf("\n")) >= 0) {
        this.#lines.push(text.slice(0, nl));
        text = text.slice(nl + 1);
      }
      this.#waiter?.();
    });
    this.#child.once("exit", (code) => {
      this.#exited = code;
      this.#waiter?.();
    });
  }

  /** The next line matching `re` (earlier lines are dropped). */
  async line(re: RegExp): Promise<RegExpExecArray> {
    for (;;) {
      while (this.#lines.length > 0) {
        const m = re.exec(this.#lines.shift()!);
        if (m) return m;
      }
      if (this.#exited !== undefined) throw new Error(`child exited (${this.#exited}) while waiting for ${re}`);
      await new Promise<void>((resolve) => (this.#waiter = resolve));
      this.#waiter = undefined;
    }
  }

  say(line: string): void {
    this.#child.stdin!.write(line + "\n");
  }

  /** Our server's loop counters, asked over stdin (see _ws_echo_server.ts). */
  async loopStats(): Promise<LoopCounts> {
    this.say("stats");
    const m = await this.line(/^stats (\{.*\})$/);
    return JSON.parse(m[1]!) as LoopCounts;
  }

  /** Our server's native I/O memory (see _ws_echo_server.ts): with io_uring, the receive buffers the kernel was given. */
  async memory(): Promise<{ recvBuffersGiven?: number; recvBufferBytes?: number; recvBuffersExhausted?: number }> {
    this.say("memory");
    const m = await this.line(/^memory (\{.*\})$/);
    return JSON.parse(m[1]!) as { recvBuffersGiven?: number; recvBufferBytes?: number; recvBuffersExhausted?: number };
  }

  /** utime + stime of the process so far, in seconds. */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.#child.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  }

  stop(): void {
    this.#child.kill();
  }
}

/** A server process; `io`: the I/O its listener took (ffinet only: "readiness" or "io_uring"). */
interface Server {
  child: Child;
  port: number;
  io: string | undefined;
}

async function startServer(runtime: "node" | "deno" | "bun", kind: string, deflate: boolean, io?: string): Promise<Server> {
  const child = new Child(runtime, "./_ws_echo_server.ts", deflate ? [kind, "deflate"] : [kind], io === undefined ? {} : { FFINET_IO: io });
  const m = await child.line(/^port (\d+)(?: io (\S+))?/);
  return { child, port: Number(m[1]), io: m[2] };
}

/** The counters of poll/loop.ts's `LoopStats` that the rows use. */
interface LoopCounts {
  ticks: number;
  lingers: number;
  parks: number;
}

interface Case {
  name: string;
  size: number;
  kind: "text" | "binary";
  deflate: boolean;
}

const CASES: Case[] = ([
  { name: "64 B text", size: 64, kind: "text", deflate: false },
  { name: "64 B binary", size: 64, kind: "binary", deflate: false },
  { name: "16 KiB text", size: 16384, kind: "text", deflate: false },
  { name: "16 KiB binary", size: 16384, kind: "binary", deflate: false },
  { name: "64 B text deflate", size: 64, kind: "text", deflate: true },
  { name: "16 KiB text deflate", size: 16384, kind: "text", deflate: true },
] as Case[]).filter((c) => CASES_FILTER === undefined || c.name.includes(CASES_FILTER));

function tripsFor(c: Case): number {
  return c.size > 1024 ? Math.max(1, Math.round(TRIPS / 4)) : TRIPS;
}

/** One side of a row: a load process and the process whose CPU counts. */
interface Side {
  load: Child;
  measured: () => Child;
  /** The measured process is our server: ask its loop counters around each round. */
  loopStats?: boolean;
}

interface Samples {
  rates: number[];
  cpu: number[];
  /** Per round with loop counters: messages per tick, lingers per tick, parks per message. */
  perTick: number[];
  lingersPerTick: number[];
  parksPerMessage: number[];
}

function samples(): Samples {
  return { rates: [], cpu: [], perTick: [], lingersPerTick: [], parksPerMessage: [] };
}

async function runRound(side: Side, into: Samples): Promise<void> {
  const loopBefore = side.loopStats ? await side.measured().loopStats() : undefined;
  const before = side.measured().cpuSeconds();
  side.load.say("go");
  const m = await side.load.line(/^round (\d+) ([\d.e+-]+)/);
  const after = side.measured().cpuSeconds();
  const messages = Number(m[1]);
  into.rates.push(messages / Number(m[2]));
  into.cpu.push(((after - before) * 1e6) / messages);
  if (loopBefore !== undefined) {
    const loopAfter = await side.measured().loopStats();
    const ticks = Math.max(1, loopAfter.ticks - loopBefore.ticks);
    into.perTick.push(messages / ticks);
    into.lingersPerTick.push((loopAfter.lingers - loopBefore.lingers) / ticks);
    into.parksPerMessage.push((loopAfter.parks - loopBefore.parks) / messages);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function range(xs: number[], digits: number): string {
  return `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
}

/** One of our sides, and the word its rows carry after the row's name ("" for readiness). */
interface Ours {
  label: string;
  side: Side;
}

/**
 * Warm-up, then alternating rounds (each of ours, then the peer); records
 * msg/s and CPU µs/msg per side of ours against the peer.
 */
async function compareSides(row: string, c: Case, ours: Ours[], peer: Side, peerName: string): Promise<void> {
  await Promise.all([...ours.map((o) => o.side.load.line(/^ready/)), peer.load.line(/^ready/)]);
  const os = ours.map(() => samples());
  const p = samples();
  for (let w = 0; w < WARMUP; w++) {
    for (const o of ours) await runRound(o.side, samples());
    await runRound(peer, samples());
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < ours.length; i++) await runRound(ours[i]!.side, os[i]!);
    await runRound(peer, p);
  }
  for (const o of ours) o.side.load.say("quit");
  peer.load.say("quit");
  for (let i = 0; i < ours.length; i++) {
    const o = os[i]!;
    const name = `${row}${ours[i]!.label} ${c.name}${row === "server" && DEPTH > 1 ? ` depth ${DEPTH}` : ""}`;
    console.log(
      `  ${name}: msg/s ours ${range(o.rates, 0)}, ${peerName} ${range(p.rates, 0)}; ` +
        `CPU µs/msg ours ${range(o.cpu, 1)}, ${peerName} ${range(p.cpu, 1)}`,
    );
    if (o.perTick.length > 0) {
      console.log(
        `    our loop: messages/tick ${range(o.perTick, 1)}, lingers/tick ${range(o.lingersPerTick, 2)}, ` +
          `parks/message ${range(o.parksPerMessage, 4)}`,
      );
      const mem = await ours[i]!.side.measured().memory();
      if (mem.recvBuffersGiven !== undefined) {
        console.log(
          `    our ring: receive buffers given ${mem.recvBuffersGiven} (${((mem.recvBufferBytes ?? 0) / 1048576).toFixed(2)} MiB), ` +
            `ran dry ${mem.recvBuffersExhausted ?? 0} times (since the server started)`,
        );
      }
    }
    record({ bench: "ws_echo", case: name, unit: "msg/s", ours: median(o.rates), peer: median(p.rates), peerName });
    record({ bench: "ws_echo", case: `${name} CPU`, unit: "µs/msg", ours: median(o.cpu), peer: median(p.cpu), peerName });
  }
  const readiness = ours.findIndex((o) => o.label === "");
  const uring = ours.findIndex((o) => o.label === " uring");
  if (readiness >= 0 && uring >= 0) {
    // Per round, the two of ours ran back to back: their ratio is steadier than either on a loaded machine.
    const ratios = os[readiness]!.cpu.map((x, r) => x / os[uring]!.cpu[r]!);
    console.log(`    CPU readiness ÷ uring per round: median ${median(ratios).toFixed(2)} [${ratios.map((x) => x.toFixed(2)).join(" ")}]; load ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  }
}

function loadArgs(client: string, port: number, c: Case): string[] {
  return [client, String(port), String(c.size), c.kind, c.deflate ? "deflate" : "plain", String(CONNECTIONS), String(tripsFor(c))];
}

/** The load process of a server row (see `WS_ECHO_LOAD`). */
function serverLoad(port: number, c: Case): Child {
  return RAW_LOAD
    ? new Child("bun", "./_ws_echo_raw_load.ts", [...loadArgs("raw", port, c), String(DEPTH)])
    : new Child("node", "./_ws_echo_load.ts", loadArgs("ws", port, c));
}

const peerKind = RUNTIME === "node" ? "ws" : RUNTIME;
const serverPeerName = RUNTIME === "node" ? "npm ws" : RUNTIME === "deno" ? "Deno.upgradeWS" : "Bun.serve";
// Deno's server and client and Bun's client do not negotiate permessage-deflate.
const serverDeflate = RUNTIME !== "deno";
const clientDeflate = RUNTIME === "node";
const clientPeer = RUNTIME === "node" ? "ws" : "native";
const clientPeerName = RUNTIME === "node" ? "npm ws client" : `${RUNTIME} WebSocket`;

const children: Child[] = [];
try {
  if (ONLY !== "client") {
    const servers = new Map<string, Server>();
    const server = async (kind: string, deflate: boolean, io?: string) => {
      const key = `${kind} ${deflate} ${io}`;
      if (!servers.has(key)) {
        const s = await startServer(RUNTIME, kind, deflate, io);
        children.push(s.child);
        servers.set(key, s);
      }
      return servers.get(key)!;
    };
    for (const c of CASES) {
      if (c.deflate && (!serverDeflate || RAW_LOAD)) continue;
      const ours: Ours[] = [];
      for (const io of IO_MODES) {
        const s = await server("ffinet", c.deflate, io === "default" ? undefined : io);
        if (io === "default") console.log(`  ${c.name}: our server took ${s.io ?? "?"} I/O (the library's default)`);
        const load = serverLoad(s.port, c);
        children.push(load);
        // A mode the machine refused shows as what the server fell back to.
        const label = io === "default" ? (IO_MODES.length > 1 ? " default" : "") : io === "readiness" ? "" : s.io === "io_uring" ? " uring" : " uring→readiness";
        ours.push({ label, side: { load, measured: () => s.child, loopStats: true } });
      }
      const peer = await server(peerKind, c.deflate);
      const peerLoad = serverLoad(peer.port, c);
      children.push(peerLoad);
      await compareSides("server", c, ours, { load: peerLoad, measured: () => peer.child }, serverPeerName);
    }
  }
  if (ONLY !== "server") {
    if (RUNTIME !== "node" && typeof globalThis.WebSocket !== "function") {
      console.log(`ws_echo ${RUNTIME}: no global WebSocket client on this runtime, client rows skipped`);
    } else {
      const fixed = new Map<boolean, Server>();
      for (const c of CASES) {
        if (c.deflate && !clientDeflate) continue;
        if (!fixed.has(c.deflate)) {
          const s = await startServer("node", "ws", c.deflate);
          children.push(s.child);
          fixed.set(c.deflate, s);
        }
        const { port } = fixed.get(c.deflate)!;
        const oursLoad = new Child(RUNTIME, "./_ws_echo_load.ts", loadArgs("ffinet", port, c));
        const peerLoad = new Child(RUNTIME, "./_ws_echo_load.ts", loadArgs(clientPeer, port, c));
        children.push(oursLoad, peerLoad);
        await compareSides("client", c, [{ label: "", side: { load: oursLoad, measured: () => oursLoad } }], { load: peerLoad, measured: () => peerLoad }, clientPeerName);
      }
    }
  }
} finally {
  for (const child of children) child.stop();
}
finish();
if (typeof process !== "undefined") process.exit(0);
