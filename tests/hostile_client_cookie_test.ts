// The cookie jar against servers that send many cookies: a full jar
// (maxCookies) stores each further cookie by dropping the least recently
// used one found by a scan, not by sorting every cookie in the jar twice per
// Set-Cookie (with 3000 stored that was ~0.3-2 ms of CPU per cookie: a
// server setting cookies over many of its own subdomains held a core).
// - which cookie goes is unchanged: least recently used, ties to the first stored;
// - no sort of the jar while it is full (counted, not timed);
// - over real sockets, a server sending 90 Set-Cookie per response per response
//   leaves at most maxCookiesPerDomain in the jar, and fetch goes on.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CookieJar } from "../http/client/cookie_jar.ts";
import { Agent, fetch } from "../http/client/mod.ts";
import { listenRawHTTP, type RawHTTPServer } from "./raw_http_server.ts";

describe("CookieJar: a full jar", () => {
  test("the least recently used cookie goes, ties to the first stored", () => {
    let t = 1000;
    const jar = new CookieJar({ now: () => t, maxCookies: 4 });
    for (const h of ["a", "b", "c", "d"]) jar.setCookie(`${h}=1`, `http://${h}.test/`);
    t = 2000;
    assert.equal(jar.getCookieHeader("http://a.test/"), "a=1");
    jar.setCookie("e=1", "http://e.test/");
    assert.deepEqual(jar.cookies().map((c) => c.name).sort(), ["a", "c", "d", "e"]);
    t = 3000;
    jar.setCookie("f=1", "http://f.test/");
    assert.deepEqual(jar.cookies().map((c) => c.name).sort(), ["a", "d", "e", "f"]);
  });

  test("per domain: the oldest of the domain goes, other domains keep theirs", () => {
    const jar = new CookieJar({ now: () => 0, maxCookiesPerDomain: 3 });
    jar.setCookie("x=1", "http://other.test/");
    for (let i = 0; i < 10; i++) jar.setCookie(`k${i}=1`, "http://a.test/");
    assert.equal(jar.getCookieHeader("http://a.test/"), "k7=1; k8=1; k9=1");
    assert.equal(jar.getCookieHeader("http://other.test/"), "x=1");
  });

  test("storing into a full jar of 3000 does not sort the jar", () => {
    const jar = new CookieJar();
    for (let i = 0; i < 3000; i++) jar.setCookie(`k${i % 50}=v`, `http://h${Math.floor(i / 50)}.example.org/`);
    assert.equal(jar.cookies().length, 3000);
    const sort = Array.prototype.sort;
    let bigSorts = 0;
    Array.prototype.sort = function <T>(this: T[], compare?: (a: T, b: T) => number): T[] {
      if (this.length > 100) bigSorts++;
      return sort.call(this, compare) as T[];
    };
    try {
      for (let i = 0; i < 200; i++) assert.notEqual(jar.setCookie(`n${i % 50}=v`, `http://z${Math.floor(i / 50)}.example.org/`), null);
    } finally {
      Array.prototype.sort = sort;
    }
    assert.equal(bigSorts, 0);
    assert.equal(jar.cookies().length, 3000);
    // The first stored (h0's, never read) went first.
    assert.equal(jar.getCookieHeader("http://h0.example.org/"), "");
    assert.equal(jar.getCookieHeader("http://z3.example.org/").split("; ").length, 50);
  });
});

describe("fetch with a cookie jar against a server sending 90 Set-Cookie per response", () => {
  let server: RawHTTPServer;
  let port = 0;
  const agent = new Agent();
  before(async () => {
    // Keep-alive; each response (the r-th over the server) sets 90 new cookies.
    server = await listenRawHTTP((sock, _head, r) => {
      let head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n";
      for (let i = 0; i < 90; i++) head += `Set-Cookie: c${r}_${i}=${"v".repeat(20)}; Path=/; Max-Age=600\r\n`;
      sock.write(head + "\r\nok");
    });
    port = server.port;
  });
  after(async () => {
    await agent.close();
    await server.close();
  });

  test("the jar keeps maxCookiesPerDomain (the newest), every fetch succeeds", async () => {
    const jar = new CookieJar({ maxCookiesPerDomain: 50 });
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent, cookieJar: jar });
      assert.equal(await r.text(), "ok");
    }
    const names = jar.cookies().map((c) => c.name);
    assert.equal(names.length, 50);
    assert.ok(names.every((n) => n.startsWith("c4_")), names.join(","));
  });
});
