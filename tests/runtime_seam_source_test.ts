// ARCHITECTURE.md: only ffi/ touches runtime-specific APIs. Every library source outside ffi/ (tests,
// fixtures and benchmarks aside) is read and checked, comments stripped, for what would tie it to one
// runtime: the runtimes' globals (Deno, Bun, process, require), node:/bun: imports, and the private state
// of Deno's Response (its inner body's streamOrStatic, its "lazy static" symbols, the clone wrapping) and
// of undici's (its "state" symbol, headersList), which ffi/deno_response_body.ts and
// ffi/undici_response_body.ts alone read.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const FOLDERS = ["core", "socket", "poll", "dns", "tls", "http", "ws", "pool"];

function sources(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith(".ts") && !name.endsWith("_test.ts") && !name.endsWith("_fixture.ts")) out.push(path);
  }
  return out;
}

/** The code without its comments (line and block; strings are kept: an import's specifier is one). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

const FORBIDDEN: Array<[string, RegExp]> = [
  ["Deno global", /\bDeno\s*\.|globalThis\s*(\.|\[\s*["'])Deno\b|["']Deno["']\s*in\s+globalThis/],
  ["Bun global", /\bBun\s*\.|globalThis\s*(\.|\[\s*["'])Bun\b|["']Bun["']\s*in\s+globalThis/],
  ["process global", /(?<![\w.])process\s*\.|globalThis\s*(\.|\[\s*["'])process\b/],
  ["require()", /(?<![\w.])require\s*\(/],
  ["node: or bun: import", /["'](node|bun):[\w/]+["']/],
  ["Deno Response internals", /streamOrStatic|lazy static (body|content type)|description\s*===\s*["']response["']/],
  ["undici Response internals", /headersList|description\s*===\s*["']state["']/],
];

describe("runtime seams: only ffi/ touches runtime-specific APIs", () => {
  test("no library source outside ffi/ names a runtime's globals, a node:/bun: module or Deno's Response internals", () => {
    const found: string[] = [];
    for (const folder of FOLDERS) {
      for (const path of sources(join(root, folder), [])) {
        const lines = code(readFileSync(path, "utf8")).split("\n");
        lines.forEach((line, i) => {
          for (const [what, pattern] of FORBIDDEN) if (pattern.test(line)) found.push(`${relative(root, path)}:${i + 1}: ${what}: ${line.trim()}`);
        });
      }
    }
    assert.deepEqual(found, []);
  });
});
