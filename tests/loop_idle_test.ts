import assert from "node:assert/strict";
import { test } from "node:test";
import { native } from "../ffi/native.ts";
import { runChild } from "./loop_helpers.ts";

test("an idle process with an open listener uses little CPU (getrusage over 1 s)", async () => {
  const { code, stdout, stderr } = await runChild("loop_fixture_idle.ts");
  assert.equal(code, 0, stderr);
  const line = stdout.trim().split("\n").at(-1)!;
  const result = JSON.parse(line) as { cpuPercent: number; parked: boolean };
  console.log(`# idle CPU with an open listener: ${result.cpuPercent.toFixed(2)}% of a core (${line})`);
  assert.equal(result.parked, true);
  assert.ok(result.cpuPercent < 20, `idle CPU ${result.cpuPercent}%`);
});

test("a process whose loop handles are all unreferenced exits by itself", async () => {
  const { code, stdout, stderr, elapsedMs } = await runChild("loop_fixture_exit.ts", ["unref"]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /started/);
  const report = JSON.parse(stdout.trim().split("\n").at(-1)!) as { parksUnreferenced: boolean; stats: { parks: number } };
  // Node and Bun park an unreferenced wait; Deno polls on an unreferenced timer instead.
  if (report.parksUnreferenced) assert.ok(report.stats.parks >= 1, stdout);
  else assert.equal(report.stats.parks, 0, stdout);
  console.log(`# unref exit after ${elapsedMs.toFixed(0)} ms (${stdout.trim().split("\n").at(-1)})`);
});

test("closing the last referenced handle and the loop lets the process exit", async () => {
  const { code, stdout, stderr, elapsedMs } = await runChild("loop_fixture_exit.ts", ["close"]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /started/);
  console.log(`# close exit after ${elapsedMs.toFixed(0)} ms`);
});

test("process.exit() while the loop's wait is parked ends the process (woken for it on Node and Bun, left parked on Deno)", async () => {
  const { code, stdout, stderr } = await runChild("loop_fixture_exit.ts", ["exit"]);
  assert.equal(code, 3, `${stdout}\n${stderr}`);
  assert.match(stdout, /started/);
  const lines = stdout.trim().split("\n");
  assert.deepEqual(JSON.parse(lines.at(-2)!), { parked: true });
  // Node joins its helper threads at exit, so the parked wait is woken; Deno
  // waits for no pending nonblocking call, and a wait woken there would
  // return while the runtime is torn down.
  assert.deepEqual(JSON.parse(lines.at(-1)!), { exitWakes: native.runtime === "deno" ? 0 : 1 });
});

test("loops closed while their helper thread boots end cleanly (no abort from a worker ended mid-load)", async () => {
  // Each of the fixture's loops boots a helper thread (a Worker loading the
  // FFI module): ~0.1 s on an idle machine, over 1 s at load 20.
  const { code, stdout, stderr } = await runChild("loop_fixture_boot_close.ts", [], 120_000);
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  assert.match(stdout, /done/);
});
