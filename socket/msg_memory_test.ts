import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ScatterGather } from "./iovec.ts";
import { MessageMemory, STAGING_KEEP_BYTES } from "./msg_memory.ts";

describe("native staging memory", () => {
  test("MessageMemory: reused while small, freed by trim() once a large request grew it", () => {
    const memory = new MessageMemory();
    try {
      const small = memory.reserve(1000);
      memory.trim();
      assert.equal(memory.reserve(500), small, "a small block is kept and reused");
      // Growing past 512 KiB for less than the limit stops at the limit: trim() keeps it.
      memory.reserve(600 * 1024);
      const grown = memory.reserve(700 * 1024);
      assert.ok(grown.byteLength <= STAGING_KEEP_BYTES, `grew to ${grown.byteLength}`);
      memory.trim();
      assert.equal(memory.reserve(700 * 1024), grown);
      memory.reserve(STAGING_KEEP_BYTES + 1);
      assert.ok(memory.reservedBytes > STAGING_KEEP_BYTES);
      memory.trim();
      assert.equal(memory.reservedBytes, 0);
      memory.reserve(64);
      memory.trim(0);
      assert.equal(memory.reservedBytes, 0);
    } finally {
      memory.free();
    }
  });

  test("ScatterGather: trim() frees a large block; sendRest needs a staged send", () => {
    const sg = new ScatterGather();
    try {
      assert.equal(sg.reservedBytes, 0);
      assert.throws(() => sg.sendRest(0, 0, 0), RangeError);
      // A recv on a bad descriptor still stages its buffers (and fails with -1).
      assert.equal(sg.recv(-1, [new Uint8Array(STAGING_KEEP_BYTES + 10)], 0), -1);
      assert.ok(sg.reservedBytes > STAGING_KEEP_BYTES);
      sg.trim();
      assert.equal(sg.reservedBytes, 0);
      assert.equal(sg.recv(-1, [new Uint8Array(100)], 0), -1);
      sg.trim();
      assert.ok(sg.reservedBytes > 0, "a small block is kept");
    } finally {
      sg.free();
    }
  });
});
