// serve() follow-ups of the server red team (seventh session, helper G2):
// - protect.maxPerIp (and maxIps, ratePerIp's burst) admit exactly their
//   number of concurrent connections from one address (reported as 2 of 10
//   with maxPerIp 3; not reproduced: 1..4 admit exactly 1..4, kept here as
//   a regression). A slot frees when the server has seen the close: a
//   client that closes one connection and at once opens another can still
//   find the old one counted (the likely cause of the report);
// - a handler's `Connection: close` response field was dropped on
//   HTTP/1.1 and the connection kept alive (node:http and Bun.serve close
//   after it; Deno.serve 2.x sends the field and keeps the connection,
//   answering the next pipelined request); it is now sent and the
//   connection closes after that response, the pipelined requests after it
//   unanswered. Over HTTP/2 the field is connection-specific: not sent,
//   and the connection goes on;
// - an unusable response body (non-byte chunks, a locked or used body, a
//   stream failing before its first byte) was a 500 over HTTP/1.1 but a
//   bare RST_STREAM over HTTP/2; HTTP/2 now answers 500 too while its head
//   has not gone out (after it: RST_STREAM INTERNAL_ERROR, as before);
// - with compression(), HEAD was answered without Content-Encoding and
//   with the identity Content-Length while its GET was encoded: HEAD now
//   gets its GET's Content-Encoding, Vary and weak ETag, and no
//   Content-Length when its GET's encoded length is not known without
//   encoding the body.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import { compression, serve, type Server } from "../http/server/mod.ts";
import { rawExchangeText } from "./raw_exchange.ts";
import { UNUSABLE_BODY_PATHS, unusableBodyResponse } from "./unusable_bodies.ts";

const statuses = (reply: string) => [...reply.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));

