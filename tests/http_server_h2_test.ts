// serve() over HTTP/2 cleartext against real clients on 127.0.0.1:
// node:http2's client (prior knowledge), curl --http2-prior-knowledge and
// --http2 (Upgrade: h2c), nghttp (server push), h2load; many concurrent
// streams under SETTINGS_MAX_CONCURRENT_STREAMS, large bodies both ways
// (flow control), request.signal on RST_STREAM, a rapid-reset client and a
// CONTINUATION flood ended with GOAWAY, graceful shutdown with a stream in
// flight.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import http2 from "node:http2";
import net from "node:net";
import { serve, type Server } from "../http/server/mod.ts";
import { isH2Info } from "../http/server/h2_session.ts";
import { H2Connection } from "../http/h2/connection.ts";
import { CLIENT_PREFACE, ErrorCode, Flag, FrameType } from "../http/h2/constants.ts";
import { encodeFrame, encodeSettings, FrameReader } from "../http/h2/frames.ts";
import { HPACKEncoder } from "../http/hpack/encoder.ts";
import { testPKI } from "./tls_pki.ts";
import { Hono } from "hono";

const enc = new TextEncoder();
const MIB = 1 << 20;
const MAX_STREAMS = 50;
let server: Server;
let port = 0;
let base = "";
/** Handlers waiting on /gate. */
const gates: Array<() => void> = [];
/** Handlers of /hang whose request signal aborted. */
const aborted: string[] = [];
let abortSeen: () => void = () => {};
let hangEntered: () => void = () => {};
let active = 0;
let peakActive = 0;

function sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: "latin1", maxBuffer: 64 * MIB, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${err.message} ${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

function bigBody(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      const n = Math.min(64 * 1024, size - sent);
      const chunk = new Uint8Array(n);
      for (let i = 0; i < n; i++) chunk[i] = (sent + i) & 0xff;
      sent += n;
      c.enqueue(chunk);
      if (sent >= size) c.close();
    },
  });
}

function expectedBig(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = i & 0xff;
  return out;
}

async function handler(request: Request, info: Parameters<Parameters<typeof serve>[0]["fetch"]>[1]): Promise<Response> {
  const url = new URL(request.url);
  active++;
  peakActive = Math.max(peakActive, active);
  try {
    switch (url.pathname) {
      case "/echo": {
        const body = new Uint8Array(await request.arrayBuffer());
        return new Response(body, { headers: { "x-len": String(body.length), "x-sha": sha(body), "x-method": request.method } });
      }
      case "/info":
        return Response.json({
          protocol: isH2Info(info) ? info.protocol : "http/1.1",
          host: request.headers.get("host"),
          cookie: request.headers.get("cookie"),
          url: request.url,
          remote: info.remoteAddr.hostname,
        });
      case "/trailers": {
        if (!isH2Info(info)) return new Response("h1", { status: 400 });
        const text = await request.text();
        const received = await info.trailers;
        info.setTrailers(() => ({ "x-body-length": String(text.length), "x-got": received.get("x-client-trailer") ?? "none" }));
        return new Response(new ReadableStream({
          start(c) {
            c.enqueue(enc.encode(text.toUpperCase()));
            setTimeout(() => c.close(), 1);
          },
        }));
      }
      case "/big":
        return new Response(bigBody(Number(url.searchParams.get("size"))));
      case "/slow":
        await new Promise((r) => setTimeout(r, 5));
        return new Response(`slow ${url.searchParams.get("i")}`);
      case "/gate":
        await new Promise<void>((r) => gates.push(r));
        return new Response("gate passed");
      case "/hang":
        hangEntered();
        await new Promise<void>((resolve) => {
          request.signal.addEventListener("abort", () => {
            aborted.push(url.searchParams.get("id") ?? "");
            abortSeen();
            resolve();
          });
        });
        return new Response("never sent");
      case "/push":
        if (isH2Info(info)) info.push("/pushed.css", { "x-pushed-by": "push" });
        return new Response("<link rel=stylesheet href=/pushed.css>", { headers: { "content-type": "text/html" } });
      case "/ignore-body":
        return new Response("did not read it");
      case "/half-body": {
        const reader = request.body!.getReader();
        const first = await reader.read();
        await reader.cancel();
        return new Response(`read ${first.value?.length ?? 0} then cancelled`);
      }
      case "/throw":
        throw new Error("a secret the client must not see");
      case "/broken-stream":
        return new Response(new ReadableStream({
          start(c) {
            c.enqueue(enc.encode("partial"));
            setTimeout(() => c.error(new Error("the source failed")), 5);
          },
        }));
      case "/pushed.css":
        return new Response("body { color: red }", { headers: { "content-type": "text/css" } });
      default:
        return new Response(`hello ${request.method} ${url.pathname}`);
    }
  } finally {
    active--;
  }
}

