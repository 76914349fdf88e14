import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HPACKError } from "../../core/errors.ts";
import { HPACK_LIST_TOO_LARGE, HPACKDecoder } from "./decoder.ts";
import {
  C3, C4, C5, C6, hex, REQUEST_SIZES, REQUEST_TABLES, REQUESTS, RESPONSE_SIZES, RESPONSE_TABLES, RESPONSES,
} from "./rfc7541_vectors_test.ts";

function tableOf(d: HPACKDecoder): string[] {
  const out: string[] = [];
  for (let i = 0; i < d.table.length; i++) out.push(d.table.name(i), d.table.value(i));
  return out;
}

function hpackError(code: string) {
  return (e: unknown) => e instanceof HPACKError && e.code === code && e.http2Code === 9;
}



describe("HPACK decoder: RFC 7541 Appendix C", () => {
  test("C.2.1 literal with indexing", () => {
    const d = new HPACKDecoder();
    assert.deepEqual(d.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")), ["custom-key", "custom-header"]);
    assert.equal(d.table.size, 55);
    assert.deepEqual(tableOf(d), ["custom-key", "custom-header"]);
  });

  test("C.2.2 literal without indexing", () => {
    const d = new HPACKDecoder();
    assert.deepEqual(d.decode(hex("040c 2f73 616d 706c 652f 7061 7468")), [":path", "/sample/path"]);
    assert.equal(d.table.length, 0);
  });

  test("C.2.3 literal never indexed", () => {
    const d = new HPACKDecoder();
    const flags: boolean[] = [];
    assert.deepEqual(d.decode(hex("1008 7061 7373 776f 7264 0673 6563 7265 74"), flags), ["password", "secret"]);
    assert.deepEqual(flags, [true]);
    assert.equal(d.table.length, 0);
  });

  test("C.2.4 indexed field", () => {
    const d = new HPACKDecoder();
    assert.deepEqual(d.decode(hex("82")), [":method", "GET"]);
    assert.equal(d.table.length, 0);
  });

  for (const [name, blocks] of [["C.3 requests without Huffman", C3], ["C.4 requests with Huffman", C4]] as const) {
    test(name, () => {
      const d = new HPACKDecoder();
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(d.decode(hex(blocks[i]!)), REQUESTS[i]);
        assert.deepEqual(tableOf(d), REQUEST_TABLES[i]);
        assert.equal(d.table.size, REQUEST_SIZES[i]);
      }
    });
  }

  for (const [name, blocks] of [["C.5 responses without Huffman", C5], ["C.6 responses with Huffman", C6]] as const) {
    test(name, () => {
      const d = new HPACKDecoder({ maxTableSize: 256 });
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(d.decode(hex(blocks[i]!)), RESPONSES[i]);
        assert.deepEqual(tableOf(d), RESPONSE_TABLES[i]);
        assert.equal(d.table.size, RESPONSE_SIZES[i]);
      }
    });
  }
});

describe("HPACK decoder: table size updates", () => {
  test("several updates at the start of a block", () => {
    const d = new HPACKDecoder();
    d.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
    assert.deepEqual(d.decode(hex("20 3f45 82")), [":method", "GET"]);
    assert.equal(d.table.maxSize, 100);
    assert.equal(d.table.length, 0);
  });

  test("an update above SETTINGS_HEADER_TABLE_SIZE is an error", () => {
    const d = new HPACKDecoder();
    assert.deepEqual(d.decode(hex("3fe11f 82")), [":method", "GET"]);
    assert.throws(() => d.decode(hex("3fe21f")), hpackError("ERR_HPACK_TABLE_SIZE"));
  });

  test("an update after a field is an error", () => {
    assert.throws(() => new HPACKDecoder().decode(hex("82 20")), hpackError("ERR_HPACK_SIZE_UPDATE_POSITION"));
  });

  test("too many updates in one block is an error", () => {
    assert.throws(() => new HPACKDecoder().decode(hex("20 20 20 82")), hpackError("ERR_HPACK_SIZE_UPDATES"));
  });

  test("a lowered setting requires an update at the start of the next block", () => {
    const d = new HPACKDecoder();
    d.setMaxTableSize(100);
    assert.throws(() => d.decode(hex("82")), hpackError("ERR_HPACK_SIZE_UPDATE_MISSING"));
    const d2 = new HPACKDecoder();
    d2.setMaxTableSize(100);
    assert.deepEqual(d2.decode(hex("3f45 82")), [":method", "GET"]);
    assert.deepEqual(d2.decode(hex("82")), [":method", "GET"]);
  });
});

