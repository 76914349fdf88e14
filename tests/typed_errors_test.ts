// Every error the library throws or rejects with is typed: a NetError
// subclass with a stable code (or a standard TypeError/RangeError for a bad
// argument), never a bare Error a caller can only tell apart by its text
// (red team, twelfth pass). The scan below keeps the class closed; the
// cases check the ones a caller meets: Loop.run() called from inside the
// loop, and serveStatic's file changing or going away while it is sent.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HTTPError, NetError, PollError } from "../core/errors.ts";
import { Loop } from "../poll/loop.ts";
import { serveStatic } from "../http/server/static.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const LIBRARY = ["core", "socket", "poll", "dns", "tls", "http", "ws", "pool", "ffi"];

/** The library's source files (tests, fixtures and benchmarks left out). */
function libraryFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...libraryFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts") && !entry.name.includes("fixture")) out.push(path);
  }
  return out;
}

describe("typed errors", () => {
  test("no library file throws or rejects with a bare Error or a string", () => {
    // A user's non-Error thrown value wrapped as `new Error(String(err))` is
    // the user's own failure passed on, and doc comments are not code.
    const bare = /\bthrow new Error\(|reject\(new Error\(|\bthrow\s+["'`]|reject\(["'`]/;
    const found: string[] = [];
    const files = LIBRARY.flatMap((d) => libraryFiles(d));
    assert.ok(files.length > 200, `found only ${files.length} library files`);
    for (const file of files) {
      const lines = readFileSync(join(root, file), "utf8").split("\n");
      lines.forEach((line, i) => {
        if (/^\s*(\*|\/\/|\/\*)/.test(line)) return;
        if (bare.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(found, []);
  });

  test("Loop.run() from inside the loop: PollError ERR_LOOP_RUNNING, and the outer run goes on", () => {
    const loop = new Loop();
    try {
      let inner: unknown;
      let after = false;
      loop.setTimeout(() => {
        try {
          loop.run();
        } catch (err) {
          inner = err;
        }
        loop.setTimeout(() => (after = true), 1);
      }, 1);
      loop.run();
      assert.ok(inner instanceof PollError, String(inner));
      assert.equal((inner as PollError).code, "ERR_LOOP_RUNNING");
      assert.equal(after, true);
    } finally {
      loop.close();
    }
  });

  describe("serveStatic: a large file that changes while it is sent", () => {
    const size = 1.5 * 1024 * 1024; // past the 1 MiB read whole: streamed in 256 KiB pieces
    const isChanged = (err: unknown): boolean => err instanceof HTTPError && err instanceof NetError && err.code === "ERR_STATIC_FILE_CHANGED";

    async function readAfter(change: (path: string) => void): Promise<unknown> {
      const dir = mkdtempSync(join(tmpdir(), "ffinet-typed-"));
      try {
        const path = join(dir, "big.bin");
        writeFileSync(path, new Uint8Array(size).fill(7));
        const response = await serveStatic(dir)(new Request("http://x/big.bin"));
        assert.equal(response.status, 200);
        const reader = response.body!.getReader();
        const first = await reader.read();
        assert.equal(first.done, false);
        change(path);
        for (let i = 0; i < 16; i++) {
          try {
            if ((await reader.read()).done) return "ended";
          } catch (err) {
            return err;
          }
        }
        return "still reading";
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    test("truncated", async () => {
      const outcome = await readAfter((path) => truncateSync(path, 1000));
      assert.ok(isChanged(outcome), String(outcome));
    });

    test("removed", async () => {
      const outcome = await readAfter((path) => unlinkSync(path));
      assert.ok(isChanged(outcome), String(outcome));
    });
  });
});
