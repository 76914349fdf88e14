import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { HTTPError } from "../../core/errors.ts";
import {
  formatURI,
  isIPv4,
  isIPv6,
  parseRequestTarget,
  parseURI,
  percentDecode,
  removeDotSegments,
  resolveReference,
} from "./uri.ts";

describe("RFC 3986 §3 components", () => {
  test("all components", () => {
    const u = parseURI("foo://user:pw@Example.COM:8042/over/there?name=ferret#nose");
    assert.deepEqual(u, {
      scheme: "foo",
      userinfo: "user:pw",
      host: "example.com",
      hostKind: "reg-name",
      zone: null,
      port: 8042,
      path: "/over/there",
      query: "name=ferret",
      fragment: "nose",
    });
  });
  test("URN without authority", () => {
    const u = parseURI("urn:example:animal:ferret:nose");
    assert.equal(u.scheme, "urn");
    assert.equal(u.host, null);
    assert.equal(u.path, "example:animal:ferret:nose");
  });
  test("IPv4, IPv6, zone, IPvFuture hosts", () => {
    assert.equal(parseURI("http://192.0.2.16:80/").hostKind, "ipv4");
    assert.equal(parseURI("http://[2001:DB8::7]/").host, "2001:db8::7");
    const z = parseURI("http://[fe80::a%25en1]/");
    assert.equal(z.zone, "en1");
    assert.equal(parseURI("http://[v7.abc:def]/").hostKind, "ipvfuture");
    assert.equal(parseURI("http://256.1.1.1/").hostKind, "reg-name");
  });
  test("empty port is null", () => {
    assert.equal(parseURI("http://a:/").port, null);
  });
  test("relative references", () => {
    assert.equal(parseURI("//host/p").host, "host");
    assert.equal(parseURI("../a?b").path, "../a");
  });
  test("invalid characters and structures are rejected", () => {
    for (const bad of [
      "http://a b/",
      "http://a/<",
      "http://[::1/",
      "http://[::g]/",
      "http://a:99999/",
      "http://a:1x/",
      "http://a/%zz",
      "1http://a/",
      "http://a/\u00e9",
      "http://[fe80::1%eth0]/",
      "a:b#c#d",
    ]) {
      assert.throws(() => parseURI(bad), (e: unknown) => e instanceof HTTPError && e.code === "ERR_INVALID_URI", bad);
    }
  });
});

describe("RFC 3986 §3.2.2 addresses", () => {
  test("IPv4 dec-octets", () => {
    assert.equal(isIPv4("255.255.255.255"), true);
    assert.equal(isIPv4("01.1.1.1"), false);
    assert.equal(isIPv4("1.1.1"), false);
  });
  test("IPv6 forms", () => {
    for (const ok of ["::", "::1", "1::", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4"]) {
      assert.equal(isIPv6(ok), true, ok);
    }
    for (const bad of ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "1:2:3:4:5:6:7", ":1:2", "1.2.3.4::"]) {
      assert.equal(isIPv6(bad), false, bad);
    }
  });
});

describe("RFC 3986 §2.1 and §5.2.4", () => {
  test("percent-decoding", () => {
    assert.equal(percentDecode("a%20b%E2%82%AC"), "a b€");
    assert.throws(() => percentDecode("%E2%82"), HTTPError);
    assert.throws(() => percentDecode("%2"), HTTPError);
  });
  test("dot-segment removal examples", () => {
    assert.equal(removeDotSegments("/a/b/c/./../../g"), "/a/g");
    assert.equal(removeDotSegments("mid/content=5/../6"), "mid/6");
    assert.equal(removeDotSegments("/../a"), "/a");
    assert.equal(removeDotSegments("/a/.."), "/");
  });
});

