/**
 * The HTTP/2 client's own CPU per request, without I/O: `request()` and
 * `body.arrayBuffer()` through an `H2ClientConnection` whose transport
 * takes what it is sent and is fed, 50 streams at a time, the bytes nginx
 * 1.22 answers `/1k` with (its HEADERS block, a 1 KiB DATA frame). No TLS,
 * no system calls, no event loop: what is left is the client's JavaScript,
 * which on a loaded 2-core machine is far steadier to compare than
 * `bench/h2_client.ts`'s end-to-end numbers (and it is where the client's
 * own changes show). Not part of `scripts/bench.mjs` (a helper, `_`).
 *
 * Run: `bun bench/_h2_client_cpu.ts` (or `deno run -A`, or
 * `node --import tsx` on a copy named `.mts`). `MODE=fetch` measures
 * `fetch()` + `arrayBuffer()` instead. `ROOTS=/old/checkout,/new/checkout`
 * loads each tree and alternates rounds between them (paired A/B in one
 * process: Bun and Deno; Node's koffi refuses a second copy of the FFI
 * layer). `R` rounds (default 9) of 600 × 50 requests after a warm-up.
 * `POOL=1` sends through a `Pool` (`Pool.dispatch`, its queue, the calls
 * a freed stream makes into it) whose connector hands over the same
 * transport, instead of straight into the connection.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const proc = (globalThis as unknown as { process: { env: Record<string, string | undefined>; cpuUsage(): { user: number; system: number } } }).process;
const here = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const roots = (proc.env.ROOTS ?? here).split(",");
const MODE = proc.env.MODE === "fetch" ? "fetch" : "request";
/** POOL=1: through a Pool (Pool.dispatch, its queue and the connection's freed-stream calls), not straight into the connection. */
const POOL = proc.env.POOL === "1";
const ROUNDS = Number(proc.env.R ?? 9);
const IN_FLIGHT = 50;

const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((h) => parseInt(h, 16)));
/** nginx 1.22's head for a 1 KiB static file (the first block also sets its dynamic table size to 0). */
const FIRST_HEAD = hex(
  "20887689aa6355e580ae212e1f6196dd6d5f4a01c52f948a08027140b771b15c6c0a62d1bf5f87497ca58ae819aa5c04313032346c96dd6d5f4a01c52f948a08027140b771b05c0894c5a37f008919085ad2b583aa62a3848fd24a8f",
);
const HEAD = FIRST_HEAD.subarray(1);
const BODY = new Uint8Array(1024).fill(120);

function frame(type: number, flags: number, id: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = payload.length >> 16;
  out[1] = (payload.length >> 8) & 0xff;
  out[2] = payload.length & 0xff;
  out[3] = type;
  out[4] = flags;
  out[5] = (id >>> 24) & 0x7f;
  out[6] = (id >> 16) & 0xff;
  out[7] = (id >> 8) & 0xff;
  out[8] = id & 0xff;
  out.set(payload, 9);
  return out;
}

type Round = (batches: number) => Promise<number>;

