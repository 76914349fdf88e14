import { test } from "node:test";
import fc from "fast-check";
import { fuzz, seeds } from "./auth_challenge.ts";

test("fuzz/auth_challenge: random bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (d) => fuzz(d)), { numRuns: 2000 });
});

test("fuzz/auth_challenge: challenge-shaped strings and mutations of valid ones", () => {
  const piece = fc.constantFrom(
    "Digest", "Basic", "Bearer", " ", ", ", ",", "=", "realm", "nonce", "qop", "algorithm", "stale", "userhash", "opaque",
    "\"", "\\", "auth", "auth-int", "SHA-256", "MD5-sess", "SHA-512-256", "true", "abc==", "\t", "\x00", "\x7f", "é",
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
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
