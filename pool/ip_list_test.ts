import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ManualClock } from "../core/clock.ts";
import { LimitError } from "../core/errors.ts";
import { cidrContains, IpList, parseCidr } from "./ip_list.ts";

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const text = (a: readonly number[]) => a.join(".");
const toInt = (a: readonly number[]) => (((a[0]! << 24) >>> 0) + (a[1]! << 16) + (a[2]! << 8) + a[3]!) >>> 0;

describe("CIDR matching", () => {
  test("IPv4 and IPv6 prefixes, mapped IPv4, host bits cleared", () => {
    assert.equal(cidrContains("10.0.0.0/8", "10.255.0.1"), true);
    assert.equal(cidrContains("10.0.0.0/8", "11.0.0.1"), false);
    assert.equal(cidrContains("192.168.1.77/24", "192.168.1.1"), true);
    assert.equal(cidrContains("10.0.0.0/8", "::ffff:10.1.2.3"), true);
    assert.equal(cidrContains("2001:db8::/32", "2001:db8:ffff::1"), true);
    assert.equal(cidrContains("2001:db8::/33", "2001:db8:8000::1"), false);
    assert.equal(cidrContains("0.0.0.0/0", "203.0.113.1"), true);
    assert.equal(cidrContains("::/0", "::1"), true);
    assert.equal(parseCidr("::1").bits, 128);
    assert.throws(() => parseCidr("10.0.0.0/33"), TypeError);
    assert.throws(() => parseCidr("10.0.0/8"), TypeError);
    assert.throws(() => parseCidr("10.0.0.0/x"), TypeError);
  });

  test("property: an IPv4 prefix contains exactly the addresses sharing its top bits", () => {
    fc.assert(fc.property(v4, v4, fc.integer({ min: 0, max: 32 }), (net, ip, bits) => {
      const m = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      const expected = ((toInt(net) & m) >>> 0) === ((toInt(ip) & m) >>> 0);
      assert.equal(cidrContains(`${text(net)}/${bits}`, text(ip)), expected);
    }));
  });
});

