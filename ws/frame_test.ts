import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { wasmReadBuffer } from "../core/mask_wasm.ts";
import { applyMask, applyMaskTo, frameHeader, frameSize, isValidCloseCode, WASM_MASK_MIN_BYTES, writeFrameInto } from "./frame.ts";
import { closePayload, Sender } from "./sender.ts";
import { CloseHandshake } from "./close.ts";
import { formatExtensions, parseExtensions } from "./extensions.ts";
import { countInt32Views } from "../tests/view_count_helpers.ts";

describe("ws frame: masking and headers", () => {
  test("masking matches a byte-wise reference at every offset, phase and alignment (WebAssembly and JavaScript)", () => {
    const lengths = fc.oneof(
      fc.uint8Array({ maxLength: 700 }),
      fc.uint8Array({ minLength: WASM_MASK_MIN_BYTES - 8, maxLength: WASM_MASK_MIN_BYTES + 3000 }),
    );
    fc.assert(
      fc.property(lengths, fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat(3), fc.nat(7), fc.nat(7), fc.boolean(), (data, key, phase, srcOff, dstOff, native) => {
        const expected = data.map((b, i) => b ^ key[(phase + i) & 3]!);
        const src = new Uint8Array(data.length + 8);
        src.set(data, srcOff);
        const dst = new Uint8Array(data.length + 8);
        applyMaskTo(src, srcOff, dst, dstOff, data.length, key, phase, native);
        assert.deepEqual(dst.subarray(dstOff, dstOff + data.length), expected);
        // Bytes around the target are untouched.
        assert.ok(dst.subarray(0, dstOff).every((b) => b === 0));
        assert.ok(dst.subarray(dstOff + data.length).every((b) => b === 0));
        const inPlace = src.subarray(srcOff, srcOff + data.length);
        applyMaskTo(inPlace, 0, inPlace, 0, inPlace.length, key, phase, native);
        assert.deepEqual(inPlace, expected);
      }),
      { numRuns: 800 },
    );
  });

  test("views in the WebAssembly read buffer are unmasked in place: whole blocks there, the tail in JavaScript, neighbours untouched", () => {
    const region = wasmReadBuffer();
    assert.ok(region, "WebAssembly SIMD is available on Node, Deno and Bun");
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.nat(1000), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat(3), (n, at, key, phase) => {
        const fill = (i: number) => (i * 31 + 7) & 0xff;
        for (let i = 0; i < n + 64 + at; i++) region[i] = fill(i);
        const view = region.subarray(at + 32, at + 32 + n);
        const expected = view.map((b, i) => b ^ key[(phase + i) & 3]!);
        applyMask(view, key, phase);
        assert.deepEqual(view, expected);
        for (let i = 0; i < at + 32; i++) assert.equal(region[i], fill(i), `byte ${i} before the view`);
        for (let i = at + 32 + n; i < at + 64 + n; i++) assert.equal(region[i], fill(i), `byte ${i} after the view`);
      }),
      { numRuns: 400 },
    );
  });

  test("the same view of the WebAssembly read buffer again, between other views of its size: each masked where it lies", () => {
    // The masker remembers the last view it found in the module's memory
    // (a receiver hands the same payload view again and again): a view
    // elsewhere, of the same size and offset, must still go its own way.
    const region = wasmReadBuffer();
    assert.ok(region, "WebAssembly SIMD is available on Node, Deno and Bun");
    const key = new Uint8Array([0x5a, 0xc3, 0x01, 0xfe]);
    const reference = (data: Uint8Array, phase: number): Uint8Array => data.map((b, i) => b ^ key[(phase + i) & 3]!);
    const outside = new Uint8Array(region.length).map((_, i) => (i * 13 + 5) & 0xff);
    for (const [at, n] of [[6, 64], [6, 64], [8, 128], [6, 64], [0, 200], [6, 64]] as const) {
      const fill = (i: number) => (i * 31 + at) & 0xff;
      for (let i = 0; i < at + n + 64; i++) region[i] = fill(i);
      const inWasm = region.subarray(at, at + n);
      const elsewhere = outside.subarray(at, at + n);
      for (let round = 0; round < 3; round++) {
        for (const view of [inWasm, elsewhere, inWasm]) {
          const expected = reference(view, round);
          applyMask(view, key, round);
          assert.deepEqual(view, expected);
        }
      }
      for (let i = at + n; i < at + n + 64; i++) assert.equal(region[i], fill(i), `byte ${i} after the view`);
    }
  });

  test("masking longer than one WebAssembly piece (64 KiB) at odd offsets and phases", () => {
    const key = new Uint8Array([0xa1, 0xb2, 0xc3, 0xd4]);
    for (const [n, so, dof, phase] of [[65536, 0, 0, 0], [65537, 1, 3, 1], [200_003, 7, 2, 3], [131_072, 4, 6, 2]] as const) {
      const src = new Uint8Array(n + so).map((_, i) => i * 29 + 5);
      const expected = src.subarray(so).map((b, i) => b ^ key[(phase + i) & 3]!);
      for (const wasm of [true, false]) {
        const dst = new Uint8Array(n + dof + 5);
        applyMaskTo(src, so, dst, dof, n, key, phase, wasm);
        assert.deepEqual(dst.subarray(dof, dof + n), expected);
        assert.ok(dst.subarray(0, dof).every((b) => b === 0) && dst.subarray(dof + n).every((b) => b === 0));
        const inPlace = src.slice(so);
        applyMask(inPlace, key, phase);
        assert.deepEqual(inPlace, expected);
      }
    }
  });

  test("a range outside the buffers is refused before any write", () => {
    const key = new Uint8Array([1, 2, 3, 4]);
    const src = new Uint8Array(4096);
    const dst = new Uint8Array(4096);
    assert.throws(() => applyMaskTo(src, 0, dst, 1, 4096, key, 0), RangeError);
    assert.throws(() => applyMaskTo(src, 1, dst, 0, 4096, key, 0), RangeError);
    assert.throws(() => applyMaskTo(src, -1, dst, 0, 1024, key, 0), RangeError);
    assert.throws(() => applyMaskTo(src.subarray(0, 1000), 0, dst, 0, 1024, key, 0), RangeError);
    assert.throws(() => applyMaskTo(src, 0.5, dst, 0, 1024, key, 0), RangeError);
    assert.throws(() => applyMaskTo(src, 0, dst, 0, 1024.5, key, 0), RangeError);
    // A length that lies: the real byte length decides before the
    // WebAssembly path copies anything out of its shared memory (the
    // JavaScript loops only ever index the view, so they need no check).
    const small = new Uint8Array(16);
    Object.defineProperty(small, "length", { value: 4096 });
    assert.throws(() => applyMaskTo(small, 0, dst, 0, 4096, key, 0), RangeError);
    assert.throws(() => applyMaskTo(src, 0, small, 0, 4096, key, 0), RangeError);
    class Liar extends Uint8Array {
      override get length(): number {
        return 1 << 20;
      }
    }
    assert.throws(() => applyMaskTo(new Liar(16), 0, new Liar(16), 0, 4096, key, 0), RangeError);
  });

  test("shared memory masks like any other (both paths)", () => {
    for (const native of [true, false]) {
      const shared = new Uint8Array(new SharedArrayBuffer(4096)).fill(7);
      const out = new Uint8Array(4096);
      applyMaskTo(shared, 0, out, 0, 4096, new Uint8Array([7, 7, 7, 7]), 0, native);
      assert.ok(out.every((b) => b === 0));
      applyMaskTo(shared, 0, shared, 0, 4096, new Uint8Array([7, 7, 7, 7]), 0, native);
      assert.ok(shared.every((b) => b === 0));
    }
  });

  test("payloads in one buffer past the view cache's bound (an io_uring loop's receive buffers) are masked through one word view, made once", () => {
    const key = new Uint8Array([0x9a, 0xbc, 0xde, 0xf0]);
    const reference = (data: Uint8Array, phase: number): Uint8Array => data.map((b, i) => b ^ key[(phase + i) & 3]!);
    const big = new Uint8Array(1 << 20).map((_, i) => i * 5);
    const small = new Uint8Array(4096);
    const made = countInt32Views(() => {
      for (let i = 0; i < 200; i++) {
        // Between other buffers' views (which take the two small slots), at new offsets.
        applyMaskTo(small, 0, small, 0, 64, key, 0, false);
        applyMaskTo(new Uint8Array(256), 0, new Uint8Array(256), 0, 64, key, 0, false);
        const at = (i * 4099) % (big.length - 200);
        const n = 32 + (i % 150);
        const phase = i & 3;
        const expected = reference(big.subarray(at, at + n), phase);
        applyMaskTo(big, at, big, at, n, key, phase, false);
        assert.deepEqual(big.subarray(at, at + n), expected);
      }
    }, big.buffer);
    assert.equal(made, 1);
    // A large resizable buffer that grew gets a new view of its new length.
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const rb = new Resizable(300_000, { maxByteLength: 600_000 });
    new Uint8Array(rb).fill(7);
    applyMask(new Uint8Array(rb, 0, 300_000), key, 0);
    rb.resize(600_000);
    const grown = new Uint8Array(rb);
    grown.fill(9);
    applyMask(grown.subarray(599_000), key, 2);
    assert.deepEqual(grown.subarray(599_000), reference(new Uint8Array(1000).fill(9), 2));
  });

  test("masking through reused word views: the same buffers again, at new offsets, after a resize", () => {
    const key = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
    const reference = (data: Uint8Array, phase: number): Uint8Array => data.map((b, i) => b ^ key[(phase + i) & 3]!);
    const a = new Uint8Array(8192).map((_, i) => i * 7);
    const b = new Uint8Array(8192).map((_, i) => i * 13);
    const big = new Uint8Array(300_000).map((_, i) => i * 3);
    for (let round = 0; round < 4; round++) {
      const native = round % 2 === 0;
      for (const [src, dst] of [[a, b], [b, a], [a, a], [big, a], [a, big], [big, big]] as const) {
        for (const [so, dof, n, phase] of [[0, 0, 100, 0], [5, 9, 333, 1], [12, 4, 1000, 3], [3, 3, 64, 2], [4, 8, 5000, 1], [1, 5, 5001, 3], [2, 7, 4999, 2]] as const) {
          const expected = reference(src.subarray(so, so + n), phase);
          if (src === dst && so === dof) {
            const copy = src.slice(so, so + n);
            applyMaskTo(src, so, dst, dof, n, key, phase, native);
            assert.deepEqual(dst.subarray(dof, dof + n), expected);
            src.set(copy, so);
          } else if (src !== dst) {
            applyMaskTo(src, so, dst, dof, n, key, phase, native);
            assert.deepEqual(dst.subarray(dof, dof + n), expected);
          }
        }
      }
    }
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const rb = new Resizable(64, { maxByteLength: 8192 });
    const view = new Uint8Array(rb);
    view.fill(1);
    applyMask(view.subarray(0, 64), key, 0);
    rb.resize(4096);
    const grown = new Uint8Array(rb);
    grown.fill(2);
    applyMask(grown, key, 0);
    assert.deepEqual(grown, reference(new Uint8Array(4096).fill(2), 0));
    rb.resize(100);
    const shrunk = new Uint8Array(rb);
    shrunk.fill(3);
    applyMask(shrunk, key, 1);
    assert.deepEqual(shrunk, reference(new Uint8Array(100).fill(3), 1));
  });

  test("header sizes", () => {
    assert.deepEqual(frameHeader({ fin: true, rsv1: false, opcode: 1, length: 5, mask: null }), new Uint8Array([0x81, 5]));
    assert.deepEqual(frameHeader({ fin: false, rsv1: true, opcode: 2, length: 256, mask: null }), new Uint8Array([0x42, 126, 1, 0]));
    assert.deepEqual(
      frameHeader({ fin: true, rsv1: false, opcode: 2, length: 65536, mask: new Uint8Array([1, 2, 3, 4]) }),
      new Uint8Array([0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4]),
    );
  });

  test("close codes", () => {
    for (const c of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) assert.ok(isValidCloseCode(c), String(c));
    for (const c of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) assert.ok(!isValidCloseCode(c), String(c));
  });
});

