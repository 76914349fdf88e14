/**
 * scripts/test.mjs names what failed: run on a fixture suite with two failing
 * tests, its summary lists, per runtime, each failing test (with its suite)
 * and the first line of its error, and the run exits 1.
 *
 * It runs the four runtimes itself, so it is part of test.mjs's "package"
 * step (once per `npm test`), not a `_test.ts` file.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
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
});
