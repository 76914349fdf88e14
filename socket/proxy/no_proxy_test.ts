import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatIPv6 } from "../address.ts";
import { noProxyMatches } from "./no_proxy.ts";

/** An IPv4 address as a 32-bit number and as text. */
const ipv4 = fc.integer({ min: 0, max: 0xffffffff }).map((n) => ({ n, text: [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".") }));
/** An IPv6 address as a bigint and as text (compressed by formatIPv6, or fully expanded). */
const ipv6 = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.boolean()).map(([n, expanded]) => {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Number((n >> BigInt(8 * (15 - i))) & 0xffn);
  const text = expanded ? Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(":") : formatIPv6(bytes);
  return { n, text };
});
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
/** A name (its last label has a letter, so it is never an IP literal). */
const domain = fc.tuple(fc.array(label, { maxLength: 3 }), fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/)).map(([labels, top]) => [...labels, top].join("."));

describe("noProxyMatches: CIDR, IP literals, names, ports (curl and Go where they agree)", () => {
  test("examples", () => {
    const cases: Array<[string, string, number, boolean]> = [
      ["10.0.0.0/8", "10.255.0.1", 80, true],
      ["10.0.0.0/8", "11.0.0.1", 80, false],
      ["10.1.2.3/8", "10.9.9.9", 80, true], // host bits ignored
      ["0.0.0.0/0", "203.0.113.9", 1, true],
      ["192.168.1.0/24", "192.168.1.255", 1, true],
      ["192.168.1.0/24", "192.168.2.0", 1, false],
      ["10.0.0.0/8", "::ffff:10.1.2.3", 1, true], // mapped IPv6 is its IPv4
      ["::ffff:10.0.0.0/104", "10.1.2.3", 1, true],
      ["::/0", "10.1.2.3", 1, false], // families do not mix
      ["0.0.0.0/0", "::1", 1, false],
      ["::1/128", "::1", 1, true],
      ["::1/128", "0:0:0:0:0:0:0:1", 1, true],
      ["::1/128", "::2", 1, false],
      ["fe80::/10", "fe80::1", 1, true],
      ["fe80::/10", "febf:ffff::1", 1, true],
      ["fe80::/10", "fec0::1", 1, false],
      ["fe80::/10", "fe80::1%eth0", 1, true], // zone ignored
      ["fe80::/10", "[fe80::1]", 1, true],
      ["10.0.0.0/33", "10.0.0.1", 1, false], // bad prefix length: matches nothing
      ["::/129", "::1", 1, false],
      ["10.0.0.0/x", "10.0.0.1", 1, false],
      ["10.0.0.0/8:80", "10.0.0.1", 80, false], // a CIDR entry takes no port
      ["example.com/8", "example.com", 1, false],
      ["10.0.0.0/8", "ten.example", 1, false], // names are never resolved
      ["::1", "0::1", 1, true],
      ["127.0.0.1", "127.0.0.1", 1, true],
      ["127.0.0.1", "x.127.0.0.1", 1, false], // an IP entry is no name suffix
      ["0.1", "10.0.0.1", 1, false], // an IP target matches addresses only (curl)
      ["127.0.0.1:8080", "127.0.0.1", 8080, true],
      ["127.0.0.1:8080", "127.0.0.1", 80, false],
      ["[::1]:443", "::1", 443, true],
      ["[::1]:443", "::1", 80, false],
      [".example.com", "example.com", 1, true], // curl; Go would say false
      ["*.example.com", "a.example.com", 1, true],
      ["example.com", "badexample.com", 1, false],
      ["*", "::1", 1, true],
      ["localhost, 10.0.0.0/8 ::1", "::1", 1, true],
    ];
    for (const [list, host, port, expected] of cases) assert.equal(noProxyMatches(list, host, port), expected, `${list} vs ${host}:${port}`);
  });

  test("property: an IPv4 CIDR entry matches exactly the addresses that share its prefix", () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (net, addr, bits) => {
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        const expected = ((net.n & mask) >>> 0) === ((addr.n & mask) >>> 0);
        assert.equal(noProxyMatches(`${net.text}/${bits}`, addr.text, 80), expected);
        assert.equal(noProxyMatches(`${net.text}/${bits}`, net.text, 80), true);
        // The same address as an IPv4-mapped IPv6 target.
        assert.equal(noProxyMatches(`${net.text}/${bits}`, `::ffff:${addr.text}`, 80), expected);
      }),
      { numRuns: 2000 },
    );
  });

  test("property: an IPv4-mapped CIDR entry (::ffff:N/b, b up to 32 or from 96) is the IPv4 prefix N/b", () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (net, addr, bits) => {
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        const expected = ((net.n & mask) >>> 0) === ((addr.n & mask) >>> 0);
        for (const entry of [`::ffff:${net.text}/${bits}`, `::ffff:${net.text}/${96 + bits}`]) {
          assert.equal(noProxyMatches(entry, addr.text, 80), expected, entry);
          assert.equal(noProxyMatches(entry, `[::ffff:${addr.text}]`, 80), expected, entry);
          assert.equal(noProxyMatches(entry, "::1", 80), false, entry);
        }
        if (bits > 0) assert.equal(noProxyMatches(`::ffff:${net.text}/${32 + bits}`, addr.text, 80), false); // reaches past the mapped range: matches nothing
      }),
      { numRuns: 1000 },
    );
  });

  test("property: an IPv6 CIDR entry matches exactly the addresses that share its prefix, in any spelling", () => {
    fc.assert(
      fc.property(ipv6, ipv6, fc.integer({ min: 0, max: 128 }), (net, addr, bits) => {
        const shift = BigInt(128 - bits);
        const expected = (net.n >> shift) === (addr.n >> shift);
        const mapped = (addr.n >> 32n) === 0xffffn; // an IPv4-mapped target is IPv4
        const netMapped = (net.n >> 32n) === 0xffffn;
        if (!mapped && !netMapped) assert.equal(noProxyMatches(`${net.text}/${bits}`, addr.text, 443), expected);
        assert.equal(noProxyMatches(`${net.text}/${bits}`, `[${net.text}]`, 443), !(netMapped && bits > 32 && bits < 96));
      }),
      { numRuns: 2000 },
    );
  });

  test("property: an IP literal entry matches that address only, with or without brackets and port", () => {
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6), fc.oneof(ipv4, ipv6), fc.integer({ min: 1, max: 65535 }), (a, b, port) => {
        const bracketed = a.text.includes(":") ? `[${a.text}]` : a.text;
        assert.equal(noProxyMatches(a.text, a.text, port), true);
        assert.equal(noProxyMatches(`${bracketed}:${port}`, a.text, port), true);
        assert.equal(noProxyMatches(`${bracketed}:${port}`, a.text, port === 1 ? 2 : port - 1), false);
        if (typeof a.n === typeof b.n && a.n !== b.n) {
          const aMapped = typeof a.n === "bigint" && a.n >> 32n === 0xffffn;
          const bMapped = typeof b.n === "bigint" && b.n >> 32n === 0xffffn;
          if (!aMapped && !bMapped) assert.equal(noProxyMatches(a.text, b.text, port), false);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test("property: a name entry matches itself and names below it, whatever the case, dots and stars", () => {
    fc.assert(
      fc.property(domain, label, domain, fc.constantFrom("", ".", "*."), (name, sub, other, lead) => {
        const entry = lead + name;
        assert.equal(noProxyMatches(entry, name, 1), true);
        assert.equal(noProxyMatches(entry, `${sub}.${name}`, 1), true);
        assert.equal(noProxyMatches(entry.toUpperCase(), `${sub}.${name}.`.toUpperCase(), 1), true);
        assert.equal(noProxyMatches(entry, `${sub}${name}`, 1), `${sub}${name}`.endsWith(`.${name}`));
        if (other !== name && !other.endsWith(`.${name}`)) assert.equal(noProxyMatches(entry, other, 1), false);
      }),
      { numRuns: 1000 },
    );
  });

  test("property: never throws; * matches everything; an empty list nothing", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 65535 }), (list, host, port) => {
        const got = noProxyMatches(list, host, port);
        assert.equal(typeof got, "boolean");
        assert.equal(noProxyMatches(`${list},*`, host, port), true);
        assert.equal(noProxyMatches("", host, port), false);
      }),
      { numRuns: 3000 },
    );
  });
});
