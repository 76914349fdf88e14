import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CookieJar as ToughJar } from "tough-cookie";
import { HTTPError } from "../../core/errors.ts";
import { CookieJar, defaultPath, domainMatch, pathMatch } from "./cookie_jar.ts";
import { PublicSuffixList } from "./public_suffix.ts";

const T0 = Date.UTC(2026, 0, 1);

function clockJar(options: ConstructorParameters<typeof CookieJar>[0] = {}) {
  const clock = { t: T0 };
  const jar = new CookieJar({ now: () => clock.t, ...options });
  return { jar, clock };
}

describe("matching helpers (RFC 6265bis §5.1.3, §5.1.4)", () => {
  test("domain-match", () => {
    assert.equal(domainMatch("example.com", "example.com"), true);
    assert.equal(domainMatch("www.example.com", "example.com"), true);
    assert.equal(domainMatch("wwwexample.com", "example.com"), false);
    assert.equal(domainMatch("example.com", "www.example.com"), false);
    assert.equal(domainMatch("192.168.0.1", "168.0.1"), false, "IP addresses match only identically");
  });
  test("path-match and default-path", () => {
    assert.equal(pathMatch("/a/b", "/a"), true);
    assert.equal(pathMatch("/a/b", "/a/"), true);
    assert.equal(pathMatch("/ab", "/a"), false);
    assert.equal(pathMatch("/a", "/a/"), false);
    assert.equal(defaultPath(""), "/");
    assert.equal(defaultPath("/"), "/");
    assert.equal(defaultPath("/a/b/"), "/a/b");
    assert.equal(defaultPath("/a"), "/");
  });
});

