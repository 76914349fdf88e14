import { test } from "node:test";
import fc from "fast-check";
import { fuzz, seeds } from "./uri.ts";

test("fuzz/uri: random bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (d) => fuzz(d)), { numRuns: 3000 });
});

test("fuzz/uri: URI-shaped strings and mutations of valid ones", () => {
  const alphabet = fc.constantFrom(..."abcAZ09-._~!$&'()*+,;=:@/?#[]%25 \x00\xff.v".split(""));
  fc.assert(
    fc.property(fc.nat(3), fc.array(alphabet, { maxLength: 60 }), (m, chars) => {
      fuzz(Uint8Array.from(String.fromCharCode(m) + chars.join(""), (c) => c.charCodeAt(0) & 0xff));
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
