import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { libc } from "../ffi/libc.ts";
import { socketPair, untilParked } from "../tests/loop_helpers.ts";
import { Loop, READABLE } from "./loop.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("Loop.expectEvents", () => {
  test("while events are expected an empty tick lingers again instead of parking, past the linger backoff; lingerMs 0 never lingers", async () => {
    for (const lingerMs of [1, 0]) {
      const loop = new Loop({ lingerMs });
      const [a, b] = socketPair();
      try {
        const scratch = new Uint8Array(16);
        let reads = 0;
        let expectOnRead = false;
        loop.watch(a, READABLE, () => {
          libc().read(a, scratch, 16);
          reads++;
          if (expectOnRead) loop.expectEvents(10);
        });
        await untilParked(loop);
        // A first read: the tick after it lingers, finds nothing, and the
        // backoff turns lingering off for a while.
        libc().write(b, new Uint8Array([1]), 1);
        while (reads < 1 || !loop.parked) await sleep(5);
        const lingers = loop.stats.lingers;
        assert.equal(lingers, lingerMs > 0 ? 1 : 0, JSON.stringify(loop.stats));
        // Now each read says events are expected for 10 ms: the tick after
        // it (a few microseconds later) lingers again instead of parking,
        // until the window ends. A machine can stall past the window between
        // the read and that tick, so the test tries up to five reads and
        // requires the linger in at least one of them (with lingerMs 1) and
        // in none (with lingerMs 0).
        expectOnRead = true;
        let lingeredAgain = false;
        for (let round = 0; round < 5 && !lingeredAgain; round++) {
          const before = loop.stats.lingers;
          const want = reads + 1;
          libc().write(b, new Uint8Array([2]), 1);
          while (reads < want) await sleep(1);
          await untilParked(loop);
          lingeredAgain = loop.stats.lingers > before;
        }
        assert.equal(lingeredAgain, lingerMs > 0, JSON.stringify(loop.stats));
        if (lingerMs === 0) assert.equal(loop.stats.lingers, 0, JSON.stringify(loop.stats));
      } finally {
        loop.close();
        await loop.released();
        libc().close(a);
        libc().close(b);
      }
    }
  });

  test("a window that is not a positive number is ignored, and a long one is clamped (no throw either way)", () => {
    const loop = new Loop();
    try {
      for (const ms of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) assert.doesNotThrow(() => loop.expectEvents(ms));
    } finally {
      loop.close();
    }
  });
});
