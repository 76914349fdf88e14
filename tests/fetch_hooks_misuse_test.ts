// fetch's auth, cookieJar, signal and dispatcher options given something
// that is not an AuthProvider, a CookieStore, an AbortSignal or a
// Dispatcher (and a maxRedirections that is not a count) (red team, twelfth pass, hostile input:
// misuse of the API): a TypeError naming the option before any byte is
// sent. Before, `auth: { username, password }` went out without
// credentials and failed on the first 401 with "auth.respond is not a
// function", and a jar without storeSetCookie failed after the response
// had come. A real server counts the requests it got.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { HttpAuth } from "../http/client/auth.ts";
import { CookieJar } from "../http/client/mod.ts";
import { fetch } from "../http/client/fetch.ts";
import { type Server, serve } from "../http/server/serve.ts";

let server: Server;
let origin = "";
let requests = 0;
before(() => {
  server = serve({
    host: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      requests++;
      if (req.headers.get("authorization") === null) return new Response("no", { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } });
      return new Response("yes", { headers: { "set-cookie": "a=1" } });
    },
  });
  origin = `http://127.0.0.1:${server.addr.port}`;
});
after(() => server.shutdown());

const misuses: ReadonlyArray<readonly [string, Record<string, unknown>, RegExp]> = [
  ["auth as plain credentials", { auth: { username: "u", password: "p" } }, /auth must be an AuthProvider/],
  ["auth as a string", { auth: "u:p" }, /auth must be an AuthProvider/],
  ["auth.authorization not a function", { auth: { respond: () => null, authorization: "Basic x" } }, /auth\.authorization must be a function/],
  ["auth.proxyAuthorization not a function", { auth: { respond: () => null, proxyAuthorization: 1 } }, /auth\.proxyAuthorization must be a function/],
  ["cookieJar as a plain object", { cookieJar: {} }, /cookieJar must be a CookieStore/],
  ["cookieJar without storeSetCookie", { cookieJar: { cookieHeader: () => null } }, /cookieJar must be a CookieStore/],
  ["cookieJar as a Map", { cookieJar: new Map() }, /cookieJar must be a CookieStore/],
  ["signal as a plain object", { signal: { aborted: false } }, /signal must be an AbortSignal/],
  ["dispatcher as a plain object", { dispatcher: {} }, /dispatcher must be a Dispatcher/],
  ["dispatcher as a string", { dispatcher: "agent" }, /dispatcher must be a Dispatcher/],
];

const ranges: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ["maxRedirections -1", { maxRedirections: -1 }],
  ["maxRedirections 1.5", { maxRedirections: 1.5 }],
  ["maxRedirections NaN", { maxRedirections: NaN }],
];

describe("fetch: auth and cookieJar that are not what they must be", () => {
  for (const [name, init, message] of misuses) {
    test(`${name}: TypeError, nothing sent`, async () => {
      const before = requests;
      await assert.rejects(fetch(`${origin}/x`, init as never), (e: unknown) => e instanceof TypeError && message.test(e.message));
      assert.equal(requests, before);
    });
  }

  for (const [name, init] of ranges) {
    test(`${name}: RangeError, nothing sent`, async () => {
      const before = requests;
      await assert.rejects(fetch(`${origin}/x`, init as never), (e: unknown) => e instanceof RangeError && /maxRedirections must be an integer >= 0/.test(e.message));
      assert.equal(requests, before);
    });
  }

  test("the real ones, and null or undefined, still work", async () => {
    const jar = new CookieJar();
    const ok = await fetch(`${origin}/x`, { auth: new HttpAuth({ username: "u", password: "p" }), cookieJar: jar });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "yes");
    assert.equal(jar.cookieHeader(new URL(`${origin}/`)), "a=1");
    const plain = await fetch(`${origin}/x`, { auth: undefined, cookieJar: undefined } as never);
    assert.equal(plain.status, 401);
    await plain.text();
    const nulls = await fetch(`${origin}/x`, { auth: null, cookieJar: null, signal: null, dispatcher: null, maxRedirections: 0 } as never);
    assert.equal(nulls.status, 401);
    await nulls.text();
  });
});
