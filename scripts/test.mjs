#!/usr/bin/env node
// Runs the typecheck and, beside it, the whole test suite on Node (the system Node with
// tsx), Node 24 (its own type stripping, no tsx), Deno and Bun, then the
// package step once (tests/package/*_check.ts, which spawn the runtimes
// themselves: tarball_check packs the tarball, installs it into a scratch
// project and imports every subpath on all four runtimes; runner_check checks
// this script's failure summary). Each run is split into parts (disjoint sets
// of its files, one runtime process each), and up to four parts run at once
// (see runPool below). Prints each part's output as it ends, then a line per
// run, the failing tests' names and errors, and one line `N passed, N failed`
// over all of them.
//
//   node scripts/test.mjs                     typecheck + every runtime + package
//   node scripts/test.mjs --runtime=deno      one runtime (no typecheck)
//   node scripts/test.mjs --runtime=node24    Node 24 (installed on first use)
//   node scripts/test.mjs --runtime=package   only the package check
//   node scripts/test.mjs --no-check          skip the typecheck
//   node scripts/test.mjs http/               only test files under these paths
//   FFINET_TEST_JOBS=1 node scripts/test.mjs  one part at a time (4 by default)
//   FFINET_TEST_PART_TIMEOUT_S=N              kill and fail a part still running after N s (1200)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { node24Path } from "./node24.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", name);
const SKIP_DIRS = new Set(["node_modules", "dist", ".git", "coverage"]);
// Checks that spawn every runtime themselves (tests/package/*_check.ts): run
// once, on this Node, as the "package" step.
const PACKAGE_CHECKS = readdirSync(join(root, "tests", "package"))
  .filter((f) => f.endsWith("_check.ts"))
  .sort()
  .map((f) => `tests/package/${f}`);

function findTests(dir, out) {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name) || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith("_test.ts")) out.push(relative(root, path));
  }
  return out;
}

// The library's own sources (every subpath's mod.ts included), for the check of their @example blocks.
function findLibraryFiles() {
  const dirs = ["ffi", "core", "socket", "poll", "dns", "tls", "http", "ws", "pool"].filter((d) => existsSync(join(root, d)));
  return dirs.flatMap((d) => listTs(join(root, d), [])).sort();
}

function listTs(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) listTs(path, out);
    else if (name.endsWith(".ts") && !name.endsWith("_test.ts")) out.push(relative(root, path));
  }
  return out;
}

const USAGE = `usage: node scripts/test.mjs [--runtime=LIST] [--no-check] [PATH...]

  (no options)            typecheck, every runtime (node, node24, deno, bun), the extra
                          runs (bun-readiness) and the package check
  --runtime=LIST          only these runs, comma-separated: node, node24, deno, bun,
                          package, or an extra run's name (no typecheck)
  --no-check              skip the typecheck
  PATH...                 only test files under these paths (a folder or a file name's
                          start); a file named in full runs even if not a _test.ts
  -h, --help              print this and exit

  FFINET_TEST_JOBS=N          parts at once (4; 1 runs them one by one)
  FFINET_TEST_PARTS=N         parts per run (8)
  FFINET_TEST_PART_TIMEOUT_S=N  kill and fail a part still running after N s (1200)
  FFINET_TEST_CORES=1         Linux: core files and gdb backtraces of a runtime that crashes
`;

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(USAGE);
  process.exit(0);
}
// Every option is one of these: an unknown one (a typo, --runtime without "=")
// is refused before anything starts, rather than ignored (which ran the whole suite).
for (const a of args) {
  if (a.startsWith("-") && a !== "--no-check" && !a.startsWith("--runtime=")) {
    process.stderr.write(`scripts/test.mjs: unknown option ${a} (options: --runtime=LIST, --no-check, --help)\n`);
    process.exit(2);
  }
}
const runtimeArg = args.find((a) => a.startsWith("--runtime="));
const filters = args.filter((a) => !a.startsWith("-"));
const ALL_RUNS = ["node", "node24", "deno", "bun", "package"];
// The package check packs the whole library: it runs by default only when
// the whole suite does (or when asked for by name).
const runtimes = runtimeArg
  ? runtimeArg.slice(10).split(",")
  : ALL_RUNS.filter((r) => r !== "package" || filters.length === 0);
