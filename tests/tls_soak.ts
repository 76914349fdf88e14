// The TLS handshake soak, shared by tests/tls_loop_test.ts (small counts)
// and `npm run conformance -- tls-soak` (10,000 per side): full and resumed
// handshakes in a loop, with this process's fd count and RSS read before
// and after each phase.
//  - client side: our client (one shared context) against `openssl s_server`;
//    resumed handshakes offer one exported session (a TLS 1.3 ticket).
//  - server side: our server (one shared context, tickets under our key
//    ring) against our client in a child process (tests/tls_fixture_client.ts).
import { readdirSync, readlinkSync } from "node:fs";
import process from "node:process";
import { listenTCPSync } from "../socket/connect.ts";
import { acceptTLS, connectTLSSync, TLSContext } from "../tls/mod.ts";
import { startChild } from "./loop_helpers.ts";
import type { FixtureClientConfig } from "./tls_fixture_client.ts";
import { startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

/** One phase of the soak. */
export interface SoakPhase {
  readonly label: string;
  readonly handshakes: number;
  /** How many of them resumed a session. */
  readonly reused: number;
  readonly ms: number;
  readonly fdsBefore: number;
  readonly fdsAfter: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  /** What the descriptors opened during the phase and still open point at ("socket:[…]", "pipe:[…]", a path). */
  readonly newFds: readonly string[];
}

/** Open descriptors of this process (Linux). */
export function fdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Open descriptors of this process with what each points at. */
function fdTable(): Map<string, string> {
  const table = new Map<string, string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      table.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // closed in between (the readdir's own descriptor)
    }
  }
  return table;
}

function newFds(before: Map<string, string>): string[] {
  return [...fdTable()].filter(([fd, target]) => before.get(fd) !== target).map(([fd, target]) => `${fd} → ${target}`);
}

/** A phase as one readable line. */
export function describePhase(p: SoakPhase): string {
  const mib = (n: number) => (n / 1048576).toFixed(1);
  return `${p.label}: ${p.handshakes} handshakes (${p.reused} resumed) in ${p.ms.toFixed(0)} ms (${(p.handshakes / (p.ms / 1000)).toFixed(0)}/s), ` +
    `fds ${p.fdsBefore} → ${p.fdsAfter}${p.newFds.length > 0 ? ` (new: ${p.newFds.join(", ")})` : ""}, RSS ${mib(p.rssBefore)} → ${mib(p.rssAfter)} MiB`;
}

// s_server prints ~2 KB per connection: yield now and then so the runtime
// drains its pipe (a full pipe would stall it).
const drain = () => new Promise((resolve) => setImmediate(resolve));

async function measure(label: string, handshakes: number, body: () => Promise<number>): Promise<SoakPhase> {
  const table = fdTable();
  const fdsBefore = fdCount();
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const reused = await body();
  const ms = performance.now() - started;
  return { label, handshakes, reused, ms, fdsBefore, fdsAfter: fdCount(), rssBefore, rssAfter: process.memoryUsage().rss, newFds: newFds(table) };
}

/** Our client against `openssl s_server`: `full` full handshakes, then `resumed` resumed ones. */
export async function soakClient(full: number, resumed: number): Promise<SoakPhase[]> {
  const pki = testPKI();
  const server = await startSServer(["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!], false);
  try {
    using ctx = new TLSContext({ ca: pki.root });
    const once = (session?: Uint8Array): boolean => {
      const tls = connectTLSSync({ host: "localhost", port: server.port, context: ctx, timeoutMs: 10_000, ...(session ? { session } : {}) });
      try {
        if (tls.protocol !== "TLSv1.3") throw new Error(`unexpected protocol ${tls.protocol}`);
        return tls.isSessionReused();
      } finally {
        tls.close();
      }
    };
    let session: Uint8Array;
    {
      using tls = connectTLSSync({ host: "localhost", port: server.port, context: ctx, timeoutMs: 10_000 });
      session = tls.session(5000)!;
    }
    for (let i = 0; i < 50; i++) { // warm-up: lazy libraries, JIT
      once(i % 2 === 0 ? session : undefined);
      if (i % 10 === 9) await drain();
    }
    const loop = (count: number, offer?: Uint8Array) => async () => {
      let reused = 0;
      for (let i = 0; i < count; i++) {
        if (once(offer)) reused++;
        if (i % 10 === 9) await drain();
      }
      return reused;
    };
    return [
      await measure("client, full", full, loop(full)),
      await measure("client, resumed", resumed, loop(resumed, session)),
    ];
  } finally {
    await server.close();
  }
}

/**
 * Our server against our client in a child process: `full` full handshakes,
 * then `resumed` resumed ones. Each phase is measured from its first
 * connection (the child and its pipes exist by then) to its last, so the
 * child's own descriptors do not count.
 */
export async function soakServer(full: number, resumed: number): Promise<SoakPhase[]> {
  const pki = testPKI();
  using ctx = new TLSContext({ role: "server", cert: pki.chain, key: pki.key });
  using listener = listenTCPSync("127.0.0.1", 0);
  const { port } = listener.localAddress() as { port: number };
  const pong = new TextEncoder().encode("pong");
  const run = async (label: string, rounds: number, resume: boolean): Promise<SoakPhase> => {
    const config: FixtureClientConfig = { port, rounds: rounds + 1, context: { ca: pki.paths["root.pem"]! }, resume, summary: true };
    const child = startChild("tls_fixture_client.ts", [JSON.stringify(config)], 600_000);
    let reused = 0;
    let fdsBefore = 0, rssBefore = 0, started = 0;
    let table = new Map<string, string>();
    for (let i = 0; i <= rounds; i++) {
      const tls = acceptTLS(listener, ctx, 10_000);
      try {
        if (i > 0 && tls.isSessionReused()) reused++;
        tls.sendAll(pong);
      } finally {
        tls.close();
      }
      if (i === 0) { // the child's first connection (which makes the session the others resume)
        table = fdTable();
        fdsBefore = fdCount();
        rssBefore = process.memoryUsage().rss;
        started = performance.now();
      }
    }
    const phase = { label, handshakes: rounds, reused, ms: performance.now() - started, fdsBefore, fdsAfter: fdCount(), rssBefore, rssAfter: process.memoryUsage().rss, newFds: newFds(table) };
    const result = await child.exited;
    const totals = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as { errors?: number; firstError?: string };
    if (result.code !== 0 || totals.errors !== 0) throw new Error(`fixture client failed (exit ${result.code}): ${totals.firstError ?? ""}${result.stderr}`);
    return phase;
  };
  await run("warm-up", 50, true);
  return [await run("server, full", full, false), await run("server, resumed", resumed, true)];
}
