import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { native } from "../ffi/native.ts";
import { runChild } from "./loop_helpers.ts";

const proc = (globalThis as unknown as { process: { platform: string } }).process;

// OpenSSL's default atexit handler (OPENSSL_cleanup) frees its global state
// while other threads may still use it: a runtime exits with its Workers and
// helper threads running. ffinet initialises OpenSSL with
// OPENSSL_INIT_NO_ATEXIT before any other call, so it never runs. The probe:
// abort(3) registered as an OpenSSL stop handler, which only OPENSSL_cleanup
// calls.
describe("OpenSSL never cleans up at exit (OPENSSL_INIT_NO_ATEXIT)", { skip: proc.platform !== "linux" }, () => {
  // Bun ends the process without running atexit(3) handlers (this child
  // exits 0 there), so the probe cannot see the hazard on Bun.
  const probeSkip = native.runtime === "bun" ? "Bun's exit runs no atexit handlers" : false;
  test("the probe works: with OpenSSL's default init the exit runs the stop handler and aborts", { skip: probeSkip }, async () => {
    const { code, stdout, stderr } = await runChild("openssl_fixture_atexit.ts", ["default"], 60_000, { DENO_NO_UPDATE_CHECK: "1" });
    assert.deepEqual(JSON.parse(stdout.trim().split("\n").at(-1)!), { mode: "default", registered: 1, initResult: 1 }, stderr);
    assert.notEqual(code, 0, `the child exited cleanly: ${stdout}\n${stderr}`);
  });

  for (const mode of ["libssl", "libcrypto"]) {
    test(`ffinet's ${mode} as the first OpenSSL use: the process exits cleanly`, async () => {
      const { code, stdout, stderr } = await runChild("openssl_fixture_atexit.ts", [mode], 60_000, { DENO_NO_UPDATE_CHECK: "1" });
      assert.deepEqual(JSON.parse(stdout.trim().split("\n").at(-1)!), { mode, registered: 1, initResult: -1 }, stderr);
      assert.equal(code, 0, `${stdout}\n${stderr}`);
    });
  }
});
