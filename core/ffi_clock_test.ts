import assert from "node:assert/strict";
import { test } from "node:test";
import { ffiClockMs } from "./ffi_clock.ts";

test("ffiClockMs: monotonic, and on performance.now()'s origin", () => {
  let last = ffiClockMs();
  assert.ok(Number.isFinite(last));
  for (let i = 0; i < 1000; i++) {
    const before = performance.now();
    const t = ffiClockMs();
    const after = performance.now();
    assert.ok(t >= last, "never goes backwards");
    // Aligned to well under a millisecond; a generous bound for a loaded machine's preemption.
    assert.ok(t >= before - 5 && t <= after + 5, `${before} <= ${t} <= ${after}`);
    last = t;
  }
});
