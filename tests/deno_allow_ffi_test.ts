import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

// On every runtime: Deno runs the library with --allow-ffi as its only
// permission and --no-prompt, which turns any permission request into an
// error (the fixture also catches environment reads that the library would
// otherwise swallow). The library must never ask for more.

const root = fileURLToPath(new URL("..", import.meta.url));
const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
const FIXTURE = "tests/fixtures/allow_ffi_fixture.ts";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDeno(flags: string[], args: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  const base = (globalThis as unknown as { process: { env: Record<string, string> } }).process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(deno, ["run", ...flags, "--no-prompt", FIXTURE, ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...base, NO_COLOR: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Uint8Array) => (stdout += String(d)));
    child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
    child.on("error", reject);
    child.on("close", (code: number | null) => resolve({ code, stdout, stderr }));
  });
}

describe("Deno permissions: --allow-ffi only, never a prompt", () => {
  test("TCP echo, loop timers, socket pair, UDP, HTTP/1 and WebSocket codecs run without a permission request", async () => {
    const r = await runDeno(["--allow-ffi"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ok");
  });

  test("FFINET_* variables are ignored silently unless their env permission is granted", async () => {
    const ungranted = await runDeno(["--allow-ffi"], ["env"], { FFINET_POLL: "poll" });
    assert.equal(ungranted.code, 0, ungranted.stderr);
    assert.notEqual(ungranted.stdout.trim(), "poll");
    const granted = await runDeno(["--allow-ffi", "--allow-env=FFINET_POLL"], ["env"], { FFINET_POLL: "poll" });
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(granted.stdout.trim(), "poll");
  });

  test("with no permission at all: the HTTP/1 parser works and a socket throws FFIUnavailableError without a prompt", async () => {
    const r = await runDeno([], ["noffi"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ok");
  });

  test("in a Worker, --allow-read for the module files (Deno's rule for Worker code) is the only addition", async () => {
    const withoutRead = await runDeno(["--allow-ffi"], ["worker"]);
    assert.notEqual(withoutRead.code, 0);
    assert.match(withoutRead.stderr, /Requires read access/);
    const r = await runDeno(["--allow-ffi", `--allow-read=${root}`], ["worker"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ok");
  });
});
