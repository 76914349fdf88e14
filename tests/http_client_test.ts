// The HTTP/1.1 client (http/client/) against real servers on 127.0.0.1:
// node:http, our serve(), and a raw TCP server that sends odd and hostile
// responses (stray CRLF, a kept-alive connection dying, oversized heads,
// bad chunking, a body cut short).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import { testPKI } from "./tls_pki.ts";
import { freePort, startMicrosocks } from "./proxy_helpers.ts";
import net from "node:net";
import zlib from "node:zlib";
import fc from "fast-check";
import { Agent, Client, fetch, nextRedirect, Pool, request, type ResponseData } from "../http/client/mod.ts";
import { serve, type Server } from "../http/server/mod.ts";
import { HTTP1ParseError, HTTPError, LimitError, NetError } from "../core/errors.ts";
import { listenRawHTTP, type RawHTTPServer, type RawHTTPServerOptions } from "./raw_http_server.ts";

const enc = new TextEncoder();

function listenHttp(handler: http.RequestListener): Promise<{ server: http.Server; base: string; sockets: Set<net.Socket> }> {
  const server = http.createServer(handler);
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => sockets.add(s));
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({ server, base: `http://127.0.0.1:${port}`, sockets });
    });
  });
}

function closeHttp(server: http.Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<Error> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof Error, `expected a rejection with ${code}`);
  const err = caught instanceof TypeError && caught.message === "fetch failed" ? caught.cause : caught;
  assert.ok(err instanceof NetError, `expected a NetError, got ${String(err)}`);
  assert.equal(err.code, code);
  return err;
}

