#!/usr/bin/env node
// Finds or installs Node 24 (the current LTS) for the suite's "node24" run:
// $FFINET_NODE24 if set, else a `node` on PATH that is v24, else the
// platform binary package from the npm registry (node-<os>-<arch>, no install
// script) installed under node_modules/.cache/ffinet-node24/.
//
//   node scripts/node24.mjs          prints the path, installing if needed
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The Node 24 release the suite is checked against. */
export const NODE24_VERSION = "24.22.3";

const root = fileURLToPath(new URL("..", import.meta.url));
const prefix = join(root, "node_modules", ".cache", "ffinet-node24");
const packageName = `node-${process.platform}-${process.arch}`;
const installed = join(prefix, "node_modules", packageName, "bin", "node");

function versionOf(exe) {
  try {
    return execFileSync(exe, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

/** The path of a Node 24 binary, installing it from the npm registry if `install`. */
export function node24Path({ install = true } = {}) {
  const fromEnv = process.env.FFINET_NODE24;
  if (fromEnv) return fromEnv;
  if (versionOf("node").startsWith("v24.")) return "node";
  if (existsSync(installed)) return installed;
  if (!install) return undefined;
  console.error(`installing ${packageName}@${NODE24_VERSION} into ${prefix}`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, [
    "install", "--prefix", prefix, "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
    `${packageName}@${NODE24_VERSION}`,
  ], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0 || !existsSync(installed)) {
    throw new Error(`could not install ${packageName}@${NODE24_VERSION} (npm exit ${r.status})`);
  }
  return installed;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = node24Path();
  console.log(path, versionOf(path));
}