const check = !args.includes("--no-check") && !runtimeArg;
// A filter that names a file runs that file even if it is not a `_test.ts`
// (the runner's own fixtures in tests/package/fixtures/ are run that way).
const named = filters.map((p) => p.replace(/^\.\//, "")).filter((p) => !p.endsWith("/") && existsSync(join(root, p)) && statSync(join(root, p)).isFile());
const files = [...new Set([
  ...findTests(root, []).filter((f) => filters.some((p) => f.startsWith(p.replace(/^\.\//, ""))) || filters.length === 0),
  ...named,
])].sort();

function withoutColor(env) {
  const copy = { ...env };
  delete copy.FORCE_COLOR;
  // Set when this script runs inside a node:test run (tests/package/
  // runner_check.ts): a child `node --test` would then report to that parent
  // instead of printing its own results.
  delete copy.NODE_TEST_CONTEXT;
  return copy;
}

/**
 * With FFINET_TEST_CORES=1 (CI sets it) on Linux, a runtime that dies on a
 * signal leaves a core file, and gdb (when installed) prints every thread's
 * backtrace into the output: a crash at exit names where it happened.
 */
const wantCores = process.env.FFINET_TEST_CORES === "1" && process.platform === "linux";

function coreFiles() {
  return readdirSync(root).filter((f) => f === "core" || /^core\.\d+$/.test(f));
}

function backtraces(cmd, core) {
  const r = spawnSync("gdb", ["-batch", "-nx", "-ex", "info threads", "-ex", "thread apply all bt 40", cmd, core], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
  });
  if (r.error) return `(gdb not run: ${r.error.message})`;
  return (r.stdout ?? "") + (r.stderr ?? "");
}

// The pids of the runtimes running now: their own core files (core.<pid>)
// are theirs to read, not another part's to remove.
const runningPids = new Set();

// Every process this script starts leads its own process group (spawn's
// `detached`), so the group takes the runtime and whatever it started (a
// test's openssl s_server, Node's per-file test processes) together:
// SIGINT, SIGTERM or SIGHUP to this script goes on to every running group
// (a Ctrl-C in a terminal reaches only this script's group, the foreground
// one), no new part starts, and the script exits 128 + the signal's number
// once they are gone (SIGKILL to what is left after 5 s, or at a second
// signal). A part's group is killed when the part ends (what its tests left
// running) or times out, and every group when this script exits.
//
// A SIGKILL (or a crash) leaves no handler to run: each group then has a
// guard, a `sh` in a group of its own whose stdin is a pipe from this
// script. Only this script holds the pipe's other end, so the kernel closes
// it when this script is gone, however it went; the guard reads end of file
// and SIGKILLs the group. A part that ends the usual way has its guard
// SIGKILLed first (it kills nothing). One sh per part: no polling, no timer,
// POSIX only (Linux's PR_SET_PDEATHSIG would reach the runtime alone, not
// what its tests started).
const liveGroups = new Set();
const guards = new Map(); // group id -> its guard (a ChildProcess)
let stopSignal = null;

// dash's kill takes no "--": the group as "-PGID" right after the signal.
const GUARD_SCRIPT = 'while read -r _; do :; done; kill -KILL "-$1" 2>/dev/null';

/** Starts the guard of the group `pid` leads (see above). */
function guardGroup(pid) {
  const guard = spawn("/bin/sh", ["-c", GUARD_SCRIPT, "ffinet-test-guard", String(pid)], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  guard.on("error", () => {}); // no sh: the handlers above still stop the parts
  guard.stdin.on("error", () => {});
  guards.set(pid, guard);
}

/** The group's part ended: its guard goes without killing anything. */
function dropGuard(pid) {
  const guard = guards.get(pid);
  if (guard === undefined) return;
  guards.delete(pid);
  guard.kill("SIGKILL");
}

function killGroups(signal) {
  for (const pid of liveGroups) killGroup(pid, signal);
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // gone already
  }
}

function exitForSignal() {
  killGroups("SIGKILL");
  process.exit(128 + (osConstants.signals[stopSignal] ?? 15));
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (stopSignal !== null) exitForSignal();
    stopSignal = signal;
    console.log(`\n== ${signal}: stopping ${liveGroups.size} running process group(s)`);
    if (liveGroups.size === 0) exitForSignal();
    killGroups(signal);
    setTimeout(exitForSignal, 5000).unref();
  });
}
process.on("exit", () => {
  for (const pid of [...guards.keys()]) dropGuard(pid);
  killGroups("SIGKILL");
});

function run(cmd, argv, { capture = false, env = {}, quiet = false, timeoutMs = 0 } = {}) {
  if (wantCores) {
    const before = new Set(coreFiles());
    return runOnce("/bin/sh", ["-c", 'ulimit -c unlimited 2>/dev/null; exec "$0" "$@"', cmd, ...argv], { capture, env, quiet, timeoutMs })
      .then((r) => {
        // The limit is inherited: a test's child that aborts on purpose
        // (tests/openssl_fixture_atexit.ts) leaves a core too, so every new
        // core file is removed whether the runtime died or not (they were
        // left in the repository, tens of MB each). The runtime's own
        // (core.<its pid>: sh exec'd it) is read first; another running
        // runtime's is left to its own run.
        const own = `core.${r.pid}`;
        const fresh = coreFiles()
          .filter((f) => !before.has(f) && !(f.startsWith("core.") && runningPids.has(Number(f.slice(5)))))
          .sort((a, b) => (b === own) - (a === own));
        let out = r.out;
        if (r.signal !== null) {
          out += `\n${cmd} was killed by ${r.signal}\n`;
          for (const core of fresh) {
            const bt = `== backtraces from ${core}${core === own ? " (the runtime's)" : ""}\n${backtraces(cmd, join(root, core))}\n`;
            if (!quiet) process.stdout.write(bt);
            out += bt;
          }
        }
        for (const core of fresh) rmSync(join(root, core), { force: true });
        return { ...r, out };
      });
  }
  return runOnce(cmd, argv, { capture, env, quiet, timeoutMs });
}

/**
 * Runs a process; with `capture` its output is kept, and also printed as it
 * comes unless `quiet`. With `timeoutMs`, a process still running then is
 * killed (SIGKILL) and its output so far ends with a line saying so: a part
 * that hangs (deno test has no per-test timeout) fails with what it printed
 * instead of holding the whole run until CI's own limit drops every part's output.
 */
function runOnce(cmd, argv, { capture = false, env = {}, quiet = false, timeoutMs = 0 } = {}) {
  return new Promise((resolve) => {
    if (stopSignal !== null) return resolve({ code: 1, signal: stopSignal, pid: undefined, out: "" }); // stopping: nothing new starts
    const child = spawn(cmd, argv, {
      cwd: root,
      env: { ...withoutColor(process.env), NO_COLOR: "1", ...env },
      stdio: ["ignore", capture ? "pipe" : "inherit", capture ? "pipe" : "inherit"],
      detached: true, // its own process group (see liveGroups)
    });
    if (child.pid !== undefined) {
      runningPids.add(child.pid);
      liveGroups.add(child.pid);
      guardGroup(child.pid);
    }
    let out = "";
    if (capture) {
      child.stdout.on("data", (d) => { out += d; if (!quiet) process.stdout.write(d); });
      child.stderr.on("data", (d) => { out += d; if (!quiet) process.stderr.write(d); });
    }
    child.on("error", (err) => { out += `\n${cmd}: ${err.message}\n`; });
    let timedOut = false;
    const watchdog = timeoutMs > 0 ? setTimeout(() => { timedOut = true; killGroup(child.pid, "SIGKILL"); }, timeoutMs) : undefined;
    // What the runtime's tests left running goes with it (and stops holding its output pipes open).
    child.on("exit", () => {
      dropGuard(child.pid);
      killGroup(child.pid, "SIGKILL");
    });
    child.on("close", (code, signal) => {
      liveGroups.delete(child.pid);
      if (stopSignal !== null && liveGroups.size === 0) exitForSignal();
      if (watchdog !== undefined) clearTimeout(watchdog);
      if (timedOut) out += `\n(killed after ${(timeoutMs / 1000).toFixed(0)} s, still running: FFINET_TEST_PART_TIMEOUT_S; the last lines above show where it stopped)\n`;
      runningPids.delete(child.pid);
      resolve({ code: code ?? (signal ? 1 : 0), signal, pid: child.pid, out });
    });
  });
}

const lastNumber = (out, re) => {
  const all = [...out.matchAll(re)];
  const m = all[all.length - 1];
  return m ? Number(m[1]) : undefined;
};

/** Counts leaf tests in TAP output: an ok line right after a nested plan is a suite. */
function countTapLeaves(out) {
  let passed = 0;
  let failed = 0;
  let previous = "";
  let seen = false;
  for (const line of out.split("\n")) {
    const m = /^(\s*)(not ok|ok) \d+/.exec(line);
    if (m) {
      seen = true;
      const plan = /^(\s*)1\.\.\d+$/.exec(previous);
      const isSuite = plan && plan[1].length > m[1].length;
      if (!isSuite) {
        if (m[2] === "ok") passed++;
        else failed++;
      }
    }
    if (line.trim() !== "" && !line.trim().startsWith("#")) previous = line;
  }
  return seen ? { passed, failed } : { passed: undefined, failed: undefined };
}

const indentOf = (line) => /^\s*/.exec(line)[0].length;
const firstLines = (text, n) =>
  text.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "").slice(0, n);

/**
 * The failing tests in TAP output (Node's and Deno's reporters): each with
 * its suite path and the first lines of its error. Suites that failed only
 * because a test inside failed are left out.
 */
function tapFailures(out) {
  const lines = out.split("\n");
  const failures = [];
  const suites = []; // { indent, name } from "# Subtest:" lines
  let file = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fileHeader = /^# (\.\/\S+\.ts)$/.exec(line); // Deno: one per file
    if (fileHeader) { file = fileHeader[1]; suites.length = 0; continue; }
    const subtest = /^(\s*)# Subtest: (.*)$/.exec(line);
    if (subtest) {
      const indent = subtest[1].length;
      while (suites.length && suites[suites.length - 1].indent >= indent) suites.pop();
      suites.push({ indent, name: subtest[2] });
      continue;
    }
    const m = /^(\s*)not ok \d+ - (.*?)(?: # .*)?$/.exec(line);
    if (!m) continue;
    const indent = m[1].length;
    const name = m[2];
    // The YAML block after it: from "---" to "...", indented past the line.
    const block = [];
    if (lines[i + 1]?.trim() === "---") {
      for (let j = i + 2; j < lines.length && lines[j].trim() !== "..."; j++) block.push(lines[j]);
    }
    const parents = suites.filter((s) => s.indent < indent).map((s) => s.name);
    if (parents.at(-1) === name) parents.pop(); // Node names the test itself in "# Subtest:"
    let message = [];
    let location = "";
    let suiteOnly = false;
    const json = block.find((l) => l.trim().startsWith("{"));
    if (json) { // Deno: one JSON line
      try {
        const parsed = JSON.parse(json.trim());
        message = firstLines(String(parsed.message ?? ""), 4);
        suiteOnly = /^\d+ test steps? failed\.$/.test(message[0] ?? "");
      } catch { message = [json.trim()]; }
    } else { // Node: YAML keys
      for (let j = 0; j < block.length; j++) {
        const kv = /^\s*(\w+): (.*)$/.exec(block[j]);
        if (!kv) continue;
        const [, key, value] = kv;
        if (key === "failureType" && /subtestsFailed/.test(value)) suiteOnly = true;
        if (key === "location") location = value.replace(/^'|'$/g, "");
        if (key === "name" && message.length) message[0] = `${value.replace(/^'|'$/g, "")}: ${message[0]}`;
        if (key === "error") {
          if (value === "|-" || value === "|" || value === ">-") {
            const inner = [];
            const base = indentOf(block[j]);
            for (let k = j + 1; k < block.length && (block[k].trim() === "" || indentOf(block[k]) > base); k++) {
              inner.push(block[k].trim());
            }
            message = firstLines(inner.join("\n"), 4);
          } else {
            message = [value.replace(/^'|'$/g, "")];
          }
        }
      }
    }
    if (suiteOnly) continue;
    failures.push({
      name: [file, ...parents, name].filter(Boolean).join(" > ") + (location ? ` (${location})` : ""),
      message,
    });
  }
  return failures;
}

/** The failing tests in `bun test` output: each "(fail)" line with the error printed before it. */
function bunFailures(out) {
  const lines = out.split("\n");
  const failures = [];
  let chunkStart = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\((pass|skip|todo)\)/.test(line)) { chunkStart = i + 1; continue; }
    const m = /^\(fail\) (.*?)(?: \[[\d.]+m?s\])?$/.exec(line);
    if (!m) continue;
    const chunk = lines.slice(chunkStart, i);
    const at = chunk.findIndex((l) => /^(?:[A-Z]\w*(?:Error|Exception)|error)\b[^|]*:/.test(l));
    const message = at < 0 ? [] : chunk.slice(at).filter((l) => l.trim() !== "" && !/^\s+at /.test(l)).slice(0, 4);
    failures.push({ name: m[1], message });
    chunkStart = i + 1;
  }
  return failures;
}

