import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runChild } from "./loop_helpers.ts";

describe("a closed listener keeps nothing alive", () => {
  for (const io of ["readiness", "uring"]) {
    test(`${io}: closed while a connection waits in its accept() queue, the process exits by itself`, async () => {
      // runChild rejects when the child has not exited within the bound.
      const { code, stdout, stderr, elapsedMs } = await runChild("listener_fixture_close.ts", [io], 15_000, { DENO_NO_UPDATE_CHECK: "1" });
      assert.equal(code, 0, `${stdout}\n${stderr}`);
      const report = JSON.parse(stdout.trim().split("\n").at(-1)!) as { queued: number; pendingAfterClose: number };
      assert.equal(report.queued, 1);
      assert.equal(report.pendingAfterClose, 0);
      console.log(`# exited ${elapsedMs.toFixed(0)} ms after start (${stdout.trim()})`);
    });
  }
});
