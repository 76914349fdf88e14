/**
 * The package as a user gets it: `npm pack` (which runs `prepack`, building
 * dist/), installed offline into a scratch project in the OS temp folder
 * (koffi from this repository's node_modules), then every subpath imported
 * on Node 20 (this Node), Node 24, Deno (node_modules and `npm:`, with
 * `--allow-ffi` alone) and Bun; `require()` refused with a clear message;
 * the shipped declarations type-checked under a user's default tsconfig;
 * `deno publish --dry-run` without `--allow-slow-types`.
 *
 * It spawns every runtime itself, so scripts/test.mjs runs it once (its
 * "package" step) under Node rather than once per runtime; it is not a
 * `_test.ts` file for that reason. Alone:
 *
 *   node --import tsx --test tests/package/tarball_check.ts
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = (name: string) => join(root, "node_modules", ".bin", name);

interface PackageJson {
  exports: Record<string, string | Record<string, string>>;
  files: string[];
}
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as PackageJson;
const denoJson = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as { exports: Record<string, string> };
/** The code subpaths ("." and the layers), without "./package.json". */
const SUBPATHS = Object.keys(pkg.exports).filter((s) => s !== "./package.json");
const specifier = (subpath: string) => subpath === "." ? "ffinet" : `ffinet/${subpath.slice(2)}`;

function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// The script every runtime runs in the scratch project: imports each
// subpath and prints its export names, so the runtimes can be compared.
const IMPORT_ALL = (prefix: string) => `
const subpaths = ${JSON.stringify(SUBPATHS.map(specifier))};
const out = {};
for (const s of subpaths) out[s] = Object.keys(await import(${JSON.stringify(prefix)} + s)).sort();
console.log(JSON.stringify(out));
`;

let work = "";
let project = "";
let tarball = "";
let packedFiles: string[] = [];