describe("storage model (RFC 6265bis §5.7)", () => {
  test("host-only cookies stay on their host; Domain cookies reach subdomains", () => {
    const { jar } = clockJar();
    jar.setCookie("host=1", "http://example.com/");
    jar.setCookie("dom=1; Domain=example.com", "http://example.com/");
    assert.equal(jar.getCookieHeader("http://example.com/"), "host=1; dom=1");
    assert.equal(jar.getCookieHeader("http://www.example.com/"), "dom=1");
    assert.equal(jar.getCookieHeader("http://other.com/"), "");
  });

  test("step 10: a Domain the host does not domain-match is refused, as is a foreign IP literal", () => {
    const { jar } = clockJar();
    assert.equal(jar.setCookie("a=1; Domain=other.com", "http://example.com/"), null);
    assert.equal(jar.setCookie("a=1; Domain=www.example.com", "http://example.com/"), null);
    assert.equal(jar.setCookie("a=1; Domain=0.0.1", "http://127.0.0.1/"), null);
    assert.equal(jar.setCookie("a=1; Domain=127.0.0.2", "http://127.0.0.1/"), null);
    assert.equal(jar.setCookie("a=1; Domain=127.0.0.1", "http://127.0.0.1/")?.domain, "127.0.0.1");
  });

  test("step 9: public suffixes are refused, except as the request host itself (then host-only)", () => {
    const { jar } = clockJar();
    assert.equal(jar.setCookie("a=1; Domain=com", "http://example.com/"), null);
    assert.equal(jar.setCookie("a=1; Domain=co.uk", "http://bbc.co.uk/"), null);
    assert.equal(jar.setCookie("a=1; Domain=bbc.co.uk", "http://www.bbc.co.uk/")?.hostOnly, false);
    const c = jar.setCookie("a=1; Domain=co.uk", "http://co.uk/");
    assert.equal(c?.hostOnly, true);
    assert.equal(c?.domain, "co.uk");
  });

  test("a user-supplied list; null turns the check off", () => {
    const { jar } = clockJar({ publicSuffixes: new PublicSuffixList(["example.com"]) });
    assert.equal(jar.setCookie("a=1; Domain=example.com", "http://www.example.com/"), null);
    const off = clockJar({ publicSuffixes: null }).jar;
    assert.equal(off.setCookie("a=1; Domain=com", "http://example.com/")?.domain, "com");
  });

  test("step 13: Secure only from a secure context (https, or a loopback host)", () => {
    const { jar } = clockJar();
    assert.equal(jar.setCookie("s=1; Secure", "http://example.com/"), null);
    assert.notEqual(jar.setCookie("s=1; Secure", "https://example.com/"), null);
    assert.notEqual(jar.setCookie("s=1; Secure", "http://localhost:8080/"), null);
    assert.notEqual(jar.setCookie("s=1; Secure", "http://127.0.0.1/"), null);
    assert.equal(jar.getCookieHeader("http://example.com/"), "");
    assert.equal(jar.getCookieHeader("https://example.com/"), "s=1");
    const strict = clockJar({ isSecure: (u) => u.protocol === "https:" }).jar;
    assert.equal(strict.setCookie("s=1; Secure", "http://localhost/"), null);
  });

  test("step 15/22: a non-HTTP API neither sets nor overwrites nor reads HttpOnly cookies", () => {
    const { jar } = clockJar();
    assert.equal(jar.setCookie("h=1; HttpOnly", "http://a.test/", { http: false }), null);
    jar.setCookie("h=1; HttpOnly", "http://a.test/");
    assert.equal(jar.setCookie("h=2", "http://a.test/", { http: false }), null);
    assert.equal(jar.getCookieHeader("http://a.test/", { http: false }), "");
    assert.equal(jar.getCookieHeader("http://a.test/"), "h=1");
  });

  test("step 16: an insecure cookie cannot shadow a Secure one of the same name", () => {
    const { jar } = clockJar();
    jar.setCookie("sid=secure; Secure", "https://example.com/");
    assert.equal(jar.setCookie("sid=evil", "http://example.com/"), null);
    assert.equal(jar.setCookie("sid=evil; Path=/deeper", "http://example.com/"), null);
    assert.notEqual(jar.setCookie("other=ok", "http://example.com/"), null);
    assert.notEqual(jar.setCookie("sid=new", "https://example.com/"), null, "from a secure origin it may replace it");
  });

  test("step 20: __Secure- and __Host- prefixes (case-insensitive)", () => {
    const { jar } = clockJar();
    assert.equal(jar.setCookie("__Secure-a=1", "https://example.com/"), null);
    assert.notEqual(jar.setCookie("__Secure-a=1; Secure", "https://example.com/"), null);
    assert.equal(jar.setCookie("__secure-b=1", "https://example.com/"), null);
    assert.equal(jar.setCookie("__Host-a=1; Secure", "https://example.com/x/y"), null, "default-path /x is not /");
    assert.equal(jar.setCookie("__Host-a=1; Secure", "https://example.com/"), null, "the Path attribute must be there");
    assert.equal(jar.setCookie("__Host-a=1; Secure; Path=/; Domain=example.com", "https://example.com/"), null);
    assert.notEqual(jar.setCookie("__Host-a=1; Secure; Path=/", "https://example.com/"), null);
    assert.notEqual(jar.setCookie("__Host-b=1; Secure; Path=rel", "https://example.com/"), null, "a Path attribute, and the path is /");
    assert.equal(jar.setCookie("=__Host-x", "https://example.com/"), null, "§5.7 step 21: a nameless value that looks prefixed");
  });

  test("step 19: SameSite=None needs Secure", () => {
    const { jar } = clockJar();
    assert.equal(jar.setCookie("a=1; SameSite=None", "https://example.com/"), null);
    assert.notEqual(jar.setCookie("a=1; SameSite=None; Secure", "https://example.com/"), null);
  });

  test("step 22: replacing keeps the creation time (and so the header order)", () => {
    const { jar, clock } = clockJar();
    jar.setCookie("a=1", "http://a.test/");
    clock.t += 1000;
    jar.setCookie("b=1", "http://a.test/");
    clock.t += 1000;
    const replaced = jar.setCookie("a=2", "http://a.test/");
    assert.equal(replaced?.creationTime, T0);
    assert.equal(jar.getCookieHeader("http://a.test/"), "a=2; b=1");
  });

  test("expiry by Max-Age and Expires against the injected clock; Max-Age=0 deletes", () => {
    const { jar, clock } = clockJar();
    jar.setCookie("short=1; Max-Age=10", "http://a.test/");
    jar.setCookie(`dated=1; Expires=${new Date(T0 + 20_000).toUTCString()}`, "http://a.test/");
    jar.setCookie("session=1", "http://a.test/");
    assert.equal(jar.getCookieHeader("http://a.test/"), "short=1; dated=1; session=1");
    clock.t = T0 + 10_000;
    assert.equal(jar.getCookieHeader("http://a.test/"), "dated=1; session=1");
    clock.t = T0 + 20_001;
    assert.equal(jar.getCookieHeader("http://a.test/"), "session=1");
    jar.setCookie("session=x; Max-Age=0", "http://a.test/");
    assert.equal(jar.getCookieHeader("http://a.test/"), "");
  });

  test("limits: per domain and in total, least recently used go first", () => {
    const { jar, clock } = clockJar({ maxCookiesPerDomain: 3, maxCookies: 4 });
    for (const n of ["a", "b", "c"]) {
      jar.setCookie(`${n}=1`, "http://one.test/");
      clock.t++;
    }
    jar.getCookies("http://one.test/"); // touch all three
    clock.t++;
    jar.setCookie("d=1", "http://one.test/");
    assert.equal(jar.cookies().filter((c) => c.domain === "one.test").length, 3);
    assert.equal(jar.getCookieHeader("http://one.test/"), "b=1; c=1; d=1");
    clock.t++;
    jar.setCookie("x=1", "http://two.test/");
    clock.t++;
    jar.setCookie("y=1", "http://two.test/");
    assert.equal(jar.cookies().length, 4);
  });

  test("bad options are a TypeError or RangeError", () => {
    assert.throws(() => new CookieJar({ nope: 1 } as never), TypeError);
    assert.throws(() => new CookieJar({ maxCookies: 0 }), RangeError);
  });
});

