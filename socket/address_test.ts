import assert from "node:assert/strict";
import { isIPv4 as nodeIsIPv4 } from "node:net";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  checkPort,
  formatHostPort,
  formatIP,
  formatIPv4,
  formatIPv6,
  isIP,
  isIPv4,
  isIPv6,
  parseHostPort,
  parseIP,
  parseIPv4,
  parseIPv6,
  parsePort,
} from "./address.ts";

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

describe("address: IPv4", () => {
  test("parses dotted quads", () => {
    assert.deepEqual([...parseIPv4("0.0.0.0")], [0, 0, 0, 0]);
    assert.deepEqual([...parseIPv4("255.255.255.255")], [255, 255, 255, 255]);
    assert.deepEqual([...parseIPv4("192.0.2.10")], [192, 0, 2, 10]);
  });

  test("rejects ambiguous and malformed forms, naming the value", () => {
    for (const bad of [
      "1.2.3", "256.1.1.1", "01.2.3.4", "1.2.3.04", "0x7f.0.0.1", "127.1", "1.2.3.4.", ".1.2.3.4",
      "1..2.3", "1.2.3.4.5", "", " 1.2.3.4", "1.2.3.4 ", "+1.2.3.4", "1.2.3.-4", "1.2.3.1000",
      "1e1.0.0.1", "１.2.3.4", "1.2.3.4%lo", "0000.0.0.0",
    ]) {
      assert.throws(() => parseIPv4(bad), (e: unknown) => e instanceof TypeError && e.message.includes(JSON.stringify(bad)), bad);
      assert.equal(isIPv4(bad), false, bad);
      assert.equal(isIP(bad), 0, bad);
    }
    assert.throws(() => parseIPv4(42 as unknown as string), TypeError);
  });

  test("format then parse is identity (property)", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
      const text = formatIPv4(b);
      assert.deepEqual(parseIPv4(text), b);
      assert.equal(nodeIsIPv4(text), true);
    }), { numRuns: 500 });
  });

  test("agrees with node:net isIPv4 on mutated strings (property)", () => {
    const chars = fc.constantFrom(..."0123456789.x: -".split(""));
    const candidate = fc.oneof(
      fc.string({ unit: chars, maxLength: 18 }),
      fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat(20), fc.string({ maxLength: 2 }))
        .map(([b, at, ins]) => {
          const s = formatIPv4(b);
          const i = at % (s.length + 1);
          return s.slice(0, i) + ins + s.slice(i);
        }),
    );
    fc.assert(fc.property(candidate, (s) => {
      assert.equal(isIPv4(s), nodeIsIPv4(s), s);
    }), { numRuns: 1000 });
  });
});

