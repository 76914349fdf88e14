import { test } from "node:test";
import fc from "fast-check";
import { fuzz, PARSER_COUNT, seeds } from "./header_values.ts";

test("fuzz/header_values: seeds", () => {
  for (const s of seeds) fuzz(s);
});

test("fuzz/header_values: random bytes for every parser", () => {
  fc.assert(fc.property(fc.nat(255), fc.uint8Array({ maxLength: 200 }), (selector, d) => fuzz(Uint8Array.from([selector, ...d]))), { numRuns: 4000 });
});

test("fuzz/header_values: field-shaped strings for every parser", () => {
  const piece = fc.constantFrom(
    "bytes", "=", "-", ",", ";", " ", "\t", '"', "\\", "q", "=0.5", "=1.0001", "0", "9", "999999999999999999", "*", "/", ":", ".",
    "gzip", "br", "GMT", "Oct", "1994", "08:49:37", "permessage-deflate", "i", "u=9", "00-", "ff-", "a".repeat(40), "\x00", "\x7f", "é", "::", "%", "\n",
  );
  fc.assert(
    fc.property(fc.nat(PARSER_COUNT * 16 - 1), fc.array(piece, { maxLength: 24 }), (selector, parts) => {
      fuzz(Uint8Array.from([selector, ...Array.from(parts.join(""), (c) => c.charCodeAt(0) & 0xff)]));
    }),
    { numRuns: 4000 },
  );
});

test("fuzz/header_values: mutations of the seeds", () => {
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), (seed, muts) => {
      const d = seed.slice();
      for (const [i, v] of muts) if (d.length > 1) d[1 + (i % (d.length - 1))] = v;
      fuzz(d);
    }),
    { numRuns: 3000 },
  );
});
