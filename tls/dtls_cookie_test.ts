import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ManualClock } from "../core/clock.ts";
import { COOKIE_BYTES, DTLSCookieSecrets } from "./dtls_cookie.ts";

const peer = fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([host, port]) => `${host}:${port}`);

describe("DTLS cookie secrets", () => {
  test("a cookie is an HMAC-SHA256 bound to the peer: it verifies for that peer only", () => {
    const secrets = new DTLSCookieSecrets();
    fc.assert(fc.property(peer, peer, (a, b) => {
      const cookie = secrets.cookie(a);
      assert.equal(cookie.length, COOKIE_BYTES);
      assert.equal(secrets.verify(a, cookie), true);
      assert.equal(secrets.verify(b, cookie), a === b);
    }), { numRuns: 200 });
  });

  test("a changed byte, a short or long cookie, and another server's cookie are refused", () => {
    const secrets = new DTLSCookieSecrets();
    const other = new DTLSCookieSecrets();
    const cookie = secrets.cookie("127.0.0.1:4433");
    fc.assert(fc.property(fc.integer({ min: 0, max: COOKIE_BYTES - 1 }), fc.integer({ min: 1, max: 255 }), (i, flip) => {
      const bad = cookie.slice();
      bad[i]! ^= flip;
      assert.equal(secrets.verify("127.0.0.1:4433", bad), false);
    }));
    assert.equal(secrets.verify("127.0.0.1:4433", cookie.subarray(0, 31)), false);
    assert.equal(secrets.verify("127.0.0.1:4433", new Uint8Array([...cookie, 0])), false);
    assert.equal(secrets.verify("127.0.0.1:4433", new Uint8Array(0)), false);
    assert.equal(other.verify("127.0.0.1:4433", cookie), false);
  });

  test("rotation: the previous secret is still accepted for one period, not two", () => {
    const clock = new ManualClock(1000);
    const secrets = new DTLSCookieSecrets({ rotateMs: 100, clock });
    const first = secrets.cookie("[::1]:5000");
    clock.advance(99);
    assert.equal(secrets.verify("[::1]:5000", first), true);
    assert.equal(secrets.rotations, 0);
    clock.advance(1); // one period: current → previous
    assert.equal(secrets.verify("[::1]:5000", first), true);
    assert.equal(secrets.rotations, 1);
    const second = secrets.cookie("[::1]:5000");
    assert.notDeepEqual(second, first);
    clock.advance(100); // two periods since `first`
    assert.equal(secrets.verify("[::1]:5000", first), false);
    assert.equal(secrets.verify("[::1]:5000", second), true);
    clock.advance(250); // a long pause: both secrets replaced
    assert.equal(secrets.verify("[::1]:5000", second), false);
  });

  test("rotate() by hand and clear()", () => {
    const secrets = new DTLSCookieSecrets();
    const cookie = secrets.cookie("10.0.0.1:1");
    secrets.rotate();
    assert.equal(secrets.verify("10.0.0.1:1", cookie), true);
    secrets.rotate();
    assert.equal(secrets.verify("10.0.0.1:1", cookie), false);
    secrets.clear();
  });

  test("a rotation period that is not a positive integer is a RangeError", () => {
    for (const rotateMs of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      assert.throws(() => new DTLSCookieSecrets({ rotateMs }), RangeError, String(rotateMs));
    }
  });
});