/** One tree's client on a transport of its own; resolves to a function measuring CPU µs per request over `batches` × 50. */
async function setup(root: string): Promise<Round> {
  const { H2ClientConnection } = await import(`${root}/http/client/h2_client.ts`);
  const { PendingRequest } = await import(`${root}/http/client/pending.ts`);
  const { request } = await import(`${root}/http/client/request.ts`);
  const { fetch } = await import(`${root}/http/client/fetch.ts`);
  const { LoopTimers } = await import(`${root}/poll/loop_timers.ts`);
  const timers = new LoopTimers(() => {});
  let handler: { data(c: unknown, bytes: Uint8Array): void } | undefined;
  let nextId = 1;
  let first = true;
  // The transport: the parts of a poll Connection the HTTP/2 client (and, with POOL=1, the Pool) uses; what it sends is dropped.
  const transport = {
    loop: { timers, expectEvents() {} },
    setHandler(h: typeof handler) {
      handler = h;
    },
    send: () => true,
    read: () => Promise.reject(new Error("nothing buffered")),
    ref() {},
    unref() {},
    end: () => Promise.resolve(),
    close: () => Promise.resolve(),
    abort() {},
  };
  let dispatcher: { dispatch(o: unknown, h: unknown): void };
  let feed: (bytes: Uint8Array) => void;
  if (POOL) {
    // The whole dispatch path: request() -> Pool.dispatch -> H2ClientConnection, the connection "connected" by a connector that hands over the transport.
    const { Pool } = await import(`${root}/http/client/pool.ts`);
    const pool = new Pool("https://localhost:443", { connector: () => Promise.resolve(transport), http2: "prior-knowledge" });
    dispatcher = pool;
    feed = (bytes) => handler!.data(transport, bytes);
    // Connect: the first request makes the pool open its connection.
    const opening = request("https://localhost:443/1k", { dispatcher });
    while (handler === undefined) await new Promise((r) => setTimeout(r, 1));
    feed(frame(4, 0, 0, new Uint8Array([0, 3, 0, 0, 0x03, 0xe8]))); // SETTINGS: 1000 streams
    feed(frame(4, 1, 0, new Uint8Array(0))); // SETTINGS ACK
    const id = nextId;
    nextId += 2;
    feed(frame(1, 4, id, FIRST_HEAD));
    first = false;
    feed(frame(0, 1, id, BODY));
    await (await opening).body.arrayBuffer();
  } else {
    const owner = { connectionFree() {}, connectionClosed() {}, retry(p: { fail(e: Error): void }) { p.fail(new Error("no retry here")); } };
    const config = {
      authority: "localhost:443", scheme: "https", headersTimeoutMs: 300_000, bodyTimeoutMs: 300_000, keepAliveTimeoutMs: 4_000,
      maxHeaderBytes: 65_536, maxHeaderCount: 100, maxResponseBytes: Infinity, pingIntervalMs: 0,
    };
    const conn = new H2ClientConnection(transport, config, owner);
    dispatcher = { dispatch: (o: unknown, h: unknown) => conn.dispatch(new PendingRequest(o, h)) };
    feed = (bytes) => conn.feed(bytes);
    feed(frame(4, 0, 0, new Uint8Array([0, 3, 0, 0, 0x03, 0xe8]))); // SETTINGS: 1000 streams
    feed(frame(4, 1, 0, new Uint8Array(0))); // SETTINGS ACK
  }
  const answers = (): Uint8Array => {
    const out = new Uint8Array(IN_FLIGHT * (18 + HEAD.length + BODY.length) + 1);
    let at = 0;
    for (let i = 0; i < IN_FLIGHT; i++, nextId += 2) {
      const h = frame(1, 4, nextId, first ? FIRST_HEAD : HEAD);
      first = false;
      out.set(h, at);
      at += h.length;
      const d = frame(0, 1, nextId, BODY);
      out.set(d, at);
      at += d.length;
    }
    return out.subarray(0, at);
  };
  const url = "https://localhost:443/1k";
  const one = MODE === "fetch"
    ? () => fetch(url, { dispatcher }).then((r: Response) => r.arrayBuffer())
    : () => request(url, { dispatcher }).then((r: { body: { arrayBuffer(): Promise<ArrayBuffer> } }) => r.body.arrayBuffer());
  return async (batches: number) => {
    let cpu = 0;
    for (let k = 0; k < batches; k++) {
      const bytes = answers(); // made outside the measured part
      const c0 = proc.cpuUsage();
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < IN_FLIGHT; i++) pending.push(one());
      await Promise.resolve();
      feed(bytes);
      await Promise.all(pending);
      const c1 = proc.cpuUsage();
      cpu += c1.user + c1.system - c0.user - c0.system;
    }
    return cpu / (batches * IN_FLIGHT);
  };
}

const runs: Round[] = [];
for (const root of roots) runs.push(await setup(root));
for (const run of runs) await run(3000);
const results: number[][] = roots.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < runs.length; i++) {
    const j = r % 2 === 0 ? i : runs.length - 1 - i;
    results[j]!.push(await runs[j]!(600));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
roots.forEach((root, i) => console.log(`${MODE} ${root}: ${median(results[i]!).toFixed(2)} µs CPU per request (median of ${ROUNDS})`));
if (roots.length === 2) console.log(`paired ${roots[0]} / ${roots[1]}: ${median(results[0]!.map((x, i) => x / results[1]![i]!)).toFixed(2)}`);