/** Opens `count` connections from `source` at once, each sending a GET; resolves when each was answered or closed. */
async function crowd(port: number, count: number, source = "127.0.0.1"): Promise<{ answered: number; closed: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  let answered = 0;
  let closed = 0;
  await Promise.all(Array.from({ length: count }, () =>
    new Promise<void>((resolve) => {
      const sock = net.connect({ port, host: "127.0.0.1", localAddress: source });
      sockets.push(sock);
      let text = "";
      sock.on("connect", () => sock.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
      sock.on("data", (d: Buffer) => {
        text += d.toString("latin1");
        if (/\r\n\r\nok$/.test(text)) {
          answered++;
          resolve();
        }
      });
      sock.on("error", () => {});
      sock.on("close", () => {
        if (!/\r\n\r\nok$/.test(text)) closed++;
        resolve();
      });
    })));
  return { answered, closed, sockets };
}

describe("serve({ protect }): per-address limits admit exactly their number", () => {
  for (const n of [1, 2, 3, 4]) {
    test(`maxPerIp ${n}: ${n} of 10 concurrent connections from one address are served and stay open, the rest refused`, async () => {
      const server = serve({ port: 0, host: "127.0.0.1", http2: false, protect: { maxPerIp: n }, fetch: () => new Response("ok") });
      try {
        const { answered, closed, sockets } = await crowd(server.addr.port, 10);
        assert.equal(answered, n);
        assert.equal(closed, 10 - n);
        assert.equal(sockets.filter((s) => !s.destroyed).length, n);
        assert.equal(server.rejected.protect, 10 - n);
        for (const s of sockets) s.destroy();
      } finally {
        await server.shutdown({ deadlineMs: 200 });
      }
    });
  }

  for (const n of [1, 3]) {
    test(`ratePerIp burst ${n} (refilling 0.001 a second): ${n} of 10 concurrent connections served`, async () => {
      const server = serve({ port: 0, host: "127.0.0.1", http2: false, protect: { ratePerIp: { perSecond: 0.001, burst: n } }, fetch: () => new Response("ok") });
      try {
        const { answered, closed, sockets } = await crowd(server.addr.port, 10);
        assert.deepEqual([answered, closed, server.rejected.protect], [n, 10 - n, 10 - n]);
        for (const s of sockets) s.destroy();
      } finally {
        await server.shutdown({ deadlineMs: 200 });
      }
    });
  }

  test("maxIps 2: connections from a third address are refused while two addresses hold connections", async () => {
    const server = serve({ port: 0, host: "127.0.0.1", http2: false, protect: { maxIps: 2 }, fetch: () => new Response("ok") });
    try {
      const first = await crowd(server.addr.port, 3, "127.0.0.1");
      const second = await crowd(server.addr.port, 3, "127.0.0.2");
      const third = await crowd(server.addr.port, 3, "127.0.0.3");
      assert.deepEqual([first.answered, second.answered, third.answered], [3, 3, 0]);
      assert.equal(third.closed, 3);
      for (const s of [...first.sockets, ...second.sockets, ...third.sockets]) s.destroy();
    } finally {
      await server.shutdown({ deadlineMs: 200 });
    }
  });
});

describe("serve: a handler's Connection: close", () => {
  let server: Server;
  let port = 0;
  const seen: string[] = [];
  before(() => {
    server = serve({
      port: 0,
      host: "127.0.0.1",
      fetch: (request) => {
        const path = new URL(request.url).pathname;
        seen.push(path);
        switch (path) {
          case "/close":
            return new Response("bye", { headers: { connection: "close" } });
          case "/close-list":
            return new Response("x".repeat(300), { headers: { Connection: "keep-alive, Close" } });
          case "/close-stream":
            return new Response(new ReadableStream({
              async pull(c) {
                await new Promise((r) => setImmediate(r));
                c.enqueue(new TextEncoder().encode("streamed"));
                c.close();
              },
            }), { headers: { connection: "close" } });
          case "/close-empty":
            return new Response(null, { status: 204, headers: { connection: "close" } });
          case "/keep":
            return new Response("kept", { headers: { connection: "keep-alive" } });
          default:
            return new Response("ok");
        }
      },
    });
    port = server.addr.port;
  });
  after(async () => {
    await server.shutdown({ deadlineMs: 200 });
  });

  for (const path of ["/close", "/close-list", "/close-stream", "/close-empty"]) {
    test(`HTTP/1.1 ${path}: Connection: close is sent and the connection closes; the pipelined request after it gets no answer`, async () => {
      const reply = await rawExchangeText(port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n`);
      assert.equal(statuses(reply).length, 1, reply);
      assert.match(reply, /\r\nConnection: close\r\n/i);
      assert.equal(reply.match(/\r\nconnection:/gi)?.length, 1, reply);
      assert.doesNotMatch(reply, /ok$/);
    });
  }

  test("HTTP/1.1 HEAD and HTTP/1.0 keep-alive requests: Connection: close too", async () => {
    const head = await rawExchangeText(port, "HEAD /close HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.deepEqual(statuses(head), [200]);
    assert.match(head, /\r\nConnection: close\r\n/i);
    const old = await rawExchangeText(port, "GET /close HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\nGET /after HTTP/1.0\r\nHost: a\r\n\r\n");
    assert.deepEqual(statuses(old), [200]);
    assert.match(old, /\r\nConnection: close\r\n/i);
    assert.doesNotMatch(old, /keep-alive/i);
  });

  test("HTTP/1.1 Connection: keep-alive from the handler changes nothing (the connection persists, the field is the server's)", async () => {
    const reply = await rawExchangeText(port, "GET /keep HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert.deepEqual(statuses(reply), [200, 200]);
    assert.match(reply, /ok$/);
    assert.doesNotMatch(reply, /keep-alive/i);
  });

  test("HTTP/2: the field is not sent and the connection goes on", async () => {
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on("error", () => {});
    try {
      const get = (path: string) =>
        new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
          const req = client.request({ ":path": path });
          let headers: http2.IncomingHttpHeaders = {};
          let body = "";
          req.on("response", (h) => (headers = h));
          req.setEncoding("utf8");
          req.on("data", (d: string) => (body += d));
          req.on("end", () => resolve({ status: Number(headers[":status"]), headers, body }));
          req.on("error", reject);
          req.end();
        });
      const first = await get("/close");
      assert.equal(first.status, 200);
      assert.equal(first.headers.connection, undefined);
      assert.equal(first.body, "bye");
      const second = await get("/after");
      assert.equal(second.body, "ok");
    } finally {
      client.close();
    }
  });
});

describe("serve over HTTP/2: unusable response bodies", () => {
  let server: Server;
  const text = new TextEncoder();
  before(() => {
    server = serve({
      port: 0,
      host: "127.0.0.1",
      fetch: (request) => {
        const pathname = new URL(request.url).pathname;
        const unusable = unusableBodyResponse(pathname);
        if (unusable !== undefined) return unusable;
        switch (pathname) {
          case "/errors-later": {
            let n = 0;
            return new Response(new ReadableStream({
              async pull(c) {
                await new Promise((r) => setImmediate(r));
                if (n++ === 0) c.enqueue(text.encode("first "));
                else c.error(new Error("later"));
              },
            }));
          }
          default:
            return new Response("ok");
        }
      },
    });
  });
  after(async () => {
    await server.shutdown({ deadlineMs: 200 });
  });

  function get(client: http2.ClientHttp2Session, path: string): Promise<{ status: number | undefined; body: string; rstCode: number | undefined }> {
    return new Promise((resolve) => {
      const req = client.request({ ":path": path });
      let status: number | undefined;
      let body = "";
      req.on("response", (h) => (status = Number(h[":status"])));
      req.setEncoding("utf8");
      req.on("data", (d: string) => (body += d));
      req.on("error", () => {});
      req.on("close", () => resolve({ status, body, rstCode: req.rstCode }));
      req.end();
    });
  }

  test("before the head went out: a 500 on the stream (as over HTTP/1.1), the connection goes on", async () => {
    const client = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    client.on("error", () => {});
    try {
      for (const path of UNUSABLE_BODY_PATHS) {
        const reply = await get(client, path);
        assert.equal(reply.status, 500, path);
        assert.equal(reply.body, "Internal Server Error", path);
        assert.equal((await get(client, "/")).body, "ok", path);
      }
    } finally {
      client.close();
    }
  });

  test("after the head went out: RST_STREAM INTERNAL_ERROR (the client sees 200 and a cut body)", async () => {
    const client = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    client.on("error", () => {});
    try {
      const reply = await get(client, "/errors-later");
      assert.equal(reply.status, 200);
      assert.equal(reply.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR);
      assert.equal((await get(client, "/")).body, "ok");
    } finally {
      client.close();
    }
  });
});

describe("compression(): HEAD gets its GET's fields", () => {
  const TEXT = "compressible text ".repeat(400);
  let server: Server;
  let port = 0;
  before(() => {
    server = serve({
      port: 0,
      host: "127.0.0.1",
      http2: false,
      middleware: compression({ encodings: ["gzip"] }),
      fetch: (request) => {
        switch (new URL(request.url).pathname) {
          case "/small":
            return new Response("tiny", { headers: { "content-type": "text/plain" } });
          case "/declared":
            return new Response(new ReadableStream({ start: (c) => { c.enqueue(new TextEncoder().encode(TEXT)); c.close(); } }), {
              headers: { "content-type": "text/plain", "content-length": String(TEXT.length), etag: '"v1"' },
            });
          default:
            return new Response(TEXT, { headers: { "content-type": "text/plain", etag: '"v1"' } });
        }
      },
    });
    port = server.addr.port;
  });
  after(async () => {
    await server.shutdown({ deadlineMs: 200 });
  });

  const fields = (reply: string) => {
    const head = reply.slice(0, reply.indexOf("\r\n\r\n") + 2);
    const get = (name: string) => new RegExp(`\r\n${name}: ([^\r]*)\r\n`, "i").exec(head)?.[1];
    return { head, encoding: get("content-encoding"), vary: get("vary"), etag: get("etag"), length: get("content-length"), te: get("transfer-encoding") };
  };

  for (const path of ["/text", "/declared"]) {
    test(`${path}: HEAD has the GET's Content-Encoding, Vary and ETag, no Content-Length, and no body`, async () => {
      const req = (method: string) => `${method} ${path} HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`;
      const got = fields(await rawExchangeText(port, req("GET")));
      const headReply = await rawExchangeText(port, req("HEAD"));
      const head = fields(headReply);
      assert.equal(got.encoding, "gzip");
      assert.equal(head.encoding, "gzip");
      assert.equal(head.vary, got.vary);
      assert.equal(head.etag, 'W/"v1"');
      assert.equal(head.etag, got.etag);
      assert.equal(head.length, undefined);
      assert.equal(head.te, undefined);
      assert.ok(headReply.endsWith("\r\n\r\n"), headReply);
    });
  }

  test("HEAD without Accept-Encoding or under the threshold: unencoded, the GET's Content-Length", async () => {
    for (const [path, accept] of [["/text", ""], ["/small", "Accept-Encoding: gzip\r\n"]] as const) {
      const req = (method: string) => `${method} ${path} HTTP/1.1\r\nHost: a\r\n${accept}Connection: close\r\n\r\n`;
      const got = fields(await rawExchangeText(port, req("GET")));
      const head = fields(await rawExchangeText(port, req("HEAD")));
      assert.equal(head.encoding, undefined, path);
      assert.equal(head.vary, "Accept-Encoding", path);
      assert.equal(head.length, got.length, path);
      assert.ok(head.length !== undefined, path);
    }
  });

  test("over HTTP/2 too: HEAD encoded like its GET, no content-length", async () => {
    const h2server = serve({ port: 0, host: "127.0.0.1", middleware: compression({ encodings: ["gzip"] }), fetch: () => new Response(TEXT, { headers: { "content-type": "text/plain" } }) });
    const client = http2.connect(`http://127.0.0.1:${h2server.addr.port}`);
    client.on("error", () => {});
    try {
      const head = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const req = client.request({ ":method": "HEAD", ":path": "/", "accept-encoding": "gzip" });
        req.on("response", (h) => resolve(h));
        req.on("error", reject);
        req.end();
      });
      assert.equal(head[":status"], 200);
      assert.equal(head["content-encoding"], "gzip");
      assert.equal(head.vary, "Accept-Encoding");
      assert.equal(head["content-length"], undefined);
    } finally {
      client.close();
      await h2server.shutdown({ deadlineMs: 200 });
    }
  });
});
