// serveStatic over serve(): validators and conditional requests (304, 412),
// ranges (206, 416, several ranges and a stale If-Range answered whole),
// MIME types, precompressed .br/.gz siblings by Accept-Encoding, index.html
// and the directory redirect, HEAD, a large file streamed, fallthrough as a
// middleware, HTTP/2; and traversal refused (.., %2e%2e, encoded slashes and
// backslashes, a symbolic link out of the root, NUL, dotfiles) without the
// answer saying anything about the file system. Clients: raw sockets, curl
// (--path-as-is, --compressed), the runtime's fetch and node:http2.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { compose, contentTypeFor, isCompressibleType, type Middleware, parseByteRange, serve, serveStatic, type Server } from "../http/server/mod.ts";

const HELLO = "hello, static world\n";
const SECRET = "TOP-SECRET-OUTSIDE-THE-ROOT";
const JS = `export const greeting = ${JSON.stringify("hi ".repeat(500))};\n`;
const BIG = new Uint8Array(3 * 1024 * 1024 + 123);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 7 + (i >> 11)) & 0xff;
const MTIME = new Date("2024-05-06T07:08:09Z");

let dir = "";
let root = "";
let server: Server;
let base = "";

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "--max-time", "10", ...args], { encoding: "latin1", maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`curl ${args.join(" ")}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Sends one raw request (Connection: close) and returns everything the server wrote. */
function raw(target: string, method = "GET"): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.addr.port, "127.0.0.1");
    let text = "";
    const bound = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer to ${target}`));
    }, 10_000);
    sock.on("connect", () => sock.write(`${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    sock.on("data", (d: Buffer) => (text += d.toString("latin1")));
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(bound);
      resolve(text);
    });
  });
}

function status(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
}

function header(text: string, name: string): string | undefined {
  const head = text.slice(0, text.indexOf("\r\n\r\n") + 2);
  return new RegExp(`\r\n${name}: ([^\r]*)\r\n`, "i").exec(head)?.[1];
}

function bodyOf(text: string): string {
  return text.slice(text.indexOf("\r\n\r\n") + 4);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "ffinet-static-"));
  root = join(dir, "root");
  mkdirSync(join(root, "sub"), { recursive: true });
  mkdirSync(join(dir, "outside"));
  writeFileSync(join(dir, "outside", "secret.txt"), SECRET);
  writeFileSync(join(root, "index.html"), "<h1>home</h1>");
  writeFileSync(join(root, "hello.txt"), HELLO);
  writeFileSync(join(root, "sub", "index.html"), "<h1>sub</h1>");
  writeFileSync(join(root, "data.json"), '{"a":1}');
  writeFileSync(join(root, "image.png"), new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
  writeFileSync(join(root, "noext"), "x");
  writeFileSync(join(root, ".secret"), SECRET);
  writeFileSync(join(root, "app.js"), JS);
  writeFileSync(join(root, "app.js.br"), brotliCompressSync(JS));
  writeFileSync(join(root, "app.js.gz"), gzipSync(JS));
  writeFileSync(join(root, "only-gz.css"), "body{}".repeat(100));
  writeFileSync(join(root, "only-gz.css.gz"), gzipSync("body{}".repeat(100)));
  writeFileSync(join(root, "big.bin"), BIG);
  symlinkSync(join(dir, "outside", "secret.txt"), join(root, "link-out.txt"));
  symlinkSync(join(dir, "outside"), join(root, "dir-out"));
  symlinkSync(join(root, "hello.txt"), join(root, "link-in.txt"));
  utimesSync(join(root, "hello.txt"), MTIME, MTIME);
  const fallback: Middleware = (request) => new Response(`app ${request.method} ${new URL(request.url).pathname}`, { headers: { "x-app": "1" } });
  server = serve({
    port: 0,
    fetch: (request) => new Response(`unreached ${request.url}`, { status: 500 }),
    middleware: [
      serveStatic(join(root, "sub"), { prefix: "/mounted", maxAge: 60, immutable: true }),
      serveStatic(root, { headers: { "x-static": "1" } }),
      compose(fallback),
    ],
  });
  base = `http://127.0.0.1:${server.addr.port}`;
});

