// serve() and a handler's response that may carry no content, or that
// answers with 101 itself (red team, thirteenth pass). Found and fixed:
// - a `205 Reset Content` with a body (Bun's Response takes one; Node's
//   and Deno's refuse it at construction) was sent with its body and a
//   Content-Length, over HTTP/1.1 and HTTP/2: RFC 9110 §15.3.6 says a
//   server MUST NOT generate content in a 205. The body is now cancelled
//   unread and the response says `Content-Length: 0` (205 is framed by its
//   fields, RFC 9112 §6.3, unlike 204 and 304).
// - a handler's own `101` (Deno's and Bun's Response take status 101)
//   went out over HTTP/1.1 as `101 Switching Protocols` with no Upgrade,
//   and the connection went on as HTTP/1.1: a client reads what follows as
//   the other protocol. Only `upgrade()` switches a connection; a 101 from
//   a handler is now refused as any other 1xx is (a 500), as over
//   HTTP/2 already.
// The responses are made with a subclass whose `status` says 205 or 101,
// so that every runtime serves what Bun's or Deno's Response allows.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import { serve } from "../http/server/mod.ts";
import { compression } from "../http/server/compress.ts";
import { Logger } from "../core/log.ts";
import { rawExchangeText } from "./raw_exchange.ts";

/** The status each {@link StatusAs} reads as, once made (while the runtime's constructor runs it reads as its own). */
const statusOf = new WeakMap<Response, number>();

/** A Response whose status reads as `status` (what a runtime that allows it would hand over). */
class StatusAs extends Response {
  constructor(body: BodyInit | null, status: number, headers?: HeadersInit) {
    super(body, headers === undefined ? {} : { headers });
    statusOf.set(this, status);
  }
  override get status(): number {
    return statusOf.get(this) ?? super.status;
  }
}

/** A stream body that records its cancel. */
function streamBody(cancelled: string[], name: string): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new TextEncoder().encode("stream content"));
    },
    cancel() {
      cancelled.push(name);
    },
  });
}

function noContentServer(http2Enabled: boolean) {
  const cancelled: string[] = [];
  const logged: string[] = [];
  const server = serve({
    port: 0,
    ...(http2Enabled ? {} : { http2: false }),
    logger: new Logger({ level: "error", sink: (line) => logged.push(line) }),
    fetch: (request, info) => {
      const path = new URL(request.url).pathname;
      if (path === "/205-string") return new StatusAs("body for 205", 205, { "content-length": "12" });
      if (path === "/205-bytes") return new StatusAs(new Uint8Array(5000).fill(0x61), 205);
      if (path === "/205-stream") return new StatusAs(streamBody(cancelled, "205"), 205);
      if (path === "/205-compressed") return compression({ threshold: 0 })(request, () => Promise.resolve(new StatusAs("z".repeat(4000), 205, { "content-type": "text/plain" })), info);
      if (path === "/101") return new StatusAs(null, 101);
      if (path === "/101-upgrade") return new StatusAs(null, 101, { connection: "upgrade", upgrade: "foo" });
      return new Response("next");
    },
  });
  return { server, cancelled, logged };
}

/** The status lines and bodies of a raw HTTP/1.1 exchange, split into responses by their Content-Length. */
function responses(raw: string): Array<{ head: string; body: string }> {
  const out: Array<{ head: string; body: string }> = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf("\r\n\r\n", at);
    assert.ok(end >= 0, `a whole head at ${at} in ${JSON.stringify(raw)}`);
    const head = raw.slice(at, end);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    assert.ok(length !== null, `a Content-Length in ${JSON.stringify(head)}`);
    const n = Number(length[1]);
    out.push({ head, body: raw.slice(end + 4, end + 4 + n) });
    at = end + 4 + n;
  }
  return out;
}

describe("serve over HTTP/1.1: 205 carries no content, a handler's 101 is refused", () => {
  for (const path of ["/205-string", "/205-bytes", "/205-stream", "/205-compressed"]) {
    test(`${path}: Content-Length 0 and no body, the connection goes on`, async () => {
      const { server, cancelled } = noContentServer(false);
      try {
        const raw = await rawExchangeText(server.addr.port, `GET ${path} HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
        const [first, second, ...rest] = responses(raw);
        assert.deepEqual(rest, []);
        assert.match(first!.head, /^HTTP\/1\.1 205 Reset Content\r\n/);
        assert.equal(first!.head.match(/\r\ncontent-length:/gi)?.length, 1, first!.head);
        assert.match(first!.head, /\r\nContent-Length: 0(\r\n|$)/);
        assert.doesNotMatch(first!.head, /content-encoding/i);
        assert.equal(first!.body, "");
        assert.match(second!.head, /^HTTP\/1\.1 200 OK\r\n/);
        assert.equal(second!.body, "next");
        if (path === "/205-stream") assert.deepEqual(cancelled, ["205"]);
      } finally {
        await server.shutdown({ deadlineMs: 200 });
      }
    });
  }

  for (const path of ["/101", "/101-upgrade"]) {
    test(`${path}: a handler error (500), never a 101 on a connection that stays HTTP/1.1`, async () => {
      const { server, logged } = noContentServer(false);
      try {
        const raw = await rawExchangeText(server.addr.port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
        assert.doesNotMatch(raw, /101/);
        const [first, second] = responses(raw);
        assert.match(first!.head, /^HTTP\/1\.1 500 /);
        assert.equal(first!.body, "Internal Server Error");
        assert.equal(second!.body, "next");
        assert.equal(logged.filter((l) => l.includes("interim status (101)")).length, 1, logged.join("\n"));
      } finally {
        await server.shutdown({ deadlineMs: 200 });
      }
    });
  }
});

describe("serve over HTTP/2: 205 carries no content, a handler's 101 is refused", () => {
  /** One request's head and body over `client`. */
  function get(client: http2.ClientHttp2Session, path: string): Promise<{ headers: http2.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const req = client.request({ ":path": path, "accept-encoding": "gzip" });
      let headers: http2.IncomingHttpHeaders = {};
      let body = "";
      req.on("response", (h) => (headers = h));
      req.on("data", (d: Buffer) => (body += d.toString("latin1")));
      req.on("end", () => resolve({ headers, body }));
      req.on("error", reject);
    });
  }

  test("205 with a string, bytes, a stream or compression(): content-length 0, no DATA; 101: 500", async () => {
    const { server, cancelled, logged } = noContentServer(true);
    const client = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    client.on("error", () => {});
    try {
      for (const path of ["/205-string", "/205-bytes", "/205-stream", "/205-compressed"]) {
        const { headers, body } = await get(client, path);
        assert.equal(headers[":status"], 205, path);
        assert.equal(headers["content-length"], "0", path);
        assert.equal(headers["content-encoding"], undefined, path);
        assert.equal(body, "", path);
      }
      assert.deepEqual(cancelled, ["205"]);
      for (const path of ["/101", "/101-upgrade"]) {
        const { headers, body } = await get(client, path);
        assert.equal(headers[":status"], 500, path);
        assert.equal(body, "Internal Server Error");
      }
      assert.equal(logged.filter((l) => l.includes("interim status (101)")).length, 2, logged.join("\n"));
      assert.equal((await get(client, "/next")).body, "next");
    } finally {
      client.destroy();
      await server.shutdown({ deadlineMs: 200 });
    }
  });
});
