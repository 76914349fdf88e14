import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { libc } from "../ffi/libc.ts";
import { metricsNowMs } from "./metrics_clock.ts";

describe("metricsNowMs", () => {
  test("reads performance.now()'s clock: each reading lies between two performance.now() readings around it, and never goes back", () => {
    // Before and after libc is loaded (on Deno the FFI clock takes over once it is).
    for (const loadLibc of [false, true]) {
      if (loadLibc) {
        libc();
        metricsNowMs(); // the first reading after it decides which clock to read
      }
      let last = -Infinity;
      for (let i = 0; i < 2000; i++) {
        const before = performance.now();
        const now = metricsNowMs();
        const after = performance.now();
        // The FFI clock is shifted onto performance.now()'s origin to within half its
        // tightest bracket (well under a microsecond); a millisecond of slack covers it.
        assert.ok(now >= before - 1 && now <= after + 1, `${before} <= ${now} <= ${after}`);
        assert.ok(now >= last, `went back from ${last} to ${now}`);
        last = now;
      }
    }
  });
});