describe("request() against node:http", () => {
  let srv: Awaited<ReturnType<typeof listenHttp>>;
  const agent = new Agent();
  before(async () => {
    srv = await listenHttp((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url!, "http://x");
        if (url.pathname === "/json") {
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify({ ok: true, n: 1 }));
        } else if (url.pathname === "/cookies") {
          res.setHeader("set-cookie", ["a=1", "b=2"]);
          res.setHeader("x-one", "1");
          res.end();
        } else if (url.pathname === "/big") {
          res.end(Buffer.alloc(3 * 1024 * 1024, 7));
        } else if (url.pathname === "/chunked") {
          res.write("one,");
          setTimeout(() => res.end("two"), 5);
        } else if (url.pathname === "/empty") {
          res.statusCode = 204;
          res.end();
        } else {
          res.setHeader("x-method", req.method!);
          res.setHeader("x-len", String(body.length));
          res.setHeader("x-te", String(req.headers["transfer-encoding"] ?? ""));
          res.setHeader("x-ct", String(req.headers["content-type"] ?? ""));
          res.setHeader("x-expect", String(req.headers["expect"] ?? ""));
          res.end(body.length > 0 ? body : `hello ${url.pathname}${url.search}`);
        }
      });
    });
  });
  after(async () => {
    await agent.close();
    await closeHttp(srv.server);
  });

  test("GET: status, lower-case headers, body as text, json, bytes, iteration", async () => {
    const r = await request(`${srv.base}/a?b=c`, { dispatcher: agent });
    assert.equal(r.statusCode, 200);
    assert.equal(r.statusText, "OK");
    assert.equal(r.headers["content-length"], "12");
    assert.equal(await r.body.text(), "hello /a?b=c");
    const j = await request(`${srv.base}/json`, { dispatcher: agent });
    assert.deepEqual(await j.body.json(), { ok: true, n: 1 });
    const b = await request(`${srv.base}/big`, { dispatcher: agent });
    let total = 0;
    for await (const chunk of b.body) {
      assert.equal(chunk[0], 7);
      total += chunk.length;
    }
    assert.equal(total, 3 * 1024 * 1024);
    const c = await request(`${srv.base}/chunked`, { dispatcher: agent });
    assert.equal(c.headers["transfer-encoding"], "chunked");
    assert.equal(new TextDecoder().decode(await c.body.arrayBuffer()), "one,two");
  });

  test("a head repeated by the server (strings reused inside) still gives each response its own record", async () => {
    const records: Array<Record<string, string | string[]>> = [];
    for (let i = 0; i < 4; i++) {
      const r = await request(`${srv.base}/json`, { dispatcher: agent });
      await r.body.dump();
      records.push(r.headers);
      r.headers["content-type"] = "changed by the user";
      delete r.headers["content-length"];
    }
    for (const h of records.slice(0, -1)) assert.equal(h["content-type"], "changed by the user");
    const next = await request(`${srv.base}/json`, { dispatcher: agent });
    assert.equal(next.headers["content-type"], "application/json");
    assert.equal(next.headers["content-length"], "17");
    await next.body.dump();
  });

  test("repeated fields are arrays, set-cookie always", async () => {
    const r = await request(`${srv.base}/cookies`, { dispatcher: agent });
    assert.deepEqual(r.headers["set-cookie"], ["a=1", "b=2"]);
    assert.equal(r.headers["x-one"], "1");
    await r.body.dump();
  });

  test("methods and bodies: string, bytes, iterable (chunked), HEAD and 204 have no body", async () => {
    const post = await request(`${srv.base}/e`, { dispatcher: agent, method: "POST", body: "abc", headers: { "content-type": "text/x" } });
    assert.equal(post.headers["x-method"], "POST");
    assert.equal(post.headers["x-ct"], "text/x");
    assert.equal(await post.body.text(), "abc");
    const put = await request(`${srv.base}/e`, { dispatcher: agent, method: "PUT", body: new Uint8Array(70_000).fill(1) });
    assert.equal(put.headers["x-len"], "70000");
    await put.body.dump();
    async function* parts() {
      yield enc.encode("x".repeat(10));
      yield enc.encode("y".repeat(20));
    }
    const it = await request(`${srv.base}/e`, { dispatcher: agent, method: "POST", body: parts() });
    assert.equal(it.headers["x-te"], "chunked");
    assert.equal(it.headers["x-len"], "30");
    await it.body.dump();
    const head = await request(`${srv.base}/e`, { dispatcher: agent, method: "HEAD" });
    assert.equal(head.statusCode, 200);
    assert.equal(await head.body.text(), "");
    const empty = await request(`${srv.base}/empty`, { dispatcher: agent });
    assert.equal(empty.statusCode, 204);
    assert.equal(await empty.body.text(), "");
  });

  test("keep-alive: sequential requests share one connection", async () => {
    const own = new Agent();
    const before = srv.sockets.size;
    for (let i = 0; i < 10; i++) {
      const r = await request(`${srv.base}/k${i}`, { dispatcher: own });
      assert.equal(await r.body.text(), `hello /k${i}`);
    }
    assert.equal(srv.sockets.size - before, 1);
    await own.close();
  });

  test("Pool: at most `connections` sockets, the rest queue", async () => {
    const pool = new Pool(srv.base, { connections: 2 });
    const before = srv.sockets.size;
    const all = await Promise.all(Array.from({ length: 12 }, (_, i) => request(`${srv.base}/q${i}`, { dispatcher: pool }).then((r) => r.body.text())));
    assert.deepEqual(all, Array.from({ length: 12 }, (_, i) => `hello /q${i}`));
    assert.ok(srv.sockets.size - before <= 2, `${srv.sockets.size - before} connections`);
    assert.equal(pool.stats.queued, 0);
    await pool.close();
    await assert.rejects(request(`${srv.base}/`, { dispatcher: pool }), (e: Error) => e instanceof NetError && e.code === "ERR_USE_AFTER_CLOSE");
  });

  test("Client with pipelining: idempotent requests share its one connection, answers in order", async () => {
    const client = new Client(srv.base, { pipelining: 4 });
    const before = srv.sockets.size;
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => request(`${srv.base}/p${i}`, { dispatcher: client }).then((r) => r.body.text())));
    assert.deepEqual(all, Array.from({ length: 8 }, (_, i) => `hello /p${i}`));
    assert.equal(srv.sockets.size - before, 1);
    await client.close();
  });

  test("Expect: 100-continue for a large body (node:http answers 100 Continue)", async () => {
    const r = await request(`${srv.base}/up`, { dispatcher: agent, method: "PUT", body: new Uint8Array(2 << 20), expectContinue: 1 << 20 });
    assert.equal(r.headers["x-expect"], "100-continue");
    assert.equal(r.headers["x-len"], String(2 << 20));
    await r.body.dump();
  });

  test("bad options are TypeErrors; an unknown method is sent as given", async () => {
    await assert.rejects(request(`${srv.base}/`, { dispatcher: agent, bogus: 1 } as never), TypeError);
    await assert.rejects(request(`${srv.base}/`, { dispatcher: agent, headers: { "transfer-encoding": "chunked" } }), TypeError);
    await assert.rejects(request(`${srv.base}/`, { dispatcher: agent, headers: { "x-bad": "a\r\nb" } }), TypeError);
    await assert.rejects(request("ftp://127.0.0.1/", { dispatcher: agent }), TypeError);
    assert.throws(() => new Pool("https://127.0.0.1:1", { tls: {}, connector: () => Promise.reject(new Error("x")) }), TypeError);
    const r = await request(`${srv.base}/m`, { dispatcher: agent, method: "PROPFIND" });
    assert.equal(r.headers["x-method"], "PROPFIND");
    await r.body.dump();
  });
});

