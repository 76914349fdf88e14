import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { brotliCompressSync, brotliDecompressSync, deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import fc from "fast-check";
import { CompressionError, LimitError, UnsupportedError } from "../core/errors.ts";
import {
  ContentDecoder,
  ContentEncoder,
  decodeContent,
  encodeContent,
  isBrotliAvailable,
  isCodingSupported,
  parseContentEncoding,
} from "./content_coding.ts";

const text = (s: string) => new TextEncoder().encode(s);
const sample = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 5)) % 251);
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

describe("RFC 9110 §8.4.1 content codings", () => {
  test("gzip and x-gzip read what Node's zlib writes, and the reverse", () => {
    const data = sample(100_000);
    assert.deepEqual(decodeContent("gzip", gzipSync(data)), data);
    assert.deepEqual(decodeContent("x-gzip", gzipSync(data)), data);
    assert.deepEqual(new Uint8Array(gunzipSync(encodeContent("gzip", data))), data);
  });
  test("deflate is zlib-wrapped; raw deflate from misbehaving servers is accepted", () => {
    const data = sample(5000);
    assert.deepEqual(decodeContent("deflate", deflateSync(data)), data);
    assert.deepEqual(decodeContent("deflate", deflateRawSync(data)), data);
    assert.deepEqual(new Uint8Array(inflateSync(encodeContent("deflate", data))), data);
  });
  test("stacked codings are undone in reverse order", () => {
    const data = text("layered");
    const twice = gzipSync(deflateSync(data));
    assert.deepEqual(decodeContent("deflate, gzip", twice), data);
    assert.deepEqual(parseContentEncoding(" GZIP ,, br"), ["gzip", "br"]);
  });
  test("identity passes through; unknown codings are unsupported", () => {
    assert.deepEqual(decodeContent("identity", text("x")), text("x"));
    assert.throws(() => new ContentDecoder("compress"), UnsupportedError);
    assert.throws(() => new ContentEncoder("zstd"), UnsupportedError);
    assert.equal(isCodingSupported("GZIP"), true);
  });
  test("streaming: any split gives the same output", () => {
    const data = sample(20_000);
    const packed = new Uint8Array(gzipSync(data));
    fc.assert(
      fc.property(fc.array(fc.nat(packed.length), { maxLength: 8 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const dec = new ContentDecoder("gzip");
        const out: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, packed.length]) {
          out.push(...dec.push(packed.subarray(prev, p)));
          prev = p;
        }
        out.push(...dec.end());
        dec.close();
        assert.deepEqual(concat(out), data);
      }),
      { numRuns: 30 },
    );
  });
  test("encoder flush makes everything so far decodable", () => {
    const enc = new ContentEncoder("gzip");
    const first = concat([...enc.push(text("part one ")), ...enc.flush()]);
    const dec = new ContentDecoder("gzip");
    assert.equal(new TextDecoder().decode(concat(dec.push(first))), "part one ");
    const rest = concat([...enc.push(text("and two")), ...enc.end()]);
    assert.equal(new TextDecoder().decode(concat([...dec.push(rest), ...dec.end()])), "and two");
    enc.close();
    dec.close();
  });
  test("a zip bomb ends in a LimitError, not in memory", () => {
    const bomb = new Uint8Array(gzipSync(new Uint8Array(50 * 1024 * 1024)));
    assert.ok(bomb.length < 100_000);
    assert.throws(
      () => decodeContent("gzip", bomb, { maxDecompressedBytes: 1024 * 1024 }),
      (e: unknown) => e instanceof LimitError && e.code === "ERR_DECOMPRESSED_SIZE",
    );
  });
  test("stacked codings past the ratio limit end in ERR_DECOMPRESSION_RATIO; small or plain bodies pass", () => {
    const zeros = new Uint8Array(8 * 1024 * 1024);
    const once = new Uint8Array(gzipSync(zeros));
    // deflate alone stays under ~1032:1, so one gzip layer passes the default ratio.
    assert.equal(decodeContent("gzip", once).length, zeros.length);
    const twice = new Uint8Array(gzipSync(once));
    assert.ok(zeros.length / twice.length > 1032);
    assert.throws(
      () => decodeContent("gzip, gzip", twice),
      (e: unknown) => e instanceof LimitError && e.code === "ERR_DECOMPRESSION_RATIO" && e.limit === 1032,
    );
    assert.equal(decodeContent("gzip, gzip", twice, { maxRatio: Infinity }).length, zeros.length);
    // Under the 1 MiB floor the ratio is not checked.
    const small = new Uint8Array(gzipSync(new Uint8Array(gzipSync(new Uint8Array(512 * 1024)))));
    assert.equal(decodeContent("gzip, gzip", small).length, 512 * 1024);
    assert.throws(() => new ContentDecoder("gzip", { maxRatio: 0.5 }), RangeError);
  });
  test("corrupt and truncated data", () => {
    const packed = new Uint8Array(gzipSync(sample(1000)));
    assert.throws(() => decodeContent("gzip", packed.subarray(0, packed.length - 10)), CompressionError);
    const bad = packed.slice();
    bad[20] = (bad[20] ?? 0) ^ 0xff;
    bad[21] = (bad[21] ?? 0) ^ 0xff;
    assert.throws(() => decodeContent("gzip", bad), CompressionError);
    assert.throws(() => decodeContent("deflate", text("x")), CompressionError);
  });
});

