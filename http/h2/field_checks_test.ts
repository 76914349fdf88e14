import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ErrorCode as E, Flag } from "./constants.ts";
import { checkFieldValue, checkRequest, checkResponse, checkTrailers, type SectionInfo } from "./field_checks.ts";
import { assertStreamError, Script } from "./peer_test.ts";

function info(): SectionInfo {
  return { method: "", status: 0, contentLength: -1 };
}

function req(method: string, path: string, authority: string, extra: string[] = [], scheme = "https"): string[] {
  return [":method", method, ":scheme", scheme, ":path", path, ":authority", authority, ...extra];
}

const VALID: string[][] = [
  req("GET", "/", "a.test"),
  req("GET", "/x/y?q=1&r=%20", "a.test:8443"),
  req("GET", "/", "[::1]:8080"),
  req("GET", "/", "[2001:db8::1]"),
  req("PURGE", "/cache", "a.test"),
  req("OPTIONS", "*", "a.test"),
  req("GET", "/", "a.test", ["host", "A.TEST"]),
  req("GET", "/", "a.test", ["x-tab", "a\tb", "x-obs", "caf\u00e9"]),
  req("GET", "/\u00e9", "a.test"),
  // RFC 9113 §8.2.2 with RFC 9110 §10.1.4: "trailers" is a case-insensitive token, as nghttp2 takes it.
  req("GET", "/", "a.test", ["te", "trailers"]),
  req("GET", "/", "a.test", ["te", "TRAILERS"]),
  req("GET", "/", "a.test", ["te", "Trailers"]),
  [":method", "GET", ":scheme", "https", ":path", "/", "host", "a.test"],
  // An empty host is no authority, as over HTTP/1.1 (the server's own); a scheme without a mandatory authority needs none.
  [":method", "GET", ":scheme", "https", ":path", "/", "host", ""],
  [":method", "GET", ":scheme", "urn", ":path", "/"],
  [":method", "CONNECT", ":authority", "a.test:443"],
];

const MALFORMED: [string, string[]][] = [
  ["a request line as :method", req("GET /admin HTTP/1.1", "/", "a")],
  ["a space in :method", req("GE T", "/", "a")],
  ["an empty :method", req("", "/", "a")],
  ["a space in :path", req("GET", "/a b", "a")],
  ["a CR LF in :path", req("GET", "/a\r\nx: y", "a")],
  ["a TAB in :path", req("GET", "/a\tb", "a")],
  ["a DEL in :path", req("GET", "/a\u007f", "a")],
  ["a fragment in :path", req("GET", "/a#b", "a")],
  [":path not starting with /", req("GET", "a/b", "a")],
  [":path * for GET", req("GET", "*", "a")],
  [":authority port above 65535", req("GET", "/", "a.test:99999")],
  ["an absolute URI as :path", req("GET", "http://b/", "a")],
  ["userinfo in :authority", req("GET", "/", "user:pw@a.test")],
  ["a path in :authority", req("GET", "/", "a.test/x")],
  ["a space in :authority", req("GET", "/", "a .test")],
  ["two colons in :authority", req("GET", "/", "a:1:2")],
  ["a letter in the port", req("GET", "/", "a:8o")],
  ["junk after an IP literal", req("GET", "/", "[::1]x")],
  ["an empty :authority", req("GET", "/", "")],
  ["host differing from :authority", req("GET", "/", "a.test", ["host", "evil.test"])],
  ["two host fields", [":method", "GET", ":scheme", "https", ":path", "/", "host", "a", "host", "a"]],
  ["userinfo in host", [":method", "GET", ":scheme", "https", ":path", "/", "host", "u@a"]],
  ["neither :authority nor host (https)", [":method", "GET", ":scheme", "https", ":path", "/"]],
  ["neither :authority nor host (http, OPTIONS *)", [":method", "OPTIONS", ":scheme", "http", ":path", "*"]],
  ["a host after an empty host", [":method", "GET", ":scheme", "https", ":path", "/", "host", "", "host", "evil.test"]],
  ["an invalid :scheme", req("GET", "/", "a", [], "ht tp")],
  ["a NUL in a value", req("GET", "/", "a", ["x", "a\u0000b"])],
  ["a control character in a value", req("GET", "/", "a", ["x", "a\u0001b"])],
  ["a DEL in a value", req("GET", "/", "a", ["x", "a\u007fb"])],
  ["a LF in a value", req("GET", "/", "a", ["x", "a\nb"])],
  ["leading whitespace", req("GET", "/", "a", ["x", " a"])],
  ["trailing whitespace", req("GET", "/", "a", ["x", "a\t"])],
  ["a control character in a pseudo-header", req("GET", "/", "a\u0001")],
  ["an uppercase name", req("GET", "/", "a", ["X-Up", "1"])],
  ["a space in a name", req("GET", "/", "a", ["x y", "1"])],
  ["connection", req("GET", "/", "a", ["connection", "close"])],
  ["keep-alive", req("GET", "/", "a", ["keep-alive", "5"])],
  ["proxy-connection", req("GET", "/", "a", ["proxy-connection", "close"])],
  ["transfer-encoding", req("GET", "/", "a", ["transfer-encoding", "chunked"])],
  ["upgrade", req("GET", "/", "a", ["upgrade", "h2c"])],
  ["te other than trailers", req("GET", "/", "a", ["te", "gzip"])],
  ["te with trailers and a coding", req("GET", "/", "a", ["te", "TRAILERS, gzip"])],
  ["te with a word that only starts with trailers", req("GET", "/", "a", ["te", "Trailersx"])],
  ["CONNECT without a port", [":method", "CONNECT", ":authority", "a.test"]],
  ["CONNECT with userinfo", [":method", "CONNECT", ":authority", "u@a.test:443"]],
];

