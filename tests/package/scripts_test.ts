/**
 * The developer scripts' lists: `npm run bench` runs only benchmark entry
 * points (files that report through bench/harness.ts), and `npm run fuzz`
 * with a wrong name lists the harnesses that exist.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
// The scripts run on the system Node (tsx for fuzz.ts), as `npm run` does.
const node = (args: string[]) =>
  spawnSync("node", args, { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

describe("scripts/bench.mjs", () => {
  test("--list names the benchmarks and none of the helper files", () => {
    const r = node(["scripts/bench.mjs", "--list"]);
    assert.equal(r.status, 0, r.stderr);
    const listed = r.stdout.trim().split("\n");
    for (const helper of ["harness", "echo_client", "echo_server", "_tcp_stream_far"]) {
      assert.ok(!listed.includes(helper), `${helper} is listed`);
    }
    const files = readdirSync(`${root}bench`).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3));
    for (const name of listed) assert.ok(files.includes(name), `${name} has no bench file`);
    for (const name of ["ffi_call", "h1_parse", "ws_frames", "tcp_stream", "echo"]) {
      assert.ok(listed.includes(name), `${name} is missing`);
    }
  });

  test("a wrong name exits 2 and lists the valid ones", () => {
    const r = node(["scripts/bench.mjs", "no_such_bench"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no benchmark named no_such_bench; have: .*ffi_call/);
  });
});

describe("scripts/fuzz.ts", () => {
  const harnesses = readdirSync(`${root}fuzz`)
    .filter((f) => f.endsWith(".ts") && !f.endsWith("_test.ts"))
    .map((f) => f.slice(0, -3))
    .sort();

  test("a wrong name exits 2 and lists every harness", () => {
    const r = node(["--import", "tsx", "scripts/fuzz.ts", "no_such_harness"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no fuzz harness named no_such_harness/);
    assert.match(r.stderr, new RegExp(`harnesses: ${harnesses.join(", ")}`));
  });

  test("--list prints the harnesses", () => {
    const r = node(["--import", "tsx", "scripts/fuzz.ts", "--list"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), harnesses);
  });
});

describe("scripts/conformance.mjs", () => {
  test("a wrong suite name exits 2 and lists the suites", () => {
    const r = node(["scripts/conformance.mjs", "no_such_suite"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no conformance suite named no_such_suite; have: autobahn/);
  });

  test("a wrong runtime name exits 2 and lists the runtimes", () => {
    const r = node(["scripts/conformance.mjs", "autobahn", "--runtime=nod"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no runtime named nod; have: node, deno, bun/);
  });
});

describe("scripts/test.mjs options", () => {
  test("--help and -h print the usage and exit 0, starting nothing", () => {
    for (const flag of ["--help", "-h"]) {
      const r = node(["scripts/test.mjs", flag, "tests/package/fixtures/failing_suite.ts"]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^usage: node scripts\/test\.mjs \[--runtime=LIST\] \[--no-check\] \[PATH\.\.\.\]/);
      assert.match(r.stdout, /--runtime=LIST/);
      assert.match(r.stdout, /FFINET_TEST_PART_TIMEOUT_S/);
      assert.doesNotMatch(r.stdout, /^== /m, `${flag} started a run`);
    }
  });

  test("an unknown option (a typo, --runtime without =) exits 2 naming it, before anything starts", () => {
    for (const flag of ["--hepl", "--runtime", "--no-checks", "-x"]) {
      const r = node(["scripts/test.mjs", flag, "tests/package/fixtures/failing_suite.ts"]);
      assert.equal(r.status, 2, `${flag}: ${r.stdout}`);
      assert.equal(r.stderr, `scripts/test.mjs: unknown option ${flag} (options: --runtime=LIST, --no-check, --help)\n`);
      assert.equal(r.stdout, "", `${flag} started a run`);
    }
  });

  test("an unknown run name exits 2 and lists the runs, before anything starts", () => {
    for (const value of ["nod", "node,dneo", ""]) {
      const r = node(["scripts/test.mjs", `--runtime=${value}`, "tests/package/fixtures/failing_suite.ts"]);
      assert.equal(r.status, 2, `${value}: ${r.stdout}`);
      assert.match(r.stderr, /^scripts\/test\.mjs: unknown runtime .* \(have node, node24, deno, bun, package, bun-readiness\)\n$/);
      assert.equal(r.stdout, "");
    }
  });
});
