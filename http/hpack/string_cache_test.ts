import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { HPACKDecoder } from "./decoder.ts";
import { HPACKEncoder } from "./encoder.ts";
import { HPACKStringCache, STRING_CACHE_KEY_MAX } from "./string_cache.ts";
import { hex } from "./rfc7541_vectors_test.ts";

// nginx 1.22's response head for a static file: a table size update to 0, then literals "with incremental indexing"
// that never stay in the table (server, date, content-type, content-length, last-modified, accept-ranges).
const NGINX_FIRST = hex(
  "20887689aa6355e580ae212e1f6196dd6d5f4a01c52f948a08027140b771b15c6c0a62d1bf5f87497ca58ae819aa5c04313032346c96dd6d5f4a01c52f948a08027140b771b05c0894c5a37f008919085ad2b583aa62a3848fd24a8f",
);
const NGINX_NEXT = NGINX_FIRST.subarray(1);
const NGINX_FIELDS = [
  ":status", "200", "server", "nginx/1.22.1", "date", "Sun, 06 Dec 2026 15:52:50 GMT", "content-type", "text/plain",
  "content-length", "1024", "last-modified", "Sun, 06 Dec 2026 15:50:12 GMT", "accept-ranges", "bytes",
];

describe("HPACKStringCache", () => {
  test("a stored key is found by its octets, its length and its Huffman flag", () => {
    const cache = new HPACKStringCache();
    const src = new Uint8Array([9, 0x61, 0x62, 0x63, 9]);
    assert.equal(cache.lookup(src, 1, 3, false), undefined);
    cache.store(src, 1, 3, false, "abc");
    assert.equal(cache.lookup(new Uint8Array([0x61, 0x62, 0x63]), 0, 3, false), "abc");
    assert.equal(cache.lookup(src, 1, 3, true), undefined, "same octets, Huffman-coded: another key");
    assert.equal(cache.lookup(src, 1, 2, false), undefined, "a prefix is another key");
    assert.equal(cache.lookup(new Uint8Array([0x61, 0x62, 0x64]), 0, 3, false), undefined);
    cache.clear();
    assert.equal(cache.lookup(src, 1, 3, false), undefined);
    assert.equal(cache.size, 0);
  });

  test("keys longer than STRING_CACHE_KEY_MAX are not kept", () => {
    const cache = new HPACKStringCache();
    const long = new Uint8Array(STRING_CACHE_KEY_MAX + 1).fill(0x61);
    assert.equal(cache.lookup(long, 0, long.length, false), undefined);
    cache.store(long, 0, long.length, false, "a".repeat(long.length));
    assert.equal(cache.lookup(long, 0, long.length, false), undefined);
    assert.equal(cache.size, 0);
  });

  test("bounded: at most 64 entries however many keys go in, and recently used ones stay", () => {
    const cache = new HPACKStringCache();
    const hot = new Uint8Array([1, 2, 3]);
    cache.lookup(hot, 0, 3, false);
    cache.store(hot, 0, 3, false, "hot");
    for (let i = 0; i < 5000; i++) {
      const key = new Uint8Array([i & 0xff, (i >> 8) & 0xff, 7, 7]);
      if (cache.lookup(key, 0, 4, false) === undefined) cache.store(key, 0, 4, false, `k${i}`);
      assert.equal(cache.lookup(hot, 0, 3, false), "hot", "a key used between every store stays (LRU within its set)");
      assert.ok(cache.size <= 64);
    }
    assert.equal(cache.size, 64);
  });

  test("property: every hit is the string stored last for those exact octets", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 6 }), fc.boolean()), { maxLength: 300 }), (ops) => {
        const cache = new HPACKStringCache();
        const model = new Map<string, string>();
        ops.forEach(([key, huffman], i) => {
          const id = `${huffman}:${key.join(",")}`;
          const hit = cache.lookup(key, 0, key.length, huffman);
          if (hit !== undefined) assert.equal(hit, model.get(id));
          else {
            cache.store(key, 0, key.length, huffman, `v${i}`);
            model.set(id, `v${i}`);
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe("HPACKDecoder with its string cache", () => {
  test("nginx's repeated response head: every literal is decoded once, then found", () => {
    const d = new HPACKDecoder();
    assert.deepEqual(d.decode(NGINX_FIRST), NGINX_FIELDS);
    // server, date, content-type, content-length, last-modified, accept-ranges (name and value)
    assert.equal(d.stringCache!.size, 7);
    for (let i = 0; i < 3; i++) assert.deepEqual(d.decode(NGINX_NEXT), NGINX_FIELDS);
    assert.equal(d.stringCache!.size, 7);
    assert.equal(d.table.length, 0);
  });

  test("never-indexed literals are not kept", () => {
    const d = new HPACKDecoder();
    const block = new HPACKEncoder().encode(["authorization", "Bearer abc", "x-secret", "s3cr3t", "x-plain", "value"], [true, true, false]);
    const flags: boolean[] = [];
    for (let i = 0; i < 2; i++) {
      flags.length = 0;
      assert.deepEqual(d.decode(block, flags), ["authorization", "Bearer abc", "x-secret", "s3cr3t", "x-plain", "value"]);
      assert.deepEqual(flags, [true, true, false]);
    }
    assert.equal(d.stringCache!.size, 2, "x-plain and value only");
    assert.equal(new HPACKDecoder({ stringCache: false }).stringCache, null);
  });

  test("maxStringBytes holds on a hit", () => {
    const d = new HPACKDecoder({ maxStringBytes: 12 });
    assert.deepEqual(d.decode(NGINX_NEXT.subarray(0, 12)), [":status", "200", "server", "nginx/1.22.1"]);
    assert.deepEqual(d.decode(NGINX_NEXT.subarray(0, 12)), [":status", "200", "server", "nginx/1.22.1"]);
    assert.throws(() => new HPACKDecoder({ maxStringBytes: 11 }).decode(NGINX_NEXT.subarray(0, 12)), { code: "ERR_HPACK_STRING_LENGTH" });
  });

  test("property: a decoder with the cache gives what one without it gives, block after block", () => {
    const name = fc.constantFrom("server", "date", "content-type", "x-a", "x-b", "x-long-name-for-a-field", "etag", "set-cookie");
    const value = fc.oneof(
      fc.constantFrom("", "nginx/1.22.1", "text/plain", "1024", "bytes", "Sun, 06 Dec 2026 15:52:50 GMT"),
      fc.string({ maxLength: 70 }).map((s) => s.replace(/[^\x20-\x7e]/g, "x")),
      fc.uint8Array({ maxLength: 60 }).map((b) => String.fromCharCode(...b).replace(/[\0\r\n]/g, "y")),
    );
    const block = fc.array(fc.tuple(name, value, fc.boolean()), { maxLength: 12 });
    fc.assert(
      fc.property(
        fc.array(block, { minLength: 1, maxLength: 12 }),
        fc.constantFrom("auto", "always", "never") as fc.Arbitrary<"auto" | "always" | "never">,
        fc.constantFrom(0, 64, 4096),
        (blocks, huffman, tableSize) => {
          const enc = new HPACKEncoder({ huffman });
          enc.setMaxTableSize(tableSize);
          const cached = new HPACKDecoder();
          const plain = new HPACKDecoder({ stringCache: false });
          for (const fields of [...blocks, ...blocks]) {
            const flat = fields.flatMap(([n, v]) => [n, v]);
            const sensitive = fields.map(([, , s]) => s);
            const bytes = enc.encode(flat, sensitive);
            const f1: boolean[] = [];
            const f2: boolean[] = [];
            const a = cached.decode(bytes, f1);
            const b = plain.decode(bytes, f2);
            assert.deepEqual(a, b);
            assert.deepEqual(a, flat);
            assert.deepEqual(f1, f2);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