after(async () => {
  await server.shutdown({ deadlineMs: 1000 });
  rmSync(dir, { recursive: true, force: true });
});

describe("serveStatic: files, types, validators", () => {
  test("GET a file: body, type, ETag, Last-Modified, Accept-Ranges, Vary (runtime fetch)", async () => {
    const response = await fetch(`${base}/hello.txt`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), HELLO);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(response.headers.get("last-modified"), MTIME.toUTCString());
    assert.match(response.headers.get("etag")!, /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(response.headers.get("accept-ranges"), "bytes");
    assert.equal(response.headers.get("vary"), "Accept-Encoding");
    assert.equal(response.headers.get("x-static"), "1");
    for (const [path, type] of [["/data.json", "application/json"], ["/image.png", "image/png"], ["/noext", "application/octet-stream"], ["/index.html", "text/html; charset=utf-8"]] as const) {
      const r = await fetch(`${base}${path}`);
      await r.arrayBuffer();
      assert.equal(r.headers.get("content-type"), type, path);
    }
  });

  test("304 for If-None-Match (strong, weak, *, in a list) and If-Modified-Since; If-None-Match wins over If-Modified-Since", async () => {
    const first = await fetch(`${base}/hello.txt`);
    await first.text();
    const etag = first.headers.get("etag")!;
    const lm = first.headers.get("last-modified")!;
    for (const headers of [{ "if-none-match": etag }, { "if-none-match": `W/${etag}` }, { "if-none-match": `"nope", ${etag}` }, { "if-none-match": "*" }, { "if-modified-since": lm }, { "if-modified-since": new Date(MTIME.getTime() + 5000).toUTCString() }]) {
      const r = await fetch(`${base}/hello.txt`, { headers });
      assert.equal(r.status, 304, JSON.stringify(headers));
      assert.equal(await r.text(), "");
      assert.equal(r.headers.get("etag"), etag);
    }
    for (const headers of [{ "if-none-match": '"other"', "if-modified-since": lm }, { "if-modified-since": new Date(MTIME.getTime() - 5000).toUTCString() }, { "if-modified-since": "not a date" }]) {
      const r = await fetch(`${base}/hello.txt`, { headers });
      assert.equal(r.status, 200, JSON.stringify(headers));
      assert.equal(await r.text(), HELLO);
    }
    const raw304 = await raw("/hello.txt", "GET").then(() => curl(["-i", "-H", `if-none-match: ${etag}`, `${base}/hello.txt`]));
    assert.match(raw304, /^HTTP\/1\.1 304 /);
    assert.equal(bodyOf(raw304), "");
  });

  test("412 for a failed If-Match or If-Unmodified-Since", async () => {
    const etag = (await fetch(`${base}/hello.txt`).then(async (r) => (await r.text(), r.headers.get("etag"))))!;
    assert.equal((await fetch(`${base}/hello.txt`, { headers: { "if-match": '"other"' } }).then(async (r) => (await r.text(), r.status))), 412);
    assert.equal((await fetch(`${base}/hello.txt`, { headers: { "if-match": etag } }).then(async (r) => (await r.text(), r.status))), 200);
    assert.equal((await fetch(`${base}/hello.txt`, { headers: { "if-unmodified-since": new Date(MTIME.getTime() - 60_000).toUTCString() } }).then(async (r) => (await r.text(), r.status))), 412);
  });

  test("HEAD: the head a GET would get, Content-Length included, no body (curl -I, raw)", async () => {
    const head = await raw("/hello.txt", "HEAD");
    assert.equal(status(head), 200);
    assert.equal(header(head, "content-length"), String(HELLO.length));
    assert.equal(bodyOf(head), "");
    const big = await curl(["-I", `${base}/big.bin`]);
    assert.match(big, /^HTTP\/1\.1 200 /);
    assert.match(big, new RegExp(`\r\ncontent-length: ${BIG.length}\r\n`, "i"));
  });

  test("a large file streams whole with its length; a range inside it", async () => {
    const r = await fetch(`${base}/big.bin`);
    assert.equal(r.headers.get("content-length"), String(BIG.length));
    assert.deepEqual(new Uint8Array(await r.arrayBuffer()), BIG);
    const part = await fetch(`${base}/big.bin`, { headers: { range: "bytes=1000000-2500000" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 1000000-2500000/${BIG.length}`);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), BIG.subarray(1000000, 2500001));
  });

  test("directories: index.html; /sub redirects to /sub/; a mounted prefix with Cache-Control", async () => {
    assert.equal(await fetch(`${base}/`).then((r) => r.text()), "<h1>home</h1>");
    const redirect = await raw("/sub?x=1");
    assert.equal(status(redirect), 301);
    assert.equal(header(redirect, "location"), "/sub/?x=1");
    assert.equal(await fetch(`${base}/sub/`).then((r) => r.text()), "<h1>sub</h1>");
    const mounted = await fetch(`${base}/mounted/index.html`);
    assert.equal(await mounted.text(), "<h1>sub</h1>");
    assert.equal(mounted.headers.get("cache-control"), "public, max-age=60, immutable");
  });

  test("as a middleware: what it does not serve goes on (unknown paths, POST)", async () => {
    const missing = await fetch(`${base}/no/such/file`);
    assert.equal(await missing.text(), "app GET /no/such/file");
    const post = await fetch(`${base}/hello.txt`, { method: "POST", body: "x" });
    assert.equal(await post.text(), "app POST /hello.txt");
  });

  test("as the whole handler: 404 and 405 plain pages", async () => {
    const s = serve({ port: 0, fetch: serveStatic(root) });
    try {
      const r = await fetch(`http://127.0.0.1:${s.addr.port}/missing.txt`);
      assert.equal(r.status, 404);
      assert.equal(await r.text(), "Not Found");
      const p = await fetch(`http://127.0.0.1:${s.addr.port}/hello.txt`, { method: "DELETE" });
      assert.equal(p.status, 405);
      assert.equal(p.headers.get("allow"), "GET, HEAD");
      await p.text();
    } finally {
      await s.shutdown({ deadlineMs: 1000 });
    }
  });
});

describe("MIME types", () => {
  test("contentTypeFor: case-insensitive extensions, dotfiles and unknown ones are octet-stream, extra table first", () => {
    assert.equal(contentTypeFor("/a/b/INDEX.HTML"), "text/html; charset=utf-8");
    assert.equal(contentTypeFor("app.mjs"), "text/javascript; charset=utf-8");
    assert.equal(contentTypeFor("font.woff2"), "font/woff2");
    assert.equal(contentTypeFor("/dir.v2/file"), "application/octet-stream");
    assert.equal(contentTypeFor(".bashrc"), "application/octet-stream");
    assert.equal(contentTypeFor("x.toString"), "application/octet-stream"); // no prototype lookups
    assert.equal(contentTypeFor("model.glb", { glb: "model/gltf-binary" }), "model/gltf-binary");
    assert.equal(contentTypeFor("a.json", { json: "text/x-json" }), "text/x-json");
  });

  test("isCompressibleType: text, JSON, JS, SVG and +json/+xml yes; images, archives, video no", () => {
    for (const t of ["text/html; charset=utf-8", "application/json", "application/problem+json", "image/svg+xml", "application/atom+xml", "TEXT/CSS"]) assert.equal(isCompressibleType(t), true, t);
    for (const t of ["image/png", "application/zip", "video/mp4", "font/woff2", "application/octet-stream"]) assert.equal(isCompressibleType(t), false, t);
  });
});

describe("serveStatic: ranges", () => {
  test("parseByteRange", () => {
    assert.deepEqual(parseByteRange("bytes=0-4", 10), { start: 0, end: 4 });
    assert.deepEqual(parseByteRange("bytes=5-", 10), { start: 5, end: 9 });
    assert.deepEqual(parseByteRange("bytes=-3", 10), { start: 7, end: 9 });
    assert.deepEqual(parseByteRange("bytes=-30", 10), { start: 0, end: 9 });
    assert.deepEqual(parseByteRange("bytes=8-100", 10), { start: 8, end: 9 });
    assert.equal(parseByteRange("bytes=10-", 10), "unsatisfiable");
    assert.equal(parseByteRange("bytes=-0", 10), "unsatisfiable");
    assert.equal(parseByteRange("bytes=0-1,3-4", 10), undefined);
    assert.equal(parseByteRange("bytes=5-2", 10), undefined);
    assert.equal(parseByteRange("items=0-1", 10), undefined);
    assert.equal(parseByteRange("bytes=-", 10), undefined);
  });

  test("206 with Content-Range; 416 with bytes */size; several ranges and a stale If-Range get 200 whole", async () => {
    const part = await raw("/hello.txt".concat(""), "GET").then(() => curl(["-i", "-r", "0-4", `${base}/hello.txt`]));
    assert.match(part, /^HTTP\/1\.1 206 /);
    assert.equal(header(part, "content-range"), `bytes 0-4/${HELLO.length}`);
    assert.equal(bodyOf(part), "hello");
    const suffix = await fetch(`${base}/hello.txt`, { headers: { range: "bytes=-6" } });
    assert.equal(suffix.status, 206);
    assert.equal(await suffix.text(), HELLO.slice(-6));
    const bad = await fetch(`${base}/hello.txt`, { headers: { range: "bytes=500-" } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get("content-range"), `bytes */${HELLO.length}`);
    await bad.text();
    const multi = await fetch(`${base}/hello.txt`, { headers: { range: "bytes=0-1,3-4" } });
    assert.equal(multi.status, 200);
    assert.equal(await multi.text(), HELLO);
    const stale = await fetch(`${base}/hello.txt`, { headers: { range: "bytes=0-4", "if-range": '"stale"' } });
    assert.equal(stale.status, 200);
    assert.equal(await stale.text(), HELLO);
    const etag = suffix.headers.get("etag")!;
    const fresh = await fetch(`${base}/hello.txt`, { headers: { range: "bytes=0-4", "if-range": etag } });
    assert.equal(fresh.status, 206);
    assert.equal(await fresh.text(), "hello");
    const byDate = await fetch(`${base}/hello.txt`, { headers: { range: "bytes=0-4", "if-range": MTIME.toUTCString() } });
    assert.equal(byDate.status, 206);
    await byDate.text();
  });
});

describe("serveStatic: precompressed siblings", () => {
  test("br or gzip sibling by Accept-Encoding (q-values), identity otherwise; type of the original, Vary", async () => {
    for (const [accept, coding] of [["br", "br"], ["gzip, br", "br"], ["br;q=0.1, gzip", "gzip"], ["gzip", "gzip"], ["identity", undefined], ["", undefined]] as const) {
      const text = await curl(["-D", "-", "-o", "-", "-H", `accept-encoding: ${accept}`, `${base}/app.js`]);
      assert.equal(header(text, "content-encoding"), coding, accept);
      assert.equal(header(text, "content-type"), "text/javascript; charset=utf-8", accept);
      assert.equal(header(text, "vary"), "Accept-Encoding");
      const body = new Uint8Array(Buffer.from(bodyOf(text), "latin1"));
      const expected = coding === "br" ? brotliCompressSync(JS) : coding === "gzip" ? gzipSync(JS) : new TextEncoder().encode(JS);
      assert.equal(body.length, expected.length, accept);
    }
    const only = await curl(["-D", "-", "-o", "/dev/null", "-H", "accept-encoding: br, gzip", `${base}/only-gz.css`]);
    assert.equal(header(only, "content-encoding"), "gzip");
    assert.equal(await curl(["--compressed", `${base}/app.js`]), JS);
    const viaFetch = await fetch(`${base}/app.js`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(await viaFetch.text(), JS); // fetch decodes it
  });
});

describe("serveStatic: traversal and odd paths refused, nothing leaked", () => {
  test("raw and curl --path-as-is attempts answer 400/404 and never the secret nor a path", async () => {
    const attempts: Array<[string, number[]]> = [
      ["/../outside/secret.txt", [404]],
      ["/../../../../etc/passwd", [404]],
      ["/%2e%2e/outside/secret.txt", [404]],
      ["/sub/%2e%2e/%2e%2e/outside/secret.txt", [404]],
      ["/sub/..%2f..%2foutside/secret.txt", [404]],
      ["/%2e%2e%2foutside%2fsecret.txt", [404]],
      ["/..%5coutside%5csecret.txt", [404]],
      ["/link-out.txt", [404]],
      ["/dir-out/secret.txt", [404]],
      ["/.secret", [404]],
      ["/hello.txt%00.html", [400]],
      ["/%00", [400]],
      ["/%ff%fe", [400]],
      ["/bad%zzescape", [400, 404]],
    ];
    const s = serve({ port: 0, fetch: serveStatic(root) });
    try {
      for (const [target, statuses] of attempts) {
        const sock = await new Promise<string>((resolve) => {
          const c = net.connect(s.addr.port, "127.0.0.1");
          let t = "";
          c.on("connect", () => c.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
          c.on("data", (d: Buffer) => (t += d.toString("latin1")));
          c.on("error", () => {});
          c.on("close", () => resolve(t));
        });
        assert.ok(statuses.includes(status(sock)), `${target}: ${sock}`);
        assert.ok(!sock.includes(SECRET) && !sock.includes(dir) && !sock.includes("outside"), `${target} leaked: ${sock}`);
        const viaCurl = await curl(["-i", "--path-as-is", `http://127.0.0.1:${s.addr.port}${target}`]);
        assert.ok(!viaCurl.includes(SECRET) && !viaCurl.includes(dir), `${target} leaked to curl`);
      }
      // a symbolic link that stays inside the root is served
      assert.equal(await fetch(`http://127.0.0.1:${s.addr.port}/link-in.txt`).then((r) => r.text()), HELLO);
    } finally {
      await s.shutdown({ deadlineMs: 1000 });
    }
  });

  test("options are checked", () => {
    assert.throws(() => serveStatic(root, { indexes: true } as never), TypeError);
    assert.throws(() => serveStatic(root, { prefix: "assets" }), TypeError);
    assert.throws(() => serveStatic(root, { precompressed: ["zstd" as "br"] }), TypeError);
    assert.throws(() => serveStatic(root, { maxAge: -1 }), RangeError);
    assert.throws(() => serveStatic("a\0b"), TypeError);
  });
});

describe("serveStatic over HTTP/2", () => {
  test("node:http2 (prior knowledge): a file, a range, a 304 and HEAD", async () => {
    const session = http2.connect(base);
    const get = (headers: http2.OutgoingHttpHeaders): Promise<{ headers: http2.IncomingHttpHeaders; body: string }> =>
      new Promise((resolve, reject) => {
        const req = session.request(headers);
        let got: http2.IncomingHttpHeaders = {};
        let body = "";
        req.on("response", (h) => (got = h));
        req.setEncoding("latin1");
        req.on("data", (d: string) => (body += d));
        req.on("end", () => resolve({ headers: got, body }));
        req.on("error", reject);
        req.end();
      });
    try {
      const full = await get({ ":path": "/hello.txt" });
      assert.equal(full.headers[":status"], 200);
      assert.equal(full.body, HELLO);
      const part = await get({ ":path": "/hello.txt", range: "bytes=7-12" });
      assert.equal(part.headers[":status"], 206);
      assert.equal(part.body, HELLO.slice(7, 13));
      const cached = await get({ ":path": "/hello.txt", "if-none-match": String(full.headers.etag) });
      assert.equal(cached.headers[":status"], 304);
      const head = await get({ ":path": "/big.bin", ":method": "HEAD" });
      assert.equal(head.headers[":status"], 200);
      assert.equal(head.headers["content-length"], String(BIG.length));
      assert.equal(head.body, "");
    } finally {
      await new Promise<void>((resolve) => session.close(() => resolve()));
    }
  });
});
