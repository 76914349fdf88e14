// The HTTP/2 client (http/client/h2_client.ts) through Pool, Agent, request()
// and fetch(): against node:http2 servers (h2c by prior knowledge, h2 over
// TLS by ALPN with the test PKI) and our own serve() over h2c and h2.
// One connection carries 100 concurrent requests; large uploads and
// downloads go through flow control; GOAWAY mid-flight moves requests to a
// fresh connection; a server RST_STREAM fails one request only; an abort
// resets the stream with CANCEL; PING reports a round trip; trailers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import { turnMs } from "../core/clock.ts";
import { defaultLoop } from "../poll/loop.ts";
import { HTTP2Error, HTTP2StreamError, HTTPError } from "../core/errors.ts";
import { Agent } from "../http/client/agent.ts";
import { fetch } from "../http/client/fetch.ts";
import { Pool } from "../http/client/pool.ts";
import { H2Connection } from "../http/h2/connection.ts";
import { request } from "../http/client/request.ts";
import { serve, type Server } from "../http/server/mod.ts";
import { isH2Info } from "../http/server/h2_session.ts";
import { testPKI } from "./tls_pki.ts";
import { spawn } from "node:child_process";

/** The routes the header-limit test needs, served by node:http2 in a Node process of its own. */
const NODE_H2_PEER = `
const http2 = require("node:http2");
const server = http2.createServer();
server.on("stream", (stream, headers) => {
  stream.on("error", () => {});
  const path = String(headers[":path"]);
  const fields = { ":status": 200 };
  if (path === "/many") for (let i = 0; i < 20; i++) fields["x-f" + i] = "v";
  if (path === "/huge") fields["x-huge"] = "h".repeat(8000);
  stream.respond(fields);
  stream.end(path === "/many" ? "many" : path === "/huge" ? "huge" : "ok " + path);
});
server.listen(0, "127.0.0.1", () => console.log("PORT " + server.address().port));
`;

/** Starts {@link NODE_H2_PEER} under `node`; disposing it kills the process. */
function nodeH2Peer(): Promise<{ port: number; [Symbol.asyncDispose](): Promise<void> }> {
  const child = spawn("node", ["-e", NODE_H2_PEER], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      out += String(d);
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        resolve({
          port: Number(m[1]),
          [Symbol.asyncDispose]: () => new Promise<void>((done) => {
            child.once("close", () => done());
            child.kill("SIGKILL");
          }),
        });
      }
    });
    child.once("error", reject);
    child.once("close", (code) => reject(new Error(`node:http2 peer exited with ${code}`)));
  });
}

const MIB = 1 << 20;

function sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function pattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7) & 0xff;
  return out;
}

/** A body of `size` bytes as a stream of 64 KiB pieces (length unknown to the client). */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      const n = Math.min(64 * 1024, bytes.length - at);
      c.enqueue(bytes.slice(at, at + n));
      at += n;
      if (at >= bytes.length) c.close();
    },
  });
}

/** What a node:http2 server saw. */
interface Seen {
  sessions: number;
  resets: number[];
  /** /held* requests are left unanswered (for the GOAWAY test). */
  hold: boolean;
}