before(() => {
  server = serve({ port: 0, fetch: handler, http2: { maxConcurrentStreams: MAX_STREAMS } });
  port = server.addr.port;
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  for (const g of gates.splice(0)) g();
  await server.shutdown({ deadlineMs: 2000 });
});

interface H2Result {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders | undefined;
}

function h2request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Uint8Array,
  trailers?: Record<string, string>,
  untilClosed = false,
): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, trailers === undefined ? {} : { waitForTrailers: true });
    if (trailers !== undefined) req.on("wantTrailers", () => req.sendTrailers(trailers));
    const chunks: Buffer[] = [];
    let status = 0;
    let got: http2.IncomingHttpHeaders = {};
    let gotTrailers: http2.IncomingHttpHeaders | undefined;
    req.on("response", (h) => {
      status = Number(h[":status"]);
      got = h;
    });
    req.on("trailers", (t) => (gotTrailers = t));
    req.on("data", (d: Buffer) => chunks.push(d));
    const done = () => resolve({ status, headers: got, body: Buffer.concat(chunks), trailers: gotTrailers });
    // untilClosed: also until the upload went out (the stream closed both ways).
    req.on(untilClosed ? "close" : "end", done);
    req.on("error", reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

function connect(): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(base);
    // Once our SETTINGS are in, the client knows MAX_CONCURRENT_STREAMS (before, streams past it are refused).
    session.once("remoteSettings", () => resolve(session));
    session.once("error", reject);
  });
}

function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => session.close(() => resolve()));
}

