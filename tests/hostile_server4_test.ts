// serve() over HTTP/2 against a hostile client (server red team, ninth
// session, helper B). Found and fixed:
// - a request with neither :authority nor host (scheme http or https)
//   reached the handler with the server's own address as its host; RFC
//   9113 §8.3.1 requires one of them for these schemes, as RFC 9112 §3.2
//   requires Host over HTTP/1.1 (400 there). It is now malformed: the
//   stream is reset with PROTOCOL_ERROR, the connection goes on. An empty
//   host is still taken as over HTTP/1.1 (no authority: the server's own);
// - an empty host followed by a second host was not a duplicate (the check
//   looked for a non-empty first value): now malformed too;
// - `bodyTimeoutMs` did not apply over HTTP/2: a stream that opened a POST
//   and sent nothing more held its handler forever (the connection's idle
//   timeout waits while streams are open), up to MAX_CONCURRENT_STREAMS of
//   them per connection. Such a stream is now reset with CANCEL once its
//   body has not moved for bodyTimeoutMs while the handler waits for it,
//   the handler's read failing with a TimeoutError, as over HTTP/1.1 (408).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, serveStatic } from "../http/server/mod.ts";
import { rawExchange } from "./raw_exchange.ts";
import { CLIENT_PREFACE, ErrorCode, Flag, FrameType } from "../http/h2/constants.ts";
import { encodeFrame, encodeSettings } from "../http/h2/frames.ts";
import { HPACKEncoder } from "../http/hpack/encoder.ts";
import { HPACKDecoder } from "../http/hpack/decoder.ts";
import { OutBuffer } from "../http/server/out_buffer.ts";

/** RST_STREAM codes and :status values by stream, from the server's bytes. */
function frames(reply: Buffer): { resets: Map<number, number>; statuses: Map<number, string> } {
  const resets = new Map<number, number>();
  const statuses = new Map<number, string>();
  const hpack = new HPACKDecoder();
  for (let p = 0; p + 9 <= reply.length;) {
    const length = reply.readUIntBE(p, 3);
    const type = reply[p + 3]!;
    const flags = reply[p + 4]!;
    const stream = reply.readUInt32BE(p + 5) & 0x7fffffff;
    if (p + 9 + length > reply.length) break;
    const payload = reply.subarray(p + 9, p + 9 + length);
    if (type === FrameType.RST_STREAM) resets.set(stream, payload.readUInt32BE(0));
    if (type === FrameType.HEADERS && (flags & Flag.END_HEADERS) !== 0) {
      const fields = hpack.decode(new Uint8Array(payload));
      for (let i = 0; i < fields.length; i += 2) if (fields[i] === ":status") statuses.set(stream, fields[i + 1]!);
    }
    p += 9 + length;
  }
  return { resets, statuses };
}

const GOAWAY = encodeFrame(FrameType.GOAWAY, 0, 0, new Uint8Array(8));

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, what: string, boundMs = 20_000): Promise<void> {
  const end = Date.now() + boundMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("serve over HTTP/2: the request's authority (RFC 9113 §8.3.1)", () => {
  test("neither :authority nor host is malformed (PROTOCOL_ERROR), as is a second host after an empty one; host alone or empty is served", async () => {
    const seen: string[] = [];
    const server = serve({
      port: 0,
      fetch: (request) => {
        seen.push(new URL(request.url).host + new URL(request.url).pathname);
        return new Response("ok");
      },
    });
    const own = `127.0.0.1:${server.addr.port}`;
    try {
      const hpack = new HPACKEncoder();
      const req = (id: number, fields: string[]) => encodeFrame(FrameType.HEADERS, Flag.END_STREAM | Flag.END_HEADERS, id, hpack.encode(fields));
      const reply = await rawExchange(server.addr.port, Buffer.concat([
        CLIENT_PREFACE,
        encodeSettings([]),
        req(1, [":method", "GET", ":scheme", "http", ":path", "/none"]),
        req(3, [":method", "GET", ":scheme", "https", ":path", "/none-https"]),
        req(5, [":method", "GET", ":scheme", "http", ":path", "/host", "host", "h.example"]),
        req(7, [":method", "GET", ":scheme", "http", ":path", "/empty", "host", ""]),
        req(9, [":method", "GET", ":scheme", "http", ":path", "/two", "host", "", "host", "evil.example"]),
        req(11, [":method", "OPTIONS", ":scheme", "http", ":path", "*"]),
        req(13, [":method", "GET", ":scheme", "http", ":authority", "a.example", ":path", "/authority"]),
        GOAWAY,
      ]));
      const { resets, statuses } = frames(reply);
      for (const id of [1, 3, 9, 11]) assert.equal(resets.get(id), ErrorCode.PROTOCOL_ERROR, `stream ${id}`);
      for (const id of [5, 7, 13]) assert.equal(statuses.get(id), "200", `stream ${id}`);
      assert.deepEqual(seen, ["h.example/host", `${own}/empty`, "a.example/authority"]);
    } finally {
      await server.shutdown({ deadlineMs: 200 });
    }
  });

  test("node:http2 as the client (it always sends :authority) is served as before", async () => {
    const server = serve({ port: 0, fetch: (request) => new Response(new URL(request.url).host) });
    const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    session.on("error", () => {});
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const r = session.request({ ":path": "/" });
        let text = "";
        r.setEncoding("latin1");
        r.on("data", (d: string) => (text += d));
        r.on("end", () => resolve(text));
        r.on("error", reject);
        r.end();
      });
      assert.equal(body, `127.0.0.1:${server.addr.port}`);
    } finally {
      session.destroy();
      await server.shutdown({ deadlineMs: 200 });
    }
  });
});

