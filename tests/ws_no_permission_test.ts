import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { native } from "../ffi/native.ts";
import { runChild } from "./loop_helpers.ts";

const fixture = fileURLToPath(new URL("ws_no_permission_fixture.ts", import.meta.url));
const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));

/** Runs the fixture under Deno with no permission flag at all. */
function runWithoutPermissions(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(deno, ["run", "--no-prompt", "--no-check", fixture], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Uint8Array) => (stdout += String(d)));
    child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the fixture did not exit in 60 s\n${stdout}\n${stderr}`));
    }, 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("protocol cores need no permission", () => {
  test("ws and http codecs (handshake, masking, frames, HTTP/1 parsing, HPACK) run under Deno with no --allow-* flag", async () => {
    const { code, stdout, stderr } = await runWithoutPermissions();
    assert.equal(code, 0, `exit ${code}\nstdout: ${stdout}\nstderr: ${stderr}`);
    assert.equal(stdout.trim(), "ok");
  });

  test("importing and running them maps none of the C libraries ffinet opens (libz, libcrypto, libssl, libbrotli)", async (t) => {
    if (native.os !== "linux") return t.skip("reads /proc/self/maps");
    const { code, stdout, stderr } = await runChild("ws_no_permission_fixture.ts", ["maps"], 60_000);
    assert.equal(code, 0, `exit ${code}\nstdout: ${stdout}\nstderr: ${stderr}`);
    assert.deepEqual(stdout.trim().split("\n"), ["[]", "ok"]);
  });
});
