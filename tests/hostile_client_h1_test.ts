// The HTTP/1.1 client (request, fetch) against a hostile server on a raw
// socket: a status line, header section or framing a strict parser refuses
// ends the request with a typed error and a stable code (NetError
// subclasses; fetch's TypeError carries it as its cause), and redirects to
// other schemes or without end are refused; the agent goes on afterwards.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { NetError } from "../core/errors.ts";
import { Agent, fetch, request } from "../http/client/mod.ts";
import { listenRawHTTP, type RawHTTPServer } from "./raw_http_server.ts";

const CASES: Array<[string, string, string]> = [
  ["a four-digit status", "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok", "HPE_INVALID_STATUS"],
  ["a two-digit status", "HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok", "HPE_INVALID_STATUS"],
  ["a signed status", "HTTP/1.1 +20 OK\r\nContent-Length: 2\r\n\r\nok", "HPE_INVALID_STATUS"],
  ["an HTTP/0.9 answer", "hello world\n", "HPE_INVALID_VERSION"],
  ["HTTP/2.0 in a status line", "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "HPE_INVALID_VERSION"],
  ["binary garbage", "\x00\x01\x02garbage\r\n\r\n", "HPE_INVALID_VERSION"],
  // Other folds are joined (RFC 9112 §5.2, a user agent): tests/conformance/client_h1 9112/5.2/1.
  ["obs-fold continuing Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n 2\r\n\r\nok", "HPE_OBS_FOLD"],
  ["NUL in a field value", "HTTP/1.1 200 OK\r\nX-A: b\x00c\r\nContent-Length: 2\r\n\r\nok", "HPE_INVALID_HEADER_VALUE"],
  ["a bare CR", "HTTP/1.1 200 OK\r\nX-A: b\rc\r\nContent-Length: 2\r\n\r\nok", "HPE_LF_EXPECTED"],
  ["a space before the colon", "HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 2\r\n\r\nok", "HPE_INVALID_HEADER_TOKEN"],
  ["20,000 header fields", "HTTP/1.1 200 OK\r\n" + "X-A: b\r\n".repeat(20_000) + "Content-Length: 2\r\n\r\nok", "HPE_TOO_MANY_HEADERS"],
  ["a 2 MB field", "HTTP/1.1 200 OK\r\nX-A: " + "a".repeat(2_000_000) + "\r\nContent-Length: 2\r\n\r\nok", "HPE_FIELD_TOO_LARGE"],
  ["Transfer-Encoding with Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "HPE_UNEXPECTED_CONTENT_LENGTH"],
  ["two different Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 2\r\n\r\nok", "HPE_INVALID_CONTENT_LENGTH"],
  ["a negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok", "HPE_INVALID_CONTENT_LENGTH"],
  ["a Content-Length past 2^53", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nok", "HPE_INVALID_CONTENT_LENGTH"],
  ["a Content-Length larger than what comes before the close", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nok", "HPE_INVALID_EOF_STATE"],
  ["a chunk size that is not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n", "HPE_INVALID_CHUNK_SIZE"],
  ["a chunk size past 2^64", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nok\r\n0\r\n\r\n", "HPE_INVALID_CHUNK_SIZE"],
  ["chunk data without its CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n", "HPE_INVALID_CHUNK_DATA"],
  ["a 3 MB chunk extension", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;" + "a".repeat(3_000_000) + "\r\nok\r\n0\r\n\r\n", "HPE_CHUNK_EXTENSIONS_TOO_LARGE"],
  // Only chunked is undone: the body would reach the caller still gzip-coded, as if it were the content.
  ["Transfer-Encoding: gzip, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ERR_HTTP_UNSUPPORTED_TRANSFER_CODING"],
  ["Transfer-Encoding: gzip over two lines", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ERR_HTTP_UNSUPPORTED_TRANSFER_CODING"],
  ["Transfer-Encoding: gzip alone (read until close)", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok", "ERR_HTTP_UNSUPPORTED_TRANSFER_CODING"],
  ["a 101 that was not asked for", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n", "ERR_HTTP_UNEXPECTED_UPGRADE"],
];

const REDIRECTS: Array<[string, string, string]> = [
  ["to file:", "file:///etc/passwd", "ERR_HTTP_REDIRECT_LOCATION"],
  ["to data:", "data:text/plain,hi", "ERR_HTTP_REDIRECT_LOCATION"],
  ["to javascript:", "javascript:alert(1)", "ERR_HTTP_REDIRECT_LOCATION"],
  ["to an unparsable URL", "http://[::1", "ERR_HTTP_REDIRECT_LOCATION"],
  ["to itself, for ever", "/loop", "ERR_HTTP_TOO_MANY_REDIRECTS"],
];

let server: RawHTTPServer;
let port = 0;
let reply = "";
/** Answers by request path, before `reply`. */
const byPath = new Map<string, string>();
const agent = new Agent();

before(async () => {
  // Answers the first request head (by its path, else with `reply`) and ends the connection.
  server = await listenRawHTTP((sock, head) => void sock.end(byPath.get(head.split(" ", 2)[1] ?? "") ?? reply));
  port = server.port;
});

after(async () => {
  await agent.close();
  await server.close();
});

function hasCode(code: string): (err: unknown) => boolean {
  return (err: unknown) => {
    const e = err instanceof TypeError && (err as Error).cause !== undefined ? (err as Error).cause : err;
    assert.ok(e instanceof NetError, String(err));
    assert.equal(e.code, code, String(e));
    return true;
  };
}

async function stillWorks(): Promise<void> {
  reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  const res = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
  assert.equal(await res.body.text(), "ok");
}

describe("HTTP/1.1 client against a hostile server", () => {
  for (const [name, answer, code] of CASES) {
    test(`${name}: ${code}`, async () => {
      reply = answer;
      await assert.rejects(
        (async () => {
          const res = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
          await res.body.arrayBuffer();
        })(),
        hasCode(code),
      );
      reply = answer;
      await assert.rejects(
        (async () => {
          const res = await fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent });
          await res.arrayBuffer();
        })(),
        hasCode(code),
      );
      await stillWorks();
    });
  }

  test("a status line without a reason phrase is fine", async () => {
    reply = "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok";
    const res = await fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent });
    assert.equal(res.status, 200);
    assert.equal(res.statusText, "");
    assert.equal(await res.text(), "ok");
  });

  test("fetch: a redirect with two differing Location fields is ERR_HTTP_REDIRECT_LOCATION, not their comma join; identical ones are one", async () => {
    reply = "HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n";
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent }), hasCode("ERR_HTTP_REDIRECT_LOCATION"));
    reply = "HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n";
    const manual = await fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent, redirect: "manual" });
    assert.equal(manual.status, 302);
    await manual.arrayBuffer();
    // Repeats of one value are followed once.
    reply = "HTTP/1.1 302 Found\r\nLocation: /same\r\nLocation: /same\r\nContent-Length: 0\r\n\r\n";
    byPath.set("/same", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent });
      assert.equal(new URL(res.url).pathname, "/same");
      assert.equal(await res.text(), "ok");
    } finally {
      byPath.clear();
    }
    await stillWorks();
  });

  for (const [name, location, code] of REDIRECTS) {
    test(`fetch: a redirect ${name}: ${code}`, async () => {
      reply = `HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`;
      await assert.rejects(fetch(`http://127.0.0.1:${port}/loop`, { dispatcher: agent }), hasCode(code));
      await stillWorks();
    });
  }
});
