// Peak memory of one large WebSocket message: the receiver assembles
// fragments once and inflates straight into the message buffer, so a
// message at maxMessageBytes, or a deflate bomb refused there, peaks
// within 1.5 x the limit. Each scenario runs in a fresh child process that
// reads its own peak RSS (VmHWM) from /proc.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { runChild } from "./loop_helpers.ts";

const MiB = 1024 * 1024;
const LIMIT = 64 * MiB;

async function peakOf(scenario: string): Promise<{ peak: number; received: number; error: string }> {
  const r = await runChild("ws_memory_fixture.ts", [scenario], 60_000);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as { peak: number; received: number; error: string };
}

describe("WebSocket receiver peak memory within 1.5 x maxMessageBytes (64 MiB)", () => {
  for (const scenario of ["single", "fragments", "uneven"]) {
    test(`a ${scenario === "single" ? "single-frame message" : scenario === "fragments" ? "message in 64 fragments" : "message in uneven fragments"} at the limit`, async () => {
      const r = await peakOf(scenario);
      assert.equal(r.error, "");
      assert.equal(r.received, LIMIT);
      assert.ok(r.peak <= 1.5 * LIMIT, `peak ${(r.peak / MiB).toFixed(1)} MiB`);
    });
  }
  test("a deflate bomb (256 MiB of zeros) refused with 1009 at the limit", async () => {
    const r = await peakOf("bomb");
    assert.match(r.error, /WebSocketError/);
    assert.equal(r.received, 0);
    assert.ok(r.peak <= 1.5 * LIMIT, `peak ${(r.peak / MiB).toFixed(1)} MiB`);
  });
});