describe("retrieval (RFC 6265bis §5.8.3)", () => {
  test("longer paths first, then earlier creation", () => {
    const { jar, clock } = clockJar();
    jar.setCookie("root=1; Path=/", "http://a.test/");
    clock.t++;
    jar.setCookie("deep=1; Path=/a/b", "http://a.test/");
    clock.t++;
    jar.setCookie("mid=1; Path=/a", "http://a.test/");
    clock.t++;
    jar.setCookie("mid2=1; Path=/a", "http://a.test/");
    assert.equal(jar.getCookieHeader("http://a.test/a/b/c"), "deep=1; mid=1; mid2=1; root=1");
    assert.equal(jar.getCookieHeader("http://a.test/ab"), "root=1");
  });

  test("equal creation times keep insertion order", () => {
    const { jar } = clockJar();
    for (const n of ["z", "y", "x"]) jar.setCookie(`${n}=1`, "http://a.test/");
    assert.equal(jar.getCookieHeader("http://a.test/"), "z=1; y=1; x=1");
  });

  test("SameSite against a site-for-cookies", () => {
    const { jar } = clockJar();
    jar.setCookie("strict=1; SameSite=Strict", "https://shop.example/");
    jar.setCookie("lax=1; SameSite=Lax", "https://shop.example/");
    jar.setCookie("dflt=1", "https://shop.example/");
    jar.setCookie("none=1; SameSite=None; Secure", "https://shop.example/");
    const url = "https://shop.example/cart";
    assert.equal(jar.getCookieHeader(url), "strict=1; lax=1; dflt=1; none=1", "no site given: same-site");
    assert.equal(jar.getCookieHeader(url, { siteForCookies: "https://www.shop.example/" }), "strict=1; lax=1; dflt=1; none=1");
    assert.equal(jar.getCookieHeader(url, { siteForCookies: "https://evil.example/" }), "none=1");
    assert.equal(jar.getCookieHeader(url, { siteForCookies: "http://shop.example/" }), "none=1", "schemeful");
    assert.equal(jar.getCookieHeader(url, { siteForCookies: null, topLevelNavigation: true, method: "GET" }), "lax=1; dflt=1; none=1");
    assert.equal(jar.getCookieHeader(url, { siteForCookies: null, topLevelNavigation: true, method: "POST" }), "none=1");
  });

  test("SameSite on storage: cross-site responses set only None cookies, unless navigating", () => {
    const { jar } = clockJar();
    const ctx = { siteForCookies: "https://evil.example/" };
    assert.equal(jar.setCookie("a=1", "https://shop.example/", ctx), null);
    assert.notEqual(jar.setCookie("b=1; SameSite=None; Secure", "https://shop.example/", ctx), null);
    assert.notEqual(jar.setCookie("c=1; SameSite=Lax", "https://shop.example/", { ...ctx, topLevelNavigation: true }), null);
  });

  test("the CookieStore hooks", () => {
    const { jar } = clockJar();
    jar.storeSetCookie(new URL("http://a.test/x/y"), ["a=1", "b=2; Path=/", "bad\x01=1"]);
    assert.equal(jar.cookieHeader(new URL("http://a.test/x/z")), "a=1; b=2");
    assert.equal(jar.cookieHeader(new URL("http://b.test/")), null);
  });
});