/** The node:http2 handler of the tests: /echo, /big/<n>, /rst, /hang, /trailers, /goaway, /n. */
function nodeHandler(seen: Seen, big: Uint8Array) {
  return (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void => {
    const path = String(headers[":path"]);
    stream.on("close", () => {
      if (stream.rstCode !== 0 && stream.rstCode !== undefined) seen.resets.push(stream.rstCode);
    });
    stream.on("error", () => {});
    if (path === "/echo") {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const body = Buffer.concat(chunks);
        stream.respond({ ":status": 200, "x-len": String(body.length), "x-sha": sha(body), "x-method": String(headers[":method"]) });
        stream.end();
      });
      return;
    }
    if (path.startsWith("/big/")) {
      const n = Number(path.slice(5));
      stream.respond({ ":status": 200, "content-length": String(n) });
      stream.end(Buffer.from(big.buffer, big.byteOffset, n));
      return;
    }
    if (path.startsWith("/held") && seen.hold) return;
    if (path === "/rst") {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (path === "/many") {
      const fields: Record<string, string | number> = { ":status": 200 };
      for (let i = 0; i < 20; i++) fields[`x-f${i}`] = "v";
      stream.respond(fields);
      stream.end("many");
      return;
    }
    if (path === "/huge") {
      stream.respond({ ":status": 200, "x-huge": "h".repeat(8000) });
      stream.end("huge");
      return;
    }
    if (path === "/early") {
      stream.respond({ ":status": 200 });
      stream.end("early");
      return; // the request body is never read
    }
    if (path === "/hang") {
      stream.respond({ ":status": 200 });
      stream.write("x");
      return; // never ends: the client aborts
    }
    if (path === "/trailers") {
      stream.respond({ ":status": 200 }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "x-checksum": "abc" }));
      stream.end("body");
      return;
    }
    stream.respond({ ":status": 200, "content-type": "text/plain", "x-version": "2" });
    stream.end(`ok ${path}`);
  };
}