describe("item 9: request fields as strict as nghttp2 (RFC 9113 §8.2, §8.3.1)", () => {
  for (const fields of VALID) {
    test(`valid: ${JSON.stringify(fields)}`, () => {
      assert.equal(checkRequest(fields, info()), "");
    });
  }
  for (const [name, fields] of MALFORMED) {
    test(`malformed: ${name}`, () => {
      assert.notEqual(checkRequest(fields, info()), "");
    });
    test(`malformed on the wire: ${name} is a stream PROTOCOL_ERROR, never reported`, () => {
      const s = new Script("server");
      s.send(s.headers(1, fields, Flag.END_HEADERS | Flag.END_STREAM));
      assert.equal(s.events.filter((e) => e.type === "headers").length, 0);
      assertStreamError(s, 1, E.PROTOCOL_ERROR, "ERR_H2_MALFORMED");
    });
  }
  test("te, host and content-length are checked however their name strings were made (HPACK decodes literals to fresh strings)", () => {
    const fresh = (s: string) => String.fromCharCode(...[...s].map((c) => c.charCodeAt(0)));
    const req = (...more: string[]) => [":method", "GET", ":scheme", "https", ":path", "/", ...more];
    assert.equal(checkRequest(req(fresh("te"), "gzip", "host", "a.test"), info()), "te other than trailers");
    assert.equal(checkRequest(req(fresh("te"), "trailers", "host", "a.test"), info()), "");
    assert.equal(checkRequest(req(fresh("te"), fresh("TrAiLeRs"), "host", "a.test"), info()), "");
    assert.equal(checkRequest(req(fresh("host"), "a.test", fresh("host"), "b.test"), info()), "duplicate host");
    assert.equal(checkRequest(req(fresh("host"), "a.test"), info()), "");
    const i = info();
    assert.equal(checkResponse([":status", "200", fresh("content-length"), "5"], i), "");
    assert.equal(i.contentLength, 5);
    assert.equal(checkResponse([":status", "200", fresh("content-length"), "x"], info()), "invalid content-length");
    // Other names of the compared lengths are not taken for them.
    const j = info();
    assert.equal(checkResponse([":status", "200", "tx", "gzip", "hast", "1", "accept-charset", "1"], j), "");
    assert.equal(j.contentLength, -1);
  });

  test("responses and trailers: the same value and name rules", () => {
    assert.equal(checkResponse([":status", "200", "x", "ok"], info()), "");
    assert.notEqual(checkResponse([":status", "200", "x", "a\u0001"], info()), "");
    assert.notEqual(checkResponse([":status", "200", "Bad", "1"], info()), "");
    assert.notEqual(checkTrailers(["x", "a\u007f"]), "");
    assert.notEqual(checkTrailers(["transfer-encoding", "chunked"]), "");
  });
  test("trailers: fields RFC 9110 §6.5.1 keeps out of trailers are refused, as HTTP/1.1 does", () => {
    for (const name of ["content-length", "host", "authorization", "content-type", "content-encoding", "cookie", "expect"]) {
      assert.notEqual(checkTrailers(["grpc-status", "0", name, "x"]), "", name);
    }
    assert.equal(checkTrailers(["grpc-status", "0", "grpc-message", "ok", "x-checksum", "abc"]), "");
    // On the wire: a request trailer carrying content-length is a stream error, never reported.
    const s = new Script("server");
    s.send(s.headers(1, req("POST", "/", "a.test"), Flag.END_HEADERS));
    s.send(s.headers(1, ["content-length", "0"], Flag.END_HEADERS | Flag.END_STREAM));
    assert.equal(s.events.filter((e) => e.type === "trailers").length, 0);
    assertStreamError(s, 1, E.PROTOCOL_ERROR, "ERR_H2_MALFORMED");
    // And our own side refuses to send them.
    s.send(s.headers(3, req("GET", "/", "a.test")));
    s.conn.respond(3, [":status", "200"], false);
    assert.throws(() => s.conn.sendTrailers(3, ["grpc-status", "0", "content-length", "5"]), TypeError);
    s.conn.sendTrailers(3, ["grpc-status", "0"]);
    assert.equal(checkRequest(req("GET", "/", "a.test:65535"), { method: "", status: 0, contentLength: -1 } as SectionInfo), "");
  });
  test("content-length: one number, or a list of the same number; anything else is malformed", () => {
    const cl = (...values: string[]) => {
      const i = info();
      const reason = checkResponse([":status", "200", ...values.flatMap((v) => ["content-length", v])], i);
      return reason === "" ? i.contentLength : reason;
    };
    assert.equal(cl("1024"), 1024);
    assert.equal(cl("0"), 0);
    assert.equal(cl("007"), 7);
    assert.equal(cl("999999999999999"), 999999999999999);
    assert.equal(cl("5, 5"), 5);
    assert.equal(cl("5", "5"), 5);
    for (const bad of [["1000000000000000"], ["5, 6"], ["5", "6"], ["+5"], ["-1"], ["5 "], ["0x10"], ["1e3"], ["5,"], ["5", "x"]]) {
      assert.equal(typeof cl(...bad), "string", JSON.stringify(bad));
    }
    // The list rule of RFC 9110 §8.6 as a model: comma-separated, each 1 to 15 digits after trimming, all equal.
    const model = (v: string): number | "bad" => {
      const parts = v.split(",").map((p) => p.trim());
      if (!parts.every((p) => /^[0-9]{1,15}$/.test(p))) return "bad";
      return new Set(parts.map(Number)).size === 1 ? Number(parts[0]) : "bad";
    };
    fc.assert(fc.property(fc.stringMatching(/^[0-9 ,]{1,20}$/), (v) => {
      fc.pre(checkFieldValue(v) === "");
      const want = model(v);
      const got = cl(v);
      if (want === "bad") assert.equal(got, "invalid content-length");
      else assert.equal(got, want);
    }), { numRuns: 500 });
  });

  test("property: a value is accepted exactly when it has no control character but HTAB and no whitespace at its ends", () => {
    fc.assert(fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 12 }), (v) => {
      const ctl = [...v].some((ch) => (ch < " " && ch !== "\t") || ch === "\u007f");
      const edges = /^[ \t]|[ \t]$/.test(v);
      assert.equal(checkFieldValue(v) === "", !ctl && !edges, JSON.stringify(v));
    }), { numRuns: 2000 });
  });
  test("property: a :path with any SP, control or DEL octet is refused; printable origin-form paths pass", () => {
    fc.assert(fc.property(fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x23).map((c) => String.fromCharCode(c)), maxLength: 20 }), fc.integer({ min: 0, max: 0x20 }), fc.nat(20), (tail, bad, at) => {
      const path = "/" + tail;
      assert.equal(checkRequest(req("GET", path, "a"), info()), "", path);
      const k = Math.min(at, path.length);
      const broken = path.slice(0, k) + String.fromCharCode(bad === 0x20 ? 0x7f : bad) + path.slice(k);
      assert.notEqual(checkRequest(req("GET", broken, "a"), info()), "", JSON.stringify(broken));
    }), { numRuns: 500 });
  });
});