describe("persistence", () => {
  test("toJSON / fromJSON round-trip, expiry and order included", () => {
    const { jar, clock } = clockJar();
    jar.setCookie("a=1; Max-Age=100; Domain=example.com; Path=/p; Secure; HttpOnly; SameSite=Lax", "https://example.com/");
    clock.t++;
    jar.setCookie("b=2", "https://example.com/p/q");
    const text = JSON.stringify(jar);
    const copy = CookieJar.fromJSON(text, { now: () => clock.t });
    assert.deepEqual(copy.cookies(), jar.cookies());
    assert.equal(copy.getCookieHeader("https://www.example.com/p/x"), "a=1");
    assert.equal(copy.getCookieHeader("https://example.com/p/x"), jar.getCookieHeader("https://example.com/p/x"));
    clock.t += 200_000;
    assert.equal(copy.getCookieHeader("https://example.com/p/x"), "b=2");
  });

  test("bad JSON is an HTTPError ERR_COOKIE_JSON", () => {
    const bad = [
      "{",
      "null",
      JSON.stringify({ version: 2, cookies: [] }),
      JSON.stringify({ version: 1, cookies: {} }),
      JSON.stringify({ version: 1, cookies: [{ name: "a" }] }),
      JSON.stringify({
        version: 1,
        cookies: [{ name: "a", value: "x;y", domain: "a.test", hostOnly: true, path: "/", secure: false, httpOnly: false, sameSite: "lax", expires: null, creationTime: 0, lastAccessTime: 0 }],
      }),
    ];
    for (const text of bad) {
      assert.throws(() => CookieJar.fromJSON(text), (e: unknown) => e instanceof HTTPError && e.code === "ERR_COOKIE_JSON", text);
    }
  });
});

// tough-cookie (npm, RFC 6265 with parts of 6265bis) as an oracle: the same
// Set-Cookie values at the same times give the same Cookie header. Inputs
// avoid the deliberate differences, each tested on its own above:
// - SameSite=None without Secure (6265bis §5.7 step 19: we refuse; tough-cookie keeps it);
// - an insecure cookie shadowing a Secure one (step 16: we refuse; tough-cookie replaces);
// - a Domain that is a public suffix equal to the host (step 9: we store host-only; tough-cookie refuses);
// - expiry past 400 days (we cap it; tough-cookie does not);
// - nameless cookies ("=v": we keep them per §5.6; tough-cookie's strict mode refuses);
// - a host-only and a Domain cookie of one name, domain and path are two cookies (§5.7
//   step 22 compares the host-only flag too; tough-cookie's store keeps one);
// - `__Host-x=1; Secure; Path=rel` from a URL whose default-path is "/" (6265bis
//   wants a Path attribute and a path of "/": we accept; tough-cookie wants Path=/);
// - __Secure-/__Host- cookies from http://localhost (a secure context for both, but
//   tough-cookie's prefix check wants https).
// tough-cookie also counts Max-Age from the last access (a sliding expiry),
// where 6265bis counts from storage; a single retrieval at the end hides it.
// tough-cookie's getCookies checks expiry against Date.now() (its `now`
// option is for storage only): the clock is pinned around those calls.
function toughAt<T>(t: number, run: () => T): T {
  const realNow = Date.now;
  Date.now = () => t;
  try {
    return run();
  } finally {
    Date.now = realNow;
  }
}

