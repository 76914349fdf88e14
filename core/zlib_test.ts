import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from "node:zlib";
import fc from "fast-check";
import { CompressionError, LimitError, UseAfterCloseError } from "./errors.ts";
import { Deflater, Inflater, type ZlibFormat } from "./zlib.ts";

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

const sample = (n: number): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 7)) % 97;
  return out;
};

describe("core/zlib", () => {
  test("an inflater closed by its own sink or onOutput stops with UseAfterCloseError, touching no freed memory", () => {
    // Stored blocks (level 0) of incompressible bytes: the compressed input is
    // over 64 KiB, so one push runs several rounds of the input buffer, and
    // the first output chunk is smaller than the output buffer (the round
    // that would next copy into the freed input buffer).
    const data = new Uint8Array(200_000);
    let x = 12345;
    for (let i = 0; i < data.length; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const packed = new Uint8Array(gzipSync(data, { level: 0 }));
    for (const via of ["sink", "onOutput"] as const) {
      let calls = 0;
      const inf: Inflater = new Inflater({
        format: "gzip",
        ...(via === "onOutput" ? { onOutput: () => { calls++; inf.close(); } } : {}),
      });
      assert.throws(
        () => inf.pushInto(packed, true, () => {
          if (via === "sink") { calls++; inf.close(); }
        }),
        UseAfterCloseError,
        via,
      );
      assert.equal(calls, 1, via);
      assert.throws(() => inf.push(packed), UseAfterCloseError);
      inf.close(); // still idempotent
    }
  });

  test("our gzip, zlib and raw output is read by Node's zlib (an independent build)", () => {
    const data = sample(300_000);
    const formats: [ZlibFormat, (b: Uint8Array) => Uint8Array][] = [
      ["gzip", (b) => gunzipSync(b)],
      ["zlib", (b) => inflateSync(b)],
      ["raw", (b) => inflateRawSync(b)],
    ];
    for (const [format, inflate] of formats) {
      using d = new Deflater({ format, level: 6 });
      const packed = concat(d.push(data, "finish"));
      assert.deepEqual(new Uint8Array(inflate(packed)), data, format);
    }
  });

  test("Node's gzip, zlib and raw output is read by ours, in any chunking", () => {
    const data = sample(50_000);
    const cases: [ZlibFormat | "auto", Uint8Array][] = [
      ["gzip", gzipSync(data)],
      ["zlib", deflateSync(data)],
      ["raw", deflateRawSync(data)],
      ["auto", gzipSync(data)],
      ["auto", deflateSync(data)],
    ];
    for (const [format, packed] of cases) {
      fc.assert(
        fc.property(fc.array(fc.nat({ max: packed.length }), { maxLength: 6 }), (cuts) => {
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          using inf = new Inflater({ format });
          const out: Uint8Array[] = [];
          let last = 0;
          for (const p of [...points, packed.length]) {
            out.push(...inf.push(packed.subarray(last, p), p === packed.length));
            last = p;
          }
          assert.deepEqual(concat(out), data);
          if (format !== "raw") assert.equal(inf.finished, true);
        }),
        { numRuns: 15 },
      );
    }
  });

  test("a decompression bomb ends in LimitError, not in memory", () => {
    const bomb = gzipSync(new Uint8Array(20_000_000));
    using inf = new Inflater({ format: "gzip", maxOutputBytes: 1_000_000 });
    assert.throws(() => inf.push(bomb), (err: unknown) => {
      assert.ok(err instanceof LimitError);
      assert.equal(err.code, "ERR_DECOMPRESSED_SIZE");
      return true;
    });
  });

  test("corrupt, truncated and trailing input give CompressionError codes", () => {
    using a = new Inflater({ format: "gzip" });
    assert.throws(() => a.push(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), (e: unknown) =>
      e instanceof CompressionError && e.code === "ERR_ZLIB_DATA");
    const packed = deflateSync(sample(1000));
    using b = new Inflater({ format: "zlib" });
    assert.throws(() => b.push(packed.subarray(0, packed.length - 3), true), (e: unknown) =>
      e instanceof CompressionError && e.code === "ERR_ZLIB_TRUNCATED");
    using c = new Inflater({ format: "zlib" });
    const withTrailer = concat([packed, new Uint8Array([0, 1, 2])]);
    assert.throws(() => c.push(withTrailer), (e: unknown) =>
      e instanceof CompressionError && e.code === "ERR_ZLIB_TRAILING_DATA");
  });

  test("concatenated gzip members decode as one stream (RFC 1952 §2.2)", () => {
    const one = gzipSync(new TextEncoder().encode("hello "));
    const two = gzipSync(new TextEncoder().encode("world"));
    using inf = new Inflater({ format: "gzip" });
    const out = inf.push(concat([one, two]), true);
    assert.equal(new TextDecoder().decode(concat(out)), "hello world");
  });

  test("zero bytes after a gzip member are padding: they and what follows are ignored, whatever the split", () => {
    // Node's gunzip and urllib3 read such bodies (tools pad gzip output to
    // a block size); a non-zero byte there is still a new member to check.
    const member = gzipSync(new TextEncoder().encode("padded body"));
    fc.assert(fc.property(fc.integer({ min: 1, max: 600 }), fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (zeros, after, step) => {
      const input = concat([member, new Uint8Array(zeros), after]);
      using inf = new Inflater({ format: "gzip", maxOutputBytes: 1000 });
      const out: Uint8Array[] = [];
      for (let i = 0; i < input.length; i += step) out.push(...inf.push(input.subarray(i, i + step)));
      out.push(...inf.push(new Uint8Array(0), true));
      assert.equal(new TextDecoder().decode(concat(out)), "padded body");
    }), { numRuns: 60 });
    using junk = new Inflater({ format: "gzip" });
    assert.throws(() => junk.push(concat([member, new Uint8Array([0x78, 0x79, 0x7a])])), (e: unknown) =>
      e instanceof CompressionError && e.code === "ERR_ZLIB_DATA");
    // Padding is not a member: cut inside the first member, the stream is still truncated.
    using cut = new Inflater({ format: "gzip" });
    assert.throws(() => cut.push(concat([member.subarray(0, 12), new Uint8Array(8)]), true), (e: unknown) =>
      e instanceof CompressionError);
    // reset() forgets the padding: the next stream is read.
    using again = new Inflater({ format: "gzip" });
    again.push(concat([member, new Uint8Array(4)]), true);
    again.reset();
    assert.equal(new TextDecoder().decode(concat(again.push(member, true))), "padded body");
    // zlib framing keeps its rule: nothing may follow the stream.
    using z = new Inflater({ format: "zlib" });
    assert.throws(() => z.push(concat([deflateSync(sample(10)), new Uint8Array(3)])), (e: unknown) =>
      e instanceof CompressionError && e.code === "ERR_ZLIB_TRAILING_DATA");
  });

  test("sync flush ends a raw block with 00 00 ff ff and keeps context", () => {
    using d = new Deflater({ format: "raw", windowBits: 15 });
    using inf = new Inflater({ format: "raw", windowBits: 15 });
    for (const text of ["first message", "first message again", "third"]) {
      const frame = concat(d.push(new TextEncoder().encode(text), "sync"));
      assert.deepEqual([...frame.subarray(-4)], [0, 0, 0xff, 0xff]);
      assert.equal(new TextDecoder().decode(concat(inf.push(frame))), text);
    }
  });

  test("reset starts a new stream; closed streams throw on use", () => {
    const d = new Deflater({ format: "zlib" });
    const first = concat(d.push(sample(100), "finish"));
    d.reset();
    const second = concat(d.push(sample(100), "finish"));
    assert.deepEqual(first, second);
    d.close();
    d.close();
    assert.throws(() => d.push(sample(1)), UseAfterCloseError);
    const inf = new Inflater({ format: "zlib", maxOutputBytes: 150 });
    inf.push(first, true);
    inf.reset();
    assert.equal(inf.bytesProduced, 0);
    inf.push(second, true);
    inf.close();
    assert.throws(() => inf.reset(), UseAfterCloseError);
  });

  test("bad options throw RangeError", () => {
    assert.throws(() => new Deflater({ level: 10 }), RangeError);
    assert.throws(() => new Deflater({ memLevel: 0 }), RangeError);
    assert.throws(() => new Inflater({ windowBits: 16 }), RangeError);
    assert.throws(() => new Inflater({ maxOutputBytes: -1 }), RangeError);
  });
});