describe("fetch() against node:http and serve()", () => {
  let srv: Awaited<ReturnType<typeof listenHttp>>;
  let other: Awaited<ReturnType<typeof listenHttp>>;
  let ours: Server;
  const agent = new Agent();
  const bomb = zlib.gzipSync(Buffer.alloc(8 << 20));
  before(async () => {
    srv = await listenHttp((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url!, "http://x");
        const p = url.pathname;
        const redirect = /^\/r(\d{3})$/.exec(p);
        if (redirect) {
          res.statusCode = Number(redirect[1]);
          res.setHeader("location", url.searchParams.get("to") ?? "/echo");
          res.end("moved");
        } else if (p === "/loop") {
          res.statusCode = 302;
          res.setHeader("location", "/loop");
          res.end();
        } else if (p === "/gzip" || p === "/deflate" || p === "/br") {
          const text = Buffer.from("compressed ".repeat(1000));
          const coded = p === "/gzip" ? zlib.gzipSync(text) : p === "/deflate" ? zlib.deflateSync(text) : zlib.brotliCompressSync(text);
          res.setHeader("content-encoding", p.slice(1));
          res.end(coded);
        } else if (p === "/bomb") {
          res.setHeader("content-encoding", "gzip");
          res.end(bomb);
        } else if (p === "/stall-head") {
          // never answers
        } else if (p === "/stall-body") {
          res.writeHead(200, { "content-length": "100" });
          res.write("partial");
        } else if (p === "/stream") {
          let i = 0;
          const tick = () => {
            if (i === 5) return void res.end();
            res.write(`part${i++};`);
            setTimeout(tick, 2);
          };
          tick();
        } else {
          res.setHeader("x-method", req.method!);
          res.setHeader("x-len", String(body.length));
          res.setHeader("x-te", String(req.headers["transfer-encoding"] ?? ""));
          res.setHeader("x-ct", String(req.headers["content-type"] ?? ""));
          res.setHeader("x-auth", String(req.headers["authorization"] ?? ""));
          res.setHeader("x-cookie", String(req.headers["cookie"] ?? ""));
          res.setHeader("x-ae", String(req.headers["accept-encoding"] ?? ""));
          res.end(body);
        }
      });
    });
    other = await listenHttp((req, res) => {
      res.setHeader("x-auth", String(req.headers["authorization"] ?? ""));
      res.setHeader("x-cookie", String(req.headers["cookie"] ?? ""));
      res.end("other");
    });
    ours = serve({
      port: 0,
      fetch: async (r) => new Response(r.method === "POST" ? await r.arrayBuffer() : `ours ${new URL(r.url).pathname}`, { headers: { "x-method": r.method } }),
    });
  });
  after(async () => {
    await agent.close();
    await closeHttp(srv.server);
    await closeHttp(other.server);
    await ours.shutdown({ deadlineMs: 1000 });
  });

  test("returns the runtime's Response with Headers, url; takes a Request", async () => {
    const r = await fetch(`${srv.base}/echo`, { method: "post", body: "hi", dispatcher: agent });
    assert.ok(r instanceof Response);
    assert.ok(r.headers instanceof Headers);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("x-method"), "POST");
    assert.equal(r.headers.get("x-ct"), "text/plain;charset=UTF-8");
    assert.equal(r.url, `${srv.base}/echo`);
    assert.equal(r.redirected, false);
    assert.equal(await r.text(), "hi");
    const req = new Request(`${srv.base}/echo`, { method: "PUT", body: "from a Request", headers: { "x-a": "1" } });
    const r2 = await fetch(req, { dispatcher: agent });
    assert.equal(r2.headers.get("x-method"), "PUT");
    assert.equal(await r2.text(), "from a Request");
  });

  test("a head repeated by the server gives each Response its own Headers", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${srv.base}/echo`, { dispatcher: agent });
      assert.equal(r.headers.get("x-method"), "GET");
      r.headers.set("x-method", "changed by the user");
      r.headers.append("x-extra", "1");
      await r.arrayBuffer();
    }
    const last = await fetch(`${srv.base}/echo`, { dispatcher: agent });
    assert.equal(last.headers.get("x-method"), "GET");
    assert.equal(last.headers.get("x-extra"), null);
    await last.arrayBuffer();
  });

  test("bodies: bytes, Blob, FormData, URLSearchParams, ReadableStream (duplex half, chunked)", async () => {
    const bytes = await fetch(`${srv.base}/echo`, { method: "POST", body: Uint8Array.of(1, 2, 3), dispatcher: agent });
    assert.deepEqual(new Uint8Array(await bytes.arrayBuffer()), Uint8Array.of(1, 2, 3));
    const blob = await fetch(`${srv.base}/echo`, { method: "POST", body: new Blob(["blob body"], { type: "text/x-blob" }), dispatcher: agent });
    assert.equal(blob.headers.get("x-ct"), "text/x-blob");
    assert.equal(await blob.text(), "blob body");
    const form = new FormData();
    form.append("field", "value");
    const fd = await fetch(`${srv.base}/echo`, { method: "POST", body: form, dispatcher: agent });
    assert.match(fd.headers.get("x-ct") ?? "", /^multipart\/form-data; ?boundary=/);
    assert.match(await fd.text(), /name="field"\r\n\r\nvalue\r\n/);
    const params = await fetch(`${srv.base}/echo`, { method: "POST", body: new URLSearchParams({ a: "1 2" }), dispatcher: agent });
    assert.equal(params.headers.get("x-ct"), "application/x-www-form-urlencoded;charset=UTF-8");
    assert.equal(await params.text(), "a=1+2");
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode("streamed "));
        c.enqueue(enc.encode("upload"));
        c.close();
      },
    });
    const up = await fetch(`${srv.base}/echo`, { method: "POST", body: stream, duplex: "half", dispatcher: agent });
    assert.equal(up.headers.get("x-te"), "chunked");
    assert.equal(await up.text(), "streamed upload");
    await assert.rejects(fetch(`${srv.base}/echo`, { method: "POST", body: new ReadableStream(), dispatcher: agent }), TypeError);
    await assert.rejects(fetch(`${srv.base}/echo`, { method: "GET", body: "x", dispatcher: agent }), TypeError);
  });

  test("a streaming response body arrives piece by piece", async () => {
    const r = await fetch(`${srv.base}/stream`, { dispatcher: agent });
    let text = "";
    for await (const chunk of r.body!) text += new TextDecoder().decode(chunk);
    assert.equal(text, "part0;part1;part2;part3;part4;");
  });

  test("against serve(): GET and a POST echo", async () => {
    const base = `http://127.0.0.1:${ours.addr.port}`;
    const r = await fetch(`${base}/x`, { dispatcher: agent });
    assert.equal(await r.text(), "ours /x");
    const p = await fetch(`${base}/x`, { method: "POST", body: "echo me", dispatcher: agent });
    assert.equal(await p.text(), "echo me");
    const q = await request(`${base}/y`, { dispatcher: agent });
    assert.equal(await q.body.text(), "ours /y");
  });

  test("decompression: gzip, deflate, br; decompress: false hands the coded bytes over", async () => {
    for (const coding of ["gzip", "deflate", "br"]) {
      const r = await fetch(`${srv.base}/${coding}`, { dispatcher: agent });
      assert.equal(r.headers.get("content-encoding"), coding);
      assert.equal(await r.text(), "compressed ".repeat(1000), coding);
    }
    const raw = await fetch(`${srv.base}/gzip`, { dispatcher: agent, decompress: false });
    const coded = new Uint8Array(await raw.arrayBuffer());
    assert.deepEqual([coded[0], coded[1]], [0x1f, 0x8b]);
    const ae = await fetch(`${srv.base}/echo`, { dispatcher: agent });
    assert.match(ae.headers.get("x-ae") ?? "", /^gzip, deflate/);
    await ae.text();
  });

  test("a decompression bomb stops at the limit with a LimitError (fetch: the cause of the body's TypeError)", async () => {
    const r = await fetch(`${srv.base}/bomb`, { dispatcher: agent, decompress: { maxDecompressedBytes: 1 << 20 } });
    await assert.rejects(r.arrayBuffer(), (e: unknown) => e instanceof TypeError && e.cause instanceof LimitError && e.cause.code === "ERR_DECOMPRESSED_SIZE");
  });

  test("redirect follow: 301/302 POST → GET, 303 → GET, 307/308 replay the body", async () => {
    for (const status of [301, 302, 303]) {
      const r = await fetch(`${srv.base}/r${status}`, { method: "POST", body: "payload", dispatcher: agent });
      assert.equal(r.status, 200);
      assert.equal(r.redirected, true);
      assert.equal(r.url, `${srv.base}/echo`);
      assert.equal(r.headers.get("x-method"), "GET", String(status));
      assert.equal(r.headers.get("x-ct"), "");
      assert.equal(await r.text(), "");
    }
    for (const status of [307, 308]) {
      const r = await fetch(`${srv.base}/r${status}`, { method: "POST", body: "payload", dispatcher: agent });
      assert.equal(r.headers.get("x-method"), "POST", String(status));
      assert.equal(await r.text(), "payload");
    }
    const put = await fetch(`${srv.base}/r302`, { method: "PUT", body: "kept", dispatcher: agent });
    assert.equal(put.headers.get("x-method"), "PUT");
    assert.equal(await put.text(), "kept");
    const streamed = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode("once"));
        c.close();
      },
    });
    await rejectsWithCode(fetch(`${srv.base}/r307`, { method: "POST", body: streamed, duplex: "half", dispatcher: agent }), "ERR_HTTP_REDIRECT_BODY");
  });

  test("redirect manual gives the real 3xx and Location; error rejects; more than 20 rejects", async () => {
    const r = await fetch(`${srv.base}/r302?to=/elsewhere`, { redirect: "manual", dispatcher: agent });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get("location"), "/elsewhere");
    assert.equal(await r.text(), "moved");
    await rejectsWithCode(fetch(`${srv.base}/r301`, { redirect: "error", dispatcher: agent }), "ERR_HTTP_REDIRECT");
    await rejectsWithCode(fetch(`${srv.base}/loop`, { dispatcher: agent }), "ERR_HTTP_TOO_MANY_REDIRECTS");
    await rejectsWithCode(fetch(`${srv.base}/loop`, { dispatcher: agent, maxRedirections: 3 }), "ERR_HTTP_TOO_MANY_REDIRECTS");
  });

  test("fetch without a body, jar or auth (its simple path) sends and returns what the full path does", async () => {
    // A URL object, header records, Headers, a cookie (sent last), accept-encoding given or not, decompress: false.
    const plain = await fetch(new URL(`${srv.base}/echo?q=1`), { dispatcher: agent });
    assert.equal(plain.url, `${srv.base}/echo?q=1`);
    assert.match(plain.headers.get("x-ae")!, /^gzip, deflate(, br)?$/);
    await plain.arrayBuffer();
    const withHeaders = await fetch(`${srv.base}/echo`, { headers: new Headers([["cookie", "a=1"], ["x-b", "2"]]), dispatcher: agent });
    assert.equal(withHeaders.headers.get("x-cookie"), "a=1");
    await withHeaders.arrayBuffer();
    const coded = await fetch(`${srv.base}/echo`, { headers: { "accept-encoding": "identity" }, dispatcher: agent });
    assert.equal(coded.headers.get("x-ae"), "identity");
    await coded.arrayBuffer();
    const none = await fetch(`${srv.base}/echo`, { decompress: false, dispatcher: agent });
    assert.equal(none.headers.get("x-ae"), "");
    await none.arrayBuffer();
    // A field named twice (set-cookie in a Headers) goes the full way, as before.
    const twice = new Headers();
    twice.append("set-cookie", "x=1");
    twice.append("set-cookie", "y=2");
    const r2 = await fetch(`${srv.base}/echo`, { headers: twice, dispatcher: agent });
    assert.equal(r2.status, 200);
    await r2.arrayBuffer();
    // A redirect of a simple GET goes on in the full path with the first answer counted.
    const moved = await fetch(`${srv.base}/r302?to=/echo`, { dispatcher: agent });
    assert.equal(moved.redirected, true);
    assert.equal(moved.url, `${srv.base}/echo`);
    assert.equal(await moved.text(), "");
    await rejectsWithCode(fetch(`${srv.base}/r302?to=/echo`, { dispatcher: agent, maxRedirections: 0 }), "ERR_HTTP_TOO_MANY_REDIRECTS");
    // Bad arguments reject as before: a forbidden method, a bad header value, credentials in the URL are taken out.
    await assert.rejects(fetch(`${srv.base}/echo`, { method: "TRACE", dispatcher: agent }), TypeError);
    await assert.rejects(fetch(`${srv.base}/echo`, { headers: { "x-bad": "a\nb" }, dispatcher: agent }), TypeError);
    const withUser = await fetch(srv.base.replace("http://", "http://u:p@") + "/echo", { dispatcher: agent });
    assert.equal(withUser.status, 200);
    assert.equal(withUser.url, `${srv.base}/echo`);
    await withUser.arrayBuffer();
  });

  test("a redirect to another origin drops Authorization and Cookie; the same origin keeps them", async () => {
    const headers = { authorization: "Bearer secret", cookie: "sid=1" };
    const same = await fetch(`${srv.base}/r302?to=/echo`, { headers, dispatcher: agent });
    assert.equal(same.headers.get("x-auth"), "Bearer secret");
    assert.equal(same.headers.get("x-cookie"), "sid=1");
    await same.text();
    const cross = await fetch(`${srv.base}/r302?to=${encodeURIComponent(`${other.base}/x`)}`, { headers, dispatcher: agent });
    assert.equal(await cross.text(), "other");
    assert.equal(cross.headers.get("x-auth"), "");
    assert.equal(cross.headers.get("x-cookie"), "");
  });

  test("cookieJar and auth hooks are called", async () => {
    const seen: string[] = [];
    const jar = {
      cookieHeader: (url: URL) => (seen.push(`get ${url.pathname}`), "jar=1"),
      storeSetCookie: (_url: URL, values: readonly string[]) => void seen.push(`set ${values.join("|")}`),
    };
    const r = await fetch(`${srv.base}/echo`, { cookieJar: jar, auth: { authorization: () => "Basic eDp5", respond: () => null }, dispatcher: agent });
    assert.equal(r.headers.get("x-cookie"), "jar=1");
    assert.equal(r.headers.get("x-auth"), "Basic eDp5");
    await r.text();
    assert.deepEqual(seen, ["get /echo"]);
  });

  test("abort: before, while waiting for the head, while reading the body", async () => {
    const early = new AbortController();
    early.abort();
    await assert.rejects(fetch(`${srv.base}/echo`, { signal: early.signal, dispatcher: agent }), { name: "AbortError" });
    const head = new AbortController();
    const pending = fetch(`${srv.base}/stall-head`, { signal: head.signal, dispatcher: agent });
    setTimeout(() => head.abort(), 20);
    await assert.rejects(pending, { name: "AbortError" });
    const body = new AbortController();
    const r = await fetch(`${srv.base}/stall-body`, { signal: body.signal, dispatcher: agent });
    const reading = r.text();
    setTimeout(() => body.abort(), 20);
    await assert.rejects(reading, { name: "AbortError" });
    const why = new AbortController();
    const withReason = request(`${srv.base}/stall-head`, { signal: why.signal, dispatcher: agent });
    why.abort(new Error("my reason"));
    await assert.rejects(withReason, /my reason/);
  });

  test("timeouts: no head in time, no body bytes in time (typed, naming the phase)", async () => {
    // Each pool has only the timeout its case waits for: a head that is
    // merely slow on a loaded machine must not trip the body case.
    const pool = new Pool(srv.base, { headersTimeoutMs: 100 });
    const bodyPool = new Pool(srv.base, { headersTimeoutMs: 60_000, bodyTimeoutMs: 100 });
    try {
      await rejectsWithCode(request(`${srv.base}/stall-head`, { dispatcher: pool }), "ERR_HTTP_HEADERS_TIMEOUT");
      const r = await request(`${srv.base}/stall-body`, { dispatcher: bodyPool });
      await rejectsWithCode(r.body.text(), "ERR_HTTP_BODY_TIMEOUT");
      await rejectsWithCode(fetch(`${srv.base}/stall-head`, { dispatcher: pool }), "ERR_HTTP_HEADERS_TIMEOUT");
    } finally {
      await pool.destroy();
      await bodyPool.destroy();
    }
  });
});