function startNode(server: http2.Http2Server | http2.Http2SecureServer, seen: Seen, big: Uint8Array): Promise<number> {
  server.on("session", () => seen.sessions++);
  server.on("stream", nodeHandler(seen, big));
  // HTTP/1.1 requests of allowHTTP1 (HTTP/2 ones come as "stream" above; the
  // compatibility layer a "request" listener adds would send trailers twice on h2c).
  if ("setTicketKeys" in server) server.on("request", (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    if (req.httpVersionMajor === 1) res.end(`ok ${req.url}`);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function closeNode(server: http2.Http2Server | http2.Http2SecureServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const big = pattern(32 * MIB);

describe("HTTP/2 client against node:http2, h2c by prior knowledge", () => {
  const seen: Seen = { sessions: 0, resets: [], hold: false };
  let server: http2.Http2Server;
  const sessions = new Set<http2.ServerHttp2Session>();
  let base = "";
  let pool: Pool;
  before(async () => {
    server = http2.createServer();
    server.on("session", (s) => {
      sessions.add(s);
      s.on("close", () => sessions.delete(s));
    });
    base = `http://127.0.0.1:${await startNode(server, seen, big)}`;
    pool = new Pool(base, { http2: "prior-knowledge" });
  });
  after(async () => {
    await pool.close();
    for (const s of sessions) s.destroy();
    await closeNode(server);
  });

  test("100 concurrent requests share one connection", async () => {
    const results = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const r = await request(`${base}/n${i}`, { dispatcher: pool });
      return [r.statusCode, await r.body.text(), r.headers["x-version"]] as const;
    }));
    for (let i = 0; i < 100; i++) assert.deepEqual(results[i], [200, `ok /n${i}`, "2"]);
    assert.equal(seen.sessions, 1, "one TCP connection");
    assert.equal(pool.protocol, "h2");
    assert.equal(pool.stats.connected, 1);
  });

  test("fetch() uses it too", async () => {
    const r = await fetch(`${base}/f`, { dispatcher: pool });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "text/plain");
    assert.equal(await r.text(), "ok /f");
  });

  test("a 16 MiB streamed upload and a 32 MiB download go through flow control", async () => {
    const up = big.subarray(0, 16 * MIB);
    const r = await request(`${base}/echo`, { dispatcher: pool, method: "POST", body: streamOf(up) });
    assert.equal(r.statusCode, 200);
    await r.body.text();
    assert.equal(r.headers["x-len"], String(up.length));
    assert.equal(r.headers["x-sha"], sha(up));
    const d = await request(`${base}/big/${32 * MIB}`, { dispatcher: pool });
    const got = new Uint8Array(await d.body.arrayBuffer());
    assert.equal(got.length, 32 * MIB);
    assert.equal(sha(got), sha(big));
  });

  test("a slow consumer holds the server to the stream window (backpressure), then gets every byte", async () => {
    const d = await request(`${base}/big/${8 * MIB}`, { dispatcher: pool });
    const reader = (d.body as unknown as { [Symbol.asyncIterator](): AsyncIterator<Uint8Array> })[Symbol.asyncIterator]();
    let total = 0;
    const hash = createHash("sha256");
    for (;;) {
      const { done, value } = await reader.next();
      if (done) break;
      total += value.length;
      hash.update(value);
      await new Promise((r) => setTimeout(r, 0));
    }
    assert.equal(total, 8 * MIB);
    assert.equal(hash.digest("hex"), sha(big.subarray(0, 8 * MIB)));
  });

  test("RST_STREAM from the server fails that request only", async () => {
    const [reset, fine] = await Promise.allSettled([
      request(`${base}/rst`, { dispatcher: pool }),
      request(`${base}/fine`, { dispatcher: pool }).then(async (r) => await r.body.text()),
    ]);
    assert.equal(reset.status, "rejected");
    const error = (reset as PromiseRejectedResult).reason;
    assert.ok(error instanceof HTTP2StreamError, String(error));
    if ("Bun" in globalThis && error.code === "ERR_H2_DATA_BEFORE_HEADERS") {
      // Bun's node:http2 server sends an empty DATA frame before its RST_STREAM: our
      // client resets that stream for the broken rule, which fails this request alone too.
      assert.equal(error.http2Code, 1);
    } else {
      assert.equal(error.code, "ERR_H2_STREAM_RESET");
      assert.equal(error.http2Code, 2);
    }
    assert.deepEqual(fine, { status: "fulfilled", value: "ok /fine" });
    assert.equal(pool.stats.connected, 1);
  });

  test("an abort resets the stream with CANCEL; the connection stays", async () => {
    const controller = new AbortController();
    const r = await request(`${base}/hang`, { dispatcher: pool, signal: controller.signal });
    const resets = seen.resets.length;
    const closed = new Promise<void>((resolve) => {
      const check = () => (seen.resets.length > resets ? resolve() : setTimeout(check, 5));
      check();
    });
    controller.abort();
    await assert.rejects(r.body.text(), (e: Error) => e.name === "AbortError");
    await closed;
    assert.equal(seen.resets.at(-1), http2.constants.NGHTTP2_CANCEL);
    assert.equal(await (await request(`${base}/after`, { dispatcher: pool })).body.text(), "ok /after");
  });

  test("a body that stops: ERR_HTTP_BODY_TIMEOUT for that stream, even when a stream with a longer timeout came first", { timeout: 60_000 }, async () => {
    // The connection keeps one timer for every stream's timeout, armed for the earliest deadline it knows:
    // the 10-minute one is armed first, the 50 ms one must move it earlier.
    const long = new AbortController();
    const slow = await request(`${base}/hang`, { dispatcher: pool, bodyTimeoutMs: 600_000, signal: long.signal });
    const r = await request(`${base}/hang`, { dispatcher: pool, bodyTimeoutMs: 50 });
    await assert.rejects(r.body.text(), (e: unknown) => e instanceof HTTPError && e.code === "ERR_HTTP_BODY_TIMEOUT");
    assert.equal(slow.body.complete, false, "the other stream is still going");
    long.abort();
    await assert.rejects(slow.body.text(), (e: Error) => e.name === "AbortError");
    assert.equal(await (await request(`${base}/after-timeout`, { dispatcher: pool, bodyTimeoutMs: 50 })).body.text(), "ok /after-timeout");
    assert.equal(pool.stats.connected, 1);
  });

  test("a head timeout counts from the request, not from an older clock reading of the same synchronous run", async () => {
    const held: http2.ServerHttp2Stream[] = [];
    const onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      if (headers[":path"] === "/held-clock") held.push(stream);
    };
    // The connection is up (a request made before it is started once it is, from a fresh reading).
    assert.equal(await (await request(`${base}/warm-clock`, { dispatcher: pool })).body.text(), "ok /warm-clock");
    server.on("stream", onStream);
    seen.hold = true;
    try {
      // Something earlier in this run read the turn's clock (a server's request start, a rate limit), and the
      // run went on for 1.1 s (blocked, not spinning) before making a request with a 1 s head timeout: counted
      // from that reading, its deadline had passed before the request was made, and it failed at once.
      turnMs();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1100);
      const pending = request(`${base}/held-clock`, { dispatcher: pool, headersTimeoutMs: 1000 });
      for (let i = 0; held.length === 0; i++) {
        if (i >= 2000) throw new Error("the server never saw the request");
        await new Promise((r) => setTimeout(r, 5));
      }
      // A timer of the client's loop armed now fires after any deadline the request armed before it: then answer.
      await new Promise<void>((r) => defaultLoop().timers.once(20, () => r()));
      held[0]!.respond({ ":status": 200 });
      held[0]!.end("answered");
      assert.equal(await (await pending).body.text(), "answered");
    } finally {
      seen.hold = false;
      server.off("stream", onStream);
    }
  });

  test("a response complete before the request body stops the upload; the connection goes on", async () => {
    const r = await request(`${base}/early`, { dispatcher: pool, method: "POST", body: streamOf(big.subarray(0, 8 * MIB)) });
    assert.equal(await r.body.text(), "early");
    assert.equal(await (await request(`${base}/next`, { dispatcher: pool })).body.text(), "ok /next");
    assert.equal(pool.stats.connected, 1);
  });

  test("header limits: too many fields, or a list above SETTINGS_MAX_HEADER_LIST_SIZE, fail that request only", async () => {
    // The peer is node:http2 under Node in a process of its own: Deno's
    // node:http2 aborts the whole process (an nghttp2 assertion in
    // find_stream_on_goaway_func) when it takes this client's GOAWAY after
    // the streams it reset, which would end every test file after this one.
    await using peer = await nodeH2Peer();
    const origin = `http://127.0.0.1:${peer.port}`;
    const strict = new Pool(origin, { http2: "prior-knowledge", maxHeaderCount: 10, maxHeaderBytes: 4096 });
    try {
      await assert.rejects(request(`${origin}/many`, { dispatcher: strict }), (e: unknown) => e instanceof HTTPError && e.code === "ERR_HTTP_HEADER_OVERFLOW");
      const huge = await request(`${origin}/huge`, { dispatcher: strict }).then(() => null, (e: unknown) => e);
      assert.ok(huge instanceof HTTP2Error, String(huge));
      assert.equal(huge.code, "ERR_H2_HEADER_LIST_TOO_LARGE");
      assert.equal(await (await request(`${origin}/fine`, { dispatcher: strict })).body.text(), "ok /fine");
      assert.equal(strict.stats.connected, 1);
    } finally {
      await strict.close();
    }
  });

  test("trailers arrive after the body", async () => {
    const r = await request(`${base}/trailers`, { dispatcher: pool });
    assert.equal(await r.body.text(), "body");
    assert.deepEqual(r.trailers, { "x-checksum": "abc" });
  });

  test("PING reports a round trip", async () => {
    const rtt = await pool.ping();
    assert.equal(typeof rtt, "number");
    assert.ok(rtt >= 0);
  });

  test("GOAWAY mid-flight: requests the server did not take go on a fresh connection", async () => {
    assert.equal(await (await request(`${base}/warm2`, { dispatcher: pool })).body.text(), "ok /warm2");
    const session = [...sessions].at(-1)!;
    // Hold three requests at the server, then GOAWAY naming only the first as processed.
    const held: Array<{ stream: http2.ServerHttp2Stream; path: string }> = [];
    const gotThree = new Promise<void>((resolve) => {
      const onStream = (s: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders) => {
        if (!String(h[":path"]).startsWith("/held")) return;
        held.push({ stream: s, path: String(h[":path"]) });
        if (held.length === 3) {
          session.off("stream", onStream);
          resolve();
        }
      };
      session.on("stream", onStream);
    });
    const sessionsBefore = seen.sessions;
    seen.hold = true;
    const pending = [1, 2, 3].map((i) => request(`${base}/held${i}`, { dispatcher: pool }).then(async (r) => await r.body.text()));
    await gotThree;
    const ids = held.map((h) => h.stream.id!).sort((a, b) => a - b);
    seen.hold = false;
    session.goaway(0, ids[0]!);
    // The one it processed is answered here; the client sends the other two again elsewhere.
    const first = held.find((h) => h.stream.id === ids[0])!;
    first.stream.respond({ ":status": 200 });
    first.stream.end(`ok ${first.path}`);
    const texts = await Promise.all(pending);
    assert.deepEqual(texts, ["ok /held1", "ok /held2", "ok /held3"]);
    assert.equal(seen.sessions - sessionsBefore, 1, "a fresh connection");
    // New requests use the fresh connection.
    assert.equal(await (await request(`${base}/later`, { dispatcher: pool })).body.text(), "ok /later");
  });
});