describe("serve over HTTP/2 (h2c)", () => {
  test("node:http2 by prior knowledge: GET, POST echo, headers, cookies split into crumbs", async () => {
    const session = await connect();
    try {
      const hello = await h2request(session, { ":path": "/hello" });
      assert.equal(hello.status, 200);
      assert.equal(hello.body.toString(), "hello GET /hello");
      assert.equal(hello.headers["content-length"], "16");
      assert.ok(typeof hello.headers.date === "string");
      const body = enc.encode("some request body");
      const echo = await h2request(session, { ":path": "/echo", ":method": "POST" }, body);
      assert.equal(echo.status, 200);
      assert.equal(echo.headers["x-len"], String(body.length));
      assert.deepEqual(new Uint8Array(echo.body), body);
      const info = await h2request(session, { ":path": "/info?x=1", cookie: ["a=1", "b=2"] });
      const json = JSON.parse(info.body.toString());
      assert.equal(json.protocol, "h2c");
      assert.equal(json.host, `127.0.0.1:${port}`);
      assert.equal(json.cookie, "a=1; b=2");
      assert.equal(json.url, `${base}/info?x=1`);
      assert.equal(json.remote, "127.0.0.1");
      const head = await h2request(session, { ":path": "/hello", ":method": "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      assert.equal(head.headers["content-length"], "17"); // "hello HEAD /hello"
    } finally {
      await closeSession(session);
    }
  });

  test("trailers both ways: the request's reach info.trailers, setTrailers' follow the streamed body", async () => {
    const session = await connect();
    try {
      const r = await h2request(session, { ":path": "/trailers", ":method": "POST" }, enc.encode("abc"), { "x-client-trailer": "yes" });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), "ABC");
      assert.equal(r.trailers?.["x-body-length"], "3");
      assert.equal(r.trailers?.["x-got"], "yes");
    } finally {
      await closeSession(session);
    }
  });

  test("many concurrent streams on one connection stay under SETTINGS_MAX_CONCURRENT_STREAMS", async () => {
    const session = await connect();
    try {
      peakActive = 0;
      const n = 300;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => h2request(session, { ":path": `/slow?i=${i}` })));
      for (let i = 0; i < n; i++) {
        assert.equal(results[i]!.status, 200);
        assert.equal(results[i]!.body.toString(), `slow ${i}`);
      }
      assert.ok(peakActive <= MAX_STREAMS, `peak ${peakActive} handlers at once`);
      assert.ok(peakActive > 1, "streams were served concurrently");
    } finally {
      await closeSession(session);
    }
  });

  test("a large request body and a large streamed response (flow control both ways)", async () => {
    const session = await connect();
    try {
      const up = expectedBig(8 * MIB);
      const echo = await h2request(session, { ":path": "/echo", ":method": "POST" }, up);
      assert.equal(echo.status, 200);
      assert.equal(echo.headers["x-len"], String(up.length));
      assert.equal(echo.headers["x-sha"], sha(up));
      assert.equal(sha(echo.body), sha(up));
      const size = 24 * MIB + 123;
      const down = await h2request(session, { ":path": `/big?size=${size}` });
      assert.equal(down.status, 200);
      assert.equal(down.body.length, size);
      assert.equal(sha(down.body), sha(expectedBig(size)));
    } finally {
      await closeSession(session);
    }
  });

  test("request.signal aborts when the client resets the stream", async () => {
    const session = await connect();
    try {
      const seen = new Promise<void>((resolve) => (abortSeen = resolve));
      const req = session.request({ ":path": "/hang?id=rst1" });
      req.on("error", () => {});
      req.on("response", () => req.close(http2.constants.NGHTTP2_CANCEL));
      // The handler is waiting: reset once the request went out.
      setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), 20);
      await seen;
      assert.ok(aborted.includes("rst1"));
      // The connection still serves.
      const after = await h2request(session, { ":path": "/after" });
      assert.equal(after.body.toString(), "hello GET /after");
    } finally {
      await closeSession(session);
    }
  });

  test("request.signal aborts when the connection goes away", async () => {
    const session = await connect();
    const seen = new Promise<void>((resolve) => (abortSeen = resolve));
    const entered = new Promise<void>((resolve) => (hangEntered = resolve));
    const req = session.request({ ":path": "/hang?id=gone" });
    req.on("error", () => {});
    req.end();
    await entered;
    session.destroy();
    await seen;
    assert.ok(aborted.includes("gone"));
  });

  test("request bodies the handler ignores or cancels do not stall the connection's window", async () => {
    const session = await connect();
    try {
      const big = expectedBig(2 * MIB);
      // 12 MiB dropped in all, more than the connection window (50 streams x 64 KiB) unless what is dropped is credited back.
      for (let i = 0; i < 3; i++) {
        const r = await h2request(session, { ":path": "/ignore-body", ":method": "POST" }, big, undefined, true);
        assert.equal(r.body.toString(), "did not read it");
        const h = await h2request(session, { ":path": "/half-body", ":method": "POST" }, big, undefined, true);
        assert.match(h.body.toString(), /^read \d+ then cancelled$/);
      }
      const echo = await h2request(session, { ":path": "/echo", ":method": "POST" }, big);
      assert.equal(echo.headers["x-sha"], sha(big));
    } finally {
      await closeSession(session);
    }
  });

  test("a handler that throws gets a plain 500; a body stream that fails resets the stream", async () => {
    const session = await connect();
    try {
      const r = await h2request(session, { ":path": "/throw" });
      assert.equal(r.status, 500);
      assert.equal(r.body.toString(), "Internal Server Error");
      await assert.rejects(h2request(session, { ":path": "/broken-stream" }), /INTERNAL_ERROR|RST_STREAM|stream/i);
      const after = await h2request(session, { ":path": "/still" });
      assert.equal(after.body.toString(), "hello GET /still");
    } finally {
      await closeSession(session);
    }
  });

  test("curl --http2-prior-knowledge and curl --http2 (Upgrade: h2c)", async () => {
    const prior = await run("curl", ["-sS", "--http2-prior-knowledge", "-w", "\\n%{http_version}", `${base}/info`]);
    const [json, version] = prior.stdout.split("\n");
    assert.equal(JSON.parse(json!).protocol, "h2c");
    assert.equal(version, "2");
    const upgraded = await run("curl", ["-sS", "-v", "--http2", `${base}/up`, `${base}/again`]);
    assert.match(upgraded.stderr, /101 Switching Protocols/);
    assert.match(upgraded.stderr, /< HTTP\/2 200/);
    assert.equal(upgraded.stdout, "hello GET /uphello GET /again");
    const post = await run("curl", ["-sS", "--http2-prior-knowledge", "--data-binary", "posted", `${base}/echo`]);
    assert.equal(post.stdout, "posted");
    // A POST with Upgrade: h2c: its body came over HTTP/1.1, the answer comes on stream 1.
    const upPost = await run("curl", ["-sS", "--http2", "--data-binary", "posted", "-w", "%{http_version}", `${base}/echo`]);
    assert.equal(upPost.stdout, "posted2");
  });

  test("plain HTTP/1.1 requests still reach the same handler", async () => {
    const r = await fetch(`${base}/plain`);
    assert.equal(await r.text(), "hello GET /plain");
    const post = await fetch(`${base}/echo`, { method: "POST", body: "PRI-ish body" });
    assert.equal(await post.text(), "PRI-ish body");
  });

  test("nghttp receives a pushed response (info.push)", async () => {
    const { stdout } = await run("nghttp", ["-nv", `${base}/push`]);
    assert.match(stdout, /recv PUSH_PROMISE frame/);
    assert.match(stdout, /:path: \/pushed\.css/);
    assert.match(stdout, /x-pushed-by: push/);
    assert.match(stdout, /recv DATA frame <length=19, flags=0x01, stream_id=2>/);
  });

  test("node:http2 receives a pushed response", async () => {
    const session = await connect();
    try {
      const pushed = new Promise<{ path: string; body: string }>((resolve) => {
        session.on("stream", (stream, headers) => {
          const chunks: Buffer[] = [];
          stream.on("data", (d: Buffer) => chunks.push(d));
          stream.on("end", () => resolve({ path: String(headers[":path"]), body: Buffer.concat(chunks).toString() }));
        });
      });
      const page = await h2request(session, { ":path": "/push" });
      assert.equal(page.status, 200);
      const p = await pushed;
      assert.equal(p.path, "/pushed.css");
      assert.equal(p.body, "body { color: red }");
    } finally {
      await closeSession(session);
    }
  });

  test("h2load: every request of many streams on several connections succeeds", async () => {
    const { stdout } = await run("h2load", ["-n", "4000", "-c", "4", "-m", "20", `${base}/h2load`]);
    assert.match(stdout, /requests: 4000 total, 4000 started, 4000 done, 4000 succeeded, 0 failed, 0 errored/);
    assert.match(stdout, /status codes: 4000 2xx/);
  });
});

