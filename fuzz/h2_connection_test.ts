import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { HPACKEncoder } from "../http/hpack/encoder.ts";
import { ErrorCode } from "../http/h2/constants.ts";
import { encodeFrame } from "../http/h2/frames.ts";
import { flood, fuzz, legitTransfer, madeYouReset, NO_PROGRESS_KINDS, RESET_VIOLATIONS } from "./h2_connection.ts";

test("fuzz/h2_connection: random bytes and sequences of plausible frames, both roles", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (d) => fuzz(d)), { numRuns: 2000 });
  const enc = new HPACKEncoder();
  const blocks = [
    enc.encode([":method", "GET", ":scheme", "https", ":path", "/", ":authority", "a"]),
    enc.encode([":status", "200", "content-length", "3"]),
    enc.encode(["x-trailer", "1"]),
    new Uint8Array([0x82, 0x86, 0x84]),
  ];
  const frameArb = fc.tuple(fc.integer({ min: 0, max: 10 }), fc.nat(0x2d), fc.integer({ min: 0, max: 6 }), fc.nat(3), fc.uint8Array({ maxLength: 12 }))
    .map(([type, flags, id, b, extra]) => {
      const payload = type === 1 || type === 9 || type === 5
        ? new Uint8Array([...(type === 5 ? [0, 0, 0, 2] : []), ...blocks[b]!])
        : extra;
      return encodeFrame(type, flags, id, payload);
    });
  fc.assert(
    fc.property(fc.nat(255), fc.array(frameArb, { maxLength: 12 }), (first, fs) => {
      const all = new Uint8Array(1 + fs.reduce((n, f) => n + f.length, 0));
      all[0] = first;
      let o = 1;
      for (const f of fs) {
        all.set(f, o);
        o += f.length;
      }
      fuzz(all);
    }),
    { numRuns: 2000 },
  );
});

test("fuzz/h2_connection: any mix of no-progress frames ends in ENHANCE_YOUR_CALM, even with a request every 20 of them", () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.constantFrom(...NO_PROGRESS_KINDS), { minLength: 1 }), fc.constantFrom(0, 20), (kinds, every) => {
      // Tiny DATA frames deliver bytes and cost 1/64 of a frame: on their
      // own they end the connection only as a flood with no requests (a
      // chat of small messages between requests is legitimate).
      const onlyTiny = kinds.every((k) => k === "tiny-data");
      assert.equal(flood(kinds, onlyTiny ? 300_000 : 20_000, onlyTiny ? 0 : every), ErrorCode.ENHANCE_YOUR_CALM, kinds.join(","));
    }),
    { numRuns: 20 },
  );
});

test("fuzz/h2_connection: MadeYouReset by any violation ends the connection (clock) or is held to MAX_CONCURRENT_STREAMS (no clock)", () => {
  fc.assert(
    fc.property(fc.constantFrom(...RESET_VIOLATIONS), fc.integer({ min: 1, max: 50 }), (violation, maxConcurrent) => {
      const timed = madeYouReset(violation, 20_000, true, 100);
      assert.equal(timed.code, ErrorCode.ENHANCE_YOUR_CALM, violation);
      assert.ok(timed.requests <= 110, `${violation}: ${timed.requests} requests`);
      const held = madeYouReset(violation, 300, false, maxConcurrent);
      assert.ok(held.requests <= maxConcurrent, `${violation}: ${held.requests} requests past ${maxConcurrent}`);
    }),
    { numRuns: 10 },
  );
});

test("fuzz/h2_connection: legitimate transfers at any window, crediting step, chunking and frame size never trip a limit", () => {
  fc.assert(
    fc.property(
      fc.record({
        size: fc.integer({ min: 0, max: 300_000 }),
        window: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 65, max: 1 << 20 })),
        connectionWindow: fc.oneof(fc.constant(65535), fc.integer({ min: 65535, max: 1 << 24 })),
        upload: fc.boolean(),
        consumeStep: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20_000 })),
        chunk: fc.integer({ min: 1, max: 100_000 }),
        maxFrame: fc.constantFrom(16384, 65536, 1 << 20),
      }).filter((t) => t.window >= 16 || t.size <= 20_000),
      (t) => {
        assert.equal(legitTransfer(t), "", JSON.stringify(t));
      },
    ),
    { numRuns: 30 },
  );
});
