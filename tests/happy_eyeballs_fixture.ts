/**
 * Child process of tests/happy_eyeballs_test.ts, run inside private user,
 * mount and network namespaces (`unshare -rmn`) set up by the test: a veth
 * pair with 192.0.2.1/24 and 2001:db8::1/64 whose neighbours 192.0.2.2 and
 * 2001:db8::2 have made-up link addresses, so a SYN to them vanishes (a
 * blackhole: the connect neither succeeds nor fails), and /etc/hosts
 * bind-mounted from the test's file:
 *
 *   dead6.he.test  2001:db8::2 (blackholed) and 127.0.0.1
 *   dead4.he.test  192.0.2.2 (blackholed) and ::1
 *   deadboth.he.test  both blackholed
 *
 * Echo listeners run on 127.0.0.1 and [::1] on one port. Every race's
 * events, winner and the process's open descriptors are printed as one
 * JSON line.
 *
 * @example
 * ```ts
 * // unshare -rmn sh -c '…setup…; exec node --import tsx tests/happy_eyeballs_fixture.ts'
 * ```
 *
 * @module
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { NetError } from "../core/errors.ts";
import { Resolver } from "../dns/resolver.ts";
import { connect } from "../poll/connect.ts";
import type { Connection } from "../poll/connection.ts";
import { listen } from "../poll/listener.ts";
import { FamilyMemory } from "../socket/happy_eyeballs.ts";
import type { HappyEyeballsEvent, ResolverOption } from "../socket/happy_eyeballs_connect.ts";

const echo = { data: (conn: Connection, bytes: Uint8Array) => void conn.write(bytes.slice()) };
const v6 = listen({ host: "::1", port: 0, handler: echo });
const v4 = listen({ host: "127.0.0.1", port: v6.port, handler: echo });
const port = v6.port;
const fdTargets = (): string[] =>
  readdirSync("/proc/self/fd").map((fd) => {
    try {
      return `${fd}:${readlinkSync(`/proc/self/fd/${fd}`)}`;
    } catch {
      return `${fd}:gone`;
    }
  });

/** `fd:socket:[inode]` with the TCP socket's addresses and state from /proc/self/net (for a leak's report). */
function describeSocket(entry: string): string {
  const inode = /socket:\[(\d+)\]/.exec(entry)?.[1];
  if (inode === undefined) return entry;
  for (const file of ["tcp", "tcp6", "udp", "udp6"]) {
    let table = "";
    try {
      table = readFileSync(`/proc/self/net/${file}`, "utf8");
    } catch {
      continue;
    }
    for (const line of table.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[9] === inode) return `${entry} ${file} ${f[1]} -> ${f[2]} state ${f[3]}`;
    }
  }
  return entry;
}

interface Race {
  readonly events: string[];
  readonly winner?: string;
  readonly echoed?: boolean;
  readonly error?: string;
  readonly code?: string;
}

async function race(host: string, resolver: ResolverOption, memory: FamilyMemory, extra: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Race> {
  const events: string[] = [];
  const onEvent = (e: HappyEyeballsEvent): void => {
    if (e.type === "answer") events.push(`answer ${e.family} ${e.addresses.join(",")}`);
    else events.push(`${e.type} ${e.address}`);
  };
  try {
    const conn = await connect({ host, port, resolver, happyEyeballs: { memory, onEvent }, ...extra });
    try {
      const winner = (conn.remoteAddress as { host: string }).host;
      await conn.write(new Uint8Array([1, 2, 3]));
      const back = await conn.readExactly(3);
      return { events, winner, echoed: back.join() === "1,2,3" };
    } finally {
      await conn.close();
    }
  } catch (err) {
    return { events, error: (err as Error).name, ...(err instanceof NetError ? { code: err.code } : {}) };
  }
}

const report: Record<string, unknown> = {};
const resolver = new Resolver({ servers: ["127.0.0.1:9"], search: [], timeoutMs: 500, attempts: 1 });
// Warm up (lazy runtime descriptors, getaddrinfo's), then count.
await race("dead6.he.test", resolver, new FamilyMemory());
await race("dead6.he.test", "system", new FamilyMemory());
const fdsBefore = fdTargets();
const memory = new FamilyMemory();
report.v6Blackholed = await race("dead6.he.test", resolver, memory);
report.rememberedAfterV6Race = memory.preferred("dead6.he.test") ?? null;
// With IPv4 remembered for dead4, its (blackholed) IPv4 address goes first.
memory.remember("dead4.he.test", 4);
report.v4Blackholed = await race("dead4.he.test", resolver, memory);
report.rememberedAfterV4Race = memory.preferred("dead4.he.test") ?? null;
report.system = await race("dead6.he.test", "system", new FamilyMemory());
report.timeout = await race("deadboth.he.test", resolver, new FamilyMemory(), { timeoutMs: 400 });
const controller = new AbortController();
const aborted = race("deadboth.he.test", resolver, new FamilyMemory(), { signal: controller.signal });
setTimeout(() => controller.abort(), 300);
report.aborted = await aborted;
// With io_uring an abandoned connect's socket is closed once its cancel completes: let the loop run (bounded).
for (let i = 0; i < 100 && fdTargets().length > fdsBefore.length; i++) await new Promise((resolve) => setTimeout(resolve, 20));
const fdsAfter = fdTargets();
report.fdsBefore = fdsBefore.length;
report.fdsAfter = fdsAfter.length;
report.fdsNew = fdsAfter.filter((f) => !fdsBefore.includes(f)).map(describeSocket);
v4.close();
v6.close();
console.log(JSON.stringify(report));