/** Counts and failures from node:test's TAP output. */
function nodeTapResult(r) {
  return {
    code: r.code,
    passed: lastNumber(r.out, /^# pass (\d+)$/gm),
    failed: lastNumber(r.out, /^# fail (\d+)$/gm),
    failures: tapFailures(r.out),
    out: r.out,
  };
}

const nodeTestArgs = (files) => [
  "--expose-gc", "--test", "--test-concurrency=1", "--test-reporter=tap", "--test-timeout=300000", ...files,
];

/**
 * How each run's process is started over a list of files, and how its output
 * is read. Node runs each file in a process of its own; Deno and Bun run the
 * files they are given one after another in one process.
 */
const runtimeDefs = {
  node: {
    command: (files) => [process.execPath, ["--import", "tsx", ...nodeTestArgs(files)]],
    result: nodeTapResult,
  },
  // Node 24 strips types itself: no tsx, so a non-erasable construct fails here.
  // Its test runner turns on report-on-signal in the test processes, so a test
  // that sends itself SIGUSR2 would leave a report.*.json in the repository.
  // Its compile cache (NODE_COMPILE_CACHE, Node 22.1+) keeps V8's code for
  // each module it loaded, checked against the module's source: the next
  // file's process compiles only what changed. Every file is a process of its
  // own that loads much of the library, so this is a third of the CPU of a
  // small file's run (0.4 s of 1.3). Node 20 has no such cache.
  node24: {
    command: (files) => [node24Path(), ["--no-report-on-signal", ...nodeTestArgs(files)]],
    env: { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE || join(root, "node_modules", ".cache", "ffinet-node24-compile") },
    result: nodeTapResult,
  },
  deno: {
    command: (files) => [bin("deno"), ["test", "-A", "--no-check", "--v8-flags=--expose-gc", "--reporter=tap", ...files]],
    result: (r) => ({ code: r.code, ...countTapLeaves(r.out), failures: tapFailures(r.out), out: r.out }),
  },
  bun: {
    command: (files) => [bin("bun"), ["test", "--timeout", "300000", ...files.map((f) => "./" + f)]],
    result: (r) => ({
      code: r.code,
      passed: lastNumber(r.out, /^\s*(\d+) pass$/gm),
      failed: lastNumber(r.out, /^\s*(\d+) fail$/gm),
      failures: bunFailures(r.out),
      out: r.out,
    }),
  },
  // The checks spawn the runtimes themselves: one process, never split.
  package: {
    command: () => [process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", "--test-timeout=600000", ...PACKAGE_CHECKS]],
    result: nodeTapResult,
    whole: true,
  },
};

/**
 * Runs beyond the four runtimes' own: some test files again on one runtime
 * with an environment of their own, each with its own summary line. They run
 * with the whole suite (and with a PATH filter, over the files both select),
 * or alone when named: `--runtime=NAME`. An entry:
 *
 *   { name: "bun-uring", runtime: "bun", env: { FFINET_IO: "uring" }, paths: ["poll/uring/", "tests/uring_"] }
 *
 * (`paths` as on the command line: a folder or a file name's start.)
 */
const EXTRA_RUNS = [
  // io_uring is the default I/O on Linux 6.1+ (poll/uring/probe.ts): the
  // connection, TLS, layered, HTTP and WebSocket files most sensitive to the
  // backend run again over epoll (FFINET_IO=readiness), on Bun, the fastest.
  {
    name: "bun-readiness",
    runtime: "bun",
    env: { FFINET_IO: "readiness" },
    paths: [
      "poll/connect_test.ts", "poll/connection_api_test.ts", "poll/connection_reset_test.ts", "poll/connection_send_more_test.ts",
      "poll/connection_test.ts", "poll/listener_test.ts", "poll/transport_test.ts", "poll/write_queue_test.ts",
      "tests/peer_hangup_test.ts", "tests/raw_shutdown_order_test.ts", "tests/use_after_close_test.ts", "tests/listener_close_test.ts",
      "tests/listener_emfile_test.ts", "tests/loop_backpressure_test.ts", "tests/loop_echo_test.ts",
      "tests/tls_async_test.ts", "tests/tls_loop_test.ts", "tests/tls_server_test.ts", "tests/tls_client_test.ts",
      "tests/tls_paused_end_test.ts", "tests/tls_buffered_write_test.ts", "tests/tls_max_handshakes_test.ts", "tests/tls_resume_test.ts",
      "tests/hostile_tls_client_test.ts", "tests/hostile_tls_server_test.ts",
      "tests/layered_transport_test.ts", "tests/layered_abort_reason_test.ts", "tests/proxy_test.ts", "tests/proxy_https_test.ts",
      "tests/http_server_h1_test.ts", "tests/http_server_h2_test.ts", "tests/http_server_half_close_test.ts", "tests/http_server_tls_test.ts",
      "tests/http_server_large_body_test.ts", "tests/http_server_sendfile_test.ts", "tests/http_client_test.ts", "tests/http_client_h2_test.ts",
      "tests/ws_server_test.ts", "tests/ws_client_test.ts", "tests/ws_wire_races_test.ts", "tests/ws_cork_test.ts", "ws/connection_test.ts",
    ],
  },
];

// Every run is split into parts (FFINET_TEST_PARTS, 8 by default): the i-th
// file (in sorted order) goes into part i mod 8, so the long files spread
// over the parts. Up to FFINET_TEST_JOBS parts (4 by default) run at once,
// from any run, each its own runtime process running its files one at a
// time: the CI machine has two cores, and the tests spend much of their time
// waiting on peers and timers (a run alone keeps about one core busy). A
// part never starts while another part with one of its files runs (on
// another runtime), so no file ever runs twice at once. Processes never
// share a file's process-wide state (signal handlers, limits, environment):
// Deno's --parallel (Workers in one process) is never used.
// FFINET_TEST_JOBS=1 runs the parts one by one.
const positive = (v, fallback) => Math.max(1, Math.floor(Number(v ?? fallback)) || fallback);
const JOBS = positive(process.env.FFINET_TEST_JOBS, 4);
const PARTS = positive(process.env.FFINET_TEST_PARTS, 8);
// A part still running after this long is killed and fails (see runOnce).
const PART_TIMEOUT_MS = positive(process.env.FFINET_TEST_PART_TIMEOUT_S, 1200) * 1000;

const startsWithAny = (f, paths) => paths.some((p) => f.startsWith(p.replace(/^\.\//, "")));

/** The runs asked for: { name, runtime, env, files }, in the order given. */
function selectRuns() {
  const known = [...ALL_RUNS, ...EXTRA_RUNS.map((e) => e.name)];
  const names = [...runtimes];
  if (!runtimeArg) names.push(...EXTRA_RUNS.map((e) => e.name));
  return names.map((name) => {
    const extra = EXTRA_RUNS.find((e) => e.name === name);
    if (extra) {
      if (!runtimeDefs[extra.runtime]) throw new Error(`${name}: unknown runtime ${extra.runtime}`);
      return { name, runtime: extra.runtime, env: extra.env ?? {}, files: files.filter((f) => startsWithAny(f, extra.paths)) };
    }
    if (!runtimeDefs[name]) throw new Error(`unknown runtime ${name} (have ${known.join(", ")})`);
    return { name, runtime: name, env: {}, files: name === "package" ? PACKAGE_CHECKS : files };
  }).filter((run) => run.files.length > 0 || !EXTRA_RUNS.some((e) => e.name === run.name));
}

/** A run's parts: `of` disjoint lists of its files, the i-th file in part i mod `of`. */
function partsOf(run) {
  const n = runtimeDefs[run.runtime].whole ? 1 : Math.min(PARTS, run.files.length);
  const parts = Array.from({ length: n }, () => []);
  run.files.forEach((f, i) => parts[i % n].push(f));
  return parts.map((partFiles, i) => ({ run, index: i + 1, of: n, files: partFiles }));
}

/**
 * Runs the jobs, up to `limit` at once, each job started once no running job
 * holds one of its files; `onDone(job, result)` as each ends.
 */
function runPool(jobs, limit, onDone) {
  return new Promise((resolve) => {
    const pending = [...jobs];
    const busy = new Set();
    let active = 0;
    const pump = () => {
      if (stopSignal !== null) return; // stopping: no new part (see liveGroups)
      for (let i = 0; i < pending.length && active < limit;) {
        const job = pending[i];
        if (job.files.some((f) => busy.has(f))) { i++; continue; }
        pending.splice(i, 1);
        active++;
        for (const f of job.files) busy.add(f);
        startJob(job).then((r) => {
          active--;
          for (const f of job.files) busy.delete(f);
          onDone(job, r);
          pump();
        });
      }
      if (active === 0 && pending.length === 0) resolve();
    };
    pump();
  });
}

const label = (job) => (job.of > 1 ? `${job.run.name} [${job.index}/${job.of}]` : job.run.name);

async function startJob(job) {
  const def = runtimeDefs[job.run.runtime];
  job.started = Date.now();
  let r;
  try {
    const [cmd, argv] = def.command(job.files);
    console.log(`== ${label(job)}: started (${job.files.length} files)`);
    const out = await run(cmd, argv, { capture: true, env: { ...def.env, ...job.run.env }, quiet: true, timeoutMs: PART_TIMEOUT_MS });
    r = def.result(out);
  } catch (err) {
    r = { code: 1, out: String(err?.stack ?? err), failures: [] };
  }
  job.ended = Date.now();
  return r;
}

/**
 * tsc, deno check over mod.ts and the test files, and deno check --doc-only
 * over every library file's @example, one after another; true if all pass.
 */
async function runTypecheck() {
  const steps = [
    ["tsc", bin("tsc"), ["-p", "tsconfig.check.json"]],
    ["deno check", bin("deno"), ["check", "--quiet", "mod.ts", ...files]],
    ["deno check --doc-only (every @example of the library)", bin("deno"), ["check", "--quiet", "--doc-only", "mod.ts", ...findLibraryFiles()]],
  ];
  let passed = true;
  for (const [name, cmd, argv] of steps) {
    console.log(`== typecheck: ${name}: started`);
    const started = Date.now();
    const r = await run(cmd, argv, { capture: true, quiet: true });
    console.log(`\n== typecheck: ${name}, exit ${r.code} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    if (r.out !== "") process.stdout.write(r.out.endsWith("\n") ? r.out : r.out + "\n");
    if (r.code !== 0) passed = false;
  }
  if (!passed) console.log("typecheck failed");
  return passed;
}

await main();

async function main() {
  let failedAny = false;
  let runs;
  try {
    runs = selectRuns();
  } catch (err) {
    // An unknown run name: refused before anything starts, as an unknown option is.
    process.stderr.write(`scripts/test.mjs: ${err.message}\n`);
    process.exit(2);
  }
  if (runs.some((r) => r.runtime !== "package") && files.length === 0) {
    console.log("no test files found");
    process.exit(1);
  }
  // Installs Node 24 on first use, before any part starts.
  if (runs.some((r) => r.runtime === "node24")) node24Path();

  const jobs = runs.flatMap(partsOf);
  const byRun = new Map(runs.map((run) => [run, []]));
  console.log(`\n== ${runs.map((r) => `${r.name}: ${r.files.length} ${r.runtime === "package" ? "checks" : "test files"}`).join(", ")}`);
  console.log(`== ${jobs.length} parts, up to ${JOBS} at once; each part's output is printed when it ends`);
  // The typecheck runs beside the parts, not before them: its three steps
  // keep about one of CI's two cores busy for a minute, and the parts are
  // CPU-bound (the cores are ~94% busy over a whole run). Its output is
  // printed when each step ends, as a part's is.
  const typecheck = check ? runTypecheck() : Promise.resolve(true);
  await runPool(jobs, JOBS, (job, r) => {
    byRun.get(job.run).push({ job, r });
    const done = byRun.get(job.run).length;
    console.log(`\n== ${label(job)}: ${job.files.length} files, exit ${r.code} (${((job.ended - job.started) / 1000).toFixed(1)} s)` +
      (job.of > 1 ? `, ${done} of ${job.of} parts of ${job.run.name} done` : ""));
    process.stdout.write(r.out.endsWith("\n") || r.out === "" ? r.out : r.out + "\n");
  });

  const typecheckPassed = await typecheck;
  if (!typecheckPassed) failedAny = true;

  let totalPassed = 0;
  let totalFailed = 0;
  const summary = [];
  const details = [];
  for (const [run, results] of byRun) {
    let passed = 0;
    let failed = 0;
    let code = 0;
    let failedRun = false;
    const failures = [];
    const silent = [];
    for (const { job, r } of results.sort((a, b) => a.job.index - b.job.index)) {
      passed += r.passed ?? 0;
      // A runtime that crashed before reporting counts as one failure.
      const f = r.failed ?? (r.code === 0 ? 0 : 1);
      const bad = r.code !== 0 || f > 0 || r.passed === undefined;
      failed += bad && f === 0 ? 1 : f;
      if (r.code !== 0 && code === 0) code = r.code;
      if (!bad) continue;
      failedRun = true;
      failures.push(...(r.failures ?? []));
      if (!r.failures?.length) silent.push({ job, r });
    }
    if (failedRun) failedAny = true;
    totalPassed += passed;
    totalFailed += failed;
    const wall = Math.max(...results.map((x) => x.job.ended)) - Math.min(...results.map((x) => x.job.started));
    summary.push(`${run.name}: ${passed} passed, ${failed} failed, exit ${code} (${(wall / 1000).toFixed(1)} s)`);
    if (failedRun) {
      const lines = [`-- ${run.name}: failed`];
      for (const f of failures) {
        lines.push(`  ✗ ${f.name}`);
        for (const m of f.message) lines.push(`      ${m}`);
      }
      for (const { job, r } of silent) {
        lines.push(`  (${label(job)}: no failing test named in the output; its last lines:)`);
        for (const l of firstLines(r.out ?? "", 1e9).slice(-15)) lines.push(`      ${l}`);
      }
      details.push(lines.join("\n"));
    }
  }

  console.log("\n== summary");
  if (!typecheckPassed) console.log("typecheck failed (its output is above)");
  for (const block of details) console.log(block);
  for (const line of summary) console.log(line);
  console.log(`${totalPassed} passed, ${totalFailed} failed`);
  process.exit(failedAny ? 1 : 0);
}
