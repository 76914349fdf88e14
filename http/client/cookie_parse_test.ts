import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { MAX_COOKIE_AGE_MS, parseCookieDate, parseSetCookie } from "./cookie_parse.ts";
import { defaultPublicSuffixList, isIPAddress, PublicSuffixList } from "./public_suffix.ts";

const NOW = Date.UTC(2026, 0, 1);

describe("Set-Cookie parsing (RFC 6265bis §5.6)", () => {
  test("name, value and every attribute", () => {
    const c = parseSetCookie(" sid = a b ; Domain=.Example.COM; Path=/app; Secure; HttpOnly; SameSite=strict; Max-Age=60; Foo=bar", NOW);
    assert.deepEqual(c, {
      name: "sid",
      value: "a b",
      domain: "example.com",
      path: "/app",
      pathAttribute: true,
      expires: NOW + 60_000,
      secure: true,
      httpOnly: true,
      sameSite: "strict",
    });
  });

  test("§5.6 step 3: no '=' is an empty name; step 1: control characters refuse the cookie", () => {
    assert.equal(parseSetCookie("lonely", NOW)?.name, "");
    assert.equal(parseSetCookie("lonely", NOW)?.value, "lonely");
    assert.equal(parseSetCookie("a=b\x00c", NOW), null);
    assert.equal(parseSetCookie("a=b; Path=/\x7f", NOW), null);
    assert.equal(parseSetCookie("a=b\tc", NOW)?.value, "b\tc");
    assert.equal(parseSetCookie("=", NOW), null);
    assert.equal(parseSetCookie("", NOW), null);
  });

  test("§5.6 step 5: name and value over 4096 bytes refuse the cookie; attribute values over 1024 are dropped", () => {
    assert.equal(parseSetCookie("a=" + "x".repeat(4095), NOW)?.value.length, 4095);
    assert.equal(parseSetCookie("a=" + "x".repeat(4096), NOW), null);
    assert.equal(parseSetCookie("a=" + "é".repeat(2048), NOW), null, "bytes, not characters");
    const c = parseSetCookie(`a=b; Path=/${"p".repeat(1024)}; Domain=x.test`, NOW);
    assert.equal(c?.path, null);
    assert.equal(c?.domain, "x.test");
  });

  test("Max-Age wins over Expires whatever the order; the last of a name wins; bad values are ignored", () => {
    assert.equal(parseSetCookie("a=b; Max-Age=10; Expires=Wed, 21 Oct 2015 07:28:00 GMT", NOW)?.expires, NOW + 10_000);
    assert.equal(parseSetCookie("a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=10", NOW)?.expires, NOW + 10_000);
    assert.equal(parseSetCookie("a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT", NOW)?.expires, 1445412480000);
    assert.equal(parseSetCookie("a=b; Max-Age=0", NOW)?.expires, -Infinity);
    assert.equal(parseSetCookie("a=b; Max-Age=-5", NOW)?.expires, -Infinity);
    assert.equal(parseSetCookie("a=b; Max-Age=1x", NOW)?.expires, null);
    assert.equal(parseSetCookie("a=b; Max-Age=+5", NOW)?.expires, null);
    assert.equal(parseSetCookie("a=b; Path=/a; Path=/b", NOW)?.path, "/b");
    assert.equal(parseSetCookie("a=b; Path=/a; Path=rel", NOW)?.path, null, "a later bad Path means default-path");
    assert.equal(parseSetCookie("a=b; Domain=", NOW)?.domain, null);
    assert.equal(parseSetCookie("a=b; SameSite=bogus", NOW)?.sameSite, "default");
    assert.equal(parseSetCookie("a=b; samesite=NONE", NOW)?.sameSite, "none");
  });

  test("§5.6.1/§5.6.2: expiry is capped at 400 days", () => {
    assert.equal(parseSetCookie("a=b; Max-Age=999999999", NOW)?.expires, NOW + MAX_COOKIE_AGE_MS);
    assert.equal(parseSetCookie("a=b; Expires=Fri, 01 Jan 2100 00:00:00 GMT", NOW)?.expires, NOW + MAX_COOKIE_AGE_MS);
  });

  test("never throws, and what it keeps has no forbidden characters (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: "binary" }), (s) => {
        const c = parseSetCookie(s, NOW);
        if (c !== null) {
          assert.doesNotMatch(c.name + c.value, /[\x00-\x08\x0a-\x1f\x7f;]/);
          assert.ok(c.name !== "" || c.value !== "");
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("cookie-date (RFC 6265bis §5.1.1)", () => {
  const table: Array<[string, number | null]> = [
    ["Wed, 21 Oct 2015 07:28:00 GMT", Date.UTC(2015, 9, 21, 7, 28, 0)],
    ["Wednesday, 21-Oct-15 07:28:00 GMT", Date.UTC(2015, 9, 21, 7, 28, 0)], // RFC 850 form, two-digit year
    ["Wed Oct 21 07:28:00 2015", Date.UTC(2015, 9, 21, 7, 28, 0)], // asctime
    ["21 October 1999 1:2:3", Date.UTC(1999, 9, 21, 1, 2, 3)],
    ["Thu, 01 Jan 70 00:00:00 GMT", 0],
    ["Sat, 01 Jan 69 00:00:00 GMT", Date.UTC(2069, 0, 1)],
    ["31 Feb 2020 00:00:00", null],
    ["32 Jan 2020 00:00:00", null],
    ["1 Jan 1600 00:00:00", null],
    ["1 Jan 2020 24:00:00", null],
    ["1 Jan 2020", null],
    ["", null],
  ];
  for (const [text, expected] of table) {
    test(JSON.stringify(text), () => assert.equal(parseCookieDate(text), expected));
  }
});

describe("public suffixes", () => {
  test("PSL algorithm: rules, wildcards, exceptions, the implicit *", () => {
    const psl = PublicSuffixList.parse("// comment\ncom\nco.uk\n*.ck\n!www.ck\n\n");
    assert.equal(psl.publicSuffix("a.b.example.com"), "com");
    assert.equal(psl.publicSuffix("example.co.uk"), "co.uk");
    assert.equal(psl.publicSuffix("a.b.ck"), "b.ck");
    assert.equal(psl.publicSuffix("www.ck"), "ck");
    assert.equal(psl.publicSuffix("x.www.ck"), "ck");
    assert.equal(psl.publicSuffix("example.zz"), "zz");
    assert.equal(psl.registrableDomain("a.b.example.co.uk"), "example.co.uk");
    assert.equal(psl.registrableDomain("co.uk"), null);
    assert.equal(psl.registrableDomain("www.ck"), "www.ck");
    assert.equal(psl.isPublicSuffix("Example.com"), false);
    assert.equal(psl.isPublicSuffix("zz"), true);
    assert.equal(psl.publicSuffix("127.0.0.1"), null);
  });

  test("the built-in default list knows com, net, org and co.uk", () => {
    for (const s of ["com", "net", "org", "co.uk"]) assert.equal(defaultPublicSuffixList().isPublicSuffix(s), true, s);
    assert.equal(defaultPublicSuffixList().isPublicSuffix("example.com"), false);
  });

  test("IP literals", () => {
    for (const h of ["127.0.0.1", "[::1]", "::1", "10.1.2.3"]) assert.equal(isIPAddress(h), true, h);
    for (const h of ["example.com", "1.2.3.com", "localhost"]) assert.equal(isIPAddress(h), false, h);
  });
});
