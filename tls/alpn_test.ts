import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { decodeALPN, encodeALPN, selectALPN } from "./alpn.ts";

describe("tls/alpn", () => {
  test("encode/decode round-trip any list of 1–255-byte names", () => {
    const name = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => new TextEncoder().encode(s).length <= 255 && !s.includes("\uFFFD"));
    fc.assert(fc.property(fc.array(name, { minLength: 1, maxLength: 8 }), (names) => {
      assert.deepEqual(decodeALPN(encodeALPN(names)), names);
    }));
  });

  test("bad lists are TypeErrors", () => {
    assert.throws(() => encodeALPN([]), TypeError);
    assert.throws(() => encodeALPN([""]), TypeError);
    assert.throws(() => encodeALPN(["x".repeat(256)]), TypeError);
    // The list's length is 16 bits (RFC 7301 §3.1): 257 names of 255 bytes
    // take 65,792 bytes; 256 of them take 65,536.
    assert.throws(() => encodeALPN(Array(256).fill("x".repeat(255))), /65535/);
    assert.equal(encodeALPN([...Array(255).fill("x".repeat(255)), "x".repeat(254)]).length, 65535);
  });

  test("the server's preference wins; the choice points into the client's list", () => {
    const offered = encodeALPN(["http/1.1", "h2"]);
    const pick = selectALPN(["h2", "http/1.1"], offered)!;
    assert.equal(new TextDecoder().decode(offered.subarray(pick.offset, pick.offset + pick.length)), "h2");
    assert.equal(selectALPN(["h3"], offered), null);
  });

  test("selection on arbitrary bytes never throws and stays inside them", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.string({ minLength: 1, maxLength: 4 })), (wire, pref) => {
      const pick = selectALPN(pref, wire);
      if (pick !== null) assert.ok(pick.offset >= 1 && pick.offset + pick.length <= wire.length);
      decodeALPN(wire);
    }));
  });
});