describe("ws sender", () => {
  test("a client masks every frame with a fresh key; a server never masks", () => {
    const client = new Sender({ role: "client" });
    const a = client.message("hello");
    const b = client.message("hello");
    assert.equal(a[0]![1]! & 0x80, 0x80);
    assert.notDeepEqual(a[0]!.subarray(2, 6), b[0]!.subarray(2, 6));
    const server = new Sender({ role: "server" });
    assert.deepEqual(server.message("hello")[0], new Uint8Array([0x81, 5, 104, 101, 108, 108, 111]));
  });

  test("fragmentation and auto-fragmentation", () => {
    const s = new Sender({ role: "server", autoFragmentSize: 4 });
    const frames = s.message(new Uint8Array(10));
    assert.deepEqual(frames.map((f) => [f[0], f[1]]), [[0x02, 4], [0x00, 4], [0x80, 2]]);
    assert.equal(s.message(new Uint8Array(10), { fragmentSize: 0 }).length, 1);
    assert.equal(s.message("abc", { binary: true })[0]![0], 0x82);
  });

  test("control frames and close payloads", () => {
    const s = new Sender({ role: "server" });
    assert.deepEqual(s.ping("x"), new Uint8Array([0x89, 1, 120]));
    assert.deepEqual(s.pong(), new Uint8Array([0x8a, 0]));
    assert.throws(() => s.ping(new Uint8Array(126)), RangeError);
    assert.deepEqual(s.close(), new Uint8Array([0x88, 0]));
    assert.deepEqual(closePayload(1000, "ok"), new Uint8Array([3, 232, 111, 107]));
    assert.throws(() => closePayload(1005), RangeError);
    assert.throws(() => closePayload(1000, "x".repeat(124)), RangeError);
    // A reason without a code goes with 1000 (the WebSockets Standard), never dropped; nothing at all is an empty payload.
    assert.deepEqual(closePayload(undefined, "ok"), new Uint8Array([3, 232, 111, 107]));
    assert.deepEqual(closePayload(undefined, ""), new Uint8Array(0));
    assert.throws(() => closePayload(undefined, "x".repeat(124)), RangeError);
  });
});