describe("serve over HTTP/2: bodyTimeoutMs", () => {
  test("a body that stops while the handler waits is reset (CANCEL), the read failing with a TimeoutError; one that keeps coming is never cut; other streams go on", async () => {
    // A gap 20 times shorter than the timeout: a loaded machine may stall
    // the test's writes for a while without the server seeing a pause.
    const BODY_MS = 3000;
    const BODY = "abcdefghijklmnopqrstuvwx";
    const failures: string[] = [];
    const server = serve({
      port: 0,
      bodyTimeoutMs: BODY_MS,
      fetch: async (request) => {
        try {
          return new Response(`got ${await request.text()}`);
        } catch (error) {
          failures.push(`${new URL(request.url).pathname} ${(error as Error).name}`);
          throw error;
        }
      },
    });
    const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    session.on("error", () => {});
    try {
      const send = (path: string) => {
        const r = session.request({ ":method": "POST", ":path": path });
        const state = { text: "", status: 0, rstCode: -1, closed: false };
        r.setEncoding("latin1");
        r.on("response", (h) => (state.status = Number(h[":status"])));
        r.on("data", (d: string) => (state.text += d));
        r.on("error", () => {});
        r.on("close", () => {
          state.rstCode = r.rstCode ?? -1;
          state.closed = true;
        });
        return { r, state };
      };
      const stalled = send("/stalled");
      stalled.r.write("abc");
      const trickle = send("/trickle");
      for (const ch of BODY) {
        await new Promise((r) => setTimeout(r, BODY_MS / 20));
        trickle.r.write(ch);
      }
      trickle.r.end();
      await until(() => trickle.state.closed, "the trickled body's response");
      assert.equal(trickle.state.status, 200);
      assert.equal(trickle.state.text, `got ${BODY}`);
      await until(() => stalled.state.closed, "the stalled stream to end");
      assert.equal(stalled.state.rstCode, ErrorCode.CANCEL);
      assert.equal(stalled.state.status, 0, "no response to the stalled stream");
      assert.deepEqual(failures, ["/stalled TimeoutError"]);
      // The connection goes on.
      const after = send("/after");
      after.r.end("x");
      await until(() => after.state.closed, "a request after the reset");
      assert.equal(after.state.text, "got x");
    } finally {
      session.destroy();
      await server.shutdown({ deadlineMs: 200 });
    }
  });

  test("a handler that does not read a body it is not sent is cut too (as over HTTP/1.1); with bodyTimeoutMs 0 it is not", async () => {
    for (const bodyTimeoutMs of [200, 0]) {
      let release: () => void = () => {};
      const held = new Promise<void>((r) => (release = r));
      const server = serve({
        port: 0,
        bodyTimeoutMs,
        keepAliveTimeoutMs: 200,
        fetch: async (request) => {
          if (new URL(request.url).pathname === "/release") {
            release();
            return new Response("released");
          }
          // Waits on the request's signal (the reset aborts it) or the release.
          await Promise.race([held, new Promise((r) => request.signal.addEventListener("abort", r))]);
          return new Response("late");
        },
      });
      try {
        const hpack = new HPACKEncoder();
        const post = encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, 1, hpack.encode([":method", "POST", ":scheme", "http", ":authority", "a", ":path", "/"]));
        if (bodyTimeoutMs > 0) {
          const reply = await rawExchange(server.addr.port, Buffer.concat([CLIENT_PREFACE, encodeSettings([]), post]));
          assert.equal(frames(reply).resets.get(1), ErrorCode.CANCEL);
        } else {
          // Nothing cuts the stream: it is still open when a second stream releases its handler.
          const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
          session.on("error", () => {});
          const open = session.request({ ":method": "POST", ":path": "/" });
          let status = 0;
          let rst = -1;
          open.on("response", (h) => (status = Number(h[":status"])));
          open.on("error", () => {});
          open.on("close", () => (rst = open.rstCode ?? -1));
          open.write("a");
          await new Promise((r) => setTimeout(r, 600));
          const rel = session.request({ ":path": "/release" });
          rel.on("error", () => {});
          rel.end();
          await until(() => status !== 0 || rst !== -1, "the held stream's answer");
          assert.equal(status, 200);
          open.destroy();
          session.destroy();
        }
      } finally {
        await server.shutdown({ deadlineMs: 200 });
      }
    }
  });
});