describe("address: IPv6", () => {
  test("parses RFC 4291 forms", () => {
    const cases: [string, string][] = [
      ["::", "00000000000000000000000000000000"],
      ["::1", "00000000000000000000000000000001"],
      ["1::", "00010000000000000000000000000000"],
      ["2001:DB8:0:0:8:800:200C:417A", "20010db80000000000080800200c417a"],
      ["2001:db8::8:800:200c:417a", "20010db80000000000080800200c417a"],
      ["ff01::101", "ff010000000000000000000000000101"],
      ["0:0:0:0:0:0:13.1.68.3", "0000000000000000000000000d014403"],
      ["::ffff:129.144.52.38", "00000000000000000000ffff81903426"],
      ["1:2:3:4:5:6:7::", "00010002000300040005000600070000"],
      ["::2:3:4:5:6:7:8", "00000002000300040005000600070008"],
      ["0001:0002:0003:0004:0005:0006:0007:0008", "00010002000300040005000600070008"],
      ["1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304"],
    ];
    for (const [text, bytes] of cases) assert.equal(hex(parseIPv6(text).bytes), bytes, text);
  });

  test("zone ids", () => {
    assert.equal(parseIPv6("fe80::1%lo").zone, "lo");
    assert.equal(parseIPv6("fe80::1%2").zone, "2");
    assert.equal(parseIPv6("fe80::1").zone, undefined);
    assert.equal(formatIPv6(parseIPv6("FE80::0001%eth0").bytes, "eth0"), "fe80::1%eth0");
    for (const bad of ["fe80::1%", "fe80::1%a b", "fe80::1%a%b", "%lo", "fe80::1%a/b"]) {
      assert.equal(isIPv6(bad), false, bad);
      assert.throws(() => parseIPv6(bad), TypeError, bad);
    }
  });

  test("rejects malformed forms", () => {
    for (const bad of [
      "", ":", ":::", "1:::2", "1::2::3", ":1::2", "1::2:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
      "1::2:3:4:5:6:7:8", "12345::", "g::", "::1.2.3", "::256.1.1.1", "::01.2.3.4",
      "1.2.3.4::", "::1.2.3.4:1", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:1.2.3.4.5", " ::1", "::1 ",
      "[::1]", "1:2:3:4:5:6:7:8::", "::-1", "0x1::",
    ]) {
      assert.equal(isIPv6(bad), false, bad);
      assert.throws(() => parseIPv6(bad), TypeError, bad);
    }
  });

  test("formats canonically (RFC 5952)", () => {
    const cases: [string, string][] = [
      ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // one zero group is not compressed
      ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // the longest run
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // the first of equal runs
      ["2001:DB8::AAAA", "2001:db8::aaaa"],
      ["0:0:0:0:0:0:0:0", "::"],
      ["0:0:0:0:0:ffff:7f00:1", "::ffff:127.0.0.1"],
      ["::ffff:0:0", "::ffff:0.0.0.0"],
      ["1:0:0:0:0:0:0:0", "1::"],
      ["0:0:0:0:0:0:1.2.3.4", "::102:304"],
    ];
    for (const [input, canonical] of cases) assert.equal(formatIPv6(parseIPv6(input).bytes), canonical, input);
  });

  const v6bytes = fc.array(
    fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
    { minLength: 8, maxLength: 8 },
  ).map((groups) => {
    const b = new Uint8Array(16);
    groups.forEach((g, i) => { b[2 * i] = g >> 8; b[2 * i + 1] = g & 0xff; });
    return b;
  });

  test("format then parse is identity; format matches WHATWG URL serialization (property)", () => {
    fc.assert(fc.property(v6bytes, fc.boolean(), (b, mapped) => {
      if (mapped) { b.fill(0, 0, 10); b[10] = 0xff; b[11] = 0xff; }
      const text = formatIPv6(b);
      assert.deepEqual(parseIPv6(text).bytes, b);
      assert.equal(isIP(text), 6);
      assert.equal(formatIP(parseIP(text).bytes), text);
      // WHATWG URL never writes the dotted form RFC 5952 §5 recommends for
      // IPv4-mapped addresses, whichever way the bytes were generated.
      if (!text.includes(".")) assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
    }), { numRuns: 1000 });
  });

  test("non-canonical spellings parse to the same bytes (property)", () => {
    fc.assert(fc.property(v6bytes, fc.boolean(), (b, upper) => {
      const groups: string[] = [];
      for (let i = 0; i < 8; i++) groups.push(((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16).padStart(4, "0"));
      let text = groups.join(":");
      if (upper) text = text.toUpperCase();
      assert.deepEqual(parseIPv6(text).bytes, b);
      assert.equal(formatIPv6(parseIPv6(text).bytes), formatIPv6(b));
    }), { numRuns: 300 });
  });

  test("generated invalid strings are rejected (property)", () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((g) => g.toString(16));
    const broken = fc.oneof(
      fc.array(group, { minLength: 9, maxLength: 12 }).map((g) => g.join(":")), // too many groups
      fc.array(group, { minLength: 1, maxLength: 7 }).map((g) => g.join(":")), // too few, no "::"
      fc.tuple(fc.array(group, { minLength: 1, maxLength: 3 }), fc.array(group, { minLength: 1, maxLength: 3 }), fc.array(group, { minLength: 1, maxLength: 3 }))
        .map(([a, b, c]) => `${a.join(":")}::${b.join(":")}::${c.join(":")}`), // two "::"
      fc.tuple(fc.array(group, { minLength: 0, maxLength: 6 }), fc.integer({ min: 0x10000, max: 0xfffff }))
        .map(([g, big]) => [...g, big.toString(16)].join(":") + "::"), // 5-digit group
      fc.tuple(fc.array(group, { minLength: 1, maxLength: 5 }), fc.constantFrom("g", "-", " ", "/", "[", "::::"))
        .map(([g, junk]) => `${g.join(":")}::${junk}1`), // junk
      fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.array(group, { maxLength: 3 }))
        .map(([v4, g]) => `::${formatIPv4(v4)}:${g.join(":") || "1"}`), // IPv4 not last
    );
    fc.assert(fc.property(broken, (s) => {
      assert.equal(isIPv6(s), false, s);
      assert.throws(() => parseIPv6(s), TypeError);
    }), { numRuns: 1000 });
  });
});

describe("address: ports and host:port", () => {
  test("checkPort", () => {
    assert.equal(checkPort(0), 0);
    assert.equal(checkPort(65535), 65535);
    assert.throws(() => checkPort(65536), RangeError);
    assert.throws(() => checkPort(-1), RangeError);
    assert.throws(() => checkPort(1.5), RangeError);
    assert.throws(() => checkPort(Number.NaN), RangeError);
    assert.throws(() => checkPort("80" as unknown as number), TypeError);
  });

  test("parsePort is strict", () => {
    assert.equal(parsePort("0"), 0);
    assert.equal(parsePort("65535"), 65535);
    for (const bad of ["", "65536", "080", "+1", "-1", "1 ", "0x10", "1e3", "99999"]) {
      assert.throws(() => parsePort(bad), TypeError, bad);
    }
  });

  test("host:port round trip", () => {
    assert.deepEqual(parseHostPort("[::1]:8080"), { host: "::1", port: 8080 });
    assert.deepEqual(parseHostPort("127.0.0.1:53"), { host: "127.0.0.1", port: 53 });
    assert.deepEqual(parseHostPort("example.com:443"), { host: "example.com", port: 443 });
    assert.equal(formatHostPort("::1", 80), "[::1]:80");
    for (const bad of ["::1:80", "[::1]", "[::1]80", "host", ":80", "[x]:1", "a:b:c"]) {
      assert.throws(() => parseHostPort(bad), TypeError, bad);
    }
  });
});
