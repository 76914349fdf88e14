/**
 * The WebSocket server's own CPU per message, without I/O: `serve`'s
 * `websocket` echo (`message: (ws, m) => ws.send(m)`) upgraded through
 * `WebSocketSupport` onto a stand-in connection (a `Connection` by its
 * prototype, so the channel takes the same direct send path as on a real
 * socket) that counts what it is sent and is fed masked 64-byte (or
 * `SIZE`) client frames. No system calls, no event loop: what is left is
 * the connection → channel → receiver → handler → sender JavaScript, which
 * on a loaded 2-core machine is far steadier to compare than
 * `bench/ws_echo.ts`'s end-to-end numbers. The upgrade's info is of the
 * class `serve` hands an HTTP/1 handler (the server checks that the session
 * can switch protocols), taken from one loopback request to a real server
 * of each tree. Not part of `scripts/bench.mjs`.
 *
 * Run: `bun bench/_ws_server_cpu.ts` (or `deno run -A`, or
 * `node --import tsx`). `KIND=binary` (default text), `SIZE` (default 64),
 * `DEPTH` (default 1): frames per read, back to back in the one view the
 * channel is handed (a pipelining client's read; their echoes are gathered
 * into one send).
 * `ROOTS=/old/checkout,/new/checkout` loads each tree and alternates
 * rounds between them (paired A/B in one process: Bun and Deno; Node's
 * koffi refuses a second copy of the FFI layer). `R` rounds (default 9) of
 * 200,000 messages after a warm-up.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const proc = (globalThis as unknown as { process: { env: Record<string, string | undefined>; cpuUsage(since?: { user: number; system: number }): { user: number; system: number } } }).process;
const here = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const roots = (proc.env.ROOTS ?? here).split(",");
const KIND = proc.env.KIND === "binary" ? "binary" : "text";
const SIZE = Number(proc.env.SIZE ?? 64);
const DEPTH = Number(proc.env.DEPTH ?? 1);
if (!(Number.isInteger(DEPTH) && DEPTH >= 1 && DEPTH <= 64)) throw new RangeError(`DEPTH must be 1..64, got ${proc.env.DEPTH}`);
const ROUNDS = Number(proc.env.R ?? 9);
const PER_ROUND = 200_000;

/** A masked client frame (zero key: the receiver unmasks in place, and a zero key leaves the bytes as they were). */
function clientFrame(): Uint8Array {
  const extended = SIZE >= 126;
  const header = extended ? 8 : 6;
  const out = new Uint8Array(header + SIZE).fill(0x61);
  out[0] = 0x80 | (KIND === "binary" ? 2 : 1);
  if (extended) {
    out[1] = 0x80 | 126;
    out[2] = SIZE >> 8;
    out[3] = SIZE & 0xff;
    out.fill(0, 4, 8);
  } else {
    out[1] = 0x80 | SIZE;
    out.fill(0, 2, 6);
  }
  return out;
}

type Round = (messages: number) => number;

/** The prototype of the info `serve` hands an HTTP/1 handler, from one request to a real server of `root`'s tree. */
async function exchangePrototype(root: string): Promise<object> {
  const { serve } = await import(`${root}/http/server/serve.ts`);
  let proto: object | undefined;
  const server = serve({
    port: 0,
    host: "127.0.0.1",
    shutdownOnSignal: false,
    fetch: (_request: Request, info: object) => {
      proto = Object.getPrototypeOf(info) as object;
      return new Response("ok");
    },
  });
  await (await fetch(`http://127.0.0.1:${server.addr.port}/`)).text();
  await server.shutdown({ deadlineMs: 1000 });
  if (proto === undefined) throw new Error(`${root}: no request reached the server`);
  return proto;
}

/** One tree's server path on a stand-in connection; returns a function measuring CPU µs per message. */
async function setup(root: string): Promise<Round> {
  const { WebSocketSupport } = await import(`${root}/ws/server.ts`);
  const { Connection } = await import(`${root}/poll/connection.ts`);
  let sent = 0;
  let onData: ((conn: unknown, bytes: Uint8Array) => void) | undefined;
  // The loop's afterDispatch: what a channel leaves for the end of the
  // dispatch runs after each read here (one read per dispatch).
  const afterDispatch: Array<() => void> = [];
  const conn = Object.create(Connection.prototype) as Record<string, unknown>;
  Object.defineProperties(conn, {
    closed: { value: false },
    bufferedAmount: { value: 0 },
    remoteAddress: { value: { address: "127.0.0.1", port: 1 } },
    loop: {
      value: {
        timers: { once: () => ({ cancel() {}, unref() {} }), every: () => ({ cancel() {}, unref() {} }) },
        afterDispatch: (callback: () => void) => afterDispatch.push(callback) > 0,
      },
    },
    setHandler: { value: (h: { data?: (c: unknown, b: Uint8Array) => void }) => void (onData = h.data) },
    send: {
      value: (bytes: Uint8Array) => {
        sent += bytes.length;
        return true;
      },
    },
  });
  const support = new WebSocketSupport({ message: (ws: { send(m: unknown): number }, m: unknown) => void ws.send(m) });
  // The handler's info is an HTTP/1 exchange (the server checks that the
  // session can switch protocols): its class is taken from one real
  // request, and the stand-in keeps only what the upgrade reads.
  const info = Object.create(await exchangePrototype(root), {
    upgradeTo: { value: "websocket" },
    upgrade: {
      value: (o: { open: (c: unknown, head: Uint8Array) => void }) => {
        o.open(conn, new Uint8Array(0));
        return new Response(null, { status: 200 });
      },
    },
  });
  const handler = support.wrap((request: Request) => (support.upgrade(request) ? undefined : new Response("no", { status: 400 })));
  const request = new Request("http://127.0.0.1/", {
    headers: { host: "127.0.0.1", upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
  });
  await handler(request, info as never);
  if (onData === undefined) throw new Error(`${root}: the upgrade did not attach`);
  const frame = clientFrame();
  // The connection hands the channel a view of its read buffer; so do we.
  const readBuffer = new Uint8Array(Math.max(65536, frame.length * DEPTH));
  for (let i = 0; i < DEPTH; i++) readBuffer.set(frame, i * frame.length);
  const view = readBuffer.subarray(0, frame.length * DEPTH);
  const data = onData;
  return (messages) => {
    const before = sent;
    const t0 = proc.cpuUsage();
    for (let i = 0; i < messages; i += DEPTH) {
      data(conn, view);
      for (let j = 0; j < afterDispatch.length; j++) afterDispatch[j]!();
      afterDispatch.length = 0;
    }
    const t = proc.cpuUsage(t0);
    if (sent - before < messages * SIZE) throw new Error(`${root}: sent ${sent - before} bytes for ${messages} messages`);
    return (t.user + t.system) / messages;
  };
}

const runs = await Promise.all(roots.map((root) => setup(root)));
for (const run of runs) run(PER_ROUND); // warm-up
const results: number[][] = runs.map(() => []);
for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < runs.length; i++) results[i]!.push(runs[i]!(PER_ROUND));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (let i = 0; i < runs.length; i++) {
  console.log(`${roots[i]}: ${KIND} ${SIZE} B, CPU µs/msg median ${median(results[i]!).toFixed(3)} [${results[i]!.map((x) => x.toFixed(3)).join(" ")}]`);
}
if (runs.length === 2) {
  const ratios = results[0]!.map((x, r) => x / results[1]![r]!);
  console.log(`ratio ${roots[0]} ÷ ${roots[1]} per round: median ${median(ratios).toFixed(2)} [${ratios.map((x) => x.toFixed(2)).join(" ")}]`);
}
