/**
 * One HTTP/2 client contender alone in this process against a local nginx
 * (bench/_nginx.ts, a 1 KiB body, 50 requests in flight on one connection;
 * over TLS, or cleartext h2c with the `-h2c` contenders), and where its CPU
 * goes: after WARM seconds of load (default
 * 15), MEAS seconds (default 5) measured, CPU µs per request for each of
 * the process's threads grouped by name (the main thread; on Bun the
 * `JITWorker` and `JSCWarmUp` compiler threads, `HeapHelper` (collector),
 * `mi-scavenger` (the allocator's cleanup), the loop's parked-wait
 * `Worker`). `bench/h2_client.ts` runs all its contenders in one process,
 * so one's compiler and collector work can land in another's rounds; here
 * each has its process to itself. Not part of `scripts/bench.mjs` (a
 * helper, `_`); run each contender in turn, alternated, and compare.
 *
 * Run: `WHO=request|fetch|node|request-h2c|fetch-h2c|node-h2c bun
 * bench/_h2_client_threads.ts` (`node`: node:http2's client; `-h2c`: the
 * same over nginx's cleartext h2 port, ffinet with `http2:
 * "prior-knowledge"`; also `deno run -A`, or Node with `node --import
 * tsx`).
 *
 * @example
 * ```sh
 * for who in request node fetch; do WHO=$who WARM=15 bun bench/_h2_client_threads.ts; done
 * ```
 *
 * @module
 */
import http2 from "node:http2";
import { readdirSync, readFileSync } from "node:fs";
import { Agent, fetch as ffFetch, Pool, request as ffRequest } from "../http/client/mod.ts";
import { testPKI } from "../tests/tls_pki.ts";
import { startNginx } from "./_nginx.ts";

const proc = (globalThis as unknown as { process: { pid: number; env: Record<string, string | undefined>; exit(code: number): never } }).process;
const WHO = proc.env.WHO ?? "request";
const WARM = Number(proc.env.WARM ?? 15);
const MEAS = Number(proc.env.MEAS ?? 5);
const IN_FLIGHT = 50;

const pki = testPKI();
const started = await startNginx({ certPath: pki.paths["leaf_chain.pem"]!, keyPath: pki.paths["leaf.key"]! });
if (started === null) {
  console.log("# nginx is not installed: _h2_client_threads skipped");
  proc.exit(0);
}
const nginx = started!;
const H2C = WHO.endsWith("-h2c");
const url = H2C ? `http://127.0.0.1:${nginx.h2cPort}/1k` : `https://localhost:${nginx.tlsPort}/1k`;
const agent = H2C ? new Pool(url, { http2: "prior-knowledge" }) : new Agent({ tls: { ca: pki.root } });
let session: http2.ClientHttp2Session | undefined;
/** node:http2's session, opened again after a GOAWAY (nginx's request limit). */
const nodeSession = (): http2.ClientHttp2Session => {
  if (session === undefined || session.closed || session.destroyed) {
    const s = http2.connect(url, H2C ? {} : { ca: pki.root });
    s.on("error", () => {});
    s.once("goaway", () => {
      if (session === s) session = undefined;
      s.close();
    });
    session = s;
  }
  return session;
};
const one: () => Promise<void> = WHO === "node" || WHO === "node-h2c"
  ? () =>
    new Promise<void>((resolve, reject) => {
      const r = nodeSession().request({ ":path": "/1k" });
      r.on("data", () => {});
      r.on("end", () => resolve());
      r.on("error", reject);
      r.end();
    })
  : WHO === "fetch" || WHO === "fetch-h2c"
  ? async () => {
    await (await ffFetch(url, { dispatcher: agent })).arrayBuffer();
  }
  : async () => {
    await (await ffRequest(url, { dispatcher: agent })).body.arrayBuffer();
  };

/** CPU ns so far per thread group of this process (schedstat's first field; names without trailing digits). */
function threads(): Record<string, number> {
  const out: Record<string, number> = {};
  const pid = String(proc.pid);
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = t === pid ? "main" : readFileSync(`/proc/${pid}/task/${t}/comm`, "utf8").trim().replace(/[\d:#]+$/, "");
      out[name] = (out[name] ?? 0) + Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** IN_FLIGHT requests at a time for `seconds`; resolves with how many completed. */
async function load(seconds: number): Promise<number> {
  let count = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (performance.now() < end) {
      await one();
      count++;
    }
  }));
  return count;
}

try {
  await load(WARM);
  const before = threads();
  const n = await load(MEAS);
  const after = threads();
  const spent = Object.keys(after).map((k) => [k, (after[k]! - (before[k] ?? 0)) / n / 1000] as const).sort((a, b) => b[1] - a[1]);
  const total = spent.reduce((s, [, us]) => s + us, 0);
  console.log(
    `# ${WHO}: ${(n / MEAS).toFixed(0)} req/s, ${total.toFixed(2)} µs CPU/req after ${WARM} s: ` +
      spent.filter(([, us]) => us >= 0.05).map(([k, us]) => `${k} ${us.toFixed(2)}`).join(", "),
  );
} finally {
  session?.close();
  await agent.close();
  await nginx.stop();
}
proc.exit(0);
