import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ManualClock } from "../core/clock.ts";
import { SynGuard, synCookiesStatus } from "./syn_protect.ts";

describe("SynGuard", () => {
  test("a burst of dropped connections moves an address neutral -> suspect -> hostile; another stays allowed", () => {
    const clock = new ManualClock();
    const guard = new SynGuard({ clock });
    const seen = new Set<string>();
    const actions = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const action = guard.check("198.51.100.9");
      actions.add(action);
      if (action !== "block") guard.recordFailure("198.51.100.9");
      seen.add(guard.reputation("198.51.100.9"));
    }
    assert.deepEqual([...seen], ["neutral", "suspect", "hostile"]);
    assert.deepEqual([...actions], ["allow", "throttle", "challenge", "block"]);
    assert.equal(guard.check("203.0.113.5"), "allow");
    const stats = guard.stats();
    assert.ok(stats.blocked > 0 && stats.throttled > 0 && stats.challenged > 0);
  });

  test("successes earn trust; whitelist and blacklist win; blacklistMs lists a hostile address for a while", () => {
    const clock = new ManualClock();
    const guard = new SynGuard({ clock, whitelist: ["10.0.0.0/8"], blacklist: ["192.0.2.0/24"], blacklistMs: 5000, hostileAt: 5, suspectAt: 3, challengeAt: 4 });
    for (let i = 0; i < 10; i++) {
      guard.check("203.0.113.1");
      guard.recordSuccess("203.0.113.1");
    }
    assert.equal(guard.reputation("203.0.113.1"), "trusted");
    assert.equal(guard.check("10.9.9.9"), "allow");
    assert.equal(guard.reputation("10.9.9.9"), "trusted");
    assert.equal(guard.check("192.0.2.200"), "block");
    for (let i = 0; i < 5; i++) guard.check("198.51.100.1");
    assert.equal(guard.blacklist.has("198.51.100.1"), true);
    guard.forget("198.51.100.1");
    assert.equal(guard.peek("198.51.100.1"), "block"); // listed, not scored
    clock.advance(5000);
    assert.equal(guard.peek("198.51.100.1"), "allow");
    assert.throws(() => new SynGuard({ suspectAt: 60 }), RangeError);
    assert.throws(() => new SynGuard({ nope: 1 } as never), TypeError);
  });

  test("blacklistMs under a flood from more addresses than the blacklist holds: every hostile one is blocked, none throws, the list stays bounded and refills once entries expire", () => {
    const clock = new ManualClock();
    const guard = new SynGuard({ clock, blacklistMs: 60_000, suspectAt: 1, challengeAt: 2, hostileAt: 3 });
    const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < 4200; i++) {
      for (let k = 0; k < 2; k++) guard.check(ip(i));
      assert.equal(guard.check(ip(i)), "block");
      assert.equal(guard.check(ip(i)), "block");
    }
    assert.equal(guard.blacklist.size, 4096);
    assert.equal(guard.blacklist.has(ip(0)), true);
    assert.equal(guard.blacklist.has(ip(4199)), false); // not listed: blocked by its score
    assert.equal(guard.peek(ip(4199)), "block");
    clock.advance(60_000);
    for (let k = 0; k < 3; k++) guard.check("192.0.2.9");
    assert.equal(guard.blacklist.has("192.0.2.9"), true); // the expired entries made room
    assert.equal(guard.blacklist.size, 1);
  });

  test("earned trust is capped: a client that banked many successes turns suspect after a few dozen failed connections, not thousands", () => {
    const clock = new ManualClock();
    const guard = new SynGuard({ clock });
    for (let i = 0; i < 10_000; i++) {
      guard.check("203.0.113.7");
      guard.recordSuccess("203.0.113.7");
    }
    assert.equal(guard.reputation("203.0.113.7"), "trusted");
    assert.equal(guard.record("203.0.113.7")!.score, -50); // min(trustedAtMost -10, -hostileAt 50)
    let failed = 0;
    while (guard.check("203.0.113.7") === "allow") {
      guard.recordFailure("203.0.113.7");
      failed++;
    }
    assert.ok(failed <= 24, `${failed} failed connections before it was throttled`);
    // A low hostileAt does not make trust unreachable: the floor is trustedAtMost then.
    const low = new SynGuard({ clock, suspectAt: 3, challengeAt: 4, hostileAt: 5 });
    for (let i = 0; i < 100; i++) low.recordSuccess("203.0.113.8");
    assert.equal(low.record("203.0.113.8")!.score, -10);
    assert.equal(low.reputation("203.0.113.8"), "trusted");
  });

  test("property: with no new events the score decays monotonically towards 0, halving per half-life", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.integer({ min: 1, max: 30_000 }), { maxLength: 10 }), (failures, steps) => {
      const clock = new ManualClock();
      const guard = new SynGuard({ clock, halfLifeMs: 10_000 });
      for (let i = 0; i < failures; i++) guard.recordFailure("192.0.2.1");
      let last = guard.record("192.0.2.1")!.score;
      assert.equal(last, failures * 2);
      for (const ms of steps) {
        clock.advance(ms);
        const now = guard.record("192.0.2.1")!.score;
        assert.ok(now <= last && now >= 0);
        if (now > 0) assert.ok(Math.abs(now - last * Math.pow(0.5, ms / 10_000)) < 1e-6 * Math.max(1, last));
        last = now;
      }
    }));
  });

  test("property: never more than maxTrackedIps records, the least recently seen forgotten", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 }), (max, hosts) => {
      const guard = new SynGuard({ maxTrackedIps: max });
      const order: string[] = [];
      for (const h of hosts) {
        const ip = `192.0.2.${h}`;
        guard.check(ip);
        const i = order.indexOf(ip);
        if (i >= 0) order.splice(i, 1);
        order.push(ip);
        if (order.length > max) order.shift();
        assert.ok(guard.trackedIps <= max);
      }
      for (const ip of order) assert.notEqual(guard.record(ip), undefined);
      assert.equal(guard.trackedIps, order.length);
    }));
  });

  test("an IPv6 client rotating through its /64 is scored as one; IPv4 (mapped or not) exactly", () => {
    const clock = new ManualClock();
    const guard = new SynGuard({ clock });
    const actions: string[] = [];
    for (let i = 1; i <= 40; i++) {
      const ip = `2001:db8:1:2::${i.toString(16)}`; // a new address each time
      const action = guard.check(ip);
      actions.push(action);
      if (action !== "block") guard.recordFailure(ip);
    }
    assert.equal(actions.at(-1), "block");
    assert.equal(guard.reputation("2001:db8:1:2:ffff::1"), "hostile");
    assert.equal(guard.trackedIps, 1);
    assert.equal(guard.record("2001:db8:1:2::99")!.attempts, 40);
    assert.equal(guard.keyOf("2001:db8:1:2::99"), "2001:db8:1:2::/64");
    assert.equal(guard.check("2001:db8:1:3::1"), "allow"); // the next /64 is another client
    // IPv4 clients of a dual-stack listener are told apart, and are the same clients as over IPv4.
    for (let i = 0; i < 40; i++) guard.check("::ffff:192.0.2.1") !== "block" && guard.recordFailure("::ffff:192.0.2.1");
    assert.equal(guard.reputation("192.0.2.1"), "hostile");
    assert.equal(guard.check("::ffff:192.0.2.2"), "allow");
    assert.equal(guard.check("192.0.2.2"), "allow");
  });

  test("blacklistMs lists a hostile /64 whole; key picks the grouping (exact, or another prefix)", () => {
    const clock = new ManualClock();
    const guard = new SynGuard({ clock, blacklistMs: 5000, suspectAt: 3, challengeAt: 4, hostileAt: 5 });
    for (let i = 0; i < 5; i++) guard.check(`2001:db8:9:9::${i + 1}`);
    assert.equal(guard.blacklist.has("2001:db8:9:9:abcd::1"), true);
    assert.equal(guard.blacklist.has("2001:db8:9:a::1"), false);
    guard.forget("2001:db8:9:9::1");
    assert.equal(guard.peek("2001:db8:9:9::77"), "block"); // listed, not scored
    clock.advance(5001);
    assert.equal(guard.peek("2001:db8:9:9::77"), "allow");

    const exact = new SynGuard({ clock, key: (ip) => ip, suspectAt: 3, challengeAt: 4, hostileAt: 5 });
    for (let i = 0; i < 5; i++) exact.check(`2001:db8:9:9::${i + 1}`);
    assert.equal(exact.trackedIps, 5);
    assert.equal(exact.peek("2001:db8:9:9::6"), "allow");

    const custom = new SynGuard({ clock, key: () => "everyone", blacklistMs: 1000, suspectAt: 3, challengeAt: 4, hostileAt: 5 });
    for (let i = 0; i < 5; i++) custom.check(`198.51.100.${i}`);
    assert.equal(custom.peek("203.0.113.1"), "block"); // scored as one key
    assert.equal(custom.blacklist.has("198.51.100.4"), true); // a key that is no prefix: the address is listed
    assert.equal(custom.blacklist.has("203.0.113.1"), false);

    assert.throws(() => new SynGuard({ key: "x" as unknown as (ip: string) => string }), TypeError);
    assert.equal(new SynGuard({ key: () => "" }).keyOf("192.0.2.1"), "192.0.2.1"); // no key: the address itself
  });

  test("the SYN-cookie setting comes from /proc (or unknown)", () => {
    assert.ok(["off", "on", "always", "unknown"].includes(synCookiesStatus()));
  });
  test("a key function that throws or returns no key scores the address itself (never throws out of check)", () => {
    let calls = 0;
    const guard = new SynGuard({
      key: (ip) => {
        calls++;
        if (ip === "192.0.2.1") throw new Error("boom");
        return ip === "192.0.2.2" ? "" : ip;
      },
    });
    assert.equal(guard.check("192.0.2.1"), "allow");
    assert.equal(guard.keyOf("192.0.2.1"), "192.0.2.1");
    assert.equal(guard.keyOf("192.0.2.2"), "192.0.2.2");
    guard.recordFailure("192.0.2.1");
    assert.ok(guard.record("192.0.2.1") !== undefined);
    assert.ok(calls >= 4);
  });
});