before(() => {
  work = mkdtempSync(join(tmpdir(), "ffinet-package-"));
  const packed = JSON.parse(ok(sh("npm", ["pack", "--json", "--pack-destination", work], root), "npm pack")
    .replace(/^[^[]*/s, "")) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, packed[0]!.filename);
  packedFiles = packed[0]!.files.map((f) => f.path).sort();
  project = join(work, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  writeFileSync(join(project, "deno.json"), JSON.stringify({ nodeModulesDir: "manual" }));
  ok(
    sh("npm", ["install", "--no-audit", "--no-fund", "--offline", tarball, join(root, "node_modules", "koffi")], project),
    "npm install of the tarball",
  );
  writeFileSync(join(project, "import_all.mjs"), IMPORT_ALL(""));
  writeFileSync(join(project, "import_all_npm.mjs"), IMPORT_ALL("npm:"));
  writeFileSync(join(project, "require.cjs"), 'require("ffinet");\n');
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function node24(): string {
  const out = ok(sh(process.execPath, [join(root, "scripts", "node24.mjs")], root), "scripts/node24.mjs");
  return out.trim().split(" ")[0]!;
}

describe("npm tarball", () => {
  test("holds dist, the sources, LICENSE and README, and no tests, bench, fuzz, examples or scripts", () => {
    for (const f of ["LICENSE", "README.md", "package.json", "require.cjs", "mod.ts", "dist/mod.js", "dist/mod.d.ts"]) {
      assert.ok(packedFiles.includes(f), `${f} is missing from the tarball`);
    }
    const unwanted = packedFiles.filter((f) =>
      /_test\.(ts|js|d\.ts)$/.test(f) || /^(tests|bench|fuzz|examples|scripts|tools|\.ci)\//.test(f) ||
      f === "package-lock.json" || f === "deno.json" || f.startsWith("node_modules/")
    );
    assert.deepEqual(unwanted, []);
  });

  test("every exports target is in the tarball", () => {
    const targets = new Set<string>();
    for (const entry of Object.values(pkg.exports)) {
      for (const t of typeof entry === "string" ? [entry] : Object.values(entry)) targets.add(t.replace(/^\.\//, ""));
    }
    for (const t of targets) assert.ok(packedFiles.includes(t), `${t} is not in the tarball`);
  });

  test("package.json and deno.json export the same subpaths, one per folder with a mod.ts", () => {
    assert.deepEqual(SUBPATHS.slice().sort(), Object.keys(denoJson.exports).sort());
    const folders = readdirSync(root).filter((d) =>
      !d.startsWith(".") && !["node_modules", "dist", "tests", "bench", "fuzz", "examples", "scripts", "tools"].includes(d) &&
      statSync(join(root, d)).isDirectory() && existsSync(join(root, d, "mod.ts"))
    );
    assert.deepEqual(SUBPATHS.filter((s) => s !== ".").map((s) => s.slice(2)).sort(), folders.sort());
    for (const s of SUBPATHS) {
      const entry = pkg.exports[s] as Record<string, string>;
      assert.equal(Object.keys(entry)[0], "types", `${s}: types must come first`);
      assert.equal(entry["deno"], undefined, `${s}: Deno must not get .ts files inside node_modules`);
      assert.equal(denoJson.exports[s], s === "." ? "./mod.ts" : `${s}/mod.ts`);
    }
  });

  test("files lists only entries that exist", () => {
    for (const f of pkg.files.filter((f) => !f.startsWith("!"))) {
      assert.ok(f === "dist" || existsSync(join(root, f)), `files names ${f}, which does not exist`);
    }
  });
});

describe("installed tarball", () => {
  let reference: Record<string, string[]> = {};

  test("imports every subpath on Node 20 (this Node)", () => {
    reference = JSON.parse(ok(sh(process.execPath, ["import_all.mjs"], project), "node import_all.mjs"));
    assert.deepEqual(Object.keys(reference), SUBPATHS.map(specifier));
    for (const [s, names] of Object.entries(reference)) assert.ok(names.length > 0, `${s} exports nothing`);
    const rootNames = new Set(reference["ffinet"]);
    for (const name of ["Loop", "connect", "listen", "Listener", "Connection", "connectTCPSync", "listenTCPSync", "Socket", "NetError", "HTTP1Parser", "Receiver", "Sender"]) {
      assert.ok(rootNames.has(name), `the root module lacks ${name}`);
    }
  });

  const others: [string, () => [string, string[]]][] = [
    ["Node 24", () => [node24(), ["import_all.mjs"]]],
    ["Deno (node_modules, --allow-ffi only)", () => [bin("deno"), ["run", "--allow-ffi", "import_all.mjs"]]],
    ["Deno (npm: specifiers, --allow-ffi only)", () => [bin("deno"), ["run", "--allow-ffi", "import_all_npm.mjs"]]],
    ["Bun", () => [bin("bun"), ["import_all.mjs"]]],
  ];
  for (const [runtime, command] of others) {
    test(`imports every subpath on ${runtime}, with the same exports`, () => {
      const [exe, args] = command();
      const got = JSON.parse(ok(sh(exe, args, project), `${runtime} import_all`)) as Record<string, string[]>;
      const renamed = Object.fromEntries(Object.entries(got).map(([k, v]) => [k.replace(/^npm:/, ""), v]));
      assert.deepEqual(renamed, reference);
    });
  }

  test("require() throws the ESM-only error on Node 20 and Node 24", () => {
    for (const exe of [process.execPath, node24()]) {
      const r = sh(exe, ["require.cjs"], project);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /Error: ffinet is ESM only: use import\(\) or `import \.\.\. from "ffinet"`/);
    }
  });

  test("the declarations type-check under a user's default tsconfig, also with an older target", () => {
    const user = SUBPATHS.map((s, i) => `import * as m${i} from "${specifier(s)}";`).join("\n") +
      `\nexport const all = [${SUBPATHS.map((_, i) => `m${i}`).join(", ")}];\n` +
      `import { Loop } from "ffinet";\nexport function close(loop: Loop): void { loop[Symbol.dispose](); }\n`;
    writeFileSync(join(project, "user.ts"), user);
    // What `tsc --init` writes, with "module": "nodenext".
    const init = {
      module: "nodenext", target: "esnext", types: [], strict: true, skipLibCheck: true, verbatimModuleSyntax: true,
      isolatedModules: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, moduleDetection: "force",
      noEmit: true,
    };
    for (const options of [init, { ...init, target: "es2022", skipLibCheck: false }]) {
      writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: options, files: ["user.ts"] }));
      ok(sh(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "."], project), `tsc ${JSON.stringify(options)}`);
    }
  });
});

describe("JSR", () => {
  test("deno publish --dry-run passes without --allow-slow-types and publishes only library files", () => {
    const r = sh(bin("deno"), ["publish", "--dry-run", "--allow-dirty"], root);
    const output = r.stdout + r.stderr;
    assert.equal(r.status, 0, output);
    assert.doesNotMatch(output, /slow-type|missing-explicit-type/);
    const all = [...output.matchAll(/^\s+file:\/\/(\S+) \(/gm)].map((m) => m[1]!.slice(root.length));
    assert.ok(all.length > 0, `no file list in:\n${output}`);
    // The layers behind the subpaths, and core/ under all of them.
    const folders = ["core", ...SUBPATHS.filter((s) => s !== ".").map((s) => s.slice(2))];
    const library = new RegExp(`^(mod\\.ts|LICENSE|README\\.md|deno\\.json|(${folders.join("|")})/.*\\.ts)$`);
    const bad = all.filter((f) => !library.test(f) || f.endsWith("_test.ts"));
    assert.deepEqual(bad, []);
  });
});