describe("RFC 9112 §3.2 request-target forms", () => {
  test("forms", () => {
    assert.equal(parseRequestTarget("/a?b", "GET").form, "origin");
    assert.equal(parseRequestTarget("http://a/b", "GET").form, "absolute");
    assert.equal(parseRequestTarget("a:443", "CONNECT").form, "authority");
    assert.equal(parseRequestTarget("*", "OPTIONS").form, "asterisk");
  });
  test("wrong forms", () => {
    assert.throws(() => parseRequestTarget("*", "GET"), HTTPError);
    assert.throws(() => parseRequestTarget("/a", "CONNECT"), HTTPError);
    assert.throws(() => parseRequestTarget("u@a:443", "CONNECT"), HTTPError);
    assert.throws(() => parseRequestTarget("/a#f", "GET"), HTTPError);
    assert.throws(() => parseRequestTarget("//a/b", "GET"), HTTPError);
  });
});

test("property: a parsed URI reassembles to its input", () => {
  const seg = fc.stringMatching(/^[a-z0-9\-._~!$&'()*+,;=:@]{0,8}$/);
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z][a-z0-9+.-]{0,5}$/),
      fc.stringMatching(/^[a-z0-9.-]{1,12}$/),
      fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
      fc.array(seg, { maxLength: 4 }),
      fc.option(seg, { nil: undefined }),
      (scheme, host, port, segments, query) => {
        const path = segments.map((s) => "/" + s).join("");
        const text = `${scheme}://${host}${port === undefined ? "" : ":" + port}${path}${query === undefined ? "" : "?" + query}`;
        const u = parseURI(text);
        assert.equal(u.scheme, scheme);
        assert.equal(u.host, host);
        assert.equal(u.port, port ?? null);
        assert.equal(u.path, path);
        assert.equal(u.query, query ?? null);
      },
    ),
    { numRuns: 200 },
  );
});

describe("RFC 3986 §5.2 reference resolution and §5.3 recomposition", () => {
  const base = "http://a/b/c/d;p?q";
  const cases: Array<[string, string]> = [
    // §5.4.1 normal examples
    ["g:h", "g:h"], ["g", "http://a/b/c/g"], ["./g", "http://a/b/c/g"], ["g/", "http://a/b/c/g/"],
    ["/g", "http://a/g"], ["//g", "http://g"], ["?y", "http://a/b/c/d;p?y"], ["g?y", "http://a/b/c/g?y"],
    ["#s", "http://a/b/c/d;p?q#s"], ["g#s", "http://a/b/c/g#s"], ["g?y#s", "http://a/b/c/g?y#s"],
    [";x", "http://a/b/c/;x"], ["g;x", "http://a/b/c/g;x"], ["g;x?y#s", "http://a/b/c/g;x?y#s"],
    ["", "http://a/b/c/d;p?q"], [".", "http://a/b/c/"], ["./", "http://a/b/c/"], ["..", "http://a/b/"],
    ["../", "http://a/b/"], ["../g", "http://a/b/g"], ["../..", "http://a/"], ["../../", "http://a/"],
    ["../../g", "http://a/g"],
    // §5.4.2 abnormal examples
    ["../../../g", "http://a/g"], ["../../../../g", "http://a/g"], ["/./g", "http://a/g"],
    ["/../g", "http://a/g"], ["g.", "http://a/b/c/g."], [".g", "http://a/b/c/.g"], ["g..", "http://a/b/c/g.."],
    ["..g", "http://a/b/c/..g"], ["./../g", "http://a/b/g"], ["./g/.", "http://a/b/c/g/"],
    ["g/./h", "http://a/b/c/g/h"], ["g/../h", "http://a/b/c/h"], ["g;x=1/./y", "http://a/b/c/g;x=1/y"],
    ["g;x=1/../y", "http://a/b/c/y"], ["g?y/./x", "http://a/b/c/g?y/./x"], ["g?y/../x", "http://a/b/c/g?y/../x"],
    ["g#s/./x", "http://a/b/c/g#s/./x"], ["g#s/../x", "http://a/b/c/g#s/../x"], ["http:g", "http:g"],
  ];
  for (const [ref, want] of cases) {
    test(`"${ref}" → ${want}`, () => {
      assert.equal(formatURI(resolveReference(base, ref)), want);
    });
  }
  test("recomposition keeps zones and IP literals", () => {
    assert.equal(formatURI(parseURI("http://[fe80::1%25eth0]:80/x")), "http://[fe80::1%25eth0]:80/x");
    assert.throws(() => resolveReference("/relative", "g"), HTTPError);
  });
});
