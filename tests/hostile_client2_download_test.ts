// download(url, path) against a server that lies about ranges (client red
// team, second round): a 206 that was not asked for, a Content-Range that
// does not hold together (end before start, end past the total) or that
// its Content-Length or body contradicts, and a 206 for another version
// than If-Range (a changed ETag or Last-Modified) are each an HTTPError
// ERR_HTTP_RANGE, and nothing past the file's honest part is written; a 200
// with a changed ETag starts over; a path-traversal filename in
// Content-Disposition is never used (the file is the caller's path).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HTTPError } from "../core/errors.ts";
import { Agent, download } from "../http/client/mod.ts";
import { listenRawHTTP, type RawHTTPServer } from "./raw_http_server.ts";

let server: RawHTTPServer;
let port = 0;
let reply = "";
let dir = "";
const agent = new Agent();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ffinet-hostile-download-"));
  // Answers the first request head with `reply` and ends the connection.
  server = await listenRawHTTP((sock) => void sock.end(reply));
  port = server.port;
});

after(async () => {
  await agent.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const chunked = (...parts: string[]): string => parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join("") + "0\r\n\r\n";

/** [name, file before (null: none), the answer, download options] */
const LIES: Array<[string, string | null, string, { ifRange?: string }]> = [
  ["a 206 to a request without Range", null, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-9/10\r\nContent-Length: 5\r\n\r\n56789", {}],
  ["a Content-Range ending before it starts", "01234", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-2/10\r\nContent-Length: 5\r\n\r\n56789", {}],
  ["a Content-Range ending past its total", "01234", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-19/8\r\nContent-Length: 15\r\n\r\n567890123456789", {}],
  ["a Content-Length longer than the range", "01234", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-6/10\r\nContent-Length: 5\r\n\r\n56789", {}],
  ["a Content-Length shorter than the range", "01234", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-9/10\r\nContent-Length: 2\r\n\r\n56", {}],
  ["a chunked body longer than the range", "01234", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-6/10\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked("56789"), {}],
  ["a multipart/byteranges answer (no Content-Range)", "01234", "HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=x\r\nContent-Length: 5\r\n\r\n56789", {}],
  ["a changed ETag against If-Range", "01234", 'HTTP/1.1 206 Partial Content\r\nETag: "v2"\r\nContent-Range: bytes 5-9/10\r\nContent-Length: 5\r\n\r\nXXXXX', { ifRange: '"v1"' }],
  [
    "a changed Last-Modified against an If-Range date",
    "01234",
    "HTTP/1.1 206 Partial Content\r\nLast-Modified: Tue, 01 Dec 2026 00:00:00 GMT\r\nContent-Range: bytes 5-9/10\r\nContent-Length: 5\r\n\r\nXXXXX",
    { ifRange: "Mon, 30 Nov 2026 00:00:00 GMT" },
  ],
];

function rangeError(err: unknown): boolean {
  assert.ok(err instanceof HTTPError, String(err));
  assert.equal(err.code, "ERR_HTTP_RANGE", String(err));
  return true;
}

describe("download against a server that lies about ranges", () => {
  for (const [name, before, answer, options] of LIES) {
    test(`${name}: ERR_HTTP_RANGE, the file keeps only its honest part`, async () => {
      const path = join(dir, name.replace(/[^a-z0-9]+/gi, "_"));
      if (before !== null) writeFileSync(path, before);
      reply = answer;
      await assert.rejects(download(`http://127.0.0.1:${port}/f`, path, { dispatcher: agent, ...options }), rangeError);
      assert.equal(existsSync(path) ? readFileSync(path, "latin1") : "", before ?? "");
    });
  }

  test("a chunked body shorter than the range: ERR_HTTP_RANGE after the bytes that came (a later resume continues them)", async () => {
    const path = join(dir, "short_chunked");
    writeFileSync(path, "01234");
    reply = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-9/10\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked("56");
    await assert.rejects(download(`http://127.0.0.1:${port}/f`, path, { dispatcher: agent }), rangeError);
    assert.equal(readFileSync(path, "latin1"), "0123456");
    reply = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 7-9/10\r\nContent-Length: 3\r\n\r\n789";
    const r = await download(`http://127.0.0.1:${port}/f`, path, { dispatcher: agent });
    assert.deepEqual(r, { status: 206, bytes: 10, resumedFrom: 7, resumed: true });
    assert.equal(readFileSync(path, "latin1"), "0123456789");
  });

  test("an honest 206 with the If-Range ETag is appended; a 200 with a changed ETag starts over", async () => {
    const path = join(dir, "etag");
    writeFileSync(path, "01234");
    reply = 'HTTP/1.1 206 Partial Content\r\nETag: "v1"\r\nContent-Range: bytes 5-9/10\r\nContent-Length: 5\r\n\r\n56789';
    assert.deepEqual(await download(`http://127.0.0.1:${port}/f`, path, { dispatcher: agent, ifRange: '"v1"' }), { status: 206, bytes: 10, resumedFrom: 5, resumed: true });
    assert.equal(readFileSync(path, "latin1"), "0123456789");
    reply = 'HTTP/1.1 200 OK\r\nETag: "v2"\r\nContent-Length: 4\r\n\r\nABCD';
    assert.deepEqual(await download(`http://127.0.0.1:${port}/f`, path, { dispatcher: agent, ifRange: '"v1"' }), { status: 200, bytes: 4, resumedFrom: 0, resumed: false });
    assert.equal(readFileSync(path, "latin1"), "ABCD");
  });

  test("a Range the caller set (nothing resumed): its 206 is written as the file, and still held to its Content-Range", async () => {
    const path = join(dir, "caller_range");
    reply = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 2-4/10\r\nContent-Length: 3\r\n\r\n234";
    const r = await download(`http://127.0.0.1:${port}/f`, path, { dispatcher: agent, resume: false, headers: { range: "bytes=2-4" } });
    assert.deepEqual(r, { status: 206, bytes: 3, resumedFrom: 0, resumed: false });
    assert.equal(readFileSync(path, "latin1"), "234");
    reply = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 2-3/10\r\nContent-Length: 3\r\n\r\n234";
    await assert.rejects(download(`http://127.0.0.1:${port}/f`, path, { dispatcher: agent, resume: false, headers: { range: "bytes=2-4" } }), rangeError);
  });

  test("a path-traversal filename in Content-Disposition is ignored: the body goes to the caller's path only", async () => {
    const path = join(dir, "named_by_caller");
    const evil = join(dir, "evil.txt");
    reply = `HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename="../${"../".repeat(8)}${evil}"; filename*=UTF-8''..%2F..%2Fevil.txt\r\nContent-Length: 2\r\n\r\nok`;
    const r = await download(`http://127.0.0.1:${port}/f`, path, { dispatcher: agent, resume: false });
    assert.equal(r.bytes, 2);
    assert.equal(readFileSync(path, "latin1"), "ok");
    assert.equal(existsSync(evil), false);
    assert.equal(existsSync(join(dir, "..", "evil.txt")), false);
  });
});
