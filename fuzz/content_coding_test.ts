import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { fuzz, seeds } from "./content_coding.ts";

test("fuzz/content_coding: seeds decode", () => {
  for (const s of seeds) fuzz(s);
  assert.equal(seeds.length, 4);
});

test("fuzz/content_coding: random bytes under every coding list", () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 2, maxLength: 300 }), (d) => fuzz(d)), { numRuns: 2000 });
});

test("fuzz/content_coding: mutations and truncations of valid bodies", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
      fc.nat(),
      (seed, muts, cut) => {
        const d = seed.slice();
        for (const [i, v] of muts) d[2 + (i % (d.length - 2))] = v;
        fuzz(d);
        fuzz(d.subarray(0, 2 + (cut % (d.length - 1))));
      },
    ),
    { numRuns: 2000 },
  );
});