/** A raw client on a socket: sends `bytes`, returns the frames the server sent until it closed. */
function rawExchange(send: (write: (b: Uint8Array) => void) => void): Promise<Array<{ type: number; flags: number; streamId: number; payload: Uint8Array }>> {
  return new Promise((resolve) => {
    const frames: Array<{ type: number; flags: number; streamId: number; payload: Uint8Array }> = [];
    const reader = new FrameReader(1 << 24);
    const sock = net.connect(port, "127.0.0.1");
    const bound = setTimeout(() => sock.destroy(), 15_000);
    sock.on("data", (d: Buffer) => {
      try {
        reader.push(new Uint8Array(d), (f) => frames.push({ type: f.type, flags: f.flags, streamId: f.streamId, payload: f.payload.slice() }));
      } catch {
        sock.destroy();
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(bound);
      resolve(frames);
    });
    sock.on("connect", () => send((b) => {
      if (!sock.destroyed) sock.write(b);
    }));
  });
}

function goawayCode(frames: Array<{ type: number; payload: Uint8Array }>): number {
  const g = frames.find((f) => f.type === FrameType.GOAWAY);
  if (g === undefined) return -1;
  return new DataView(g.payload.buffer, g.payload.byteOffset).getUint32(4);
}

describe("HTTP/2 protections of serve", () => {
  test("a client that resets streams rapidly gets GOAWAY ENHANCE_YOUR_CALM", async () => {
    const frames = await rawExchange((write) => {
      const client = new H2Connection({ role: "client", now: null });
      write(client.pull());
      // Requests whose handlers wait, reset at once: CVE-2023-44487.
      for (let i = 0; i < 400; i++) {
        const id = client.request([":method", "GET", ":scheme", "http", ":authority", "a", ":path", "/gate"], true);
        client.reset(id, ErrorCode.CANCEL);
      }
      write(client.pull());
    });
    assert.equal(goawayCode(frames), ErrorCode.ENHANCE_YOUR_CALM);
    for (const g of gates.splice(0)) g();
  });

  test("a CONTINUATION flood gets GOAWAY", async () => {
    const hpack = new HPACKEncoder();
    const frames = await rawExchange((write) => {
      write(CLIENT_PREFACE);
      write(encodeSettings([]));
      const block = hpack.encode([":method", "GET", ":scheme", "http", ":authority", "a", ":path", "/", "x-pad", "y".repeat(4000)]);
      write(encodeFrame(FrameType.HEADERS, Flag.END_STREAM, 1, block.subarray(0, 10)));
      for (let i = 0; i < 100; i++) write(encodeFrame(FrameType.CONTINUATION, 0, 1, block.subarray(10, 20)));
    });
    const code = goawayCode(frames);
    assert.ok(code > 0, `GOAWAY with an error, got ${code}`);
  });

  test("a connection that opens with garbage after the preface gets GOAWAY PROTOCOL_ERROR", async () => {
    const frames = await rawExchange((write) => {
      write(CLIENT_PREFACE);
      write(encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8))); // the first frame must be SETTINGS
    });
    assert.equal(goawayCode(frames), ErrorCode.PROTOCOL_ERROR);
  });
});

