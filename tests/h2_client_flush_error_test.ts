// How a throw inside the HTTP/2 client's scheduled flush surfaces
// (http/client/h2_client.ts #scheduleFlush): as an uncaught exception, the
// error itself, not as an unhandled promise rejection. The flush runs as a
// microtask; which way it is queued (queueMicrotask, or a settled promise's
// reaction: core/microtask.ts) must not change what a bug in it looks like.
// Provoked in a child process of this runtime against a real node:http2
// server (tests/h2_client_fixture_flush_throw.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { runChild } from "./loop_helpers.ts";

test("a throw inside the scheduled flush surfaces as an uncaught exception (the error itself), not an unhandled rejection", async () => {
  const { code, stdout, stderr } = await runChild("h2_client_fixture_flush_throw.ts");
  assert.match(stdout, /^SURFACED uncaughtException true$/m, `exit ${code}\n${stdout}\n${stderr}`);
  assert.equal(code, 0, stderr);
});
