// serveStatic against hostile paths and ranges over real sockets.
// - `/a.txt/` (a file's path with a final "/") answered the file: it names
//   a directory that does not exist, and relative links in the file would
//   resolve under it; now 404.
// - Range bounds past 2^53 (`bytes=0-99999999999999999999`) made the
//   whole Range ignored (200 with the whole file); RFC 9110 §14.1.2 reads
//   a last-pos past the end as the end, a longer suffix as the whole file
//   and a first-pos past the end as 416, whatever the number of digits.
// - The traversal forms (encoded and double-encoded dots, encoded slashes
//   and backslashes, NUL, a symbolic link out of the root) stay refused.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseByteRange, serve, serveStatic, type Server } from "../http/server/mod.ts";
import { rawExchangeText } from "./raw_exchange.ts";

let dir = "";
let server: Server;

/** Sends one raw request, returns status and body once the server closes. */
async function get(path: string, extra = ""): Promise<{ status: number; head: string; body: string }> {
  const out = await rawExchangeText(server.addr.port, `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n${extra}\r\n`);
  const split = out.indexOf("\r\n\r\n");
  return { status: Number(out.slice(9, 12)), head: out.slice(0, split), body: out.slice(split + 4) };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "ffinet-hostile-static-"));
  const root = join(dir, "root");
  mkdirSync(join(root, "sub"), { recursive: true });
  writeFileSync(join(root, "a.txt"), "0123456789");
  writeFileSync(join(root, "sub", "b.txt"), "b");
  writeFileSync(join(dir, "secret.txt"), "secret");
  symlinkSync(join(dir, "secret.txt"), join(root, "link.txt"));
  server = serve({ port: 0, http2: false, fetch: serveStatic(root, { prefix: "/s/" }) });
});

after(async () => {
  await server.shutdown({ deadlineMs: 200 });
  rmSync(dir, { recursive: true, force: true });
});

describe("serveStatic: hostile paths", () => {
  test("a file's path with a final slash is 404; without it the file", async () => {
    assert.equal((await get("/s/a.txt/")).status, 404);
    assert.equal((await get("/s/sub/b.txt/")).status, 404);
    const ok = await get("/s/a.txt");
    assert.equal(ok.status, 200);
    assert.equal(ok.body, "0123456789");
    assert.equal((await get("/s/sub/b.txt")).body, "b");
  });

  test("traversal forms never reach the file outside the root", async () => {
    const forms = [
      "/s/../secret.txt", "/s/%2e%2e/secret.txt", "/s/.%2e/secret.txt", "/s/%2E%2E/secret.txt",
      "/s/%252e%252e/secret.txt", "/s/..%2fsecret.txt", "/s/..%5csecret.txt", "/s/sub/..%5c..%5csecret.txt",
      "/s/sub/%2e%2e/%2e%2e/secret.txt", "/s/sub%2f..%2f..%2fsecret.txt", "/s/link.txt", "/s/a.txt%00.png",
      "/s/%c0%ae%c0%ae/secret.txt", "/s//../secret.txt",
    ];
    for (const path of forms) {
      const r = await get(path);
      assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
      assert.ok(!r.body.includes("secret"), `${path} leaked the file outside the root`);
    }
  });
});

describe("serveStatic: Range bounds of any length (RFC 9110 §14.1.2)", () => {
  test("parseByteRange", () => {
    assert.deepEqual(parseByteRange("bytes=0-99999999999999999999", 10), { start: 0, end: 9 });
    assert.deepEqual(parseByteRange("bytes=5-99999999999999999999999999999999", 10), { start: 5, end: 9 });
    assert.deepEqual(parseByteRange("bytes=-99999999999999999999", 10), { start: 0, end: 9 });
    assert.equal(parseByteRange("bytes=99999999999999999999-", 10), "unsatisfiable");
    assert.equal(parseByteRange("bytes=99999999999999999999-99999999999999999999", 10), "unsatisfiable");
    assert.deepEqual(parseByteRange("bytes=00000000000000000000003-4", 10), { start: 3, end: 4 });
    assert.equal(parseByteRange("bytes=5-4", 10), undefined);
  });

  test("over the wire: 206 to the end, 416 past it", async () => {
    const tail = await get("/s/a.txt", "Range: bytes=7-99999999999999999999\r\n");
    assert.equal(tail.status, 206);
    assert.equal(tail.body, "789");
    assert.match(tail.head, /content-range: bytes 7-9\/10/i);
    const past = await get("/s/a.txt", "Range: bytes=99999999999999999999-\r\n");
    assert.equal(past.status, 416);
    assert.match(past.head, /content-range: bytes \*\/10/i);
  });
});