describe("odd and hostile responses from a raw TCP server", () => {
  const servers: RawHTTPServer[] = [];
  const pools: Pool[] = [];
  async function raw(onRequest: Parameters<typeof listenRawHTTP>[0], options: ConstructorParameters<typeof Pool>[1] = {}, serverOptions: RawHTTPServerOptions = {}): Promise<[RawHTTPServer, Pool]> {
    const s = await listenRawHTTP(onRequest, serverOptions);
    const p = new Pool(s.base, options);
    servers.push(s);
    pools.push(p);
    return [s, p];
  }
  after(async () => {
    for (const p of pools) await p.destroy();
    for (const s of servers) await s.close();
  });

  test("one stray CRLF between kept-alive responses, and after 100 Continue, is tolerated", async () => {
    const [s, pool] = await raw((socket, head) => {
      if (/^PUT/.test(head)) socket.write("HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nput");
      else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\r\n");
    });
    for (let i = 0; i < 3; i++) {
      const r = await request(`${s.base}/`, { dispatcher: pool });
      assert.equal(await r.body.text(), "ok");
    }
    const put = await request(`${s.base}/`, { dispatcher: pool, method: "PUT", body: "x", expectContinue: true });
    assert.equal(await put.body.text(), "put");
    assert.equal(s.connections, 1);
  });

  test("a reused connection that dies before the first response byte: an idempotent request is retried once", async () => {
    let killed = 0;
    const [s, pool] = await raw((socket, _head, index) => {
      if (index === 1) {
        killed++;
        socket.destroy();
      } else socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${index}`);
    });
    const first = await request(`${s.base}/`, { dispatcher: pool });
    assert.equal(await first.body.text(), "0");
    const second = await request(`${s.base}/`, { dispatcher: pool });
    assert.equal(await second.body.text(), "2");
    assert.equal(killed, 1);
    assert.equal(s.connections, 2);
  });

  test("a non-idempotent request on a dying reused connection is not retried", async () => {
    const [s, pool] = await raw((socket, _head, index) => {
      if (index === 1) socket.destroy();
      else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    await (await request(`${s.base}/`, { dispatcher: pool })).body.dump();
    const err = await rejectsWithCode(request(`${s.base}/`, { dispatcher: pool, method: "POST", body: "x" }), "ERR_HTTP_SOCKET_CLOSED");
    assert.ok(err instanceof HTTPError);
  });

  test("a request that keeps failing is retried only once", async () => {
    const [s, pool] = await raw((socket, _head, index) => {
      if (index === 0) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      else socket.destroy();
    });
    await (await request(`${s.base}/`, { dispatcher: pool })).body.dump();
    await rejectsWithCode(request(`${s.base}/`, { dispatcher: pool }), "ERR_HTTP_SOCKET_CLOSED");
  });

  test("an oversized header section is HPE_HEADERS_TOO_LARGE", async () => {
    const [s, pool] = await raw((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(3000)}\r\nContent-Length: 0\r\n\r\n`);
    }, { maxHeaderBytes: 1024 });
    const err = await rejectsWithCode(request(`${s.base}/`, { dispatcher: pool }), "HPE_HEADERS_TOO_LARGE");
    assert.ok(err instanceof HTTP1ParseError);
  });

  test("bad chunking fails the body with HTTP1ParseError; so does a body cut short", async () => {
    const [s, pool] = await raw((socket, head) => {
      if (head.includes("/chunk")) socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n");
      else if (head.includes("/short")) socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
      else socket.write("HTTP/1.1 2x0 OK\r\n\r\n");
    });
    const r = await request(`${s.base}/chunk`, { dispatcher: pool });
    const e1 = await rejectsWithCode(r.body.text(), "HPE_INVALID_CHUNK_SIZE");
    assert.ok(e1 instanceof HTTP1ParseError);
    const short = await request(`${s.base}/short`, { dispatcher: pool });
    await rejectsWithCode(short.body.text(), "HPE_INVALID_EOF_STATE");
    await rejectsWithCode(request(`${s.base}/status`, { dispatcher: pool }), "HPE_INVALID_STATUS");
    await rejectsWithCode(fetch(`${s.base}/status`, { dispatcher: pool }), "HPE_INVALID_STATUS");
  });

  test("a final answer instead of 100 Continue: the body is not sent, the answer is returned", async () => {
    let bodyBytes = 0;
    const [s, pool] = await raw((socket) => {
      socket.on("data", (d: Buffer) => (bodyBytes += d.length));
      socket.write("HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\nnope");
    });
    const r = await request(`${s.base}/`, { dispatcher: pool, method: "PUT", body: new Uint8Array(4 << 20), expectContinue: true });
    assert.equal(r.statusCode, 413);
    assert.equal(await r.body.text(), "nope");
    assert.ok(bodyBytes < 1 << 20, `${bodyBytes} body bytes were sent`);
  });

  test("trailers of a chunked body; a body above maxResponseBytes is HPE_BODY_TOO_LARGE", async () => {
    const [s, pool] = await raw((socket, head) => {
      if (head.includes("/trailers")) socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 42\r\n\r\n");
      else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n");
    }, { maxResponseBytes: 1000 });
    const r = await request(`${s.base}/trailers`, { dispatcher: pool });
    assert.equal(await r.body.text(), "abc");
    assert.deepEqual(r.trailers, { "x-checksum": "42" });
    await rejectsWithCode(request(`${s.base}/big`, { dispatcher: pool }), "HPE_BODY_TOO_LARGE");
  });

  test("a server that ignores Expect gets the body after continueTimeoutMs", async () => {
    // Answered once the body has all come (the server counts it: some may come in the head's read).
    const [s, pool] = await raw((socket, head) => {
      const got = /\r\ncontent-length: *(\d+)/i.exec(head)![1]!;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${got.length}\r\n\r\n${got}`);
    }, { continueTimeoutMs: 20 }, { afterBody: true });
    const r = await request(`${s.base}/`, { dispatcher: pool, method: "PUT", body: new Uint8Array(2048), expectContinue: true });
    assert.equal(await r.body.text(), "2048");
  });

  test("abort while the TLS handshake hangs (a server that never answers)", async () => {
    const silent = net.createServer((socket) => void socket.on("error", () => {}));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    const agent = new Agent({ tls: { handshakeTimeoutMs: 10_000 } });
    const controller = new AbortController();
    const pending = fetch(`https://127.0.0.1:${port}/`, { dispatcher: agent, signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(pending, { name: "AbortError" });
    await agent.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  test("a response read until close; the connection is not reused", async () => {
    const [s, pool] = await raw((socket) => socket.end("HTTP/1.1 200 OK\r\n\r\nall of it"));
    for (let i = 0; i < 2; i++) {
      const r = await request(`${s.base}/`, { dispatcher: pool });
      assert.equal(await r.body.text(), "all of it");
    }
    assert.equal(s.connections, 2);
  });

  test("property: any split of a chunked response gives the same body", async () => {
    let plan: { body: string; cuts: number[] } = { body: "", cuts: [] };
    const [s, pool] = await raw((socket) => {
      const { body, cuts } = plan;
      let wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      for (let i = 0; i < body.length; i += 7) {
        const piece = body.slice(i, i + 7);
        wire += `${piece.length.toString(16)}\r\n${piece}\r\n`;
      }
      wire += "0\r\n\r\n";
      const bytes = Buffer.from(wire, "latin1");
      let at = 0;
      const points = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
      for (const p of points) {
        if (p > at) socket.write(bytes.subarray(at, p));
        at = Math.max(at, p);
      }
      socket.write(bytes.subarray(at));
    });
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 6 }), async (text, cuts) => {
        const body = text.replace(/[^\x20-\x7e]/g, "a");
        plan = { body, cuts };
        const r: ResponseData = await request(`${s.base}/`, { dispatcher: pool });
        assert.equal(await r.body.text(), body);
      }),
      { numRuns: 40 },
    );
  });
});