describe("ws sender: write-into API and slab frames", () => {
  /** A deterministic mask source: keys 1 2 3 4, 5 6 7 8, … */
  function counting(): (key: Uint8Array) => void {
    let n = 0;
    return (key) => {
      for (let i = 0; i < 4; i++) key[i] = ++n & 0xff;
    };
  }

  test("property: frameInto writes exactly the bytes frame() returns, at any offset, for any size and role", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom<"client" | "server">("client", "server"),
        fc.nat(9),
        fc.nat(5),
        fc.boolean(),
        (payload, role, at, trim, fin) => {
          const a = new Sender({ role, maskSource: counting() });
          const b = new Sender({ role, maskSource: counting() });
          const start = Math.min(trim, payload.length);
          const expected = a.message(payload.subarray(start), { fragmentSize: 0 })[0]!;
          const dst = new Uint8Array(at + b.frameSize(payload.length - start) + 3).fill(0xee);
          const n = b.frameInto(dst, at, 0x2, payload, true, false, start);
          assert.equal(n, expected.length);
          assert.equal(n, frameSize(payload.length - start, role === "client"));
          assert.deepEqual(dst.subarray(at, at + n), expected);
          assert.deepEqual([...dst.subarray(0, at), ...dst.subarray(at + n)], new Array(at + 3).fill(0xee));
          const direct = new Uint8Array(n);
          const key = role === "client" ? expected.subarray(n - payload.length + start - 4, n - payload.length + start) : null;
          writeFrameInto(direct, 0, fin, false, 0x2, payload, start, payload.length, key);
          assert.deepEqual(direct.subarray(1), expected.subarray(1));
          assert.equal(direct[0], fin ? 0x82 : 0x02);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("frames masked with pool keys unmask to the payload, at every small size and flag combination", () => {
    const s = new Sender({ role: "client" });
    for (let length = 0; length < 140; length++) {
      const payload = Uint8Array.from({ length: length + 3 }, (_, i) => (i * 37 + length) & 0xff);
      for (const [fin, rsv1, opcode] of [[true, false, 0x2], [false, true, 0x1], [true, true, 0x0], [false, false, 0x9]] as const) {
        const f = s.frame(opcode, payload.subarray(3), fin, rsv1);
        const head = length < 126 ? 2 : 4;
        assert.equal(f.length, head + 4 + length);
        assert.equal(f[0], (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
        assert.equal(f[1]! & 0x80, 0x80);
        const body = f.slice(head + 4);
        applyMask(body, f.subarray(head, head + 4), 0);
        assert.deepEqual(body, payload.subarray(3), `length ${length}`);
        const dst = new Uint8Array(f.length + 5);
        assert.equal(s.frameInto(dst, 5, opcode, payload, fin, rsv1, 3), f.length);
        assert.deepEqual(dst.subarray(5, 5 + head), f.subarray(0, head));
        const body2 = dst.slice(5 + head + 4);
        applyMask(body2, dst.subarray(5 + head, 5 + head + 4), 0);
        assert.deepEqual(body2, payload.subarray(3), `frameInto length ${length}`);
      }
    }
  });

  test("property: messageFrames writes exactly the frames message() returns, back to back, for text and bytes, any fragment size and role, compressed or not", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 120 }), fc.string({ unit: "binary", maxLength: 60 })),
        fc.constantFrom<"client" | "server">("client", "server"),
        fc.nat(70),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.boolean(),
        (data, role, fragmentSize, binary, compressing) => {
          // A stand-in compressor (reverses the bytes) from 20 bytes on.
          const deflate = compressing ? { compressor: { compress: (d: Uint8Array) => d.slice().reverse() }, compressionThreshold: 20 } : {};
          const a = new Sender({ role, maskSource: counting(), ...deflate });
          const b = new Sender({ role, maskSource: counting(), ...deflate });
          const options = binary === undefined ? { fragmentSize } : { fragmentSize, binary };
          const frames = a.message(data, options);
          const expected = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
          let at = 0;
          for (const f of frames) {
            expected.set(f, at);
            at += f.length;
          }
          assert.deepEqual(b.messageFrames(data, options), expected);
        },
      ),
      { numRuns: 300 },
    );
    // With pool keys (the default), a client's text frame unmasks to the UTF-8 of the string.
    for (const text of ["", "hi", "é".repeat(40), "x".repeat(200)]) {
      const f = new Sender({ role: "client" }).messageFrames(text).slice();
      const head = f[1]! & 0x7f;
      const at = head === 126 ? 4 : 2;
      const body = f.slice(at + 4);
      applyMask(body, f.subarray(at, at + 4), 0);
      assert.deepEqual(body, new TextEncoder().encode(text));
    }
  });

  test("messageFrames text keeps encoding into the shared buffer after it grew (small, past 64 KiB, small again)", () => {
    const tx = new Sender({ role: "server" });
    for (const text of ["hi", "é".repeat(40_000), "ok", "z".repeat(100), "ü".repeat(30_000), "end"]) {
      const f = tx.messageFrames(text).slice();
      const len7 = f[1]! & 0x7f;
      const at = len7 === 127 ? 10 : len7 === 126 ? 4 : 2;
      assert.equal(new TextDecoder().decode(f.subarray(at)), text);
    }
  });

  test("frameInto checks its bounds", () => {
    const s = new Sender({ role: "client" });
    assert.throws(() => s.frameInto(new Uint8Array(21), 0, 0x2, new Uint8Array(16), true, false), RangeError);
    assert.throws(() => s.frameInto(new Uint8Array(30), 9, 0x2, new Uint8Array(16), true, false), RangeError);
    assert.throws(() => s.frameInto(new Uint8Array(30), 0, 0x2, new Uint8Array(16), true, false, 4, 20), RangeError);
    assert.throws(() => s.frameInto(new Uint8Array(30), 1.5, 0x2, new Uint8Array(16), true, false), RangeError);
    assert.throws(() => s.frameInto(new Uint8Array(30), 0, 0x2, new Uint8Array(16), true, false, 0.5), RangeError);
    assert.equal(s.frameInto(new Uint8Array(30), 8, 0x2, new Uint8Array(16), true, false), 22);
  });

  test("frames cut from the slab are independent, and large masked payloads start 4-byte aligned", () => {
    const s = new Sender({ role: "client", maskSource: counting() });
    const frames: Uint8Array[] = [];
    const copies: Uint8Array[] = [];
    // Enough frames to run through several slabs.
    for (let i = 0; i < 600; i++) {
      const f = s.frame(0x2, new Uint8Array(i % 300).fill(i & 0xff), true, false);
      frames.push(f);
      copies.push(f.slice());
      const length = i % 300;
      if (length >= 64) assert.equal((f.byteOffset + f.length - length) & 3, 0, `payload of frame ${i} aligned`);
    }
    frames.forEach((f, i) => assert.deepEqual(f, copies[i], `frame ${i} unchanged`));
    const big = s.frame(0x2, new Uint8Array(70000), true, false);
    assert.equal(big.length, 70000 + 14);
    assert.equal((big.byteOffset + 14) & 3, 0);
  });
});