describe("graceful shutdown over HTTP/2", () => {
  test("shutdown sends GOAWAY and the stream in flight finishes", async () => {
    const local: Array<() => void> = [];
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((r) => (entered = r));
    const s = serve({
      port: 0,
      fetch: async () => {
        entered();
        await new Promise<void>((r) => local.push(r));
        return new Response("finished after GOAWAY");
      },
    });
    const session = http2.connect(`http://127.0.0.1:${s.addr.port}`);
    session.on("error", () => {});
    const goaway = new Promise<number>((resolve) => session.on("goaway", (code: number) => resolve(code)));
    const response = new Promise<H2Result>((resolve, reject) => {
      const req = session.request({ ":path": "/slow" });
      const chunks: Buffer[] = [];
      let status = 0;
      req.on("response", (h) => (status = Number(h[":status"])));
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("end", () => resolve({ status, headers: {}, body: Buffer.concat(chunks), trailers: undefined }));
      req.on("error", reject);
      req.end();
    });
    await inHandler;
    const finished = s.shutdown({ deadlineMs: 10_000 });
    assert.equal(await goaway, ErrorCode.NO_ERROR);
    for (const r of local.splice(0)) r();
    const r = await response;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), "finished after GOAWAY");
    await finished;
    assert.equal(s.connections, 0);
    session.destroy();
  });
});

describe("a Hono app over HTTP/2", () => {
  test("routes, params, JSON bodies and 404 through node:http2", async () => {
    const app = new Hono();
    app.get("/", (c) => c.text("root"));
    app.get("/users/:id", (c) => c.json({ id: c.req.param("id"), q: c.req.query("q") ?? null }));
    app.post("/echo", async (c) => c.json({ got: await c.req.json() }, 201));
    await using s = serve({ port: 0, fetch: app.fetch });
    const session = http2.connect(`http://127.0.0.1:${s.addr.port}`);
    session.on("error", () => {});
    try {
      assert.equal((await h2request(session, { ":path": "/" })).body.toString(), "root");
      assert.deepEqual(JSON.parse((await h2request(session, { ":path": "/users/42?q=x" })).body.toString()), { id: "42", q: "x" });
      const posted = await h2request(session, { ":path": "/echo", ":method": "POST", "content-type": "application/json" }, enc.encode(JSON.stringify({ a: 1 })));
      assert.equal(posted.status, 201);
      assert.deepEqual(JSON.parse(posted.body.toString()), { got: { a: 1 } });
      assert.equal((await h2request(session, { ":path": "/nope" })).status, 404);
    } finally {
      await closeSession(session);
    }
  });
});

