/**
 * Stall hunter (Node, Linux): plays the HTTP/2 client conformance cases
 * (tests/conformance/client_h2) round after round in ONE process, as the
 * long suite runs do, and when a case makes no progress for
 * `STALL_AFTER_MS` (default 3000) appends to `STALL_LOG` what the process
 * looks like at that moment: the default loop's counters, whether it is
 * parked, its watcher and timer counts; each thread's wait channel and
 * system call (`/proc/self/task/N/syscall`: an `epoll_wait` on which epoll
 * descriptor, with what timeout); every eventfd's count; every epoll set's
 * registrations and interest (`/proc/self/fdinfo`); the TCP sockets of the
 * process (`ss -tanpie`: Recv-Q, Send-Q, bytes each way). Slow (>1.5 s)
 * and failed cases are logged too, each with the loop's counters after.
 * Bounded: `ROUNDS` rounds (default 10), each case capped at 10 s.
 *
 *   STALL_LOG=/tmp/stall.log ROUNDS=40 node --import tsx bench/_client_h2_stall_watch.ts
 *
 * The dump blocks this thread while `ss` runs (under load up to seconds):
 * read the state lines, not the timing after them.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { testPKI } from "../tests/tls_pki.ts";
import { type ClientKind, makeClient } from "../tests/conformance/client_h1/driver.ts";
import { CASES } from "../tests/conformance/client_h2/cases.ts";
import { H2ScriptServer } from "../tests/conformance/client_h2/driver.ts";
import { defaultLoop } from "../poll/loop.ts";

const env = (name: string): string | undefined => process.env[name];
const LOG = env("STALL_LOG") ?? "/tmp/client_h2_stall.log";
const ROUNDS = Number(env("ROUNDS") ?? "10");
const STALL_AFTER_MS = Number(env("STALL_AFTER_MS") ?? "3000");
const CASE_LIMIT_MS = 10_000;
const pid = process.pid;

const log = (line: string): void => appendFileSync(LOG, line.endsWith("\n") ? line : line + "\n");
const proc = (path: string): string => {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "?";
  }
};

function loopState(): string {
  const loop = defaultLoop();
  const next = loop.timers.nextDeadline();
  return JSON.stringify({
    parked: loop.parked,
    watchers: loop.size,
    ref: loop.hasRef(),
    timers: loop.timers.size,
    nextTimerInMs: next === undefined ? null : Math.round(next - performance.now()),
    stats: loop.stats,
  });
}

function dump(what: string): void {
  log(`STALL ${new Date().toISOString()} ${what} load=${proc("/proc/loadavg")}\n  loop ${loopState()}`);
  const tasks = readdirSync(`/proc/${pid}/task`).map((t) => {
    const at = `/proc/${pid}/task/${t}`;
    return `  ${t} ${proc(`${at}/comm`)} wchan=${proc(`${at}/wchan`)} syscall=${proc(`${at}/syscall`).split(" ").slice(0, 5).join(" ")}`;
  });
  log("threads (syscall 232 = epoll_wait, 281 = epoll_pwait: nr fd buffer max timeout):\n" + tasks.join("\n"));
  const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
    let target = "?";
    try {
      target = execFileSync("readlink", [`/proc/${pid}/fd/${fd}`]).toString().trim();
    } catch { /* closed meanwhile */ }
    return [fd, target] as const;
  });
  for (const [fd, target] of fds) {
    if (target === "anon_inode:[eventfd]") log(`eventfd ${fd}: ${proc(`/proc/${pid}/fdinfo/${fd}`).split("\n").filter((l) => l.startsWith("eventfd")).join(" ")}`);
  }
  for (const [fd, target] of fds) {
    if (target !== "anon_inode:[eventpoll]") continue;
    const lines = proc(`/proc/${pid}/fdinfo/${fd}`).split("\n").filter((l) => l.startsWith("tfd:"));
    log(`epoll ${fd}:\n  ${lines.join("\n  ")}`);
  }
  log(fds.filter(([, t]) => t.startsWith("socket:")).map(([fd, t]) => `fd ${fd} ${t}`).join("\n"));
  try {
    log(execFileSync("sh", ["-c", `ss -tanpie | grep -A1 'pid=${pid},'`], { maxBuffer: 1 << 24 }).toString());
  } catch (err) {
    log(`ss failed: ${err}`);
  }
  log(`  loop after the dump ${loopState()}`);
}

let current = "";
let caseStart = 0;
let dumped = false;
setInterval(() => {
  if (current === "" || dumped || performance.now() - caseStart < STALL_AFTER_MS) return;
  dumped = true;
  dump(`${current} age=${Math.round(performance.now() - caseStart)}ms`);
}, 250).unref();

const kinds: ClientKind[] = ["ffinet-fetch", "ffinet-request"];
let runs = 0;
let fails = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const tls of [false, true]) {
    const server = await H2ScriptServer.listen(tls);
    try {
      const cases = tls ? CASES.filter((k) => k.tls === true) : CASES;
      for (const kind of kinds) {
        for (const k of cases) {
          current = `round ${round} ${tls ? "tls" : "h2c"} ${kind} ${k.id}`;
          caseStart = performance.now();
          dumped = false;
          server.start(k.settings ?? []);
          const options = server.tls ? { tls: { ca: testPKI().root } } : { http2: "prior-knowledge" as const };
          const client = await makeClient(kind, server.origin, CASE_LIMIT_MS, options);
          try {
            await k.run({ client, server, deadline: caseStart + CASE_LIMIT_MS });
          } catch (err) {
            fails++;
            log(`FAIL ${current} ${Math.round(performance.now() - caseStart)}ms ${err instanceof Error ? err.message : String(err)}`);
          } finally {
            await client.close().catch(() => {});
            server.dropAll();
          }
          runs++;
          const ms = performance.now() - caseStart;
          if (ms > 1500) log(`SLOW ${current} ${Math.round(ms)}ms, loop after: ${loopState()}`);
          current = "";
        }
      }
    } finally {
      await server.close();
    }
  }
  log(`round ${round} done: ${runs} case runs, ${fails} failed, ${new Date().toISOString()}, load ${proc("/proc/loadavg")}`);
}
process.exit(0);