describe("HTTP/2 client against node:http2 over TLS (ALPN h2)", () => {
  const seen: Seen = { sessions: 0, resets: [], hold: false };
  let server: http2.Http2SecureServer;
  let base = "";
  let agent: Agent;
  before(async () => {
    const pki = testPKI();
    server = http2.createSecureServer({ key: pki.key, cert: pki.chain, allowHTTP1: true });
    base = `https://localhost:${await startNode(server, seen, big)}`;
    agent = new Agent({ tls: { ca: pki.root } });
  });
  after(async () => {
    await agent.close();
    await closeNode(server);
  });

  test("fetch and request pick h2 by ALPN and share one connection", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      if (i % 2 === 0) return await (await fetch(`${base}/a${i}`, { dispatcher: agent })).text();
      return await (await request(`${base}/a${i}`, { dispatcher: agent })).body.text();
    }));
    for (let i = 0; i < 50; i++) assert.equal(results[i], `ok /a${i}`);
    assert.equal(seen.sessions, 1);
    assert.equal((agent.dispatcherFor(new URL(base).origin) as Pool).protocol, "h2");
  });

  test("http2: false keeps HTTP/1.1 on the same server", async () => {
    const h1 = new Agent({ tls: { ca: testPKI().root }, http2: false });
    try {
      const r = await request(`${base}/h1`, { dispatcher: h1 });
      assert.equal(await r.body.text(), "ok /h1");
      assert.equal((h1.dispatcherFor(new URL(base).origin) as Pool).protocol, "h1");
    } finally {
      await h1.close();
    }
  });

  test("a 4 MiB upload over TLS", async () => {
    const up = big.subarray(0, 4 * MIB);
    const r = await fetch(`${base}/echo`, { dispatcher: agent, method: "PUT", body: up });
    assert.equal(r.headers.get("x-sha"), sha(up));
    assert.equal(r.headers.get("x-method"), "PUT");
    await r.arrayBuffer();
  });
});

