import { test } from "node:test";
import fc from "fast-check";
import { fuzz, seeds } from "./config_text.ts";

test("fuzz/config_text: seeds", () => {
  for (const s of seeds) fuzz(s);
});

test("fuzz/config_text: random bytes", () => {
  fc.assert(fc.property(fc.nat(255), fc.uint8Array({ maxLength: 300 }), (s, d) => fuzz(Uint8Array.from([s, ...d]))), { numRuns: 3000 });
});

test("fuzz/config_text: lines made of the files' own words", () => {
  const word = fc.constantFrom(
    "nameserver", "search", "domain", "options", "ndots:", "timeout:", "attempts:", "rotate", "edns0", "#", ";", " ", "\t", "\n", "\r",
    "127.0.0.1", "::1", "fe80::1%eth0", "10.0.0.", "999", "-1", "a.test", "localhost", ".", "..", "x".repeat(70), "\x00", "é", "%", ":",
  );
  fc.assert(
    fc.property(fc.nat(255), fc.array(word, { maxLength: 40 }), (s, words) => {
      fuzz(Uint8Array.from([s, ...Array.from(words.join(""), (c) => c.charCodeAt(0) & 0xff)]));
    }),
    { numRuns: 3000 },
  );
});
