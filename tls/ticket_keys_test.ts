// The ticket key ring without a handshake: which keys decrypt after manual
// and clock-driven rotations, given keys, option checks, wiping on close.
// (Handshakes through the ring: tests/tls_resume_test.ts.)
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { TICKET_KEY_LENGTH, TicketKeyRing } from "./ticket_keys.ts";

const key = (fill: number) => new Uint8Array(TICKET_KEY_LENGTH).fill(fill);

describe("TicketKeyRing", () => {
  test("the newest key plus keysKept older ones decrypt; rotation drops the oldest", () => {
    using ring = new TicketKeyRing({ keys: [key(1)], keysKept: 1 });
    const first = ring.currentName;
    assert.deepEqual(first, key(1).subarray(0, 16));
    ring.rotate(key(2));
    assert.deepEqual(ring.currentName, key(2).subarray(0, 16));
    assert.equal(ring.accepts(first), true);
    ring.rotate(key(3));
    assert.equal(ring.accepts(first), false);
    assert.equal(ring.accepts(key(2).subarray(0, 16)), true);
    assert.equal(ring.size, 2);
  });

  test("rotation by the clock: due at the interval, not before; 0 means manual only", () => {
    let now = 1000;
    using ring = new TicketKeyRing({ rotationMs: 500, keysKept: 2, now: () => now });
    const first = ring.currentName;
    now = 1499;
    assert.equal(ring.rotateIfDue(), false);
    now = 1500;
    assert.equal(ring.rotateIfDue(), true);
    assert.notDeepEqual(ring.currentName, first);
    assert.equal(ring.rotateIfDue(), false); // the new key is fresh
    now = 5000;
    assert.equal(ring.rotateIfDue(), true);
    assert.equal(ring.size, 3);
    assert.equal(ring.accepts(first), true);
    now = 9000;
    ring.rotateIfDue();
    assert.equal(ring.accepts(first), false);
    using manual = new TicketKeyRing({ rotationMs: 0, now: () => now });
    now = 1e12;
    assert.equal(manual.rotateIfDue(), false);
  });

  test("keys beyond keysKept + 1 given at start are dropped; random keys differ", () => {
    using ring = new TicketKeyRing({ keys: [key(1), key(2), key(3)], keysKept: 1 });
    assert.equal(ring.size, 2);
    assert.equal(ring.accepts(key(3).subarray(0, 16)), false);
    using a = new TicketKeyRing();
    using b = new TicketKeyRing();
    assert.notDeepEqual(a.currentName, b.currentName);
  });

  test("bad options are typed errors; close forgets every key", () => {
    assert.throws(() => new TicketKeyRing({ keys: [new Uint8Array(79)] }), TypeError);
    assert.throws(() => new TicketKeyRing({ keys: [] }), TypeError);
    assert.throws(() => new TicketKeyRing({ keysKept: 17 }), RangeError);
    assert.throws(() => new TicketKeyRing({ rotationMs: -1 }), RangeError);
    assert.throws(() => new TicketKeyRing({ now: 5 as never }), TypeError);
    const given = key(9);
    const ring = new TicketKeyRing({ keys: [given] });
    assert.equal(given[0], 9); // the ring keeps a copy
    ring.close();
    ring.close();
    assert.equal(ring.size, 0);
    assert.equal(ring.accepts(given.subarray(0, 16)), false);
  });

  test("property: after any rotations, exactly the last keysKept + 1 keys decrypt", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 12 }), (kept, rotations) => {
      using ring = new TicketKeyRing({ keys: [key(0)], keysKept: kept });
      for (let i = 1; i <= rotations; i++) ring.rotate(key(i));
      for (let i = 0; i <= rotations; i++) {
        assert.equal(ring.accepts(key(i).subarray(0, 16)), i >= rotations - kept, `kept ${kept}, rotations ${rotations}, key ${i}`);
      }
    }), { numRuns: 100 });
  });
});
