import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatIPv6, parseIPv6 } from "../socket/address.ts";
import { ipKey, ipPrefixKey } from "./ip_key.ts";

describe("ipKey", () => {
  test("IPv4 exact; IPv4-mapped IPv6 as that IPv4 address, however it is written", () => {
    assert.equal(ipKey("192.0.2.7"), "192.0.2.7");
    assert.equal(ipKey("::ffff:192.0.2.7"), "192.0.2.7");
    assert.equal(ipKey("::FFFF:192.0.2.7"), "192.0.2.7");
    assert.equal(ipKey("0:0:0:0:0:ffff:c000:207"), "192.0.2.7");
    assert.equal(ipKey("::ffff:c000:207"), "192.0.2.7");
    // Two IPv4 clients of a dual-stack listener are two clients, not one ::ffff:0:0/64.
    assert.notEqual(ipKey("::ffff:127.0.0.2"), ipKey("::ffff:127.0.0.3"));
  });

  test("IPv6 by its /64, one key however the address is written", () => {
    assert.equal(ipKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
    assert.equal(ipKey("2001:DB8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
    assert.equal(ipKey("2001:db8:0:0:1::"), "2001:db8::/64");
    assert.equal(ipKey("2001:db8::1.2.3.4"), "2001:db8::/64");
    assert.notEqual(ipKey("2001:db8:1:2::1"), ipKey("2001:db8:1:3::1"));
    assert.equal(ipKey("2001:db8:1:2::1%eth0"), "2001:db8:1:2::/64");
  });

  test("loopback, unspecified and link-local IPv6 addresses are exact", () => {
    assert.equal(ipKey("::1"), "::1");
    assert.equal(ipKey("0:0:0:0:0:0:0:1"), "::1");
    assert.equal(ipKey("::"), "::");
    assert.equal(ipKey("fe80::1%eth0"), "fe80::1%eth0");
    assert.notEqual(ipKey("fe80::1%eth0"), ipKey("fe80::2%eth0"));
    assert.notEqual(ipKey("::1"), ipKey("::2")); // ::2 is in ::/64 with ::1, but ::1 alone is loopback
  });

  test("text that is no IP literal is its own key", () => {
    for (const text of ["", "localhost", "1:2:3", "1::2::3", "12345::", "::ffff:abcd:1:2:3:4:5:6", "/tmp/sock", "g::1"]) {
      assert.equal(ipKey(text), text);
    }
  });

  test("ipPrefixKey: other prefix lengths, CIDR text a list can take", () => {
    const key = ipPrefixKey({ ipv4Bits: 24, ipv6Bits: 48 });
    assert.equal(key("198.51.100.77"), "198.51.100.0/24");
    assert.equal(key("::ffff:198.51.100.77"), "198.51.100.0/24");
    assert.equal(key("2001:db8:1:2::1"), "2001:db8:1::/48");
    assert.equal(ipPrefixKey({ ipv6Bits: 56 })("2001:db8:0:1ff::9"), "2001:db8:0:100::/56");
    assert.equal(ipPrefixKey({ ipv6Bits: 128 })("2001:DB8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
    assert.equal(ipPrefixKey({ ipv4Bits: 0 })("203.0.113.9"), "0.0.0.0/0");
    assert.equal(ipPrefixKey({ ipv6Bits: 0 })("2001:db8::1"), "::/0");
    assert.throws(() => ipPrefixKey({ ipv6Bits: 129 }), RangeError);
    assert.throws(() => ipPrefixKey({ ipv4Bits: 1.5 }), RangeError);
  });

  test("property: two IPv6 addresses share a key exactly when their first 64 bits are equal", () => {
    const group = fc.integer({ min: 0, max: 0xffff });
    const address = fc.array(group, { minLength: 8, maxLength: 8 })
      .filter((g) => !(g.slice(0, 5).every((v) => v === 0)) && (g[0]! & 0xffc0) !== 0xfe80);
    const text = (g: number[]) => g.map((v) => v.toString(16)).join(":");
    fc.assert(fc.property(address, address, fc.boolean(), (a, b, samePrefix) => {
      if (samePrefix) b = [...a.slice(0, 4), ...b.slice(4)];
      const same = a.slice(0, 4).every((v, i) => v === b[i]);
      assert.equal(ipKey(text(a)) === ipKey(text(b)), same);
      assert.equal(ipKey(text(a)), ipKey(text(a).toUpperCase()));
    }));
  });

  test("property: IPv4 keys are exact and a mapped address keys as its IPv4 form", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(fc.property(fc.tuple(octet, octet, octet, octet), (o) => {
      const v4 = o.join(".");
      assert.equal(ipKey(v4), v4);
      assert.equal(ipKey(`::ffff:${v4}`), v4);
      const hex = `::ffff:${(o[0] * 256 + o[1]).toString(16)}:${(o[2] * 256 + o[3]).toString(16)}`;
      assert.equal(ipKey(hex), v4);
    }));
  });
  test("property: exact keys are the address as socket/address.ts formats it, from any spelling it parses", () => {
    const exact = ipPrefixKey({ ipv6Bits: 128 });
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.boolean(), fc.boolean(), (g, upper, long) => {
      const bytes = new Uint8Array(16);
      g.forEach((v, i) => { bytes[2 * i] = v >> 8; bytes[2 * i + 1] = v & 255; });
      const canonical = formatIPv6(bytes);
      let text = long ? g.map((v) => v.toString(16).padStart(4, "0")).join(":") : canonical;
      if (upper) text = text.toUpperCase();
      assert.deepEqual(parseIPv6(text).bytes, bytes); // the spelling is an address
      const mappedOrSpecial = g.slice(0, 5).every((v) => v === 0) || (g[0]! & 0xffc0) === 0xfe80;
      if (!mappedOrSpecial) assert.equal(exact(text), canonical);
    }));
  });
});
