import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  base64Decode,
  base64Encode,
  base64urlDecode,
  base64urlEncode,
  fillRandom,
  Hash,
  HmacSha256,
  hmacSha256,
  randomBytes,
  secureClear,
  secureCompare,
  sha1,
  sha256,
} from "./crypto.ts";
import { CryptoError, UseAfterCloseError } from "./errors.ts";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string): Uint8Array => new Uint8Array(s.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);

describe("crypto: SHA-1 and SHA-256 (FIPS 180 examples)", () => {
  const million = new Uint8Array(1_000_000).fill(0x61);
  const vectors: [string | Uint8Array, string, string][] = [
    ["abc", "a9993e364706816aba3e25717850c26c9cd0d89d", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    [million, "34aa973cd4c4daa4f61eeb2bdbad27316534016f", "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"],
  ];

  test("one-shot", () => {
    for (const [input, s1, s256] of vectors) {
      assert.equal(hex(sha1(input)), s1);
      assert.equal(hex(sha256(input)), s256);
    }
  });

  test("incremental, any split", () => {
    for (const [input, s1, s256] of vectors) {
      const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
      for (const step of [1, 7, 64, 1000]) {
        if (step === 1 && bytes.length > 1000) continue;
        const h1 = new Hash("sha1");
        const h256 = new Hash("sha256");
        for (let i = 0; i < bytes.length; i += step) {
          h1.update(bytes.subarray(i, i + step));
          h256.update(bytes.subarray(i, i + step));
        }
        assert.equal(hex(h1.digest()), s1);
        assert.equal(hex(h256.digest()), s256);
      }
    }
  });

  test("a finished hash refuses more work; close is idempotent", () => {
    const h = new Hash("sha256");
    h.digest();
    assert.throws(() => h.update("x"), UseAfterCloseError);
    h.close();
    assert.throws(() => new Hash("md5" as "sha1"), TypeError);
  });
});

describe("crypto: HMAC-SHA-256 (RFC 4231)", () => {
  const cases: [string, string, string][] = [
    ["0b".repeat(20), hex(new TextEncoder().encode("Hi There")), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
    [hex(new TextEncoder().encode("Jefe")), hex(new TextEncoder().encode("what do ya want for nothing?")), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
    ["aa".repeat(20), "dd".repeat(50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
    ["0102030405060708090a0b0c0d0e0f10111213141516171819", "cd".repeat(50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"],
    ["aa".repeat(131), hex(new TextEncoder().encode("Test Using Larger Than Block-Size Key - Hash Key First")), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
    [
      "aa".repeat(131),
      hex(new TextEncoder().encode("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.")),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ];

  test("one-shot and incremental", () => {
    for (const [k, d, mac] of cases) {
      assert.equal(hex(hmacSha256(unhex(k), unhex(d))), mac);
      const m = new HmacSha256(unhex(k));
      const data = unhex(d);
      for (let i = 0; i < data.length; i += 5) m.update(data.subarray(i, i + 5));
      assert.equal(hex(m.digest()), mac);
      assert.throws(() => m.update("x"), UseAfterCloseError);
    }
    // Test case 5 truncates to 128 bits.
    assert.equal(hex(hmacSha256("\x0c".repeat(20), "Test With Truncation")).slice(0, 32), "a3b6167473100ee06e0c796c2955552b");
  });
});

describe("crypto: base64 and base64url (RFC 4648 §10)", () => {
  const vectors: [string, string][] = [["", ""], ["f", "Zg=="], ["fo", "Zm8="], ["foo", "Zm9v"], ["foob", "Zm9vYg=="], ["fooba", "Zm9vYmE="], ["foobar", "Zm9vYmFy"]];

  test("vectors", () => {
    for (const [plain, b64] of vectors) {
      assert.equal(base64Encode(plain), b64);
      assert.equal(new TextDecoder().decode(base64Decode(b64)), plain);
      assert.equal(base64urlEncode(plain), b64.replace(/=+$/, ""));
      assert.equal(new TextDecoder().decode(base64urlDecode(b64.replace(/=+$/, ""))), plain);
      assert.equal(new TextDecoder().decode(base64urlDecode(b64)), plain);
    }
    assert.equal(base64Encode(new Uint8Array([0xfb, 0xff])), "+/8=");
    assert.equal(base64urlEncode(new Uint8Array([0xfb, 0xff])), "-_8");
  });

  test("strict: bad length, characters, padding, trailing bits", () => {
    for (const bad of ["Zg", "Zg=", "Z===", "Zm9v\n", "Zm9 v", "Zh==", "Zm9=", "Zm8==", "====", "-_8=", "Zm9vY", "Zg==Zg==", "é==="]) {
      assert.throws(() => base64Decode(bad), CryptoError, bad);
    }
    for (const bad of ["+/8", "Z", "Zh", "Zg=", "Zg===", "Zm9vY", "Zm8=="]) {
      assert.throws(() => base64urlDecode(bad), CryptoError, bad);
    }
  });

  test("property: decode(encode(x)) = x and agrees with Node's Buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const b64 = base64Encode(bytes);
        assert.equal(b64, Buffer.from(bytes).toString("base64"));
        assert.deepEqual(base64Decode(b64), bytes);
        const url = base64urlEncode(bytes);
        assert.equal(url, Buffer.from(bytes).toString("base64url"));
        assert.deepEqual(base64urlDecode(url), bytes);
      }),
      { numRuns: 300 },
    );
  });
});

describe("crypto: random bytes, secure compare and clear", () => {
  test("randomBytes", () => {
    assert.equal(randomBytes(0).length, 0);
    const a = randomBytes(32);
    const b = randomBytes(32);
    assert.equal(a.length, 32);
    assert.notDeepEqual(a, b);
    const buf = new Uint8Array(1000);
    fillRandom(buf);
    assert.ok(new Set(buf).size > 100);
    assert.throws(() => randomBytes(-1), RangeError);
    assert.throws(() => randomBytes(1.5), RangeError);
  });

  test("secureCompare and secureClear", () => {
    assert.equal(secureCompare(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])), true);
    assert.equal(secureCompare(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])), false);
    assert.equal(secureCompare(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])), false);
    assert.equal(secureCompare(new Uint8Array(0), new Uint8Array(0)), true);
    const secret = new Uint8Array([9, 8, 7, 6]);
    secureClear(secret.subarray(1, 3));
    assert.deepEqual(secret, new Uint8Array([9, 0, 0, 6]));
    secureClear(new Uint8Array(0));
  });
});
