import { test } from "node:test";
import fc from "fast-check";
import { fuzz, seeds } from "./content_range.ts";

test("fuzz/content_range: random bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 60 }), (d) => fuzz(d)), { numRuns: 2000 });
});

test("fuzz/content_range: range-shaped strings and mutations of the seeds", () => {
  const piece = fc.constantFrom("bytes", "BYTES", " ", "\t", "-", "/", "*", "0", "1", "9", "10", "999999999999999", "9999999999999999", "+", "e3", ".5", "\x00", "é");
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
      fuzz(Uint8Array.from(parts.join(""), (c) => c.charCodeAt(0) & 0xff));
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), (seed, muts) => {
      const d = seed.slice();
      for (const [i, v] of muts) d[i % d.length] = v;
      fuzz(d);
    }),
    { numRuns: 2000 },
  );
});
