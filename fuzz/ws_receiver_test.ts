import { test } from "node:test";
import fc from "fast-check";
import { applyMask } from "../ws/frame.ts";
import { fuzz, seeds } from "./ws_receiver.ts";

test("fuzz/ws_receiver: random bytes in every mode", () => {
  fc.assert(fc.property(fc.nat(7), fc.nat(255), fc.uint8Array({ maxLength: 200 }), (mode, split, body) => {
    fuzz(Uint8Array.of(mode, split, ...body));
  }), { numRuns: 2000 });
});

// Frames built from random fields: mostly well-formed headers, so the
// fuzzer reaches payload handling, fragmentation, UTF-8 and inflation.
const frameArb = fc.record({
  fin: fc.boolean(),
  rsv: fc.constantFrom(0, 0, 0, 4, 2, 1),
  opcode: fc.constantFrom(0, 1, 2, 8, 9, 10, 3, 11),
  masked: fc.boolean(),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 130 }),
    fc.string({ maxLength: 40 }).map((s) => new TextEncoder().encode(s)),
    fc.constantFrom(Uint8Array.of(0x03, 0xe8), Uint8Array.of(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00), Uint8Array.of(0xed, 0xa0, 0x80)),
  ),
}).map((f) => {
  const n = f.payload.length;
  const head = [(f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode];
  const m = f.masked ? 0x80 : 0;
  if (n < 126) head.push(m | n);
  else head.push(m | 126, n >> 8, n & 255);
  const body = f.payload.slice();
  if (f.masked) {
    const key = Uint8Array.of(9, 8, 7, 6);
    head.push(...key);
    applyMask(body, key, 0);
  }
  return Uint8Array.of(...head, ...body);
});

test("fuzz/ws_receiver: sequences of generated frames", () => {
  fc.assert(fc.property(fc.nat(7), fc.nat(255), fc.array(frameArb, { maxLength: 8 }), (mode, split, frames) => {
    fuzz(Uint8Array.of(mode, split, ...frames.flatMap((f) => Array.from(f))));
  }), { numRuns: 1500 });
});

test("fuzz/ws_receiver: mutations of valid inputs", () => {
  fc.assert(fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(2), fc.nat(), fc.nat(255)), { maxLength: 4 }), (seed, muts) => {
    const d = Array.from(seed);
    for (const [kind, at, byte] of muts) {
      const i = 2 + (at % Math.max(1, d.length - 2));
      if (kind === 0) d[i] = byte;
      else if (kind === 1) d.splice(i, 0, byte);
      else d.splice(i, 1);
    }
    fuzz(Uint8Array.from(d));
  }), { numRuns: 1500 });
});

test("fuzz/ws_receiver: seeds", () => {
  for (const s of seeds) fuzz(s);
});
