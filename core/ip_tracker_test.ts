import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ManualClock } from "./clock.ts";
import { IpConnectionTracker } from "./ip_tracker.ts";

describe("IpConnectionTracker", () => {
  test("limits connections per address; release frees a slot", () => {
    const t = new IpConnectionTracker({ maxPerIp: 2 });
    assert.equal(t.tryAcquire("10.0.0.1"), true);
    assert.equal(t.tryAcquire("10.0.0.1"), true);
    assert.equal(t.tryAcquire("10.0.0.1"), false);
    assert.equal(t.tryAcquire("10.0.0.2"), true);
    assert.equal(t.count("10.0.0.1"), 2);
    assert.equal(t.total, 3);
    assert.equal(t.release("10.0.0.1"), true);
    assert.equal(t.tryAcquire("10.0.0.1"), true);
    assert.deepEqual(t.stats(), {
      accepted: 4,
      rejectedPerIp: 1,
      rejectedRate: 0,
      rejectedTableFull: 0,
      evictions: 0,
    });
  });

  test("the default per-address limit comes from SOCKET_LIMITS", () => {
    const t = new IpConnectionTracker();
    let admitted = 0;
    while (t.tryAcquire("::1")) admitted++;
    assert.equal(admitted, 32);
  });

  test("releasing an unknown or idle address changes nothing", () => {
    const t = new IpConnectionTracker();
    assert.equal(t.release("10.0.0.9"), false);
    t.tryAcquire("10.0.0.9");
    assert.equal(t.release("10.0.0.9"), true);
    assert.equal(t.release("10.0.0.9"), false);
    assert.equal(t.total, 0);
    assert.equal(t.trackedIps, 0); // without a rate limit, idle entries go at once
  });

  test("a full table of busy addresses refuses new ones", () => {
    const t = new IpConnectionTracker({ maxTrackedIps: 2 });
    assert.equal(t.tryAcquire("a"), true);
    assert.equal(t.tryAcquire("b"), true);
    assert.equal(t.tryAcquire("c"), false);
    assert.equal(t.tryAcquire("a"), true); // known addresses still work
    t.release("b");
    assert.equal(t.tryAcquire("c"), true);
    assert.equal(t.stats().rejectedTableFull, 1);
  });

  test("with a rate limit, idle entries are kept and evicted longest-idle first", () => {
    const clock = new ManualClock();
    const t = new IpConnectionTracker({ maxTrackedIps: 3, rate: { limit: 5, windowMs: 1000 }, clock });
    for (const ip of ["a", "b", "c"]) {
      t.tryAcquire(ip);
    }
    t.release("b");
    t.release("a");
    assert.equal(t.trackedIps, 3);
    assert.equal(t.tryAcquire("d"), true); // evicts b, idle longest
    assert.equal(t.trackedIps, 3);
    assert.equal(t.stats().evictions, 1);
    assert.equal(t.tryAcquire("e"), true); // evicts a
    assert.equal(t.tryAcquire("f"), false); // c, d, e are busy
    assert.equal(t.count("a"), 0);
    assert.equal(t.count("c"), 1);
  });

  test("the rate limit counts new connections per window, across closes", () => {
    const clock = new ManualClock();
    const t = new IpConnectionTracker({ maxPerIp: 100, rate: { limit: 3, windowMs: 1000 }, clock });
    for (let i = 0; i < 3; i++) {
      assert.equal(t.tryAcquire("198.51.100.1"), true);
      t.release("198.51.100.1");
    }
    assert.equal(t.tryAcquire("198.51.100.1"), false);
    assert.equal(t.tryAcquire("198.51.100.2"), true);
    assert.equal(t.stats().rejectedRate, 1);
    clock.advance(1250); // past the window plus one bucket (250 ms)
    assert.equal(t.tryAcquire("198.51.100.1"), true);
  });

  test("prune forgets idle addresses whose window is empty", () => {
    const clock = new ManualClock();
    const t = new IpConnectionTracker({ rate: { limit: 10, windowMs: 100 }, clock });
    t.tryAcquire("a");
    t.tryAcquire("b");
    t.release("a");
    assert.equal(t.prune(), 0);
    clock.advance(200);
    assert.equal(t.prune(), 1);
    assert.equal(t.trackedIps, 1);
    assert.equal(t.count("b"), 1);
    t.clear();
    assert.equal(t.trackedIps, 0);
    assert.equal(t.total, 0);
  });

  test("a key function groups addresses", () => {
    const t = new IpConnectionTracker({
      maxPerIp: 2,
      key: (ip) => ip.split(":").slice(0, 4).join(":"),
    });
    assert.equal(t.tryAcquire("2001:db8:1:2::1"), true);
    assert.equal(t.tryAcquire("2001:db8:1:2::2"), true);
    assert.equal(t.tryAcquire("2001:db8:1:2::3"), false);
    assert.equal(t.tryAcquire("2001:db8:1:3::1"), true);
    assert.equal(t.count("2001:db8:1:2::ffff"), 2);
  });

  test("by default IPv6 addresses count by their /64, IPv4 (mapped or not) exactly", () => {
    const t = new IpConnectionTracker({ maxPerIp: 1 });
    assert.equal(t.tryAcquire("2001:db8:1:2::1"), true);
    assert.equal(t.tryAcquire("2001:db8:1:2:ffff::9"), false); // another address of the same /64
    assert.equal(t.tryAcquire("2001:db8:1:3::1"), true);
    assert.equal(t.tryAcquire("192.0.2.1"), true);
    assert.equal(t.tryAcquire("::ffff:192.0.2.1"), false); // the same client through a dual-stack listener
    assert.equal(t.tryAcquire("::ffff:192.0.2.2"), true);
    assert.equal(t.release("::ffff:192.0.2.1"), true);
    assert.equal(t.count("192.0.2.1"), 0);
    const exact = new IpConnectionTracker({ maxPerIp: 1, key: (ip) => ip });
    assert.equal(exact.tryAcquire("2001:db8:1:2::1"), true);
    assert.equal(exact.tryAcquire("2001:db8:1:2::2"), true);
  });

  test("bad arguments", () => {
    assert.throws(() => new IpConnectionTracker({ maxPerIp: 0 }), RangeError);
    assert.throws(() => new IpConnectionTracker({ maxTrackedIps: 1.5 }), RangeError);
    assert.throws(() => new IpConnectionTracker({ maxPerIp: "1" as unknown as number }), TypeError);
    assert.throws(() => new IpConnectionTracker({ rate: { limit: 1, windowMs: 0 } }), RangeError);
    assert.throws(() => new IpConnectionTracker({ key: 1 as unknown as (ip: string) => string }), TypeError);
    const t = new IpConnectionTracker();
    assert.throws(() => t.tryAcquire(""), TypeError);
    assert.throws(() => t.tryAcquire(7 as unknown as string), TypeError);
    assert.throws(() => t.tryAcquire("x".repeat(256)), RangeError);
    const bad = new IpConnectionTracker({ key: () => "" });
    assert.throws(() => bad.tryAcquire("a"), TypeError);
  });

  test("property: matches a plain map of counts and never exceeds its bounds", () => {
    const ipArb = fc.constantFrom("a", "b", "c", "d", "e", "f");
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(fc.boolean(), ipArb), { maxLength: 100, size: "max" }),
        (maxPerIp, maxTrackedIps, ops) => {
          const t = new IpConnectionTracker({ maxPerIp, maxTrackedIps });
          const model = new Map<string, number>();
          for (const [acquire, ip] of ops) {
            const n = model.get(ip) ?? 0;
            if (acquire) {
              const admitted = n < maxPerIp && (n > 0 || model.size < maxTrackedIps);
              assert.equal(t.tryAcquire(ip), admitted);
              if (admitted) model.set(ip, n + 1);
            } else {
              assert.equal(t.release(ip), n > 0);
              if (n > 1) model.set(ip, n - 1);
              else model.delete(ip);
            }
            assert.equal(t.count(ip), model.get(ip) ?? 0);
            assert.equal(t.trackedIps, model.size);
            assert.equal(t.total, [...model.values()].reduce((a, b) => a + b, 0));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
