// serve() over HTTP/1.1 against real clients on 127.0.0.1: the runtime's
// fetch, node's http client, curl, and raw sockets for pipelining, the
// smuggling list, slowloris and graceful shutdown.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { serve, type Server } from "../http/server/mod.ts";

const enc = new TextEncoder();
let server: Server;
let base = "";
let port = 0;
/** Resolves the in-flight request of the graceful-shutdown test. */
const gates: Array<() => void> = [];

function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "--max-time", "10", ...args], { encoding: "latin1" }, (err, stdout, stderr) => {
      if (err) reject(new Error(`curl ${args.join(" ")}: ${err.message} ${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** Sends `bytes` on a raw connection and collects everything until the server closes (bounded by 10 s). */
function raw(p: number, chunks: Array<string | Uint8Array>, gapMs = 0): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect(p, "127.0.0.1");
    const got: Buffer[] = [];
    let closed = false;
    const give = () => resolve({ text: Buffer.concat(got).toString("latin1"), closed });
    const bound = setTimeout(() => {
      sock.destroy();
      give();
    }, 10_000);
    sock.on("data", (d: Buffer) => got.push(d));
    sock.on("error", () => {});
    sock.on("close", () => {
      closed = true;
      clearTimeout(bound);
      give();
    });
    sock.on("connect", async () => {
      for (const c of chunks) {
        if (sock.destroyed) break;
        sock.write(c);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

before(() => {
  server = serve({
    port: 0,
    headersTimeoutMs: 1500,
    fetch: async (request, info) => {
      const url = new URL(request.url);
      switch (url.pathname) {
        case "/echo": {
          const body = new Uint8Array(await request.arrayBuffer());
          return new Response(body, { headers: { "x-method": request.method, "x-len": String(body.length) } });
        }
        case "/stream":
          return new Response(new ReadableStream({
            async start(c) {
              for (let i = 0; i < 5; i++) {
                c.enqueue(enc.encode(`part${i};`));
                await new Promise((r) => setTimeout(r, 5));
              }
              c.close();
            },
          }));
        case "/throw":
          throw new Error("a secret the client must not see");
        case "/gate":
          await new Promise<void>((r) => gates.push(r));
          return new Response("gate passed");
        case "/info":
          return Response.json({ remote: info.remoteAddr.hostname, instance: request instanceof Request, host: request.headers.get("host") });
        case "/empty":
          return new Response(null, { status: 204 });
        default:
          return new Response(`hello ${url.pathname}`, { headers: { "content-type": "text/plain" } });
      }
    },
  });
  port = server.addr.port;
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  for (const g of gates.splice(0)) g();
  await server.shutdown({ deadlineMs: 1000 });
});

describe("serve over HTTP/1.1", () => {
  test("fetch: GET, POST echo, a streamed body, a handler that throws, 204", async () => {
    const r1 = await fetch(`${base}/a`);
    assert.equal(r1.status, 200);
    assert.equal(await r1.text(), "hello /a");
    assert.match(r1.headers.get("date") ?? "", /GMT$/);
    const r2 = await fetch(`${base}/echo`, { method: "POST", body: "payload" });
    assert.equal(r2.headers.get("x-method"), "POST");
    assert.equal(await r2.text(), "payload");
    const r3 = await fetch(`${base}/stream`);
    assert.equal(r3.headers.get("transfer-encoding"), "chunked");
    assert.equal(await r3.text(), "part0;part1;part2;part3;part4;");
    const r4 = await fetch(`${base}/throw`);
    assert.equal(r4.status, 500);
    const text = await r4.text();
    assert.equal(text, "Internal Server Error");
    assert.ok(!text.includes("secret"));
    const r5 = await fetch(`${base}/empty`);
    assert.equal(r5.status, 204);
    const r6 = await fetch(`${base}/info`);
    assert.deepEqual(await r6.json(), { remote: "127.0.0.1", instance: true, host: `127.0.0.1:${port}` });
  });

  test("node:http client with a keep-alive agent: several requests on one connection", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    try {
      for (let i = 0; i < 3; i++) {
        const body = await new Promise<string>((resolve, reject) => {
          const req = http.request({ host: "127.0.0.1", port, path: "/echo", method: "POST", agent }, (res) => {
            sockets.add(res.socket);
            let s = "";
            res.setEncoding("latin1");
            res.on("data", (d: string) => (s += d));
            res.on("end", () => resolve(s));
          });
          req.on("error", reject);
          req.end(`n${i}`);
        });
        assert.equal(body, `n${i}`);
      }
      assert.equal(sockets.size, 1);
    } finally {
      agent.destroy();
    }
  });

  test("curl: keep-alive over two URLs, --data-binary upload, chunked upload, HEAD, 100-continue", async () => {
    const two = await curl(["-v", `${base}/one`, `${base}/two`]);
    assert.equal(two.stdout, "hello /onehello /two");
    assert.match(two.stderr, /Re-using existing connection|Reusing existing/);
    const data = "x".repeat(100_000);
    const up = await curl(["--data-binary", data, `${base}/echo`]);
    assert.equal(up.stdout, data);
    const chunked = await curl(["-H", "Transfer-Encoding: chunked", "--data-binary", "chunky body", `${base}/echo`]);
    assert.equal(chunked.stdout, "chunky body");
    const head = await curl(["-I", `${base}/abc`]);
    assert.match(head.stdout, /^HTTP\/1\.1 200 OK/);
    assert.match(head.stdout, /Content-Length: 10\r\n/i);
    const cont = await curl(["-v", "-H", "Expect: 100-continue", "--data-binary", "after continue", `${base}/echo`]);
    assert.match(cont.stderr, /HTTP\/1\.1 100 Continue/);
    assert.equal(cont.stdout, "after continue");
  });

  test("pipelining: two requests in one write get two responses in order", async () => {
    const { text } = await raw(port, [
      "GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    ]);
    const i1 = text.indexOf("hello /first");
    const i2 = text.indexOf("hello /second");
    assert.ok(i1 > 0 && i2 > i1, text);
    assert.equal(text.split("HTTP/1.1 200 OK").length, 3);
  });

  test("HTTP/1.0: the connection closes after the response, a stray CRLF is ignored", async () => {
    const { text, closed } = await raw(port, ["\r\nGET /old HTTP/1.0\r\n\r\n"]);
    assert.match(text, /^HTTP\/1\.1 200 OK/);
    assert.ok(text.endsWith("hello /old"));
    assert.ok(closed);
  });

  test("100-continue: a handler that answers without reading the body sends no 100 and closes", async () => {
    const { text, closed } = await raw(port, ["POST /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n"]);
    assert.ok(!text.includes("100 Continue"), text);
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nConnection: close\r\n/i);
    assert.ok(text.endsWith("hello /a"));
    assert.ok(closed);
  });

  test("HEAD of a streamed response: the head only, then the next request on the same connection", async () => {
    const { text } = await raw(port, ["HEAD /stream HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
    const [first, second] = text.split(/(?=HTTP\/1\.1 200 OK)/);
    assert.ok(first !== undefined && second !== undefined, text);
    assert.ok(first.endsWith("\r\n\r\n"), first);
    assert.ok(!first.includes("part0"));
    assert.ok(second.endsWith("hello /next"));
  });

  const smuggling: Array<[string, string]> = [
    ["CL and TE", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
    ["duplicate CL", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"],
    ["bad chunk size", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"],
    ["chunk size overflow", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n"],
    ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"],
    ["bare LF", "GET / HTTP/1.1\nHost: a\n\n"],
    ["bare CR", "GET / HTTP/1.1\rHost: a\r\n\r\n"],
    ["missing Host", "GET / HTTP/1.1\r\n\r\n"],
    ["space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"],
    ["chunked twice", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"],
    ["Content-Length with a sign", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nabcde"],
    ["negative Content-Length", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"],
    ["space before a chunk size", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n"],
    ["bare LF after a chunk extension", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x\nabc\r\n0\r\n\r\n"],
    ["chunk longer than its size", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n"],
    ["bare LF in a trailer", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n"],
    ["NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"],
    ["whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n"],
    ["Transfer-Encoding in HTTP/1.0", "POST /echo HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
    ["two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"],
  ];
  for (const [name, request] of smuggling) {
    test(`smuggling: ${name} is answered 400 and closed, nothing after it processed`, async () => {
      const { text, closed } = await raw(port, [request + "GET /after HTTP/1.1\r\nHost: a\r\n\r\n"]);
      assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(text, /\r\nConnection: close\r\n/i);
      assert.ok(!text.includes("hello /after"), text);
      assert.ok(closed);
    });
  }

  test("limits: an unknown transfer coding is 501, a long target 414, a huge head 431", async () => {
    const te = await raw(port, ["POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: frobnicate, chunked\r\n\r\n0\r\n\r\n"]);
    assert.match(te.text, /^HTTP\/1\.1 501 /);
    const uri = await raw(port, [`GET /${"u".repeat(70_000)} HTTP/1.1\r\nHost: a\r\n\r\n`]);
    assert.match(uri.text, /^HTTP\/1\.1 414 /);
    const head = await raw(port, [`GET / HTTP/1.1\r\nHost: a\r\n${"X-Big: " + "h".repeat(4000) + "\r\n"}`.repeat(1) + `X-Many: ${"m".repeat(200_000)}\r\n\r\n`]);
    assert.match(head.text, /^HTTP\/1\.1 431 /);
  });

  test("slowloris: one header byte at a time is dropped at the header timeout while another client is served", async () => {
    const request = "GET /slow HTTP/1.1\r\nHost: a\r\nX-Long: " + "y".repeat(40) + "\r\n\r\n";
    const slow = raw(port, [...request], 100); // ~7 s to send it all; the timeout is 1.5 s
    await new Promise((r) => setTimeout(r, 300));
    const r = await fetch(`${base}/meanwhile`);
    assert.equal(await r.text(), "hello /meanwhile");
    const { text, closed } = await slow;
    assert.ok(closed);
    assert.ok(!text.includes("hello /slow"), text);
    assert.match(text, /^(HTTP\/1\.1 408 |$)/);
  });

  test("request.signal aborts when the client goes away", async () => {
    let aborted!: () => void;
    const seen = new Promise<void>((r) => (aborted = r));
    const s = serve({
      port: 0,
      fetch: (request) => {
        request.signal.addEventListener("abort", () => aborted());
        return new Promise<Response>(() => {}); // never answers
      },
    });
    try {
      const sock = net.connect(s.addr.port, "127.0.0.1");
      sock.on("error", () => {});
      sock.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      await new Promise((r) => setTimeout(r, 100));
      sock.destroy();
      await seen;
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });

  test("graceful shutdown: a request in flight is answered, with Connection: close", async () => {
    // The handler is known to be running when shutdown begins and answers
    // only after it began (no fixed sleeps: a loaded machine can take longer
    // than any of them to deliver the request).
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const s = serve({
      port: 0,
      fetch: async () => {
        entered();
        await released;
        return new Response("finished");
      },
    });
    const inFlight = raw(s.addr.port, ["GET / HTTP/1.1\r\nHost: a\r\n\r\n"]);
    await inHandler;
    const done = s.shutdown({ deadlineMs: 5000 });
    await new Promise((r) => setTimeout(r, 20));
    release();
    const { text, closed } = await inFlight;
    assert.match(text, /^HTTP\/1\.1 200 OK/);
    assert.match(text, /\r\nConnection: close\r\n/i);
    assert.ok(text.endsWith("finished"));
    assert.ok(closed);
    await done;
    await assert.rejects(fetch(`http://127.0.0.1:${s.addr.port}/`));
  });

  test("backpressure: an 8 MiB upload read slowly and an 8 MiB streamed response arrive intact", async () => {
    const size = 8 << 20;
    let pauses = 0;
    const s = serve({
      port: 0,
      fetch: async (request) => {
        if (request.method === "POST") {
          const reader = request.body!.getReader();
          let total = 0;
          let sum = 0;
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            for (let p = Math.ceil(total / 4096) * 4096; p < total + value.length; p += 4096) sum = (sum + value[p - total]!) | 0;
            total += value.length;
            if (total % (1 << 20) < value.length) {
              pauses++;
              await new Promise((r) => setTimeout(r, 20));
            }
          }
          return Response.json({ total, sum });
        }
        let sent = 0;
        return new Response(new ReadableStream({
          pull(c) {
            if (sent >= size) return c.close();
            const chunk = new Uint8Array(65536).fill(sent / 65536 & 0xff);
            sent += chunk.length;
            c.enqueue(chunk);
          },
        }));
      },
    });
    try {
      const body = new Uint8Array(size);
      for (let i = 0; i < size; i += 4096) body[i] = i / 4096 & 0xff;
      let expected = 0;
      for (let i = 0; i < size; i += 4096) expected = (expected + body[i]!) | 0;
      const up = await fetch(`http://127.0.0.1:${s.addr.port}/`, { method: "POST", body });
      assert.deepEqual(await up.json(), { total: size, sum: expected });
      assert.ok(pauses > 0);
      const down = new Uint8Array(await (await fetch(`http://127.0.0.1:${s.addr.port}/`)).arrayBuffer());
      assert.equal(down.length, size);
      for (let i = 0; i < size; i += 65536) assert.equal(down[i], i / 65536 & 0xff);
    } finally {
      await s.shutdown({ deadlineMs: 1000 });
    }
  });

  test("keep-alive idle timeout closes an idle connection; maxConnections answers the one too many 503 and closes it", async () => {
    const s = serve({ port: 0, keepAliveTimeoutMs: 200, maxConnections: 1, fetch: () => new Response("ok") });
    try {
      const first = await raw(s.addr.port, ["GET / HTTP/1.1\r\nHost: a\r\n\r\n"]);
      assert.ok(first.text.endsWith("ok"));
      assert.ok(first.closed); // closed by the idle timeout, not by the client
      const holder = net.connect(s.addr.port, "127.0.0.1");
      holder.on("error", () => {});
      await new Promise((r) => holder.on("connect", r));
      await new Promise((r) => setTimeout(r, 50));
      const extra = await raw(s.addr.port, ["GET / HTTP/1.1\r\nHost: a\r\n\r\n"]);
      assert.match(extra.text, /^HTTP\/1\.1 503 Service Unavailable\r\n/); // with Retry-After, then a close
      assert.ok(extra.closed);
      holder.destroy();
    } finally {
      await s.shutdown({ deadlineMs: 1000 });
    }
  });

  test("maxRequestsPerConnection: the last allowed response closes the connection, later pipelined requests are not served", async () => {
    const s = serve({ port: 0, maxRequestsPerConnection: 2, fetch: (r) => new Response(`r${new URL(r.url).pathname}`) });
    try {
      const { text, closed } = await raw(s.addr.port, ["GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n"]);
      assert.ok(text.includes("r/1") && text.endsWith("r/2"), text);
      assert.ok(!text.includes("r/3"));
      assert.equal(text.split(/\r\nConnection: close\r\n/i).length, 2);
      assert.ok(closed);
    } finally {
      await s.shutdown({ deadlineMs: 1000 });
    }
  });

  test("onError replaces the response of a handler that throws", async () => {
    const s = serve({
      port: 0,
      fetch: () => {
        throw new Error("boom");
      },
      onError: (error) => new Response(`handled: ${(error as Error).message}`, { status: 503 }),
    });
    try {
      const r = await fetch(`http://127.0.0.1:${s.addr.port}/`);
      assert.equal(r.status, 503);
      assert.equal(await r.text(), "handled: boom");
    } finally {
      await s.shutdown({ deadlineMs: 1000 });
    }
  });

  test("the signal option shuts the server down; unknown option keys are a TypeError", async () => {
    const controller = new AbortController();
    let listened = 0;
    const s = serve({ port: 0, signal: controller.signal, onListen: ({ port }) => (listened = port), fetch: () => new Response("up") });
    assert.equal(listened, s.addr.port);
    assert.equal(await (await fetch(`http://127.0.0.1:${s.addr.port}/`)).text(), "up");
    controller.abort();
    await s.finished;
    assert.equal(s.connections, 0);
    await assert.rejects(fetch(`http://127.0.0.1:${s.addr.port}/`));
    assert.throws(() => serve({ port: 0, fetch: () => new Response(), bogus: 1 } as never), TypeError);
  });

  test("hostname is host under Deno.serve's and Bun.serve's name; the two disagreeing is a TypeError", async () => {
    const s = serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("by hostname") });
    try {
      assert.equal(s.addr.hostname, "127.0.0.1");
      assert.equal(await (await fetch(`http://127.0.0.1:${s.addr.port}/`)).text(), "by hostname");
    } finally {
      await s.shutdown();
    }
    const same = serve({ port: 0, host: "127.0.0.1", hostname: "127.0.0.1", fetch: () => new Response() });
    await same.shutdown();
    assert.throws(() => serve({ port: 0, host: "127.0.0.1", hostname: "0.0.0.0", fetch: () => new Response() }), TypeError);
  });
});
