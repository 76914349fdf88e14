import { test } from "node:test";
import fc from "fast-check";
import { fuzz, seeds } from "./proxy_handshake.ts";

test("fuzz/proxy_handshake: seeds", () => {
  for (const s of seeds) fuzz(s);
});

test("fuzz/proxy_handshake: random bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (d) => fuzz(d)), { numRuns: 4000 });
});

test("fuzz/proxy_handshake: mutations of valid replies", () => {
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), fc.nat(255), (seed, muts, selector) => {
      const d = seed.slice();
      for (const [i, v] of muts) d[1 + (i % Math.max(1, d.length - 1))] = v;
      // Keep the machine family (and so a meaningful reply) but vary the split step.
      if (d[0]! < 0xf0) d[0] = (d[0]! % 5) + ((selector % 7) << 3) * 5 % 0xf0;
      fuzz(d);
    }),
    { numRuns: 3000 },
  );
});