describe("against tough-cookie", () => {
  const hosts = ["example.com", "a.example.com", "b.a.example.com", "other.com", "example.co.uk", "localhost", "127.0.0.1"];
  const paths = ["/", "/a", "/a/", "/a/b", "/a/bc", "/ab", "/a/b/c"];
  const domains = [null, "example.com", ".example.com", "a.example.com", "EXAMPLE.COM", "com", "co.uk", "example.co.uk", "other.com", "127.0.0.1", "0.0.1"];
  const cookiePaths = [null, "/", "/a", "/a/", "/a/b", "rel", ""];
  const plainNames = ["a", "b", "c"];
  const secureNames = ["s", "__Secure-s", "__Host-h"];

  const url = fc.tuple(fc.constantFrom("http", "https"), fc.constantFrom(...hosts), fc.constantFrom(...paths)).map(([s, h, p]) => `${s}://${h}${p}`);
  const setCookie = fc.record({
    secure: fc.boolean(),
    plain: fc.constantFrom(...plainNames),
    secureName: fc.constantFrom(...secureNames),
    value: fc.constantFrom("1", "2", "x y", "\"q\"", "v=w"),
    domain: fc.constantFrom(...domains),
    path: fc.constantFrom(...cookiePaths),
    maxAge: fc.option(fc.constantFrom(-1, 0, 1, 5, 100)),
    expires: fc.option(fc.constantFrom(-50_000, 3_000, 60_000)),
    sameSite: fc.constantFrom(null, "Strict", "Lax", "lax"),
    httpOnly: fc.boolean(),
  }).map((c) => {
    // Only the s-names ever carry Secure, so step 16 never applies (see above).
    // Host-only and Domain cookies get different names (see above).
    let text = `${c.secure ? c.secureName : c.plain}${c.domain === null ? "h" : ""}=${c.value}`;
    if (c.domain !== null) text += `; Domain=${c.domain}`;
    const path = c.secure && c.secureName.startsWith("__Host-") && (c.path === "" || c.path === "rel") ? "/" : c.path;
    if (path !== null) text += `; Path=${path}`;
    if (c.secure) text += "; Secure";
    if (c.httpOnly) text += "; HttpOnly";
    if (c.sameSite !== null) text += `; SameSite=${c.sameSite}`;
    return { text, maxAge: c.maxAge, expires: c.expires };
  });
  const step = fc.record({ cookie: setCookie, url, advance: fc.constantFrom(0, 1000, 4000, 30_000) }).map((s) => {
    const loopback = /^http:\/\/(localhost|127\.0\.0\.1)\//.test(s.url);
    return loopback ? { ...s, cookie: { ...s.cookie, text: s.cookie.text.replace(/^__(Secure-s|Host-h)(h?)=/, "s$2=") } } : s;
  });

  test("same Set-Cookie sequence at the same times → same Cookie header (property)", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), fc.array(url, { minLength: 1, maxLength: 4 }), (steps, queries) => {
        let t = T0;
        const ours = new CookieJar({ now: () => t });
        const tough = new ToughJar();
        for (const s of steps) {
          t += s.advance;
          let text = s.cookie.text;
          if (s.cookie.maxAge !== null) text += `; Max-Age=${s.cookie.maxAge}`;
          if (s.cookie.expires !== null) text += `; Expires=${new Date(t + s.cookie.expires).toUTCString()}`;
          ours.setCookie(text, s.url);
          tough.setCookieSync(text, s.url, { now: new Date(t), ignoreError: true });
        }
        t += 2000;
        // A deliberate difference: RFC 6265 §5.3 evicts an expired cookie at
        // once, so ours never keeps one; tough-cookie keeps it until a read,
        // and a later cookie with its name, domain and path inherits its
        // creation time, and so its place among cookies of equal path length.
        // Where anything in the sequence can expire, the same cookies must be
        // sent, in an order that may differ only that way.
        const expiring = steps.some((s) => s.cookie.maxAge !== null || s.cookie.expires !== null);
        const sorted = (header: string) => header.split("; ").sort().join("; ");
        for (const q of queries) {
          const theirs = toughAt(t, () => tough.getCookieStringSync(q));
          if (expiring) assert.equal(sorted(ours.getCookieHeader(q)), sorted(theirs), `query ${q}`);
          else assert.equal(ours.getCookieHeader(q), theirs, `query ${q}`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  const table: Array<[string, Array<[string, string]>, string, string]> = [
    ["default-path from the request", [["a=1", "http://example.com/x/y"]], "http://example.com/x/z", "a=1"],
    ["Domain with a leading dot", [["a=1; Domain=.example.com", "http://example.com/"]], "http://www.example.com/", "a=1"],
    ["a later bad Path falls back to the default", [["a=1; Path=/p; Path=q", "http://example.com/d/e"]], "http://example.com/d/", "a=1"],
    ["Domain with a trailing dot is refused", [["a=1; Domain=example.com.", "http://example.com/"]], "http://example.com/", ""],
    ["Expires in the past deletes", [["a=1", "http://example.com/"], ["a=2; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "http://example.com/"]], "http://example.com/", ""],
    ["an IP literal host takes only host-only or identical Domain cookies", [["a=1", "http://10.0.0.1/"], ["b=1; Domain=10.0.0.1", "http://10.0.0.1/"]], "http://10.0.0.1/", "a=1; b=1"],
    ["quoted values are kept as they are", [["a=\"x y\"", "http://example.com/"]], "http://example.com/", "a=\"x y\""],
  ];
  for (const [name, sets, query, header] of table) {
    test(name, () => {
      const now = T0;
      const ours = new CookieJar({ now: () => now });
      const tough = new ToughJar();
      for (const [text, u] of sets) {
        ours.setCookie(text, u);
        tough.setCookieSync(text, u, { now: new Date(now), ignoreError: true });
      }
      const expected = toughAt(now, () => tough.getCookieStringSync(query));
      assert.equal(ours.getCookieHeader(query), expected);
      assert.equal(expected, header);
    });
  }
});