describe("content-coding hardening", () => {
  test("a list longer than maxCodings is a LimitError before anything is allocated", () => {
    const header = Array.from({ length: 3276 }, () => "gzip").join(",");
    assert.throws(
      () => new ContentDecoder(header),
      (e: unknown) => e instanceof LimitError && e.code === "ERR_TOO_MANY_CODINGS" && e.limit === 5,
    );
    assert.throws(() => new ContentDecoder("gzip, gzip", { maxCodings: 1 }), LimitError);
    assert.throws(() => new ContentDecoder("gzip", { maxCodings: 0 }), RangeError);
    // Five layers are fine; a six-layer nested body is refused by default.
    let body = text("layers");
    for (let i = 0; i < 6; i++) body = new Uint8Array(gzipSync(body));
    const five = Array.from({ length: 5 }, () => "gzip").join(", ");
    assert.throws(() => decodeContent(five + ", gzip", body), LimitError);
    assert.equal(new TextDecoder().decode(decodeContent(five + ", gzip", body, { maxCodings: 6 })), "layers");
  });

  test("decoders are made only when body bytes arrive; an empty body decodes to nothing", () => {
    const before = process.memoryUsage().rss;
    const held: ContentDecoder[] = [];
    // 2,000 five-layer decoders allocated eagerly would cost ~1.3 GiB.
    for (let i = 0; i < 2000; i++) held.push(new ContentDecoder("gzip, deflate, gzip, deflate, gzip"));
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 64 * 1024 * 1024, `RSS grew ${grown} bytes`);
    for (const d of held) {
      assert.deepEqual(d.push(new Uint8Array(0)), []);
      assert.deepEqual(d.end(), []);
      d.close();
    }
    const dec = new ContentDecoder("gzip");
    dec.close();
    assert.throws(() => dec.push(text("x")), (e: unknown) => e instanceof Error && e.name === "UseAfterCloseError");
  });

  test("a deflate decoder closed inside its first two bytes makes no new native stream afterwards: UseAfterCloseError", () => {
    // The sniffer that tells zlib from raw deflate holds a first byte; a
    // push after close made a new Inflater that nothing ever freed.
    const isClosed = (e: unknown) => e instanceof Error && e.name === "UseAfterCloseError";
    for (const coding of ["deflate", "gzip, deflate", "gzip", "br"]) {
      if (coding === "br" && !isCodingSupported("br")) continue;
      const dec = new ContentDecoder(coding);
      if (coding.endsWith("deflate")) assert.deepEqual(dec.push(new Uint8Array([0x78])), []);
      dec.close();
      assert.throws(() => dec.push(new Uint8Array([0x9c, 3, 0, 0, 0, 0, 1])), isClosed, coding);
      assert.throws(() => dec.push(new Uint8Array(0)), isClosed, coding);
      assert.throws(() => dec.end(), isClosed, coding);
      dec.close();
    }
  });

  test("every deflate format reports truncation, raw deflate included", () => {
    const data = sample(50_000);
    const raw = new Uint8Array(deflateRawSync(data));
    assert.deepEqual(decodeContent("deflate", raw), data);
    for (const packed of [raw, new Uint8Array(deflateSync(data)), new Uint8Array(gzipSync(data))]) {
      const coding = packed === raw || packed[0] === 0x78 ? "deflate" : "gzip";
      for (const cut of [packed.length >> 1, packed.length - 1]) {
        assert.throws(
          () => decodeContent(coding, packed.subarray(0, cut)),
          (e: unknown) => e instanceof CompressionError,
          `${coding} cut at ${cut} of ${packed.length}`,
        );
      }
    }
    fc.assert(fc.property(fc.integer({ min: 1, max: raw.length - 1 }), (cut) => {
      assert.throws(() => decodeContent("deflate", raw.subarray(0, cut)), CompressionError);
    }), { numRuns: 50 });
  });

  test("the ratio is checked inside one push: a bomb stops near the 1 MiB floor, not at the size limit", () => {
    const bombs: [string, Uint8Array][] = [["gzip", new Uint8Array(gzipSync(new Uint8Array(16 * 1024 * 1024)))]];
    if (isBrotliAvailable()) bombs.push(["br", new Uint8Array(brotliCompressSync(new Uint8Array(64 * 1024 * 1024)))]);
    // A gzip layer alone stays under 1032:1, so stack one for gzip.
    bombs[0] = ["gzip, gzip", new Uint8Array(gzipSync(bombs[0]![1]))];
    for (const [coding, bomb] of bombs) {
      const dec = new ContentDecoder(coding);
      try {
        assert.throws(() => dec.push(bomb), (e: unknown) => {
          assert.ok(e instanceof LimitError && e.code === "ERR_DECOMPRESSION_RATIO", String(e));
          const produced = Number(/^(\d+) bytes/.exec(e.message)?.[1]);
          assert.ok(produced <= 1024 * 1024 + 64 * 1024, `${coding}: stopped after ${produced} bytes`);
          return true;
        });
      } finally {
        dec.close();
      }
    }
  });
});

