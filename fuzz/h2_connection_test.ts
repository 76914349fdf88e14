import { test } from "node:test";
import fc from "fast-check";
import { HPACKEncoder } from "../http/hpack/encoder.ts";
import { encodeFrame } from "../http/h2/frames.ts";
import { fuzz } from "./h2_connection.ts";

test("fuzz/h2_connection: random bytes and sequences of plausible frames, both roles", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (d) => fuzz(d)), { numRuns: 2000 });
  const enc = new HPACKEncoder();
  const blocks = [
    enc.encode([":method", "GET", ":scheme", "https", ":path", "/", ":authority", "a"]),
    enc.encode([":status", "200", "content-length", "3"]),
    enc.encode(["x-trailer", "1"]),
    new Uint8Array([0x82, 0x86, 0x84]),
  ];
  const frameArb = fc.tuple(fc.integer({ min: 0, max: 10 }), fc.nat(0x2d), fc.integer({ min: 0, max: 6 }), fc.nat(3), fc.uint8Array({ maxLength: 12 }))
    .map(([type, flags, id, b, extra]) => {
      const payload = type === 1 || type === 9 || type === 5
        ? new Uint8Array([...(type === 5 ? [0, 0, 0, 2] : []), ...blocks[b]!])
        : extra;
      return encodeFrame(type, flags, id, payload);
    });
  fc.assert(
    fc.property(fc.nat(255), fc.array(frameArb, { maxLength: 12 }), (first, fs) => {
      const all = new Uint8Array(1 + fs.reduce((n, f) => n + f.length, 0));
      all[0] = first;
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
