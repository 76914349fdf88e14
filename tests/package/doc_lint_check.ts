/**
 * The public surface as JSR documents it: `deno doc --lint` over every
 * deno.json export at once reports no error (missing JSDoc, a missing
 * explicit type, a public signature naming a type no entry point exports),
 * and every function, class and const an entry point exports has an
 * `@example` in its JSDoc (STYLE.md: "every export has JSDoc with an
 * `@example`"; `deno check --doc-only` type-checks them).
 *
 * The entry points are linted together, as JSR builds the package's docs: a
 * type that `./socket` exports is public to a user of `./tls` too. Linted
 * one at a time, each entry point would have to re-export every type its
 * signatures name.
 *
 * It runs Deno itself, so scripts/test.mjs runs it once (its "package" step)
 * under Node rather than once per runtime. Alone:
 *
 *   node --import tsx --test tests/package/doc_lint_check.ts
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");
const denoJson = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as { exports: Record<string, string> };
/** Every entry point's file, as deno.json names it ("./mod.ts", "./socket/mod.ts", …). */
const ENTRY_FILES = Object.values(denoJson.exports);

function denoDoc(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(deno, ["doc", ...args, ...ENTRY_FILES], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** The parts of `deno doc --json` (format version 2) this check reads. */
interface DocJson {
  version: number;
  nodes: Record<string, { symbols: DocSymbol[] }>;
}
interface DocSymbol {
  name: string;
  declarations: {
    kind: string;
    declarationKind: string;
    location: { filename: string; line: number };
    jsDoc?: { tags?: { kind: string }[] };
  }[];
}

describe("documentation of the deno.json exports", () => {
  test("deno.json names the nine entry points", () => {
    assert.ok(ENTRY_FILES.length >= 9, JSON.stringify(denoJson.exports));
  });

  test("deno doc --lint reports no error", () => {
    const r = denoDoc(["--lint"]);
    const errors = r.stderr.split("\n").filter((l) => /^error(\[|:)/.test(l));
    assert.equal(r.status, 0, `deno doc --lint failed (exit ${r.status}), ${errors.length} error lines:\n${r.stderr.slice(0, 20000)}`);
    assert.deepEqual(errors, []);
    assert.match(r.stdout + r.stderr, new RegExp(`Checked ${ENTRY_FILES.length} files`));
  });

  test("every exported function, class and const has an @example", () => {
    const r = denoDoc(["--json"]);
    assert.equal(r.status, 0, `deno doc --json failed (exit ${r.status}):\n${r.stderr.slice(0, 5000)}`);
    const doc = JSON.parse(r.stdout) as DocJson;
    assert.equal(doc.version, 2, "deno doc --json format changed; update DocJson");
    const entries = Object.keys(doc.nodes);
    assert.equal(entries.length, ENTRY_FILES.length, entries.join(", "));
    const missing = new Set<string>();
    let seen = 0;
    for (const { symbols } of Object.values(doc.nodes)) {
      for (const symbol of symbols) {
        for (const d of symbol.declarations) {
          if (d.kind !== "function" && d.kind !== "class" && d.kind !== "variable") continue;
          seen++;
          if (d.jsDoc?.tags?.some((t) => t.kind === "example")) continue;
          // Each overload is a declaration; the example may sit on any of them.
          if (symbol.declarations.some((o) => o.kind === d.kind && o.jsDoc?.tags?.some((t) => t.kind === "example"))) continue;
          missing.add(`${symbol.name} (${d.location.filename.replace(`file://${root}`, "")}:${d.location.line})`);
        }
      }
    }
    assert.ok(seen > 500, `only ${seen} exported functions, classes and consts found`);
    assert.deepEqual([...missing].sort(), [], `${missing.size} exports without an @example`);
  });
});