describe("HPACK decoder: malformed input and limits", () => {
  test("index 0 and indices beyond the tables", () => {
    assert.throws(() => new HPACKDecoder().decode(hex("80")), hpackError("ERR_HPACK_INDEX"));
    assert.throws(() => new HPACKDecoder().decode(hex("be")), hpackError("ERR_HPACK_INDEX"));
    assert.throws(() => new HPACKDecoder().decode(hex("7f00 0161")), hpackError("ERR_HPACK_INDEX"));
  });

  test("truncated strings and integers", () => {
    assert.throws(() => new HPACKDecoder().decode(hex("0005 6162")), hpackError("ERR_HPACK_TRUNCATED"));
    assert.throws(() => new HPACKDecoder().decode(hex("ff")), hpackError("ERR_HPACK_TRUNCATED"));
    assert.throws(() => new HPACKDecoder().decode(hex("40")), hpackError("ERR_HPACK_TRUNCATED"));
    assert.throws(() => new HPACKDecoder().decode(hex("4001")), hpackError("ERR_HPACK_TRUNCATED"));
  });

  test("integers beyond 32 bits", () => {
    assert.throws(() => new HPACKDecoder().decode(hex("ff ff ff ff ff ff 01")), hpackError("ERR_HPACK_INTEGER"));
    assert.throws(() => new HPACKDecoder().decode(hex("ff 80 80 80 80 80 80 80 80 80 01")), hpackError("ERR_HPACK_INTEGER"));
  });

  test("string length limit, raw and Huffman", () => {
    const d = new HPACKDecoder({ maxStringBytes: 3 });
    assert.throws(() => d.decode(hex("0004 6162 6364 0161")), hpackError("ERR_HPACK_STRING_LENGTH"));
    assert.deepEqual(new HPACKDecoder({ maxStringBytes: 3 }).decode(hex("0003 616263 0161")), ["abc", "a"]);
    // "custom-key" in 8 Huffman bytes decodes to 10 octets.
    assert.throws(
      () => new HPACKDecoder({ maxStringBytes: 9 }).decode(hex("0088 25a849e95ba97d7f 0161")),
      hpackError("ERR_HPACK_STRING_LENGTH"),
    );
  });

  test("header list size limit: the block is still decoded into the table", () => {
    const d = new HPACKDecoder({ maxHeaderListSize: 80 });
    assert.deepEqual(d.decode(hex("82 84")), [":method", "GET", ":path", "/"]);
    assert.throws(
      () => d.decode(hex("82 84 400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")),
      hpackError(HPACK_LIST_TOO_LARGE),
    );
    assert.equal(d.table.length, 1);
    assert.deepEqual(d.decode(hex("be")), ["custom-key", "custom-header"]);
  });

  test("an indexed bomb is bounded by the list limit", () => {
    const d = new HPACKDecoder({ maxHeaderListSize: 1000 });
    d.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
    const bomb = new Uint8Array(100_000).fill(0xbe);
    assert.throws(() => d.decode(bomb), hpackError(HPACK_LIST_TOO_LARGE));
    assert.equal(d.lastListSize, 55 * 100_000);
  });

  test("octets above 0x7f map to the same code unit", () => {
    assert.deepEqual(new HPACKDecoder().decode(hex("0001 61 02 ff80")), ["a", "\u00ff\u0080"]);
  });
});