describe("HTTP/2 client against our serve()", () => {
  let h2c: Server;
  let tls: Server;
  const handler = async (req: Request, info: Parameters<Parameters<typeof serve>[0]["fetch"]>[1]): Promise<Response> => {
    const protocol = isH2Info(info) ? info.protocol : "http/1.1";
    if (req.method === "POST") {
      const body = new Uint8Array(await req.arrayBuffer());
      return new Response(sha(body), { headers: { "x-protocol": protocol } });
    }
    return new Response(`${protocol} ${new URL(req.url).pathname}`, { headers: { "x-protocol": protocol } });
  };
  before(() => {
    h2c = serve({ port: 0, fetch: handler, http2: { maxConcurrentStreams: 20 } });
    const pki = testPKI();
    tls = serve({ port: 0, tls: { cert: pki.chain, key: pki.key }, fetch: handler });
  });
  after(async () => {
    await h2c.shutdown({ deadlineMs: 2000 });
    await tls.shutdown({ deadlineMs: 2000 });
  });

  test("h2c prior knowledge: 100 requests above the server's 20 concurrent streams are queued, all answered", async () => {
    const pool = new Pool(`http://127.0.0.1:${h2c.addr.port}`, { http2: "prior-knowledge" });
    try {
      const texts = await Promise.all(Array.from({ length: 100 }, async (_, i) => await (await request(`http://127.0.0.1:${h2c.addr.port}/s${i}`, { dispatcher: pool })).body.text()));
      for (let i = 0; i < 100; i++) assert.equal(texts[i], `h2c /s${i}`);
      assert.equal(pool.stats.connected, 1);
      const up = big.subarray(0, 3 * MIB);
      const r = await request(`http://127.0.0.1:${h2c.addr.port}/up`, { dispatcher: pool, method: "POST", body: streamOf(up) });
      assert.equal(await r.body.text(), sha(up));
    } finally {
      await pool.close();
    }
  });

  test("h2 over TLS by ALPN", async () => {
    const agent = new Agent({ tls: { ca: testPKI().root } });
    try {
      const r = await fetch(`https://localhost:${tls.addr.port}/x`, { dispatcher: agent });
      assert.equal(await r.text(), "h2 /x");
      assert.equal(r.headers.get("x-protocol"), "h2");
    } finally {
      await agent.close();
    }
  });
});