describe("https: TLS through the default connector", () => {
  test("request and fetch over TLS with the test CA; an untrusted server is a TLS failure", async () => {
    const pki = testPKI();
    const server = https.createServer({ key: pki.key, cert: pki.chain }, (req, res) => res.end(`tls ${req.url}`));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const base = `https://localhost:${(server.address() as net.AddressInfo).port}`;
    const agent = new Agent({ tls: { ca: pki.root } });
    try {
      const r = await request(`${base}/a`, { dispatcher: agent });
      assert.equal(await r.body.text(), "tls /a");
      const f = await fetch(`${base}/b`, { dispatcher: agent });
      assert.equal(await f.text(), "tls /b");
      assert.equal(f.url, `${base}/b`);
      const untrusted = new Agent();
      let caught: unknown;
      try {
        await fetch(`${base}/c`, { dispatcher: untrusted });
      } catch (err) {
        caught = err;
      }
      await untrusted.close();
      assert.ok(caught instanceof TypeError);
      assert.ok(caught.cause instanceof NetError && /TLS/.test(caught.cause.name), String(caught.cause));
    } finally {
      await agent.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("through a proxy", () => {
  test("request and fetch to node:http through microsocks (SOCKS5)", async () => {
    const socks = await startMicrosocks();
    const { server, base, sockets } = await listenHttp((req, res) => res.end(`via ${req.url}`));
    const agent = new Agent({ proxy: `socks5://127.0.0.1:${socks.port}` });
    try {
      const r = await request(`${base}/a`, { dispatcher: agent });
      assert.equal(await r.body.text(), "via /a");
      const f = await fetch(`${base}/b`, { dispatcher: agent });
      assert.equal(await f.text(), "via /b");
      assert.equal(sockets.size, 1);
      // The proxy is really in the path: with it gone, the same request fails.
      const dead = new Agent({ proxy: `socks5://127.0.0.1:${await freePort()}` });
      await assert.rejects(request(`${base}/c`, { dispatcher: dead }));
      await dead.close();
    } finally {
      await agent.close();
      await closeHttp(server);
      await socks.close();
    }
  });
});

describe("redirect rules (I/O free)", () => {
  test("https → http is refused unless allowed; other schemes are refused", () => {
    assert.throws(() => nextRedirect(302, "GET", "http://a.test/", new URL("https://a.test/"), false, true), (e: unknown) => e instanceof HTTPError && e.code === "ERR_HTTP_REDIRECT_DOWNGRADE");
    assert.equal(nextRedirect(302, "GET", "http://a.test/", new URL("https://a.test/"), false, true, true).url.protocol, "http:");
    assert.throws(() => nextRedirect(302, "GET", "file:///etc/passwd", new URL("http://a.test/"), false, true), HTTPError);
  });

  test("property: 303 always ends in GET or HEAD; 307/308 keep the method; origin change is reported", () => {
    fc.assert(fc.property(
      fc.constantFrom(301, 302, 303, 307, 308),
      fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"),
      fc.constantFrom("/x", "http://a.test/y", "http://b.test/z", "//a.test:8080/"),
      (status, method, location) => {
        const step = nextRedirect(status, method, location, new URL("http://a.test/start"), method !== "GET" && method !== "HEAD", true);
        if (status === 303) assert.ok(step.method === "GET" || step.method === "HEAD");
        if (status === 307 || status === 308) assert.equal(step.method, method);
        if ((status === 301 || status === 302) && method === "POST") assert.equal(step.method, "GET");
        assert.equal(step.crossOrigin, step.url.origin !== "http://a.test");
      },
    ));
  });
});
