// request.url as the runtime's own Request would report it: the WHATWG URL
// parser's spelling of the request's scheme, host and target (a lower-case
// host without its default port, dot segments removed, plain or
// percent-encoded, characters it percent-encodes encoded), through
// requestUrl and through serve over HTTP/1.1 and HTTP/2, so middleware that
// matches request.url as a string sees `/public/../admin` as `/admin`.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import http2 from "node:http2";
import fc from "fast-check";
import { requestUrl } from "./request_url.ts";
import { serve } from "./serve.ts";
import { rawExchangeText } from "../../tests/raw_exchange.ts";

const segment = fc.constantFrom("a", "B", ".", "..", "%2e", "%2E%2e", ".a", "a.", "x y", "q\"", "<>", "`{}", "'", "%41", "~", "a:b", "@", "!$&()*+,;=");
const path = fc.array(segment, { maxLength: 6 }).chain((parts) =>
  fc.record({
    trailing: fc.boolean(),
    query: fc.option(fc.array(segment, { maxLength: 3 }).map((q) => q.join("&")), { nil: undefined }),
  }).map(({ trailing, query }) => `/${parts.join("/")}${trailing ? "/" : ""}${query === undefined ? "" : `?${query}`}`)
);
const authority = fc.constantFrom("a.example", "A.Example", "a.example:80", "a.example:443", "a.example:8080", "127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:443", "localhost:3000", "xn--bcher-kva.example");

describe("requestUrl", () => {
  test("property: the URL parser's href for every host, path and query", () => {
    fc.assert(
      fc.property(fc.constantFrom("http://" as const, "https://" as const), authority, path, (origin, host, rest) => {
        assert.equal(requestUrl(origin, host, rest), new URL(`${origin}${host}${rest}`).href);
      }),
      { numRuns: 2000 },
    );
  });

  test("a target without a path (absolute-form `http://b?q`) gets the root", () => {
    assert.equal(requestUrl("http://", "b", "?q=1"), "http://b/?q=1");
    assert.equal(requestUrl("http://", "B:80", ""), "http://b/");
  });
});

describe("serve: request.url is the URL parser's spelling", () => {
  const cases: Array<[string, string, string]> = [
    ["dot segments", "GET /public/../admin HTTP/1.1\r\nHost: a\r\n", "http://a/admin"],
    ["percent-encoded dot segments", "GET /public/%2e%2E/admin HTTP/1.1\r\nHost: a\r\n", "http://a/admin"],
    ["a single dot", "GET /a/./b HTTP/1.1\r\nHost: a\r\n", "http://a/a/b"],
    ["an upper-case Host with its default port", "GET /x HTTP/1.1\r\nHost: A.Example:80\r\n", "http://a.example/x"],
    ["absolute-form without a path", "GET http://b?q=1 HTTP/1.1\r\nHost: b\r\n", "http://b/?q=1"],
    ["absolute-form, upper-case scheme and host, default port", "GET HTTP://B:80/x/../y HTTP/1.1\r\nHost: b\r\n", "http://b/y"],
    ["a quote the URL parser percent-encodes in a query", "GET /a?c='d' HTTP/1.1\r\nHost: a\r\n", "http://a/a?c=%27d%27"],
    ["a plain request stays as it is", "GET /a/b.txt?x=1 HTTP/1.1\r\nHost: a:8080\r\n", "http://a:8080/a/b.txt?x=1"],
  ];

  test("over HTTP/1.1", async () => {
    const server = serve({ port: 0, host: "127.0.0.1", http2: false, fetch: (request) => new Response(request.url) });
    try {
      for (const [name, head, expected] of cases) {
        const reply = await rawExchangeText(server.addr.port, `${head}Connection: close\r\n\r\n`);
        assert.match(reply, /^HTTP\/1\.1 200 /, name);
        assert.equal(reply.slice(reply.indexOf("\r\n\r\n") + 4), expected, name);
        assert.equal(new Request(expected).url, expected, name);
      }
    } finally {
      await server.shutdown({ deadlineMs: 200 });
    }
  });

  test("over HTTP/2 (h2c)", async () => {
    const server = serve({ port: 0, host: "127.0.0.1", fetch: (request) => new Response(request.url) });
    const client = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    client.on("error", () => {});
    const get = (authority: string, path: string) =>
      new Promise<string>((resolve, reject) => {
        const req = client.request({ ":path": path, ":authority": authority });
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (d: string) => (body += d));
        req.on("error", reject);
        req.on("end", () => resolve(body));
        req.end();
      });
    try {
      assert.equal(await get("a", "/public/../admin"), "http://a/admin");
      assert.equal(await get("a", "/p/%2e%2e/admin?x"), "http://a/admin?x");
      assert.equal(await get("A.Example:80", "/x"), "http://a.example/x");
      assert.equal(await get("a:8080", "/a/b.txt?x=1"), "http://a:8080/a/b.txt?x=1");
    } finally {
      client.close();
      await server.shutdown({ deadlineMs: 200 });
    }
  });
});
