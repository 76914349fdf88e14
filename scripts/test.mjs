#!/usr/bin/env node
// Runs the typecheck, then the whole test suite on Node, Deno and Bun, one
// after another, and ends with one line `N passed, N failed` over all three.
//
//   node scripts/test.mjs                  typecheck + all three runtimes
//   node scripts/test.mjs --runtime=deno   one runtime (no typecheck)
//   node scripts/test.mjs --no-check       skip the typecheck
//   node scripts/test.mjs http/            only test files under these paths
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", name);
const SKIP_DIRS = new Set(["node_modules", "dist", ".git", "coverage"]);

function findTests(dir, out) {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name) || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith("_test.ts")) out.push(relative(root, path));
  }
  return out;
}

const args = process.argv.slice(2);
const runtimeArg = args.find((a) => a.startsWith("--runtime="));
const runtimes = runtimeArg ? runtimeArg.slice(10).split(",") : ["node", "deno", "bun"];
const check = !args.includes("--no-check") && !runtimeArg;
const filters = args.filter((a) => !a.startsWith("--"));
const files = findTests(root, []).filter((f) =>
  filters.length === 0 || filters.some((p) => f.startsWith(p.replace(/^\.\//, "")))
).sort();

function withoutColor(env) {
  const copy = { ...env };
  delete copy.FORCE_COLOR;
  return copy;
}

function run(cmd, argv, { capture = false, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, {
      cwd: root,
      env: { ...withoutColor(process.env), NO_COLOR: "1", ...env },
      stdio: ["ignore", capture ? "pipe" : "inherit", capture ? "pipe" : "inherit"],
    });
    let out = "";
    if (capture) {
      child.stdout.on("data", (d) => { out += d; process.stdout.write(d); });
      child.stderr.on("data", (d) => { out += d; process.stderr.write(d); });
    }
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

const lastNumber = (out, re) => {
  const all = [...out.matchAll(re)];
  const m = all[all.length - 1];
  return m ? Number(m[1]) : undefined;
};

/** Counts leaf tests in TAP output: an ok line right after a nested plan is a suite. */
function countTapLeaves(out) {
  let passed = 0;
  let failed = 0;
  let previous = "";
  let seen = false;
  for (const line of out.split("\n")) {
    const m = /^(\s*)(not ok|ok) \d+/.exec(line);
    if (m) {
      seen = true;
      const plan = /^(\s*)1\.\.\d+$/.exec(previous);
      const isSuite = plan && plan[1].length > m[1].length;
      if (!isSuite) {
        if (m[2] === "ok") passed++;
        else failed++;
      }
    }
    if (line.trim() !== "" && !line.trim().startsWith("#")) previous = line;
  }
  return seen ? { passed, failed } : { passed: undefined, failed: undefined };
}

const runners = {
  node: async () => {
    const r = await run(process.execPath, [
      "--expose-gc", "--import", "tsx", "--test", "--test-reporter=tap", "--test-timeout=300000",
      ...files,
    ], { capture: true });
    return {
      code: r.code,
      passed: lastNumber(r.out, /^# pass (\d+)$/gm),
      failed: lastNumber(r.out, /^# fail (\d+)$/gm),
    };
  },
  deno: async () => {
    const r = await run(bin("deno"), [
      "test", "-A", "--no-check", "--v8-flags=--expose-gc", "--reporter=tap", ...files,
    ], { capture: true });
    return { code: r.code, ...countTapLeaves(r.out) };
  },
  bun: async () => {
    const r = await run(bin("bun"), ["test", "--timeout", "300000", ...files.map((f) => "./" + f)], {
      capture: true,
    });
    return {
      code: r.code,
      passed: lastNumber(r.out, /^\s*(\d+) pass$/gm),
      failed: lastNumber(r.out, /^\s*(\d+) fail$/gm),
    };
  },
};

let failedAny = false;
if (check) {
  console.log("== typecheck: tsc");
  const tsc = await run(bin("tsc"), ["-p", "tsconfig.check.json"]);
  console.log("== typecheck: deno check");
  const deno = await run(bin("deno"), ["check", "--quiet", "mod.ts", ...files]);
  if (tsc.code !== 0 || deno.code !== 0) {
    console.log("typecheck failed");
    failedAny = true;
  }
}

if (files.length === 0) {
  console.log("no test files found");
  process.exit(1);
}

let totalPassed = 0;
let totalFailed = 0;
const summary = [];
for (const name of runtimes) {
  const runner = runners[name];
  if (!runner) throw new Error(`unknown runtime ${name}`);
  console.log(`\n== ${name}: ${files.length} test files`);
  const started = Date.now();
  const r = await runner();
  const passed = r.passed ?? 0;
  // A runtime that crashed before reporting counts as one failure.
  const failed = r.failed ?? (r.code === 0 ? 0 : 1);
  const failedRun = r.code !== 0 || failed > 0 || r.passed === undefined;
  if (failedRun) failedAny = true;
  totalPassed += passed;
  totalFailed += failedRun && failed === 0 ? 1 : failed;
  summary.push(
    `${name}: ${passed} passed, ${failed} failed, exit ${r.code} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
}

console.log("\n== summary");
for (const line of summary) console.log(line);
console.log(`${totalPassed} passed, ${totalFailed} failed`);
process.exit(failedAny ? 1 : 0);