describe("ws close handshake", () => {
  test("we close first", () => {
    const c = new CloseHandshake("server");
    assert.equal(c.state, "open");
    c.sent(1000, "bye");
    assert.equal(c.state, "closing");
    assert.equal(c.receive(1000, ""), false);
    assert.equal(c.state, "closed");
    assert.ok(c.wasClean && c.closedByUs && c.shouldCloseTransport);
    assert.throws(() => c.sent(1000, ""), TypeError);
  });

  test("the peer closes first; a client waits for the server to drop TCP", () => {
    const c = new CloseHandshake("client");
    assert.equal(c.receive(1001, "going"), true);
    c.sent(1001, "");
    assert.ok(c.wasClean && !c.closedByUs);
    assert.equal(c.shouldCloseTransport, false);
    assert.equal(c.code, 1001);
    assert.equal(c.reason, "going");
  });

  test("transport lost: 1006, not clean", () => {
    const c = new CloseHandshake("client");
    c.transportClosed();
    assert.equal(c.state, "closed");
    assert.equal(c.code, 1006);
    assert.equal(c.wasClean, false);
  });
});

describe("ws extensions header", () => {
  test("parse and format", () => {
    const items = parseExtensions('foo, permessage-deflate; client_max_window_bits; server_max_window_bits="10" , bar;baz=1');
    assert.deepEqual(items.map((i) => [i.name, [...i.params]]), [
      ["foo", []],
      ["permessage-deflate", [["client_max_window_bits", true], ["server_max_window_bits", "10"]]],
      ["bar", [["baz", "1"]]],
    ]);
    assert.equal(formatExtensions(items), "foo, permessage-deflate; client_max_window_bits; server_max_window_bits=10, bar; baz=1");
    for (const bad of ["a;", "a; b=", 'a; b="x y"', "a b", "a; b; b", '"a"', "a; b=\"unterminated"]) assert.throws(() => parseExtensions(bad), bad);
    assert.deepEqual(parseExtensions(""), []);
  });
});