describe("serve over HTTP/2: bodyTimeoutMs leaves alone", () => {
  test("a stream answered at once that reads its body as it answers (full duplex) and a CONNECT stream: a pause past the timeout cuts neither", async () => {
    const server = serve({
      port: 0,
      bodyTimeoutMs: 100,
      fetch: async (request) => {
        if (request.method === "CONNECT") {
          await new Promise((resolve) => setTimeout(resolve, 800));
          return new Response("connected");
        }
        // Echoes each request chunk as it comes, after answering at once.
        const reader = request.body!.getReader();
        return new Response(new ReadableStream<Uint8Array>({
          async pull(c) {
            const { done, value } = await reader.read();
            if (done) c.close();
            else c.enqueue(value);
          },
        }));
      },
    });
    const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    session.on("error", () => {});
    try {
      const r = session.request({ ":method": "POST", ":path": "/duplex" });
      let text = "";
      let rst = -1;
      let closed = false;
      r.setEncoding("latin1");
      r.on("data", (d: string) => (text += d));
      r.on("error", () => {});
      r.on("close", () => {
        rst = r.rstCode ?? -1;
        closed = true;
      });
      r.write("first ");
      await until(() => text === "first ", "the first echo");
      // Eight times the timeout without a byte from the client.
      await new Promise((resolve) => setTimeout(resolve, 800));
      assert.equal(closed, false, "the duplex stream was cut");
      r.end("second");
      await until(() => closed, "the duplex stream's end");
      assert.equal(text, "first second");
      assert.equal(rst, ErrorCode.NO_ERROR);
      // CONNECT: its DATA would be the tunnel's, not a request body; a handler that takes its time still answers.
      const connect = session.request({ ":method": "CONNECT", ":authority": "a.example:443" });
      let status = 0;
      connect.on("response", (h) => (status = Number(h[":status"])));
      connect.on("error", () => {});
      await until(() => status !== 0 || connect.closed, "the CONNECT answer");
      assert.equal(status, 200);
      connect.destroy();
    } finally {
      session.destroy();
      await server.shutdown({ deadlineMs: 200 });
    }
  });
});

