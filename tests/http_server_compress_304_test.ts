// compression() and conditional requests (RFC 9110 §8.8.3, §13.1.2,
// §15.4.5): a 304 carries the ETag and Vary the 200 it stands for carried,
// for each variant the client may hold (encoded: W/ tag; identity: the
// strong tag), with serveStatic and a handler of our own behind it, and
// curl as the client.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compression, serve, serveStatic, type Server } from "../http/server/mod.ts";

const TEXT = "The quick brown fox jumps over the lazy dog. ".repeat(200); // 9000 bytes

let dir = "";
let server: Server;
let base = "";

/** The status and fields (lower-case names) curl saw for one request. */
function head(path: string, fields: string[] = []): Promise<{ status: number; h: Map<string, string> }> {
  const args = ["-sS", "--max-time", "10", "-D", "-", "-o", "/dev/null"];
  for (const f of fields) args.push("-H", f);
  args.push(`${base}${path}`);
  return new Promise((resolve, reject) => {
    execFile("curl", args, { encoding: "latin1" }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl ${args.join(" ")}: ${err.message}\n${stderr}`));
      const lines = stdout.split("\r\n");
      const h = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const at = line.indexOf(":");
        if (at > 0) h.set(line.slice(0, at).toLowerCase(), line.slice(at + 1).trim());
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1]), h });
    });
  });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "ffinet-compress304-"));
  writeFileSync(join(dir, "big.txt"), TEXT);
  writeFileSync(join(dir, "small.txt"), "tiny\n");
  writeFileSync(join(dir, "pic.png"), new Uint8Array(4096));
  server = serve({
    port: 0,
    middleware: [compression({ encodings: ["gzip"] }), serveStatic(dir)],
    fetch: (request) => {
      // A handler of our own: strong tag "v1", If-None-Match compared weakly (§13.1.2).
      const inm = request.headers.get("if-none-match") ?? "";
      if (/(?:^|,)\s*(?:W\/)?"v1"\s*(?:,|$)/.test(inm)) return new Response(null, { status: 304, headers: { etag: '"v1"' } });
      return new Response(TEXT, { headers: { etag: '"v1"', "content-type": "text/plain" } });
    },
  });
  base = `http://127.0.0.1:${server.addr.port}`;
});

after(async () => {
  await server.shutdown({ deadlineMs: 1000 });
  rmSync(dir, { recursive: true, force: true });
});

describe("compression and 304", () => {
  for (const path of ["/big.txt", "/own"]) {
    test(`${path}: the encoded variant's W/ tag is answered 304 with that tag and Vary`, async () => {
      const first = await head(path, ["accept-encoding: gzip"]);
      assert.equal(first.status, 200);
      assert.equal(first.h.get("content-encoding"), "gzip");
      const tag = first.h.get("etag")!;
      assert.match(tag, /^W\/"/);
      assert.equal(first.h.get("vary"), "Accept-Encoding");
      const again = await head(path, ["accept-encoding: gzip", `if-none-match: ${tag}`]);
      assert.equal(again.status, 304);
      assert.equal(again.h.get("etag"), tag);
      assert.equal(again.h.get("vary"), "Accept-Encoding");
      // Revalidated by date only (no tag named): the tag of the encoded 200.
      if (path === "/big.txt") {
        const byDate = await head(path, ["accept-encoding: gzip", `if-modified-since: ${first.h.get("last-modified")}`]);
        assert.equal(byDate.status, 304);
        assert.equal(byDate.h.get("etag"), tag);
      }
      // If-Match compares strongly: the encoded variant's weak tag fails it.
      if (path === "/big.txt") assert.equal((await head(path, ["accept-encoding: gzip", `if-match: ${tag}`])).status, 412);
    });

    test(`${path}: the identity variant's strong tag is answered 304 with that tag, with and without Accept-Encoding`, async () => {
      const first = await head(path);
      assert.equal(first.status, 200);
      assert.equal(first.h.get("content-encoding"), undefined);
      const tag = first.h.get("etag")!;
      assert.match(tag, /^"/);
      assert.equal(first.h.get("vary"), "Accept-Encoding");
      for (const fields of [[], ["accept-encoding: gzip"]]) {
        const again = await head(path, [...fields, `if-none-match: ${tag}`]);
        assert.equal(again.status, 304, fields.join());
        assert.equal(again.h.get("etag"), tag, fields.join());
        assert.equal(again.h.get("vary"), "Accept-Encoding");
      }
    });
  }

  test("a body under the threshold keeps its strong tag in the 200 and the 304", async () => {
    const first = await head("/small.txt", ["accept-encoding: gzip"]);
    assert.equal(first.status, 200);
    assert.equal(first.h.get("content-encoding"), undefined);
    const tag = first.h.get("etag")!;
    assert.match(tag, /^"/);
    const again = await head("/small.txt", ["accept-encoding: gzip", `if-none-match: ${tag}`]);
    assert.equal(again.status, 304);
    assert.equal(again.h.get("etag"), tag);
  });

  test("a client that accepts no coding we offer keeps the strong tag", async () => {
    const first = await head("/big.txt", ["accept-encoding: br"]);
    const tag = first.h.get("etag")!;
    assert.match(tag, /^"/);
    const again = await head("/big.txt", ["accept-encoding: br", `if-modified-since: ${first.h.get("last-modified")}`]);
    assert.equal(again.status, 304);
    assert.equal(again.h.get("etag"), tag);
  });
});
