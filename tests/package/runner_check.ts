/**
 * scripts/test.mjs names what failed: run on a fixture suite with two failing
 * tests, its summary lists, per runtime, each failing test (with its suite)
 * and the first line of its error, and the run exits 1. Stopped by SIGTERM,
 * it takes its parts' processes (and what they started) down with it; killed
 * by SIGKILL, its parts' guards do.
 *
 * It runs the four runtimes itself, so it is part of test.mjs's "package"
 * step (once per `npm test`), not a `_test.ts` file.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("scripts/test.mjs summary", () => {
  test("names each failing test and its error, for every runtime", () => {
    const r = spawnSync(process.execPath, [
      "scripts/test.mjs", "--runtime=node,node24,deno,bun", "tests/package/fixtures/failing_suite.ts",
    ], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 * 1024 * 1024 });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const summary = r.stdout.slice(r.stdout.lastIndexOf("== summary"));
    for (const runtime of ["node", "node24", "deno", "bun"]) {
      const start = summary.indexOf(`-- ${runtime}: failed`);
      assert.ok(start >= 0, `no failure block for ${runtime} in:\n${summary}`);
      const end = summary.indexOf("\n-- ", start + 1);
      const block = summary.slice(start, end < 0 ? undefined : end);
      assert.match(block, /✗ .*runner fixture > fails with an assertion/, `${runtime}:\n${block}`);
      assert.match(block, /AssertionError: fixture assertion message/, `${runtime}:\n${block}`);
      assert.match(block, /✗ .*throws a TypeError/, `${runtime}:\n${block}`);
      assert.match(block, /TypeError: fixture nested boom/, `${runtime}:\n${block}`);
      assert.doesNotMatch(block, /✗ .*passes/, `${runtime}:\n${block}`);
      assert.match(summary, new RegExp(`^${runtime}: 1 passed, [23] failed, exit 1`, "m"));
    }
  });

  test("leaves no diagnostic report behind when a test signals itself on Node 24", () => {
    const reports = () => readdirSync(root).filter((f) => /^report\..*\.json$/.test(f));
    const before = reports();
    const r = spawnSync(process.execPath, [
      "scripts/test.mjs", "--runtime=node24", "tests/package/fixtures/sigusr2_suite.ts",
    ], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 * 1024 * 1024 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^node24: 1 passed, 0 failed, exit 0/m);
    assert.deepEqual(reports(), before);
  });

  test("SIGTERM to the runner stops its parts: the runtime and the process a test started are gone, the runner exits 143", async () => {
    await stopHangingRunner("SIGTERM", (exit, out) => {
      assert.deepEqual(exit, { code: 143, signal: null }, out);
      assert.match(out, /SIGTERM: stopping 1 running process group/);
    });
  });
});

describe("scripts/test.mjs killed outright", () => {
  test("SIGKILL to the runner (no handler runs) still takes its parts down: each part's guard sees the runner's pipe close", async () => {
    await stopHangingRunner("SIGKILL", (exit, out) => assert.deepEqual(exit, { code: null, signal: "SIGKILL" }, out));
  });
});

/**
 * Runs the runner on the hang fixture (which writes its pid and its child's
 * once it runs), sends the runner `signal`, hands its exit to `check`, and
 * asserts both fixture processes are gone.
 */
async function stopHangingRunner(
  signal: "SIGTERM" | "SIGKILL",
  check: (exit: { code: number | null; signal: string | null }, out: string) => void,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ffinet-runner-"));
  const pidsFile = join(dir, "pids");
  try {
    const runner = spawn(process.execPath, ["scripts/test.mjs", "--runtime=node", "tests/package/fixtures/hang_suite.ts"], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FFINET_HANG_PIDS: pidsFile },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    runner.stdout!.on("data", (d) => (out += d));
    runner.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => runner.once("exit", (code, sig) => resolve({ code, signal: sig })));
    // The suite says where it is once it runs (bounded: the fixture itself ends after 120 s).
    for (let i = 0; i < 600 && !(existsSync(pidsFile) && readFileSync(pidsFile, "utf8").endsWith("\n")); i++) await new Promise((r) => setTimeout(r, 100));
    const pids = readFileSync(pidsFile, "utf8").trim().split(" ").map(Number);
    assert.equal(pids.length, 2, out);
    runner.kill(signal);
    check(await exited, out);
    for (const pid of pids) assert.ok(await gone(pid), `pid ${pid} still runs after the runner's ${signal}:\n${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether `pid` is gone (or a zombie waiting for its reaper), looking for at most 10 s. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"))) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
