import { test } from "node:test";
import fc from "fast-check";
import { fuzz } from "./h2_frames.ts";

test("fuzz/h2_frames: random bytes and frame-shaped inputs", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (d) => fuzz(d)), { numRuns: 3000 });
  const frameArb = fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 12 }), fc.nat(255), fc.nat(9)).map(([len, type, flags, id]) => {
    const f = new Uint8Array(9 + len);
    f.set([len >> 16, len >> 8, len, type, flags, 0, 0, 0, id]);
    for (let i = 9; i < f.length; i++) f[i] = (i * 31 + len) & 0xff;
    return f;
  });
  fc.assert(
    fc.property(fc.nat(255), fc.array(frameArb, { maxLength: 8 }), (cut, fs) => {
      const all = new Uint8Array(1 + fs.reduce((n, f) => n + f.length, 0));
      all[0] = cut;
      let o = 1;
      for (const f of fs) {
        all.set(f, o);
        o += f.length;
      }
      fuzz(all);
    }),
    { numRuns: 2000 },
  );
});
