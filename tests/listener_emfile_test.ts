import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ChildResult, runChild } from "./loop_helpers.ts";

/** Descriptors the child may open (its runtime needs a few dozen). */
const NOFILE = 256;
/** The listener's pause after a failed accept. */
const RETRY_MS = 50;

interface Result {
  io: string;
  clients: number;
  starvedMs: number;
  starvedErrors: number;
  codes: string[];
  accepted: number;
}

/** Runs listener_fixture_emfile.ts under `ulimit -n NOFILE`. */
function runFixture(io: string): Promise<ChildResult> {
  return runChild("listener_fixture_emfile.ts", [io], 20_000, { DENO_NO_UPDATE_CHECK: "1" }, NOFILE);
}

describe("Listener accept failing with EMFILE", () => {
  for (const io of ["readiness", "uring"]) {
    test(`${io}: backs off (about one attempt per ${RETRY_MS} ms) and accepts again once descriptors are free`, async () => {
      const { code, stdout, stderr } = await runFixture(io);
      assert.equal(code, 0, stderr);
      const line = stdout.trim().split("\n").at(-1)!;
      const result = JSON.parse(line) as Result;
      console.log(`# ${line}`);
      assert.ok(result.clients > 10 && result.clients < NOFILE, `the descriptor table was filled (${result.clients} clients)`);
      assert.deepEqual(result.codes, ["EMFILE"]);
      assert.ok(result.starvedErrors >= 1, "the failure is reported");
      // Retrying every tick reports thousands in this time.
      const most = Math.ceil(result.starvedMs / RETRY_MS) + 2;
      assert.ok(result.starvedErrors <= most, `${result.starvedErrors} failed accepts reported in ${result.starvedMs.toFixed(0)} ms (at most ${most} expected)`);
      assert.ok(result.accepted >= 1 && result.accepted <= 3, `${result.accepted} connections accepted after 3 descriptors were freed`);
    });
  }
});