describe("a connection's memo of the last section that passed gives the same answers", () => {
  const RESPONSES: string[][] = [
    [":status", "200", "content-type", "text/plain", "content-length", "5"],
    [":status", "200", "content-type", "text/plain\u0001", "content-length", "5"],
    [":status", "200", "Content-Type", "text/plain"],
    [":status", "200", "connection", "close"],
    [":status", "204", "te", "trailers"],
    [":status", "200", "content-type", " text/plain"],
  ];
  test("the sections a memo would skip: each string at the place of a passed one, the rest changed", () => {
    const memo: string[] = [];
    assert.equal(checkRequest(req("GET", "/", "a.test", ["accept", "*/*"]), info(), {}, memo), "");
    assert.deepEqual(memo, req("GET", "/", "a.test", ["accept", "*/*"]));
    // The same :authority that passed without a port: CONNECT needs one.
    assert.equal(checkRequest([":method", "CONNECT", ":scheme", "https", ":authority", "a.test"], info(), {}, memo), "CONNECT with :scheme or :path");
    assert.equal(checkRequest([":method", "CONNECT", ":authority", "a.test"], info(), {}, memo), ":authority without a port");
    // An :authority where the memo had another field's value.
    assert.equal(checkRequest([":method", "GET", ":scheme", "https", ":path", "/", "x", "a b", ":authority", "a b"], info(), {}, memo), "pseudo-header :authority after a regular field");
    assert.equal(checkRequest([":method", "GET", ":scheme", "urn", ":path", "/", "x", "a@b"], info(), {}, memo), "");
    assert.equal(checkRequest(req("GET", "/", "a@b"), info(), {}, memo), "userinfo in :authority");
    // A value that passed as a value, now a name; a name that passed, now with a bad value.
    assert.equal(checkRequest(req("GET", "/", "a.test", ["x", "X"]), info(), {}, memo), "");
    assert.equal(checkRequest(req("GET", "/", "a.test", ["X", "x"]), info(), {}, memo), "field name contains an invalid character");
    assert.equal(checkRequest(req("GET", "/", "a.test", ["x", "X\r"]), info(), {}, memo), "x: field value contains a control character");
    // Duplicates and host are the section's: checked every time.
    assert.equal(checkRequest(req("GET", "/", "a.test", ["host", "a.test"]), info(), {}, memo), "");
    assert.equal(checkRequest(req("GET", "/", "a.test", ["host", "a.test", "host", "a.test"]), info(), {}, memo), "duplicate host");
    assert.equal(checkRequest(req("GET", "/", "b.test", ["host", "a.test"]), info(), {}, memo), "host differs from :authority");
    // A failing section leaves the memo as it was.
    assert.deepEqual(memo, req("GET", "/", "a.test", ["host", "a.test"]));
  });
  test("property: any run of requests (or responses) checked with one memo gets the answers and infos each gets alone", () => {
    const requests = [...VALID, ...MALFORMED.map(([, f]) => f)];
    fc.assert(fc.property(fc.array(fc.nat(requests.length - 1), { maxLength: 30 }), fc.array(fc.nat(RESPONSES.length - 1), { maxLength: 12 }), fc.boolean(), (picks, responsePicks, extended) => {
      const memo: string[] = [];
      for (const k of picks) {
        // A copy of fresh strings half the time (a literal HPACK decoded again), the same strings otherwise (its tables).
        const fields = k % 2 === 0 ? requests[k]! : requests[k]!.map((s) => ` ${s}`.slice(1));
        const alone = info();
        const withMemo = info();
        assert.equal(checkRequest(fields, withMemo, { extendedConnect: extended }, memo), checkRequest(fields, alone, { extendedConnect: extended }), JSON.stringify(fields));
        assert.deepEqual(withMemo, alone);
      }
      const responseMemo: string[] = [];
      for (const k of responsePicks) {
        const alone = info();
        const withMemo = info();
        assert.equal(checkResponse(RESPONSES[k]!, withMemo, responseMemo), checkResponse(RESPONSES[k]!, alone));
        assert.deepEqual(withMemo, alone);
      }
    }), { numRuns: 500 });
  });
});
