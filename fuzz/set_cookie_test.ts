import { test } from "node:test";
import fc from "fast-check";
import { fuzz, seeds } from "./set_cookie.ts";

test("fuzz/set_cookie: random bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (d) => fuzz(d)), { numRuns: 2000 });
});

test("fuzz/set_cookie: cookie-shaped strings and mutations of valid ones", () => {
  const piece = fc.constantFrom(
    "a=1", "; ", ";", "=", "Domain=", "example.com", ".example.com", "localhost", "127.0.0.1", "Path=", "/", "/x", "Secure",
    "HttpOnly", "SameSite=", "None", "Lax", "Max-Age=", "-1", "0", "99999999999", "Expires=", "Wed, 21 Oct 2015 07:28:00 GMT",
    "__Host-", "__Secure-", "\x00", "\t", " ", "\"", "\x7f", "é",
  );
  fc.assert(
    fc.property(fc.nat(255), fc.array(piece, { maxLength: 30 }), (m, parts) => {
      fuzz(Uint8Array.from(String.fromCharCode(m) + parts.join(""), (c) => c.charCodeAt(0) & 0xff));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), (seed, muts) => {
      const d = seed.slice();
      for (const [i, v] of muts) d[i % d.length] = v;
      fuzz(d);
    }),
    { numRuns: 1000 },
  );
});
