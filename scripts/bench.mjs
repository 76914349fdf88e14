#!/usr/bin/env node
// Runs benchmarks on Node, Deno and Bun in turn.
//   npm run bench                    every benchmark in bench/
//   npm run bench -- ffi_call        one benchmark
//   npm run bench -- --runtime=deno  one runtime
//   npm run bench -- --list          the benchmark names
//
// A benchmark is a bench/*.ts that reports through the harness (imports
// ./harness.ts); the harness itself, child processes (echo_client.ts,
// echo_server.ts) and helpers starting with "_" are not run on their own.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (n) => join(root, "node_modules", ".bin", n);
const args = process.argv.slice(2);
const rt = args.find((a) => a.startsWith("--runtime="));
const runtimes = rt ? rt.slice(10).split(",") : ["node", "deno", "bun"];
const names = args.filter((a) => !a.startsWith("--"));
const all = readdirSync(join(root, "bench"))
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_") && f !== "harness.ts")
  .filter((f) => /from "\.\/harness\.ts"/.test(readFileSync(join(root, "bench", f), "utf8")))
  .map((f) => f.slice(0, -3))
  .sort();
if (args.includes("--list")) {
  console.log(all.join("\n"));
  process.exit(0);
}
const selected = names.length ? names : all;
let failed = false;
for (const name of selected) {
  if (!all.includes(name)) {
    console.error(`no benchmark named ${name}; have: ${all.join(", ")}`);
    process.exit(2);
  }
  const file = join("bench", `${name}.ts`);
  for (const runtime of runtimes) {
    console.log(`\n== bench ${name} on ${runtime}`);
    const cmd = runtime === "node"
      ? [process.execPath, ["--expose-gc", "--import", "tsx", file]]
      : runtime === "deno"
      ? [bin("deno"), ["run", "-A", "--v8-flags=--expose-gc", file]]
      : [bin("bun"), [file]];
    const r = spawnSync(cmd[0], cmd[1], { cwd: root, stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } });
    if (r.status !== 0) failed = true;
  }
}
process.exit(failed ? 1 : 0);