describe("HTTP/2 client: timeouts and the PING health check", () => {
  // A peer that sends its SETTINGS and then reads everything and answers nothing.
  let silent: net.Server;
  const sockets = new Set<net.Socket>();
  let base = "";
  before(async () => {
    silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
      socket.on("data", () => {});
      socket.write(Uint8Array.of(0, 0, 0, 4, 0, 0, 0, 0, 0));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    base = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  test("no response head in time: ERR_HTTP_HEADERS_TIMEOUT for that request", async () => {
    const pool = new Pool(base, { http2: "prior-knowledge" });
    try {
      await assert.rejects(
        request(`${base}/`, { dispatcher: pool, headersTimeoutMs: 50 }),
        (e: unknown) => e instanceof HTTPError && e.code === "ERR_HTTP_HEADERS_TIMEOUT",
      );
      assert.equal(pool.stats.connected, 1, "the connection stays");
    } finally {
      await pool.destroy();
    }
  });

  test("an unanswered PING ends the connection and its requests with ERR_H2_PING_TIMEOUT", async () => {
    const pool = new Pool(base, { http2: "prior-knowledge", h2PingIntervalMs: 50 });
    try {
      await assert.rejects(
        request(`${base}/`, { dispatcher: pool }),
        (e: unknown) => e instanceof HTTP2Error && e.code === "ERR_H2_PING_TIMEOUT",
      );
    } finally {
      await pool.destroy();
    }
  });
});

describe("HTTP/2 client: a connection that dies under a request", () => {
  // Our server core on node:net: answers every request, but the first /die drops its connection unanswered.
  let server: net.Server;
  let connections = 0;
  let died = false;
  let base = "";
  before(async () => {
    server = net.createServer((socket) => {
      connections++;
      socket.on("error", () => {});
      const h2 = new H2Connection({ role: "server" });
      const flush = () => {
        const out = h2.pull();
        if (out.length > 0) socket.write(out);
      };
      socket.on("data", (bytes: Uint8Array) => {
        for (const e of h2.receive(bytes)) {
          if (e.type !== "headers") continue;
          const path = e.headers[e.headers.indexOf(":path") + 1]!;
          if (path === "/die" && !died) {
            died = true;
            socket.destroy();
            return;
          }
          h2.respond(e.streamId, [":status", "200"], false);
          h2.sendData(e.streamId, new TextEncoder().encode(`ok ${path}`), true);
        }
        flush();
      });
      flush();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("an idempotent request is sent again on a fresh connection; a POST fails typed", async () => {
    const pool = new Pool(base, { http2: "prior-knowledge" });
    try {
      assert.equal(await (await request(`${base}/warm`, { dispatcher: pool })).body.text(), "ok /warm");
      assert.equal(await (await request(`${base}/die`, { dispatcher: pool })).body.text(), "ok /die");
      assert.equal(connections, 2);
      died = false;
      await assert.rejects(
        request(`${base}/die`, { dispatcher: pool, method: "POST", body: "x" }),
        (e: unknown) => e instanceof HTTPError && e.code === "ERR_HTTP_SOCKET_CLOSED",
      );
    } finally {
      await pool.close();
    }
  });
});
