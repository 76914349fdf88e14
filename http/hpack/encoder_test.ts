import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { HPACKDecoder } from "./decoder.ts";
import { HPACKEncoder } from "./encoder.ts";
import { C3, C4, C5, C6, REQUESTS, RESPONSES, toHex } from "./rfc7541_vectors_test.ts";

const clean = (s: string) => s.replace(/\s+/g, "");

describe("HPACK encoder", () => {
  test("reproduces RFC 7541 C.3 and C.4 (requests)", () => {
    for (const [blocks, huffman] of [[C3, "never"], [C4, "always"]] as const) {
      const e = new HPACKEncoder({ huffman, volatileNames: [] });
      for (let i = 0; i < 3; i++) assert.equal(toHex(e.encode(REQUESTS[i]!)), clean(blocks[i]!));
    }
  });

  test("reproduces RFC 7541 C.5 and C.6 (responses, table of 256, eviction)", () => {
    for (const [blocks, huffman] of [[C5, "never"], [C6, "always"]] as const) {
      const e = new HPACKEncoder({ huffman, volatileNames: [], maxTableSize: 256 });
      for (let i = 0; i < 3; i++) assert.equal(toHex(e.encode(RESPONSES[i]!)), clean(blocks[i]!));
      assert.equal(e.table.size, 215);
    }
  });

  test("announces a shrink and a regrowth at the start of the next block", () => {
    const e = new HPACKEncoder({ huffman: "never" });
    e.encode(["custom-key", "custom-header"]);
    e.setMaxTableSize(0);
    e.setMaxTableSize(100);
    assert.equal(toHex(e.encode([":method", "GET"])), "203f4582");
    assert.equal(e.table.maxSize, 100);
    e.setMaxTableSize(1 << 20);
    const block = e.encode([":method", "GET"]);
    assert.equal(toHex(block), "3fe1ff0382"); // capped at 65536
  });

  test("never indexes secrets and short cookies", () => {
    const e = new HPACKEncoder();
    const d = new HPACKDecoder();
    const flags: boolean[] = [];
    const fields = ["authorization", "Bearer abc", "cookie", "a=1", "cookie", "session=0123456789abcdefghij", "x-secret", "s"];
    const out = d.decode(e.encode(fields, [false, false, false, true]), flags);
    assert.deepEqual(out, fields);
    assert.deepEqual(flags, [true, true, false, true]);
    assert.equal(e.table.length, 1); // only the long cookie
  });

  test("indexes repeated fields: the second block is one byte per field", () => {
    const e = new HPACKEncoder();
    const fields = [":method", "GET", ":path", "/api/v1", "user-agent", "ffinet/1.0", "accept", "*/*"];
    e.encode(fields);
    assert.equal(e.encode(fields).length, 4);
  });

  test("does not index entries larger than 3/4 of the table", () => {
    const e = new HPACKEncoder({ maxTableSize: 100 });
    e.encode(["x-big", "v".repeat(60)]);
    assert.equal(e.table.length, 0);
  });

  test("rejects odd field arrays and characters above U+00FF", () => {
    assert.throws(() => new HPACKEncoder().encode(["a"]), TypeError);
    assert.throws(() => new HPACKEncoder().encode(["a", "\u0100"]), TypeError);
  });

  test("encodeView gives encode's bytes, block after block (its view reused while the length repeats, remade when the buffer grows)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(fc.constantFrom("x-a", "x-b", ":path", "user-agent"), fc.oneof(fc.constantFrom("1", "22", "/"), fc.string({ maxLength: 3000 }).map((v) => v.replace(/[^\x20-\x7e]/g, "a")))), { maxLength: 4 }), { minLength: 1, maxLength: 12 }),
        (blocks) => {
          const viewer = new HPACKEncoder();
          const copier = new HPACKEncoder();
          for (const fields of blocks) {
            const flat = fields.flatMap(([n, v]) => [n, v]);
            assert.deepEqual([...viewer.encodeView(flat)], [...copier.encode(flat)]);
          }
        },
      ),
      { numRuns: 200 },
    );
    // A block that grows the buffer (a field's room is reserved before it is
    // found in the table) and is as long as the one before: a new view, not
    // the old buffer's.
    {
      const viewer = new HPACKEncoder();
      const copier = new HPACKEncoder();
      const statics = [":method", "GET", ":scheme", "https", ":path", "/", ":method", "GET", ":scheme", "https"];
      const long = ["x-a", "{".repeat(1005)];
      for (const fields of [long, [...statics, ":path", "/"], [...statics, ...long]]) {
        assert.deepEqual([...viewer.encodeView(fields)], [...copier.encode(fields)]);
      }
    }
    // The same request again: the same bytes, in the same view.
    const e = new HPACKEncoder();
    const request = [":method", "GET", ":path", "/1k", "user-agent", "ffinet"];
    e.encodeView(request);
    const first = e.encodeView(request);
    const bytes = [...first];
    const again = e.encodeView(request);
    assert.equal(again, first);
    assert.deepEqual([...again], bytes);
  });

  test("decode(encode(fields)) is identity at any table size, with table changes", () => {
    const octets = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    const names = fc.oneof(
      fc.constantFrom(":method", ":path", "content-type", "cookie", "authorization", "x-a", "x-b", "date"),
      octets,
    );
    const values = fc.oneof(fc.constantFrom("GET", "/", "", "text/html", "1", "abc"), octets);
    const block = fc.array(fc.tuple(names, values, fc.boolean()), { maxLength: 20 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4096 }),
        fc.array(fc.tuple(block, fc.option(fc.integer({ min: 0, max: 4096 }))), { minLength: 1, maxLength: 8 }),
        fc.constantFrom<"auto" | "always" | "never">("auto", "always", "never"),
        (size, blocks, huffman) => {
          const e = new HPACKEncoder({ maxTableSize: size, huffman });
          const d = new HPACKDecoder({ maxTableSize: size, maxHeaderListSize: 1 << 30 });
          for (const [fields, resize] of blocks) {
            if (resize !== null) {
              e.setMaxTableSize(resize);
              d.setMaxTableSize(Math.max(resize, size));
            }
            const flat = fields.flatMap(([n, v]) => [n, v]);
            const never = fields.map(([, , s]) => s);
            const flags: boolean[] = [];
            assert.deepEqual(d.decode(e.encode(flat, never), flags), flat);
            for (let i = 0; i < never.length; i++) if (never[i]) assert.equal(flags[i], true);
            assert.equal(d.table.size, e.table.size);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
