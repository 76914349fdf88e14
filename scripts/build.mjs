#!/usr/bin/env node
// Builds dist/ for the npm package (run by `npm run build` and `prepack`):
// JavaScript and declarations from tsc (tsconfig.json rewrites the `.ts`
// import extensions to `.js`), then a `/// <reference lib>` line in every
// declaration file that names Symbol.dispose or Symbol.asyncDispose, so the
// types check in a project whose `lib` or `target` is older than esnext
// (TS2550 otherwise).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });

const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json")], { stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);

const DISPOSABLE = /Symbol\.(async)?[dD]ispose|\bAsyncDisposable\b|\bDisposable\b/;
const REFERENCE = '/// <reference lib="esnext.disposable" />\n';
let declarations = 0;
let referenced = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(".d.ts")) {
      declarations++;
      const text = readFileSync(path, "utf8");
      if (DISPOSABLE.test(text) && !text.startsWith(REFERENCE)) {
        writeFileSync(path, REFERENCE + text);
        referenced++;
      }
    }
  }
}
walk(dist);
console.log(`dist/: ${declarations} declaration files, ${referenced} with the esnext.disposable reference`);
