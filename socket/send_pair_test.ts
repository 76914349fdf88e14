import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { Buffer } from "node:buffer";
import { PAIR_HEAD_MAX, PARTS_MAX, sendPair, sendParts } from "./send_pair.ts";
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

  test("a body of each kind a handler may return is sent from its own memory as it is now, also after allocations that move young objects", () => {
    // The body's address comes from libc's memmove(b, b, 0) during its own
    // FFI call: that must be the array's memory (not a copy made for the
    // call), and stay it after the runtime moved what it could.
    const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer;
    const kinds: Array<[string, () => Uint8Array]> = [
      ["a small array (in V8's heap until an FFI call)", () => new Uint8Array(8)],
      ["a view at an offset of a small array", () => new Uint8Array(48).subarray(5, 40)],
      ["a view at an offset of a large array", () => new Uint8Array(70000).subarray(13, 40013)],
      ["a SharedArrayBuffer", () => new Uint8Array(new SharedArrayBuffer(40000))],
      ["a resizable ArrayBuffer", () => new Uint8Array(new Resizable(40000, { maxByteLength: 80000 }))],
      ["a pooled Buffer", () => Buffer.from("x".repeat(100))],
    ];
    const [a, b] = Socket.pair();
    try {
      for (const [name, make] of kinds) {
        const body = make();
        for (let round = 0; round < 2; round++) {
          for (let i = 0; i < body.length; i++) body[i] = (i * 7 + round * 101 + 1) & 255;
          const expected = Uint8Array.from(body);
          const head = Uint8Array.of(round, 2, 3);
          const n = sendPair(a.fd, head, body, 0);
          assert.equal(n, head.length + body.length, name);
          const got = new Uint8Array(n);
          b.recvAll(got);
          assert.deepEqual(got.subarray(0, head.length), head, name);
          assert.deepEqual(got.subarray(head.length), expected, `${name}, round ${round}`);
          // Young objects by the megabyte: a scavenge moves what it can before the next round.
          const young: unknown[] = [];
          for (let i = 0; i < 200_000; i++) young.push({ i });
          young.length = 0;
        }
      }
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

describe("sendParts", () => {
  test("property: parts of any size (empty, copied, sent from their memory, views at offsets) arrive as one byte stream; past PARTS_MAX only the first go", () => {
    const [a, b] = Socket.pair();
    a.options.sendBufferSize = 1 << 20;
    try {
      fc.assert(
        fc.property(
          fc.array(fc.record({ bytes: fc.uint8Array({ maxLength: 2500 }), offset: fc.nat(40) }), { minLength: 1, maxLength: 24 }),
          (specs) => {
            const parts = specs.map(({ bytes, offset }) => {
              const backing = new Uint8Array(offset + bytes.length + 3);
              backing.set(bytes, offset);
              return backing.subarray(offset, offset + bytes.length);
            });
            // What one call sends: the first PARTS_MAX parts that are not empty.
            const sent: number[] = [];
            let taken = 0;
            for (const part of parts) {
              if (part.length === 0 || taken === PARTS_MAX) continue;
              sent.push(...part);
              taken++;
            }
            const n = sendParts(a.fd, parts, 0);
            assert.equal(n, sent.length);
            if (n === 0) return;
            for (const part of parts) part.fill(0); // the kernel took its copy during the call
            const got = new Uint8Array(n);
            b.recvAll(got);
            assert.deepEqual(got, Uint8Array.from(sent));
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      a.close();
      b.close();
    }
  });

  test("a chunk's size line, its bytes and its CRLF in one call; nothing to send is 0; a closed descriptor is -1", () => {
    const [a, b] = Socket.pair();
    try {
      const text = new TextEncoder();
      const bytes = new Uint8Array(20000).map((_, i) => 97 + (i % 26));
      const parts = [text.encode("4e20\r\n"), bytes, text.encode("\r\n")];
      assert.equal(sendParts(a.fd, parts, 0), 6 + 20000 + 2);
      const got = new Uint8Array(6 + 20000 + 2);
      b.recvAll(got);
      assert.deepEqual(got, new Uint8Array([...parts[0]!, ...bytes, 13, 10]));
      assert.equal(sendParts(a.fd, [], 0), 0);
      assert.equal(sendParts(a.fd, [new Uint8Array(0)], 0), 0);
    } finally {
      a.close();
      b.close();
    }
    const [c, d] = Socket.pair();
    const fd = c.fd;
    c.close();
    d.close();
    assert.equal(sendParts(fd, [new Uint8Array(1), new Uint8Array(100)], 0), -1);
  });
});
