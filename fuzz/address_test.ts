import { test } from "node:test";
import fc from "fast-check";
import { formatIPv4, formatIPv6 } from "../socket/address.ts";
import { fuzz, seeds } from "./address.ts";

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

test("fuzz/address: random bytes in every mode", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (d) => fuzz(d)), { numRuns: 3000 });
});

test("fuzz/address: address-shaped strings", () => {
  const alphabet = fc.constantFrom(..."0123456789abcdefABCDEFx:.%[]-_~ \x00\xff".split(""));
  fc.assert(
    fc.property(fc.nat(1), fc.string({ unit: alphabet, maxLength: 50 }), (mode, s) => {
      fuzz(Uint8Array.of(mode, ...new TextEncoder().encode(s)));
    }),
    { numRuns: 4000 },
  );
  // Unicode strings through the UTF-8 mode (full-width digits, other scripts).
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (s) => {
      fuzz(Uint8Array.of(1, ...new TextEncoder().encode(s)));
    }),
    { numRuns: 1000 },
  );
});

test("fuzz/address: mutations of valid literals and of generated addresses", () => {
  const generated = fc.oneof(
    fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => latin1("\x00" + formatIPv4(b))),
    fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.option(fc.constantFrom("lo", "eth0", "1", "a.b_c~d"), { nil: undefined }))
      .map(([b, zone]) => latin1("\x00" + formatIPv6(b, zone))),
    fc.constantFrom(...seeds),
  );
  const mutation = fc.tuple(fc.nat(3), fc.nat(), fc.constantFrom(...":.%0123456789afF[]\x00 ".split("").map((c) => c.charCodeAt(0)), 0x100));
  fc.assert(
    fc.property(generated, fc.array(mutation, { maxLength: 4 }), (seed, muts) => {
      let d = Array.from(seed);
      for (const [kind, at, byte] of muts) {
        const i = 1 + (at % Math.max(1, d.length - 1));
        if (kind === 0) d[i] = byte & 0xff; // replace
        else if (kind === 1) d.splice(i, 0, byte & 0xff); // insert
        else if (kind === 2) d.splice(i, 1); // delete
        else d = d.concat(d.slice(1)); // duplicate the text
      }
      fuzz(Uint8Array.from(d));
    }),
    { numRuns: 4000 },
  );
});

test("fuzz/address: seeds are accepted without complaint", () => {
  for (const s of seeds) fuzz(s);
});
