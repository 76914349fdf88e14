import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatHTTPDate, parseHTTPDate } from "./date.ts";
import { HeaderList, isToken } from "./headers.ts";
import { formatMediaType, parseMediaType } from "./media_type.ts";
import { isIdempotentMethod, isSafeMethod, isValidMethod, normalizeMethod } from "./methods.ts";
import { negotiate, parseQList, parseQValue } from "./qvalue.ts";
import { isBodylessStatus, reasonPhrase, statusClass } from "./status.ts";

describe("RFC 9110 §9 methods", () => {
  test("properties", () => {
    assert.equal(isSafeMethod("HEAD"), true);
    assert.equal(isIdempotentMethod("DELETE"), true);
    assert.equal(isIdempotentMethod("POST"), false);
    assert.equal(isValidMethod("GET /"), false);
    assert.equal(normalizeMethod("delete"), "DELETE");
    assert.throws(() => normalizeMethod(""), TypeError);
  });
});

describe("RFC 9110 §15 status codes", () => {
  test("reasons and classes", () => {
    assert.equal(reasonPhrase(413), "Content Too Large");
    assert.equal(reasonPhrase(299), "");
    assert.equal(statusClass(101), "informational");
    assert.equal(statusClass(799), "server-error");
    assert.throws(() => statusClass(99), RangeError);
    assert.equal(isBodylessStatus(103), true);
  });
});

describe("RFC 9110 §5 HeaderList", () => {
  test("case-insensitive, order and duplicates kept, Set-Cookie apart", () => {
    const h = new HeaderList();
    h.append("X-B", "1");
    h.append("Set-Cookie", "a=1, b");
    h.append("x-b", "2");
    h.append("set-cookie", "c=3");
    assert.equal(h.get("x-b"), "1, 2");
    assert.deepEqual(h.getSetCookie(), ["a=1, b", "c=3"]);
    assert.deepEqual(h.rawEntries(), [["X-B", "1"], ["Set-Cookie", "a=1, b"], ["x-b", "2"], ["set-cookie", "c=3"]]);
    assert.deepEqual([...h], [["set-cookie", "a=1, b"], ["set-cookie", "c=3"], ["x-b", "1, 2"]]);
    h.set("X-B", "3");
    assert.deepEqual(h.getAll("x-b"), ["3"]);
    h.delete("SET-COOKIE");
    assert.equal(h.has("set-cookie"), false);
    assert.equal(h.size, 1);
  });
  test("names are tokens; values reject CR, LF, NUL", () => {
    assert.throws(() => new HeaderList([["a b", "x"]]), TypeError);
    assert.throws(() => new HeaderList([["", "x"]]), TypeError);
    for (const bad of ["a\rb", "a\nb", "a\0b", "\u0100"]) assert.throws(() => new HeaderList({ a: bad }), TypeError);
    assert.equal(new HeaderList({ a: "  v \t" }).get("a"), "v");
  });
  test("the same behaviour as the runtime's Headers for get/has", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,6}$/), fc.stringMatching(/^[!-~]([ -~]{0,6}[!-~])?$/)), { maxLength: 8 }),
        (pairs) => {
          const ours = new HeaderList(pairs);
          const theirs = new globalThis.Headers(pairs);
          for (const [n] of pairs) {
            assert.equal(ours.get(n), theirs.get(n));
            assert.equal(ours.has(n), theirs.has(n));
          }
          assert.deepEqual([...ours], [...theirs]);
        },
      ),
      { numRuns: 100 },
    );
  });
  test("isToken", () => {
    assert.equal(isToken("!#$%&'*+-.^_`|~09AZaz"), true);
    assert.equal(isToken("a:b"), false);
  });
});

describe("RFC 9110 §5.6.7 dates", () => {
  test("the three forms of the RFC example", () => {
    const t = 784111777000;
    assert.equal(formatHTTPDate(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert.equal(parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT"), t);
    assert.equal(parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT", Date.UTC(2020, 0)), t);
    assert.equal(parseHTTPDate("Sun Nov  6 08:49:37 1994"), t);
  });
  test("invalid dates", () => {
    for (const bad of [
      "Mon, 06 Nov 1994 08:49:37 GMT", // wrong weekday
      "Sun, 31 Feb 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 08:49:37 UTC",
      "Sun, 6 Nov 1994 08:49:37 GMT",
      "sun, 06 nov 1994 08:49:37 GMT",
      "",
    ]) {
      assert.equal(parseHTTPDate(bad), null, bad);
    }
  });
  test("RFC 850 two-digit years: more than 50 years ahead means the past", () => {
    const now = Date.UTC(2026, 0, 1);
    assert.equal(new Date(parseHTTPDate("Wednesday, 01-Jan-70 00:00:00 GMT", now)!).getUTCFullYear(), 2070);
    assert.equal(new Date(parseHTTPDate("Saturday, 01-Jan-77 00:00:00 GMT", now)!).getUTCFullYear(), 2077 - 100);
  });
  test("property: format then parse", () => {
    fc.assert(
      fc.property(fc.integer({ min: -62135596800, max: 253402300799 }), (s) => {
        assert.equal(parseHTTPDate(formatHTTPDate(s * 1000)), s * 1000);
      }),
      { numRuns: 300 },
    );
  });
});

describe("RFC 9110 §12.4.2 q-values", () => {
  test("parse and order", () => {
    assert.deepEqual(parseQList("a;q=0.5, b, c;q=0.5;level=1, d;q=2, e;q=0").map((e) => [e.value, e.q]), [
      ["b", 1],
      ["a", 0.5],
      ["c", 0.5],
      ["e", 0],
    ]);
    assert.equal(parseQValue("0.1234"), null);
    assert.equal(parseQValue("1.000"), 1);
  });
  test("negotiate", () => {
    assert.equal(negotiate("gzip, deflate;q=0.9", ["deflate", "gzip"]), "gzip");
    assert.equal(negotiate("*;q=0.1, br;q=0", ["br", "gzip"]), "gzip");
    assert.equal(negotiate("identity", ["gzip"]), null);
  });
});

describe("RFC 9110 §8.3.1 media types", () => {
  test("parse", () => {
    const m = parseMediaType('multipart/form-data; boundary="a b\\"c"; Charset=UTF-8')!;
    assert.equal(m.type, "multipart");
    assert.equal(m.params.get("boundary"), 'a b"c');
    assert.equal(m.params.get("charset"), "UTF-8");
    assert.equal(parseMediaType("text/"), null);
    assert.equal(parseMediaType("text/html; charset"), null);
    assert.equal(parseMediaType('text/html; a="unterminated'), null);
  });
  test("format then parse", () => {
    const m = { type: "text", subtype: "plain", params: new Map([["x", 'a "q"'], ["charset", "utf-8"]]) };
    assert.deepEqual(parseMediaType(formatMediaType(m)), m);
  });
});