describe("IPv4-mapped prefixes (::ffff:a.b.c.d/n)", () => {
  /** 16 random bytes as full-form IPv6 text. */
  const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 });
  const v6text = (b: Uint8Array) => Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16)).join(":");
  const mapped = (b: Uint8Array) => b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

  test("examples: an IPv4 length means the IPv4 prefix; from 96 the IPv6 one; between is refused", () => {
    assert.deepEqual(parseCidr("::ffff:10.0.0.0/8"), parseCidr("10.0.0.0/8"));
    assert.deepEqual(parseCidr("::ffff:10.9.8.7/104"), parseCidr("10.0.0.0/8"));
    assert.deepEqual(parseCidr("::ffff:a00:0/8"), parseCidr("10.0.0.0/8")); // hex spelling too
    assert.equal(cidrContains("::ffff:10.0.0.0/8", "10.200.1.1"), true);
    assert.equal(cidrContains("::ffff:10.0.0.0/8", "::ffff:10.200.1.1"), true);
    assert.equal(cidrContains("::ffff:10.0.0.0/8", "11.0.0.1"), false);
    // Read as an IPv6 /8 it was ::/8: loopback and every other IPv4 client.
    assert.equal(cidrContains("::ffff:10.0.0.0/8", "::1"), false);
    assert.equal(cidrContains("::ffff:10.0.0.0/8", "127.0.0.1"), false);
    assert.equal(cidrContains("::ffff:0.0.0.0/0", "198.51.100.1"), true);
    assert.equal(cidrContains("::ffff:0.0.0.0/0", "2001:db8::1"), false);
    assert.equal(cidrContains("::ffff:0:0/96", "198.51.100.1"), true);
    for (const bits of [33, 64, 95]) assert.throws(() => parseCidr(`::ffff:10.0.0.0/${bits}`), TypeError);
    assert.equal(parseCidr("::/8").bits, 8); // not mapped: an IPv6 length as ever
    const list = new IpList();
    list.add("::ffff:192.0.2.0/24");
    assert.equal(list.has("192.0.2.9"), true);
    assert.equal(list.has("::ffff:192.0.2.9"), true);
    assert.equal(list.has("192.0.3.9"), false);
    assert.equal(list.has("::1"), false);
    assert.equal(list.remove("192.0.2.0/24"), true); // one prefix, whichever form added it
  });

  test("property: ::ffff:N/b and N/b and ::ffff:N/(96+b) are one prefix, matching an IPv4 client in either form", () => {
    fc.assert(fc.property(v4, v4, fc.integer({ min: 0, max: 32 }), (net, ip, bits) => {
      const m = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      const expected = ((toInt(net) & m) >>> 0) === ((toInt(ip) & m) >>> 0);
      const plain = parseCidr(`${text(net)}/${bits}`);
      assert.deepEqual(parseCidr(`::ffff:${text(net)}/${bits}`), plain);
      assert.deepEqual(parseCidr(`::ffff:${text(net)}/${96 + bits}`), plain);
      for (const cidr of [`${text(net)}/${bits}`, `::ffff:${text(net)}/${bits}`, `::ffff:${text(net)}/${96 + bits}`]) {
        assert.equal(cidrContains(cidr, text(ip)), expected, cidr);
        assert.equal(cidrContains(cidr, `::ffff:${text(ip)}`), expected, cidr);
      }
    }), { numRuns: 1000 });
  });

  test("property: a mapped prefix never contains an address outside the mapped range", () => {
    fc.assert(fc.property(v4, v6, fc.integer({ min: 0, max: 128 }), (net, ip, b) => {
      fc.pre(!mapped(ip));
      const bits = b <= 32 ? b : Math.max(96, b);
      assert.equal(cidrContains(`::ffff:${text(net)}/${bits}`, v6text(ip)), false);
    }), { numRuns: 1000 });
  });

  test("property: an IPv6 prefix contains exactly the addresses sharing its top bits (mapped ones with an IPv6 length)", () => {
    fc.assert(fc.property(v6, v6, fc.integer({ min: 0, max: 128 }), fc.boolean(), (net, ip, bits, near) => {
      if (near) ip.set(net.subarray(0, bits >> 3)); // half the cases share the whole bytes
      const cidr = `${v6text(net)}/${bits}`;
      if (mapped(net) && bits > 32 && bits < 96) return void assert.throws(() => parseCidr(cidr), TypeError);
      const effective = mapped(net) && bits <= 32 ? bits + 96 : bits;
      let expected = true;
      for (let i = 0; i < effective; i++) if (((net[i >> 3]! >> (7 - (i & 7))) & 1) !== ((ip[i >> 3]! >> (7 - (i & 7))) & 1)) expected = false;
      assert.equal(cidrContains(cidr, v6text(ip)), expected, `${cidr} ${v6text(ip)}`);
    }), { numRuns: 2000 });
  });
});

