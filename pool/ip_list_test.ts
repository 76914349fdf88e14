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
});