describe("serve: a streamed body longer than the handler's Content-Length", () => {
  const enc = new TextEncoder();
  /** A stream of `parts`, the first at once, each later one after a timer (so the body is streamed, not gathered whole). */
  const slow = (parts: string[]) => {
    let first = true;
    return new ReadableStream<Uint8Array>({
      async pull(c) {
        if (!first) await new Promise((r) => setTimeout(r, 20));
        first = false;
        const p = parts.shift();
        if (p === undefined) c.close();
        else c.enqueue(enc.encode(p));
      },
    });
  };
  const handler = (request: Request) => {
    const path = new URL(request.url).pathname;
    if (path === "/over-later") return new Response(slow(["abc", "defgh", "ijklmnop"]), { headers: { "content-length": "5" } });
    if (path === "/over-first") return new Response(slow(["abcdefgh", "ij"]), { headers: { "content-length": "5" } });
    if (path === "/over-boundary") return new Response(slow(["abc", "de", "f"]), { headers: { "content-length": "5" } });
    if (path === "/exact") return new Response(slow(["abc", "de"]), { headers: { "content-length": "5" } });
    return new Response("next");
  };

  test("HTTP/1.1: only the declared bytes go out, then the connection closes; nothing after them is read as a response", async () => {
    const server = serve({ port: 0, http2: false, fetch: handler });
    try {
      for (const path of ["/over-later", "/over-first", "/over-boundary"]) {
        const reply = (await rawExchange(server.addr.port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n`)).toString("latin1");
        assert.match(reply, /^HTTP\/1\.1 200 /, path);
        assert.match(reply, /\r\nContent-Length: 5\r\n/i, path);
        assert.ok(reply.endsWith("\r\n\r\nabcde"), `${path}: ${JSON.stringify(reply)}`);
        assert.equal(reply.split("HTTP/1.1 ").length, 2, `${path}: one response only`);
      }
      // A body of exactly its length keeps the connection.
      const reply = (await rawExchange(server.addr.port, "GET /exact HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).toString("latin1");
      assert.match(reply, /\r\n\r\nabcdeHTTP\/1\.1 200 [^]*\r\n\r\nnext$/);
    } finally {
      await server.shutdown({ deadlineMs: 200 });
    }
  });

  test("HTTP/2: no DATA past the content-length; the stream is reset, the connection goes on", async () => {
    // The handler's mistake is reported (on stderr without a logger) once its head went out.
    const server = serve({ port: 0, fetch: handler });
    const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    session.on("error", () => {});
    const get = (path: string) =>
      new Promise<{ body: string; rst: number }>((resolve) => {
        const r = session.request({ ":path": path });
        let body = "";
        r.setEncoding("latin1");
        r.on("data", (d: string) => (body += d));
        r.on("error", () => {});
        r.on("close", () => resolve({ body, rst: r.rstCode ?? -1 }));
        r.end();
      });
    try {
      for (const path of ["/over-later", "/over-first", "/over-boundary"]) {
        const { body, rst } = await get(path);
        assert.ok(body.length <= 5 && "abcde".startsWith(body), `${path}: ${JSON.stringify(body)}`);
        assert.equal(rst, ErrorCode.INTERNAL_ERROR, path);
      }
      assert.deepEqual(await get("/exact"), { body: "abcde", rst: ErrorCode.NO_ERROR });
      assert.equal((await get("/next")).body, "next");
    } finally {
      session.destroy();
      await server.shutdown({ deadlineMs: 200 });
    }
  });
});

describe("serve over HTTP/1.1: the status line's reason phrase", () => {
  test("OutBuffer.statusLine: a reason that is no reason-phrase (CR, LF, NUL, other controls, above U+00FF) is the registered phrase", () => {
    const line = (status: number, reason: string) => {
      const out = new OutBuffer(64);
      out.statusLine(status, reason);
      return new TextDecoder("latin1").decode(out.view());
    };
    for (const bad of ["OK\r\nSet-Cookie: evil=1", "a\nb", "a\rb", "a\u0000b", "a\u0001", "a\u007f", "snow \u2603"]) {
      assert.equal(line(200, bad), "HTTP/1.1 200 OK\r\n", JSON.stringify(bad));
      assert.equal(line(404, bad), "HTTP/1.1 404 Not Found\r\n", JSON.stringify(bad));
    }
    assert.equal(line(200, "Fine"), "HTTP/1.1 200 Fine\r\n");
    assert.equal(line(200, "Tr\u00e8s\tbien"), "HTTP/1.1 200 Tr\u00e8s\tbien\r\n");
  });

  test("a statusText with CR LF (Bun's Response takes it) never writes a field into the head", async () => {
    let response: Response | undefined;
    try {
      response = new Response("x", { status: 200, statusText: "OK\r\nSet-Cookie: evil=1" });
    } catch {
      // Node, Deno: the constructor refuses it; nothing to send.
    }
    const server = serve({ port: 0, http2: false, fetch: () => response?.clone() ?? new Response("refused") });
    try {
      const reply = (await rawExchange(server.addr.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).toString("latin1");
      assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
      assert.doesNotMatch(reply, /set-cookie/i);
    } finally {
      await server.shutdown({ deadlineMs: 200 });
    }
  });
});

describe("serveStatic: the directory redirect is never protocol-relative", () => {
  test("//evil.example (a directory of that name under the root) redirects to /evil.example/, not //evil.example/", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ffinet-static-redirect-"));
    mkdirSync(join(dir, "evil.example"));
    writeFileSync(join(dir, "evil.example", "index.html"), "inside");
    const server = serve({ port: 0, http2: false, fetch: serveStatic(dir) });
    try {
      for (const target of ["//evil.example", "///evil.example?q=1", "//x/%2e%2e/evil.example", "/evil.example"]) {
        const reply = (await rawExchange(server.addr.port, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)).toString("latin1");
        assert.match(reply, /^HTTP\/1\.1 301 /, target);
        const location = /\r\nlocation: ([^\r]*)\r\n/i.exec(reply)?.[1] ?? "";
        assert.ok(location.startsWith("/evil.example/") && !location.startsWith("//"), `${target}: ${location}`);
      }
    } finally {
      await server.shutdown({ deadlineMs: 200 });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
