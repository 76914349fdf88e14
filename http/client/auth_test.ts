import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { HTTPError } from "../../core/errors.ts";
import { authFromURL, basicAuthorization, bearerAuthorization, HttpAuth } from "./auth.ts";
import { fetch } from "./fetch.ts";
import { CHALLENGE_LIMITS, parseAuthChallenges } from "./auth_challenge.ts";
import type { AuthChallenge } from "./hooks.ts";

const isChallengeError = (e: unknown) => e instanceof HTTPError && e.code === "ERR_HTTP_AUTH_CHALLENGE";

describe("challenge parsing (RFC 9110 §11.2, §11.6.1)", () => {
  test("several challenges in one field, parameters and token68", () => {
    const parsed = parseAuthChallenges(
      'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple", Negotiate abc+/==, Bearer',
    );
    assert.deepEqual(parsed.map((c) => c.scheme), ["newauth", "basic", "negotiate", "bearer"]);
    assert.deepEqual([...parsed[0]!.params], [["realm", "apps"], ["type", "1"], ["title", 'Login to "apps"']]);
    assert.equal(parsed[2]!.token68, "abc+/==");
    assert.equal(parsed[3]!.params.size, 0);
    assert.equal(parseAuthChallenges("Basic realm=")[0]!.token68, "realm=", "a parameter needs a value: this is a token68");
  });

  test("case-insensitive names, whitespace around '=', empty list elements", () => {
    const parsed = parseAuthChallenges(' , DIGEST Realm = "r" ,, NONCE=abc ,  , Basic realm="x",');
    assert.equal(parsed.length, 2);
    assert.equal(parsed[0]!.scheme, "digest");
    assert.equal(parsed[0]!.params.get("realm"), "r");
    assert.equal(parsed[0]!.params.get("nonce"), "abc");
  });

  test("garbage is an HTTPError ERR_HTTP_AUTH_CHALLENGE", () => {
    for (
      const bad of [
        '"quoted"',
        'Basic realm="unterminated',
        'Basic realm="x" Digest',
        'Basic a="b" "c"',
        'Basic realm="a", realm="b"',
        "Basic foo bar",
        "Basic=x",
        'Basic realm="\x01"',
        'Basic realm="x\\',
        'Basic realm="a\\\x00b"', // a control character in a quoted-pair (found by fuzz/auth_challenge.ts)
        "=",
      ]
    ) {
      assert.throws(() => parseAuthChallenges(bad), isChallengeError, JSON.stringify(bad));
    }
  });

  test("limits: field length, challenges, parameters", () => {
    assert.throws(() => parseAuthChallenges("Basic " + "a".repeat(CHALLENGE_LIMITS.maxFieldLength)), isChallengeError);
    assert.throws(() => parseAuthChallenges(Array.from({ length: 33 }, () => "Basic").join(", ")), isChallengeError);
    assert.throws(() => parseAuthChallenges("X " + Array.from({ length: 65 }, (_, i) => `p${i}=1`).join(", ")), isChallengeError);
    assert.equal(parseAuthChallenges("X " + Array.from({ length: 64 }, (_, i) => `p${i}=1`).join(", "))[0]!.params.size, 64);
  });

  test("formatted challenges parse back to what was formatted (property)", () => {
    const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,8}$/);
    const value = fc.string({ maxLength: 12 }).filter((s) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(s));
    const challenge = fc.record({
      scheme: token,
      params: fc.uniqueArray(fc.tuple(token, value), { maxLength: 5, selector: ([k]) => k.toLowerCase() }),
    });
    fc.assert(
      fc.property(fc.array(challenge, { minLength: 1, maxLength: 4 }), (challenges) => {
        const text = challenges.map((c) =>
          c.scheme + (c.params.length ? " " + c.params.map(([k, v]) => `${k}="${v.replace(/["\\]/g, "\\$&")}"`).join(", ") : "")
        ).join(", ");
        const parsed = parseAuthChallenges(text);
        assert.deepEqual(parsed.map((c) => c.scheme), challenges.map((c) => c.scheme.toLowerCase()));
        parsed.forEach((p, i) => assert.deepEqual([...p.params], challenges[i]!.params.map(([k, v]) => [k.toLowerCase(), v])));
      }),
      { numRuns: 1000 },
    );
  });

  test("any string: a list of challenges or the typed error (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120, unit: "binary-ascii" }), (s) => {
        try {
          parseAuthChallenges(s);
        } catch (e) {
          assert.ok(isChallengeError(e), String(e));
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("Basic and Bearer", () => {
  test("RFC 7617 §2 example and UTF-8", () => {
    assert.equal(basicAuthorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    assert.equal(basicAuthorization("test", "123\u00a3"), "Basic dGVzdDoxMjPCow=="); // RFC 7617 §2.1
    assert.throws(() => basicAuthorization("a:b", "c"), TypeError);
  });
  test("RFC 6750 Bearer token68", () => {
    assert.equal(bearerAuthorization("mF_9.B5f-4.1JqM"), "Bearer mF_9.B5f-4.1JqM");
    assert.throws(() => bearerAuthorization("has space"), TypeError);
  });
});

const request = (path = "/dir/index.html", method = "GET") => ({ method, url: new URL(`http://a.test${path}`), body: null });
const challenge401 = (challenges: string[], attempt = 0, path?: string): AuthChallenge => ({ status: 401, challenges, request: request(path), attempt });

describe("HttpAuth", () => {
  test("Digest: answers, then counts nc per nonce up front; a new nonce restarts at 1", () => {
    let n = 0;
    const auth = new HttpAuth({ username: "Mufasa", password: "Circle of Life", cnonce: () => `c${++n}` });
    assert.equal(auth.authorization(request()), null);
    const first = auth.respond(challenge401(['Digest realm="r", nonce="N1", qop="auth", algorithm=SHA-256, opaque="O"']));
    assert.match(first!, /nc=00000001, cnonce="c1"/);
    assert.match(first!, /opaque="O"/);
    assert.match(auth.authorization(request("/other"))!, /uri="\/other".*nonce="N1", nc=00000002/);
    assert.match(auth.authorization(request())!, /nc=00000003/);
    const fresh = auth.respond(challenge401(['Digest realm="r", nonce="N2", qop="auth", stale=true'], 0));
    assert.match(fresh!, /nonce="N2", nc=00000001, cnonce="c2"/);
  });

  test("Digest: a second challenge on one request gives up, unless stale=true (once)", () => {
    const auth = new HttpAuth({ username: "u", password: "p" });
    assert.notEqual(auth.respond(challenge401(['Digest realm="r", nonce="a", qop="auth"'])), null);
    assert.equal(auth.respond(challenge401(['Digest realm="r", nonce="b", qop="auth"'], 1)), null);
    assert.equal(auth.authorization(request()), null, "the failed space is forgotten");
    assert.notEqual(auth.respond(challenge401(['Digest realm="r", nonce="a", qop="auth"'])), null);
    assert.notEqual(auth.respond(challenge401(['Digest realm="r", nonce="c", qop="auth", stale=true'], 1)), null);
    assert.equal(auth.respond(challenge401(['Digest realm="r", nonce="d", qop="auth", stale=true'], 2)), null);
  });

  test("Digest preferred over Basic; Basic answered once; a bad field does not hide a good one", () => {
    const auth = new HttpAuth({ username: "u", password: "p" });
    assert.match(auth.respond(challenge401(['Basic realm="b"', 'Digest realm="d", nonce="n"']))!, /^Digest /);
    const basic = new HttpAuth({ username: "u", password: "p" });
    assert.equal(basic.respond(challenge401(['"garbage', 'Basic realm="b"'])), basicAuthorization("u", "p"));
    assert.equal(basic.respond(challenge401(['Basic realm="b"'], 1)), null);
    assert.equal(basic.respond(challenge401(['Unknown x=1'])), null);
  });

  test("preemptive Basic and Bearer; proxy credentials for 407 only", () => {
    assert.equal(new HttpAuth({ username: "u", password: "p", preemptiveBasic: true }).authorization(request()), basicAuthorization("u", "p"));
    assert.equal(new HttpAuth({ token: "t0k" }).authorization(request()), "Bearer t0k");
    const auth = new HttpAuth({ proxy: { username: "pu", password: "pp" } });
    assert.equal(auth.respond(challenge401(['Basic realm="x"'])), null);
    assert.equal(auth.respond({ status: 407, challenges: ['Basic realm="proxy"'], request: { ...request(), proxy: "http://px:3128" } }), basicAuthorization("pu", "pp"));
    // A 407 with no proxy named came from an origin server: never the proxy credentials.
    assert.equal(auth.respond({ status: 407, challenges: ['Basic realm="proxy"'], request: request() }), null);
    assert.equal(auth.respond({ status: 407, challenges: ['Digest realm="P", nonce="n", qop="auth"'], request: request() }), null);
  });

  test("Digest protection spaces (RFC 7235 §2.2): realm and domain narrow a server's; a proxy's is the proxy, whatever the target", () => {
    const auth = new HttpAuth({ username: "u", password: "p", proxy: { username: "pu", password: "pp" }, cnonce: () => "c" });
    // Two realms on one origin, each with its domain: each path answers in its own realm with its own nc.
    auth.respond(challenge401(['Digest realm="A", nonce="na", qop="auth", domain="/a/ /shared/x"'], 0, "/a/1"));
    auth.respond(challenge401(['Digest realm="B", nonce="nb", qop="auth", domain="/b/"'], 0, "/b/1"));
    assert.match(auth.authorization(request("/a/2"))!, /realm="A".*nonce="na", nc=00000002/);
    assert.match(auth.authorization(request("/shared/x/y"))!, /realm="A".*nc=00000003/);
    assert.match(auth.authorization(request("/b/2"))!, /realm="B".*nonce="nb", nc=00000002/);
    assert.equal(auth.authorization(request("/c/")), null, "outside both domains: wait for a challenge");
    // Proxies: nothing up front before a 407 from that proxy; after it, every target through it, nc counting on.
    const via = (proxy: string, origin: string) => ({ method: "GET", url: new URL(`${origin}/p`), body: null, proxy });
    assert.equal(auth.proxyAuthorization(via("http://px:3128", "http://one.test")), null);
    const answered = auth.respond({ status: 407, challenges: ['Digest realm="P", nonce="np", qop="auth"'], request: via("http://px:3128", "http://one.test") });
    assert.match(answered!, /^Digest username="pu", realm="P".*nc=00000001/);
    assert.match(auth.proxyAuthorization(via("http://px:3128", "http://two.test"))!, /nonce="np", nc=00000002/);
    assert.match(auth.proxyAuthorization(via("http://px:3128", "http://one.test"))!, /nonce="np", nc=00000003/);
    assert.equal(auth.proxyAuthorization(via("http://other:3128", "http://one.test")), null, "another proxy is another space");
    assert.equal(auth.authorization(request("/elsewhere")), null, "proxy state does not answer servers");
    // A proxy that took Basic gets Basic up front; one that refused it does not.
    assert.equal(auth.respond({ status: 407, challenges: ['Basic realm="b"'], request: via("http://basic:1", "http://one.test") }), basicAuthorization("pu", "pp"));
    assert.equal(auth.proxyAuthorization(via("http://basic:1", "http://x.test")), basicAuthorization("pu", "pp"));
    assert.equal(auth.respond({ status: 407, challenges: ['Basic realm="b"'], request: via("http://basic:1", "http://one.test"), attempt: 1 }), null);
    assert.equal(auth.proxyAuthorization(via("http://basic:1", "http://x.test")), null);
  });

  test("credentials from the URL answer only that origin", () => {
    const { url, auth } = authFromURL(new URL("http://us%65r:p%3Ass@a.test:8080/x"));
    assert.equal(url.href, "http://a.test:8080/x");
    const value = auth!.respond({ status: 401, challenges: ['Basic realm="x"'], request: { method: "GET", url, body: null } });
    assert.equal(value, basicAuthorization("user", "p:ss"));
    assert.equal(auth!.respond({ status: 401, challenges: ['Basic realm="x"'], request: request() }), null);
    assert.equal(authFromURL(new URL("http://a.test/")).auth, null);
  });

  test("URL credentials with a malformed or non-UTF-8 escape are a TypeError, from authFromURL and from fetch (red team, twelfth pass: the runtime's URIError)", async () => {
    for (const userinfo of ["u:%ZZ", "u:%E9", "%:x", "us%C3%A9r:%C3"]) {
      assert.throws(() => authFromURL(new URL(`http://${userinfo}@a.test/`)), (err: unknown) => err instanceof TypeError && !(err instanceof URIError), userinfo);
      // Refused before any connection (port 1 would refuse one).
      await assert.rejects(fetch(`http://${userinfo}@127.0.0.1:1/`), (err: unknown) => err instanceof TypeError && /percent-encoded/.test((err as Error).message), userinfo);
    }
    const { auth } = authFromURL(new URL("http://us%C3%A9r:p%40ss@a.test/"));
    const value = auth!.respond({ status: 401, challenges: ['Basic realm="x"'], request: { method: "GET", url: new URL("http://a.test/"), body: null } });
    assert.equal(value, basicAuthorization("usér", "p@ss"));
  });

  test("bad options", () => {
    assert.throws(() => new HttpAuth({ username: "u" }), TypeError);
    assert.throws(() => new HttpAuth({ nope: 1 } as never), TypeError);
    assert.throws(() => new HttpAuth({ token: "a b" }), TypeError);
  });
});