describe("IpList", () => {
  test("expiry, renewal, removal and the bound", () => {
    const clock = new ManualClock();
    const list = new IpList({ clock, maxEntries: 2 });
    list.add("192.0.2.0/24", 100);
    list.add("2001:db8::1");
    assert.equal(list.has("192.0.2.9"), true);
    assert.throws(() => list.add("198.51.100.0/24"), (e: unknown) => e instanceof LimitError && e.code === "ERR_LIMIT_IP_LIST");
    clock.advance(100);
    assert.equal(list.has("192.0.2.9"), false);
    list.add("198.51.100.0/24"); // the expired one made room
    assert.equal(list.remove("2001:db8::1"), true);
    assert.equal(list.has("2001:db8::1"), false);
    assert.throws(() => list.has("not an ip"), TypeError);
    assert.throws(() => list.add("192.0.2.0/24", 0), RangeError);
  });

  test("tryAdd says false where add throws; single addresses and prefixes count against one bound", () => {
    const clock = new ManualClock();
    const list = new IpList({ clock, maxEntries: 2 });
    assert.equal(list.tryAdd("192.0.2.1", 100), true);
    assert.equal(list.tryAdd("10.0.0.0/8", 200), true);
    assert.equal(list.tryAdd("192.0.2.2"), false);
    assert.equal(list.tryAdd("192.0.2.1", 300), true); // a renewal needs no room
    assert.equal(list.size, 2);
    assert.throws(() => list.add("2001:db8::1"), (e: unknown) => e instanceof LimitError);
    clock.advance(200);
    assert.equal(list.tryAdd("2001:db8::1"), true); // the /8 expired
    assert.equal(list.has("192.0.2.1"), true);
    assert.equal(list.has("10.1.1.1"), false);
    assert.equal(list.has("::ffff:192.0.2.1"), true);
    clock.advance(100);
    assert.equal(list.has("192.0.2.1"), false);
  });

  test("property: has agrees with a plain scan of every unexpired prefix (single addresses, prefixes, mapped IPv4, removal, expiry)", () => {
    const entry = fc.tuple(fc.nat(3), fc.nat(3), fc.constantFrom(24, 30, 32), fc.constantFrom(10, 50, Infinity), fc.boolean());
    fc.assert(fc.property(fc.array(entry, { maxLength: 12 }), fc.array(fc.tuple(fc.nat(3), fc.nat(3), fc.boolean()), { maxLength: 12 }), fc.nat(60), (entries, probes, advance) => {
      const clock = new ManualClock();
      const list = new IpList({ clock, maxEntries: 64 });
      const model = new Map<string, { cidr: string; expiresAt: number }>();
      for (const [c, d, bits, ttl, remove] of entries) {
        const cidr = `192.0.${c}.${d}/${bits}`;
        const key = `${parseCidr(cidr).bytes.join(".")}/${parseCidr(cidr).bits}`;
        if (remove) {
          assert.equal(list.remove(cidr), model.delete(key));
        } else {
          list.add(cidr, ttl);
          model.set(key, { cidr, expiresAt: clock.now() + ttl });
        }
        clock.advance(5);
      }
      clock.advance(advance);
      for (const [c, d, mapped] of probes) {
        const ip = `${mapped ? "::ffff:" : ""}192.0.${c}.${d}`;
        const expected = [...model.values()].some((e) => e.expiresAt > clock.now() && cidrContains(e.cidr, ip));
        assert.equal(list.has(ip), expected, ip);
      }
    }));
  });
  test("property: /64 prefixes (held by a lookup, as SynGuard blacklists a hostile IPv6 client) agree with a plain scan", () => {
    const entry = fc.tuple(fc.nat(2), fc.nat(2), fc.constantFrom(48, 64, 128), fc.constantFrom(10, 50, Infinity), fc.boolean());
    const probe = fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2));
    fc.assert(fc.property(fc.array(entry, { maxLength: 12 }), fc.array(probe, { maxLength: 12 }), fc.nat(60), (entries, probes, advance) => {
      const clock = new ManualClock();
      const list = new IpList({ clock, maxEntries: 64 });
      const model = new Map<string, { cidr: string; expiresAt: number }>();
      for (const [a, b, bits, ttl, remove] of entries) {
        const cidr = `2001:db8:${a}:${b}::${bits === 128 ? "1" : ""}/${bits}`;
        const key = `${parseCidr(cidr).bytes.join(".")}/${parseCidr(cidr).bits}`;
        if (remove) {
          assert.equal(list.remove(cidr), model.delete(key));
        } else {
          list.add(cidr, ttl);
          model.set(key, { cidr, expiresAt: clock.now() + ttl });
        }
        assert.equal(list.size, model.size);
        clock.advance(5);
      }
      clock.advance(advance);
      for (const [a, b, host] of probes) {
        const ip = `2001:db8:${a}:${b}:${host}::1`.replace(":0::1", "::1");
        const expected = [...model.values()].some((e) => e.expiresAt > clock.now() && cidrContains(e.cidr, ip));
        assert.equal(list.has(ip), expected, ip);
      }
      list.prune();
      assert.equal(list.size, [...model.values()].filter((e) => e.expiresAt > clock.now()).length);
    }));
  });
});
