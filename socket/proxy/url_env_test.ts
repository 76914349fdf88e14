import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { noProxyMatches, proxyForTarget } from "./env.ts";
import { chooseProxy, proxyLocalResolution, makeProxyHandshake } from "./plan.ts";
import { formatProxy, parseProxyURL, toProxyConfig } from "./url.ts";

describe("parseProxyURL", () => {
  test("every scheme, default ports, IPv6, percent-decoded credentials", () => {
    assert.deepEqual(parseProxyURL("http://user:pa%3Ass@Proxy.Example:3128"), {
      protocol: "http",
      host: "proxy.example",
      port: 3128,
      username: "user",
      password: "pa:ss",
    });
    assert.deepEqual(parseProxyURL("http://127.0.0.1"), { protocol: "http", host: "127.0.0.1", port: 80 });
    assert.deepEqual(parseProxyURL("socks4://10.0.0.1"), { protocol: "socks4", host: "10.0.0.1", port: 1080 });
    assert.deepEqual(parseProxyURL("SOCKS4A://h:9"), { protocol: "socks4a", host: "h", port: 9 });
    assert.deepEqual(parseProxyURL("socks5://[::1]:1081/"), { protocol: "socks5", host: "::1", port: 1081 });
    assert.deepEqual(parseProxyURL("socks5h://u:@h"), { protocol: "socks5h", host: "h", port: 1080, username: "u", password: "" });
    assert.deepEqual(parseProxyURL("HTTPS://h"), { protocol: "https", host: "h", port: 443 });
    assert.deepEqual(parseProxyURL("https://u:p@[::1]:8443"), { protocol: "https", host: "::1", port: 8443, username: "u", password: "p" });
  });

  test("refusals", () => {
    for (const bad of ["ftp://h:1", "h:1", "socks5://", "socks5://h:0", "socks5://h:65536", "http://h/path", "http://h?q", "http://h#f", "socks5://[::1", "http://u:%ff@h"]) {
      assert.throws(() => parseProxyURL(bad), TypeError, bad);
    }
    assert.throws(() => parseProxyURL(`socks5://${"a".repeat(3000)}`), TypeError);
    assert.throws(() => parseProxyURL(42 as unknown as string), TypeError);
  });

  test("messages never carry the password", () => {
    try {
      parseProxyURL("http://user:hunter2@h/x");
      assert.fail("no error");
    } catch (err) {
      assert.ok(!(err as Error).message.includes("hunter2"));
    }
    assert.equal(formatProxy(parseProxyURL("socks5://u:hunter2@[::1]:5")), "socks5://u:***@[::1]:5");
  });

  test("toProxyConfig checks objects", () => {
    assert.equal(toProxyConfig({ protocol: "socks5", host: "h", port: 1 }).port, 1);
    assert.throws(() => toProxyConfig({ protocol: "gopher" as "http", host: "h", port: 1 }), TypeError);
    assert.throws(() => toProxyConfig({ protocol: "http", host: "", port: 1 }), TypeError);
    assert.throws(() => toProxyConfig({ protocol: "http", host: "h", port: 1.5 }), RangeError);
    assert.throws(() => toProxyConfig(null as unknown as string), TypeError);
    assert.equal(toProxyConfig({ protocol: "https", host: "h", port: 1, tls: { servername: "p" } }).tls?.servername, "p");
    assert.throws(() => toProxyConfig({ protocol: "https", host: "h", port: 1, tls: [] as never }), TypeError);
    assert.throws(() => toProxyConfig({ protocol: "socks5", host: "h", port: 1, tls: {} }), TypeError);
  });

  test("property: any string parses to a config or throws TypeError", () => {
    fc.assert(
      fc.property(fc.constantFrom("http://", "https://", "socks5://", "socks4a://", ""), fc.string({ maxLength: 60 }), (scheme, rest) => {
        try {
          const c = parseProxyURL(scheme + rest);
          assert.ok(c.port >= 1 && c.port <= 65535 && c.host !== "");
        } catch (err) {
          assert.ok(err instanceof TypeError, String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("NO_PROXY and the proxy environment", () => {
  test("noProxyMatches: names, suffixes, leading dot and star, ports, IPs, *", () => {
    const cases: Array<[string, string, number, boolean]> = [
      ["example.com", "example.com", 80, true],
      ["example.com", "api.example.com", 80, true],
      ["example.com", "badexample.com", 80, false],
      [".example.com", "example.com", 80, true],
      [".example.com", "a.b.example.com", 80, true],
      ["*.example.com", "a.example.com", 80, true],
      ["EXAMPLE.com.", "Api.Example.COM.", 80, true],
      ["example.com:8080", "example.com", 8080, true],
      ["example.com:8080", "example.com", 80, false],
      ["127.0.0.1", "127.0.0.1", 1, true],
      ["127.0.0.1", "127.0.0.10", 1, false],
      ["::1", "::1", 1, true],
      ["[::1]", "::1", 1, true],
      ["[::1]:443", "::1", 443, true],
      ["[::1]:443", "::1", 80, false],
      ["*", "anything.at.all", 1, true],
      ["a.com, b.com  c.com", "x.c.com", 1, true],
      ["", "a.com", 1, false],
      [",,, ", "a.com", 1, false],
      ["host:notaport", "host", 1, false],
    ];
    for (const [list, host, port, expected] of cases) assert.equal(noProxyMatches(list, host, port), expected, `${list} vs ${host}:${port}`);
  });

  test("proxyForTarget: lowercase wins, HTTPS_PROXY for TLS targets, ALL_PROXY fallback, empty is unset, no scheme is http", () => {
    const make = (vars: Record<string, string>) => (name: string) => vars[name];
    assert.equal(proxyForTarget(make({ http_proxy: "http://a:1", HTTP_PROXY: "http://b:2" }), "x", 80, false)?.host, "a");
    assert.equal(proxyForTarget(make({ HTTP_PROXY: "http://b:2" }), "x", 80, false)?.host, "b");
    assert.equal(proxyForTarget(make({ http_proxy: "", HTTP_PROXY: "http://b:2" }), "x", 80, false)?.host, "b");
    assert.equal(proxyForTarget(make({ HTTPS_PROXY: "socks5h://s:3", HTTP_PROXY: "http://b:2" }), "x", 443, true)?.protocol, "socks5h");
    assert.equal(proxyForTarget(make({ HTTP_PROXY: "http://b:2" }), "x", 443, true), null);
    assert.equal(proxyForTarget(make({ ALL_PROXY: "socks4://c:4" }), "x", 443, true)?.host, "c");
    assert.deepEqual(proxyForTarget(make({ all_proxy: "proxy.local:3128" }), "x", 1, false), { protocol: "http", host: "proxy.local", port: 3128 });
    assert.equal(proxyForTarget(make({ ALL_PROXY: "socks5://c:4", NO_PROXY: "x" }), "x", 1, false), null);
    assert.equal(proxyForTarget(make({ ALL_PROXY: "socks5://c:4", no_proxy: "*" }), "y", 1, false), null);
    assert.equal(proxyForTarget(make({}), "x", 1, false), null);
    assert.throws(() => proxyForTarget(make({ ALL_PROXY: "gopher://c:4" }), "x", 1, false), TypeError);
  });

  test("chooseProxy, proxyLocalResolution and makeProxyHandshake", () => {
    assert.equal(chooseProxy("env", "x", 1, false, () => undefined), null);
    const socks4 = chooseProxy("socks4://127.0.0.1:1", "x", 1, false)!;
    assert.equal(proxyLocalResolution(socks4, "example.com"), "ipv4");
    assert.equal(proxyLocalResolution(socks4, "10.0.0.1"), null);
    assert.equal(proxyLocalResolution(parseProxyURL("socks5://h"), "example.com"), "any");
    assert.equal(proxyLocalResolution(parseProxyURL("socks5://h"), "::1"), null);
    assert.equal(proxyLocalResolution(parseProxyURL("socks5h://h"), "example.com"), null);
    assert.equal(proxyLocalResolution(parseProxyURL("socks4a://h"), "example.com"), null);
    assert.equal(proxyLocalResolution(parseProxyURL("http://h"), "example.com"), null);
    assert.deepEqual([...makeProxyHandshake(parseProxyURL("socks4://bob@h"), { host: "10.0.0.1", port: 80 }).takeOutput()!], [4, 1, 0, 80, 10, 0, 0, 1, 98, 111, 98, 0]);
    assert.deepEqual([...makeProxyHandshake(parseProxyURL("socks5h://u:p@h"), { host: "a", port: 80 }).takeOutput()!], [5, 2, 0, 2]);
    const connect = new TextDecoder().decode(makeProxyHandshake(parseProxyURL("http://u:p@h"), { host: "a", port: 80 }).takeOutput()!);
    assert.match(connect, /^CONNECT a:80 HTTP\/1\.1\r\nHost: a:80\r\nProxy-Authorization: Basic dTpw\r\n\r\n$/);
  });
});