describe("RFC 7932 br", () => {
  test("available where a system libbrotli exists; otherwise UnsupportedError", () => {
    if (!isBrotliAvailable()) {
      assert.throws(() => new ContentDecoder("br"), UnsupportedError);
      return;
    }
    const data = sample(200_000);
    assert.deepEqual(decodeContent("br", brotliCompressSync(data)), data);
    assert.deepEqual(new Uint8Array(brotliDecompressSync(encodeContent("br", data))), data);
    const enc = new ContentEncoder("br", { level: 4 });
    const first = concat([...enc.push(text("stream")), ...enc.flush()]);
    const dec = new ContentDecoder("br");
    assert.equal(new TextDecoder().decode(concat(dec.push(first))), "stream");
    enc.close();
    dec.close();
  });
  test("brotli bomb and corrupt data", () => {
    if (!isBrotliAvailable()) return;
    const bomb = new Uint8Array(brotliCompressSync(new Uint8Array(20 * 1024 * 1024)));
    assert.throws(() => decodeContent("br", bomb, { maxDecompressedBytes: 65536 }), LimitError);
    // Under the default size limit, the ratio (20 MiB from a few bytes) stops it.
    assert.throws(() => decodeContent("br", bomb), (e: unknown) => e instanceof LimitError && e.code === "ERR_DECOMPRESSION_RATIO");
    assert.throws(() => decodeContent("br", text("definitely not brotli")), CompressionError);
    const ok = new Uint8Array(brotliCompressSync(sample(100)));
    assert.throws(() => decodeContent("br", ok.subarray(0, ok.length - 2)), CompressionError);
  });
});
