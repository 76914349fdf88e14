import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { detectRuntime, runtimeCapabilities } from "./runtime.ts";
import { BUFFERED_RESPONSES_PAY } from "../http/client/buffered_response.ts";
import { LIGHT_RESPONSE_DEFAULT } from "../http/server/light_response.ts";
import { WASM_COPY_MASK_MIN_BYTES, WASM_MASK_MIN_BYTES } from "../ws/frame.ts";

// The tuning decisions above ffi/ ask for behaviours (runtimeCapabilities), never for the runtime's
// name: the same values as when each module asked detectRuntime() itself.

/** What each decision was per runtime before it went behind runtimeCapabilities. */
const BEFORE = {
  node: { light: true, buffered: true, copyMask: 64, mask: 64, slowNow: false },
  deno: { light: false, buffered: false, copyMask: 128, mask: 384, slowNow: true },
  bun: { light: false, buffered: false, copyMask: 128, mask: 512, slowNow: false },
} as const;

/** The library's folders above ffi/ (tests, benchmarks and tools may know runtimes). */
const LIBRARY = ["core", "socket", "poll", "dns", "tls", "http", "ws", "pool"];

/** Every non-test `.ts` file under `dir`. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) out.push(path);
  }
  return out;
}

describe("runtimeCapabilities: only ffi/ knows which runtime it is on", () => {
  test("each decision is what it was by the runtime's name", () => {
    const want = BEFORE[detectRuntime()];
    assert.equal(LIGHT_RESPONSE_DEFAULT, want.light);
    assert.equal(BUFFERED_RESPONSES_PAY, want.buffered);
    assert.equal(WASM_COPY_MASK_MIN_BYTES, want.copyMask);
    assert.equal(WASM_MASK_MIN_BYTES, want.mask);
    assert.equal(runtimeCapabilities.performanceNowIsSlow, want.slowNow);
    assert.ok(Object.isFrozen(runtimeCapabilities));
  });

  test("no library module outside ffi/ imports detectRuntime", () => {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const offenders = LIBRARY.flatMap((dir) => sources(join(root, dir))).filter((file) => /\bdetectRuntime\b/.test(readFileSync(file, "utf8")));
    assert.deepEqual(offenders, []);
  });
});
