import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { PAIR_HEAD_MAX, sendPair } from "./send_pair.ts";
import { Socket } from "./socket.ts";

describe("sendPair", () => {
  test("property: a head and a body (a view anywhere in its buffer) arrive as one byte stream", () => {
    const [a, b] = Socket.pair();
    try {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 300 }),
          fc.uint8Array({ minLength: 1, maxLength: 3000 }),
          fc.nat(50),
          (head, bodyBytes, offset) => {
            const backing = new Uint8Array(offset + bodyBytes.length + 7);
            backing.set(bodyBytes, offset);
            const body = backing.subarray(offset, offset + bodyBytes.length);
            const n = sendPair(a.fd, head, body, 0);
            assert.equal(n, head.length + body.length);
            const got = new Uint8Array(n);
            b.recvAll(got);
            assert.deepEqual(got, new Uint8Array([...head, ...bodyBytes]));
          },
        ),
        { numRuns: 100 },
      );
    } finally {
      a.close();
      b.close();
    }
  });

  test("a head over PAIR_HEAD_MAX or an empty body is a RangeError; a closed descriptor is -1", () => {
    const [a, b] = Socket.pair();
    try {
      assert.throws(() => sendPair(a.fd, new Uint8Array(PAIR_HEAD_MAX + 1), new Uint8Array(1), 0), RangeError);
      assert.throws(() => sendPair(a.fd, new Uint8Array(1), new Uint8Array(0), 0), RangeError);
      assert.equal(sendPair(a.fd, new Uint8Array(PAIR_HEAD_MAX), new Uint8Array(1), 0), PAIR_HEAD_MAX + 1);
    } finally {
      a.close();
      b.close();
    }
    const [c, d] = Socket.pair();
    const fd = c.fd;
    c.close();
    d.close();
    assert.equal(sendPair(fd, new Uint8Array(1), new Uint8Array(1), 0), -1);
  });
});
