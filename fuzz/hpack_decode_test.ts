import { test } from "node:test";
import fc from "fast-check";
import { HPACKEncoder } from "../http/hpack/encoder.ts";
import { fuzz } from "./hpack_decode.ts";

const valid = (() => {
  const e = new HPACKEncoder();
  const a = e.encode([":method", "GET", ":path", "/x", "cookie", "a=b; c=d; e=f; g=hijklmnopqrstuvwxyz", "x-k", "v"]);
  const b = e.encode([":method", "GET", ":path", "/x", "x-k", "w"]);
  const out = new Uint8Array(1 + a.length + 2 + b.length);
  out.set(a, 1);
  out.set([0xff, 0x00], 1 + a.length);
  out.set(b, 3 + a.length);
  return out;
})();

test("fuzz/hpack_decode: random bytes and mutations of valid blocks", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (d) => fuzz(d)), { numRuns: 3000 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(255), (muts, mode) => {
      const d = valid.slice();
      d[0] = mode;
      for (const [i, v] of muts) d[i] = v;
      fuzz(d);
    }),
    { numRuns: 3000 },
  );
});