describe("http2: false", () => {
  test("the HTTP/2 preface is an HTTP/1.1 request like any other (refused), not HTTP/2", async () => {
    const s = serve({ port: 0, fetch: () => new Response("ok"), http2: false });
    try {
      const text = await new Promise<string>((resolve) => {
        const sock = net.connect(s.addr.port, "127.0.0.1");
        const got: Buffer[] = [];
        sock.on("data", (d: Buffer) => got.push(d));
        sock.on("error", () => {});
        sock.on("close", () => resolve(Buffer.concat(got).toString("latin1")));
        sock.on("connect", () => sock.write(CLIENT_PREFACE));
      });
      assert.match(text, /^HTTP\/1\.1 [45]\d\d /);
      const r = await fetch(`http://127.0.0.1:${s.addr.port}/`);
      assert.equal(await r.text(), "ok");
    } finally {
      await s.shutdown({ deadlineMs: 1000 });
    }
  });
});

describe("idle HTTP/2 connections", () => {
  test("a connection without streams for idleTimeoutMs gets GOAWAY and is closed", async () => {
    const s = serve({ port: 0, fetch: () => new Response("ok"), http2: { idleTimeoutMs: 150 } });
    try {
      const session = http2.connect(`http://127.0.0.1:${s.addr.port}`);
      session.on("error", () => {});
      const goaway = new Promise<number>((resolve) => session.on("goaway", (code: number) => resolve(code)));
      const closed = new Promise<void>((resolve) => session.on("close", () => resolve()));
      const r = await h2request(session, { ":path": "/" });
      assert.equal(r.body.toString(), "ok");
      assert.equal(await goaway, ErrorCode.NO_ERROR);
      await closed;
    } finally {
      await s.shutdown({ deadlineMs: 1000 });
    }
  });
});

describe("serve over TLS: ALPN h2 and http/1.1", () => {
  let tlsServer: Server;
  let tlsPort = 0;
  let caFile = "";
  let ca = "";
  before(() => {
    const pki = testPKI();
    caFile = `${pki.dir}/root.pem`;
    ca = pki.root;
    tlsServer = serve({ port: 0, tls: { cert: pki.chain, key: pki.key }, fetch: handler });
    tlsPort = tlsServer.addr.port;
  });
  after(() => tlsServer.shutdown({ deadlineMs: 2000 }));

  test("curl --http2 over TLS negotiates h2; --http1.1 gets HTTP/1.1 from the same server", async () => {
    const h2 = await run("curl", ["-sS", "--cacert", caFile, "--http2", "-w", "\n%{http_version}", `https://localhost:${tlsPort}/info`]);
    const [json, version] = h2.stdout.split("\n");
    assert.equal(version, "2");
    const info = JSON.parse(json!);
    assert.equal(info.protocol, "h2");
    assert.equal(info.url, `https://localhost:${tlsPort}/info`);
    const h1 = await run("curl", ["-sS", "--cacert", caFile, "--http1.1", "-w", "%{http_version}", `https://localhost:${tlsPort}/plain`]);
    assert.equal(h1.stdout, "hello GET /plain1.1");
  });

  test("node:http2 over TLS: streams, a large body, push", async () => {
    const session = await new Promise<http2.ClientHttp2Session>((resolve, reject) => {
      const s = http2.connect(`https://localhost:${tlsPort}`, { ca });
      s.once("remoteSettings", () => resolve(s));
      s.once("error", reject);
    });
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => h2request(session, { ":path": `/slow?i=${i}` })));
      results.forEach((r, i) => assert.equal(r.body.toString(), `slow ${i}`));
      const up = expectedBig(2 * MIB);
      const echo = await h2request(session, { ":path": "/echo", ":method": "POST" }, up);
      assert.equal(echo.headers["x-sha"], sha(up));
      assert.equal(sha(echo.body), sha(up));
    } finally {
      await closeSession(session);
    }
  });

  test("h2load over TLS", async () => {
    const { stdout } = await run("h2load", ["-n", "1000", "-c", "2", "-m", "10", `https://localhost:${tlsPort}/h2load`]);
    assert.match(stdout, /Application protocol: h2/);
    assert.match(stdout, /requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed, 0 errored/);
  });
});
