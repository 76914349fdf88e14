// serve() over HTTP/2 cleartext with installLightResponse(): light responses
// (string, bytes, no body, 204, bad fields, long strings, HEAD) are written
// from what they recorded, as the runtime's Response would have been; and
// the request fields a handler reads (host added from :authority, a single
// cookie, repeated cookie crumbs joined) through node:http2's client.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import { installLightResponse, serve, type Server } from "../http/server/mod.ts";

let server: Server;
let base = "";
let port = 0;
let uninstall: () => void = () => {};
const LONG = "y".repeat(100_000) + "é";

function handler(request: Request): Response {
  const path = new URL(request.url).pathname;
  switch (path) {
    case "/text":
      return new Response("héllo", { headers: { "X-A": " b " } });
    case "/bytes":
      return new Response(new Uint8Array([1, 2, 3]), { status: 201, headers: [["Content-Type", "application/octet-stream"], ["x-b", "1"], ["content-length", "99"]] });
    case "/none":
      return new Response(null, { status: 204, headers: { "x-c": "2" } });
    case "/null":
      return new Response(null);
    case "/bad":
      return new Response("x", { headers: { "bad name": "v" } });
    case "/long":
      return new Response(LONG);
    case "/same-name-bad-value":
      return new Response("x", { headers: [["X-A", "b\rc"]] });
    case "/moved":
      return new Response("x", { headers: [["x-k", " b "], ["X-A", "z\t"], ["X-A", " b "]] });
    case "/fields":
      return new Response(JSON.stringify({ url: request.url, fields: [...request.headers] }), { headers: { "content-type": "application/json" } });
    default:
      return new Response("not found", { status: 404 });
  }
}

interface Result {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function h2request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<Result> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers);
    const chunks: Buffer[] = [];
    let status = 0;
    let got: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => {
      status = Number(h[":status"]);
      got = h;
    });
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => resolve({ status, headers: got, body: Buffer.concat(chunks) }));
    req.on("error", reject);
    req.end();
  });
}

function connect(): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(base);
    session.once("remoteSettings", () => resolve(session));
    session.once("error", reject);
  });
}

function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => session.close(() => resolve()));
}

describe("serve over HTTP/2 with installLightResponse()", () => {
  before(() => {
    uninstall = installLightResponse();
    server = serve({ port: 0, host: "127.0.0.1", fetch: handler, onError: () => new Response("failed", { status: 500 }) });
    port = server.addr.port;
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    uninstall();
    await server.shutdown({ deadlineMs: 2000 });
  });

  test("string, bytes, no body, 204, HEAD and long bodies are written from the recorded parts", async () => {
    const session = await connect();
    try {
      const text = await h2request(session, { ":path": "/text" });
      assert.equal(text.status, 200);
      assert.equal(text.body.toString("utf8"), "héllo");
      assert.equal(text.headers["content-length"], "6");
      assert.equal(text.headers["content-type"], "text/plain;charset=UTF-8");
      assert.equal(text.headers["x-a"], "b");
      assert.equal(typeof text.headers.date, "string");

      const bytes = await h2request(session, { ":path": "/bytes" });
      assert.equal(bytes.status, 201);
      assert.deepEqual([...bytes.body], [1, 2, 3]);
      assert.equal(bytes.headers["content-type"], "application/octet-stream");
      assert.equal(bytes.headers["content-length"], "3"); // the body's, not the handler's 99
      assert.equal(bytes.headers["x-b"], "1");

      const none = await h2request(session, { ":path": "/none" });
      assert.equal(none.status, 204);
      assert.equal(none.body.length, 0);
      assert.equal(none.headers["x-c"], "2");
      assert.equal(none.headers["content-length"], undefined);

      const empty = await h2request(session, { ":path": "/null" });
      assert.equal(empty.status, 200);
      assert.equal(empty.headers["content-length"], "0");
      assert.equal(empty.body.length, 0);

      const long = await h2request(session, { ":path": "/long" });
      assert.equal(long.status, 200);
      assert.equal(long.body.toString("utf8"), LONG);
      assert.equal(long.headers["content-length"], String(Buffer.byteLength(LONG)));

      const head = await h2request(session, { ":path": "/text", ":method": "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      assert.equal(head.headers["content-length"], "6");
    } finally {
      await closeSession(session);
    }
  });

  test("a field no Headers would take makes the handler's error response, and the connection serves on", async () => {
    const session = await connect();
    try {
      const bad = await h2request(session, { ":path": "/bad" });
      assert.equal(bad.status, 500);
      assert.equal(bad.body.toString(), "failed");
      const text = await h2request(session, { ":path": "/text" });
      assert.equal(text.status, 200);
    } finally {
      await closeSession(session);
    }
  });

  test("fields made from the same strings each time are checked alike, whatever came at their place before", async () => {
    const session = await connect();
    try {
      for (let round = 0; round < 3; round++) {
        const text = await h2request(session, { ":path": "/text" });
        assert.equal(text.headers["x-a"], "b");
        // The name that passed at place 0 with a value no Headers takes.
        assert.equal((await h2request(session, { ":path": "/same-name-bad-value" })).status, 500);
        // A name that does not pass, where "X-A" passed.
        assert.equal((await h2request(session, { ":path": "/bad" })).status, 500);
        // Names and values at other places than before: each written as its own.
        const moved = await h2request(session, { ":path": "/moved" });
        assert.equal(moved.status, 200);
        assert.equal(moved.headers["x-k"], "b");
        assert.equal(moved.headers["x-a"], "z, b");
      }
    } finally {
      await closeSession(session);
    }
  });

  test("request fields: host from :authority, one cookie as sent, crumbs joined, many streams at once", async () => {
    const session = await connect();
    try {
      const one = await h2request(session, { ":path": "/fields?a=1", "x-one": "1", cookie: "a=1" });
      const oneJson = JSON.parse(one.body.toString()) as { url: string; fields: [string, string][] };
      const got = new Map(oneJson.fields);
      assert.equal(oneJson.url, `${base}/fields?a=1`);
      assert.equal(got.get("host"), `127.0.0.1:${port}`);
      assert.equal(got.get("cookie"), "a=1");
      assert.equal(got.get("x-one"), "1");
      assert.ok(![...got.keys()].some((name) => name.startsWith(":")));

      const crumbs = await h2request(session, { ":path": "/fields", cookie: ["a=1", "b=2", "c=3"], "x-two": "2" });
      const crumbsJson = JSON.parse(crumbs.body.toString()) as { fields: [string, string][] };
      const got2 = new Map(crumbsJson.fields);
      assert.equal(got2.get("cookie"), "a=1; b=2; c=3");
      assert.equal(got2.get("host"), `127.0.0.1:${port}`);
      assert.equal(got2.get("x-two"), "2");

      const many = await Promise.all(Array.from({ length: 40 }, (_, i) => h2request(session, { ":path": i % 2 === 0 ? "/text" : "/bytes" })));
      for (let i = 0; i < many.length; i++) {
        assert.equal(many[i]!.status, i % 2 === 0 ? 200 : 201);
        assert.equal(many[i]!.body.length, i % 2 === 0 ? 6 : 3);
      }
    } finally {
      await closeSession(session);
    }
  });
});
