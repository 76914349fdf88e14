import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

// Deno: serve frees (detaches) the copy Deno's Response constructor makes of a byte body once it was written,
// unless a clone shares that copy. A response made and cloned before the server's modules load (by a module
// imported ahead of them: a cache filled at startup) must keep its clone's body all the same. Run in a Deno
// process of its own (from every runtime), since only a fresh process has responses older than the modules.

const root = fileURLToPath(new URL("..", import.meta.url));
const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
const FIXTURE = "tests/fixtures/deno_early_clone_fixture.ts";

function runFixture(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = (globalThis as unknown as { process: { env: Record<string, string> } }).process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(deno, ["run", "--allow-ffi", "--allow-read", "--no-prompt", FIXTURE], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...base, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Uint8Array) => (stdout += String(d)));
    child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
    child.on("error", reject);
    child.on("close", (code: number | null) => resolve({ code, stdout, stderr }));
  });
}

describe("Deno: responses made before the server's modules loaded", () => {
  test("a clone made before keeps its whole body after the original is written (and the other way round); bodies made after are still freed", async () => {
    const r = await runFixture();
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.at(-1), "done", r.stdout + r.stderr);
    assert.deepEqual(lines.filter((l) => l.includes(" FAIL ")), []);
    assert.deepEqual(lines.slice(0, -1).map((l) => l.split(" ")[0]), [
      "early-clone-read-after",
      "early-clone-written-after",
      "early-made-late-clone",
      "early-made-never-cloned",
      "late-made-freed",
    ]);
  });
});
