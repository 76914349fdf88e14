import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseCertificate } from "../tls/certificate.ts";
import { fuzz, seeds } from "./certificate.ts";

test("fuzz/certificate: the seed certificate parses, with its names", () => {
  const cert = parseCertificate(seeds[0]!);
  assert.equal(cert.commonName, "fuzz.test");
  assert.deepEqual(cert.subjectAltNames.ip, ["127.0.0.1", "::1"]);
  for (const s of seeds) fuzz(s);
});

test("fuzz/certificate: random bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (d) => fuzz(d)), { numRuns: 3000 });
});

test("fuzz/certificate: byte changes, cuts and insertions in a real certificate", () => {
  const cert = seeds[0]!;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(cert.length - 1), fc.nat(255)), { maxLength: 6 }), fc.nat(cert.length), (muts, cut) => {
      const d = cert.slice(0, Math.max(cut, 2));
      for (const [i, v] of muts) if (i < d.length) d[i] = v;
      fuzz(d);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.nat(cert.length), fc.uint8Array({ minLength: 1, maxLength: 8 }), (at, ins) => {
      fuzz(Uint8Array.from([...cert.subarray(0, at), ...ins, ...cert.subarray(at)]));
    }),
    { numRuns: 1000 },
  );
});
