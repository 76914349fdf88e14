// Interop: the bytes Node's http client and server and curl really send and
// receive, captured live on 127.0.0.1 by a recording TCP proxy, parsed by
// our HTTP/1.1 parser in both directions.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { HTTP1Parser } from "../http/h1/parser.ts";
import { recordMessages, type Recording } from "../http/h1/recorder.ts";

interface Capture {
  up: Uint8Array[];
  down: Uint8Array[];
  closed: Promise<void>;
}

const captures: Capture[] = [];
let proxy: net.Server;
let proxyPort = 0;
let server: http.Server;
let serverPort = 0;

function listen(s: net.Server | http.Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as net.AddressInfo).port)));
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("latin1");
      const url = req.url ?? "/";
      if (url.startsWith("/chunked")) {
        res.setHeader("Content-Type", "text/plain");
        if (url.includes("trailers")) res.setHeader("Trailer", "X-Checksum");
        res.write("first,");
        res.write("second,");
        if (url.includes("trailers")) res.addTrailers({ "X-Checksum": "abc123" });
        res.end("last");
      } else if (url.startsWith("/empty")) {
        res.writeHead(204);
        res.end();
      } else if (url.startsWith("/notmodified")) {
        res.writeHead(304, { ETag: '"x"' });
        res.end();
      } else {
        const reply = `echo ${req.method} ${url} ${body.length} ${body}`;
        res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(reply), "X-Multi": ["a", "b"] });
        res.end(req.method === "HEAD" ? undefined : reply);
      }
    });
  });
  serverPort = await listen(server);
  proxy = net.createServer((client) => {
    const cap: Capture = { up: [], down: [], closed: Promise.resolve() };
    let done!: () => void;
    cap.closed = new Promise((r) => (done = r));
    captures.push(cap);
    const upstream = net.connect(serverPort, "127.0.0.1");
    client.on("data", (d: Buffer) => {
      cap.up.push(new Uint8Array(d));
      upstream.write(d);
    });
    upstream.on("data", (d: Buffer) => {
      cap.down.push(new Uint8Array(d));
      client.write(d);
    });
    let ends = 0;
    const finish = () => {
      if (++ends === 2) done();
    };
    client.on("close", () => {
      upstream.destroy();
      finish();
    });
    upstream.on("close", () => {
      client.destroy();
      finish();
    });
    client.on("error", () => {});
    upstream.on("error", () => {});
  });
  proxyPort = await listen(proxy);
});

after(() => {
  proxy.close();
  server.close();
  (server as http.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
});

/** Runs one exchange through the proxy and returns what crossed it. */
async function exchange(run: () => Promise<unknown>): Promise<{ requests: Recording; responses: Recording; seen: unknown }> {
  const before = captures.length;
  const seen = await run();
  // Wait for the connection(s) of this exchange to close.
  const mine = captures.slice(before);
  await Promise.all(mine.map((c) => c.closed));
  assert.ok(mine.length >= 1, "the exchange went through the proxy");
  const cap = mine[0]!;
  const up = concat(cap.up);
  const down = concat(cap.down);
  const requests = recordMessages({ kind: "request" }, splitRandom(up));
  const methods = requests.messages.map((m) => m.method);
  const responses = recordMessages({ kind: "response" }, splitRandom(down), { expect: methods });
  return { requests, responses, seen };
}

let seed = 12345;
function splitRandom(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length;) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (seed % 97);
    out.push(data.subarray(i, i + n));
    i += n;
  }
  return out;
}

function nodeRequest(
  options: http.RequestOptions & { body?: string | string[]; trailers?: Record<string, string> },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: proxyPort, agent: false, ...options, headers: { Connection: "close", ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("latin1") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (Array.isArray(options.body)) for (const part of options.body) req.write(part);
    else if (options.body !== undefined) req.write(options.body);
    if (options.trailers) req.addTrailers(options.trailers);
    req.end();
  });
}

describe("interop with Node's http client and server (live bytes)", () => {
  test("GET", async () => {
    const { requests, responses, seen } = await exchange(() => nodeRequest({ path: "/hello?x=1&y=%20" }));
    assert.equal(requests.error, null);
    assert.equal(requests.messages[0]!.method, "GET");
    assert.equal(requests.messages[0]!.target, "/hello?x=1&y=%20");
    assert.equal(responses.error, null);
    const r = responses.messages[0]!;
    assert.equal(r.statusCode, 200);
    assert.equal(r.body, "echo GET /hello?x=1&y=%20 0 ");
    assert.deepEqual((seen as { body: string }).body, r.body);
    assert.deepEqual(r.headers.filter(([n]) => n.toLowerCase() === "x-multi").map(([, v]) => v), ["a", "b"]);
  });

  test("POST with Content-Length", async () => {
    const body = "name=value&other=\xe9";
    const { requests, responses } = await exchange(() =>
      nodeRequest({ method: "POST", path: "/form", body, headers: { "Content-Length": String(Buffer.byteLength(body)) } })
    );
    assert.equal(requests.error, null);
    assert.equal(requests.messages[0]!.framing, "length");
    assert.equal(Buffer.from(requests.messages[0]!.body, "latin1").toString("utf8"), body);
    assert.equal(responses.error, null);
    assert.equal(responses.messages[0]!.statusCode, 200);
  });

  test("chunked upload with trailers", async () => {
    const { requests, responses } = await exchange(() =>
      nodeRequest({ method: "PUT", path: "/upload", body: ["part1-", "part2-", "part3"], trailers: { "X-Sum": "42" } })
    );
    assert.equal(requests.error, null);
    const m = requests.messages[0]!;
    assert.equal(m.framing, "chunked");
    assert.equal(m.body, "part1-part2-part3");
    assert.deepEqual(m.trailers, [["X-Sum", "42"]]);
    assert.equal(responses.messages[0]!.body, "echo PUT /upload 17 part1-part2-part3");
  });

  test("chunked response with trailers", async () => {
    const { responses } = await exchange(() => nodeRequest({ path: "/chunked?trailers" }));
    assert.equal(responses.error, null);
    const r = responses.messages[0]!;
    assert.equal(r.framing, "chunked");
    assert.equal(r.body, "first,second,last");
    assert.deepEqual(r.trailers, [["X-Checksum", "abc123"]]);
  });

  test("HEAD, 204 and 304 have no body", async () => {
    for (const [method, path, status] of [["HEAD", "/x", 200], ["GET", "/empty", 204], ["GET", "/notmodified", 304]] as const) {
      const { responses } = await exchange(() => nodeRequest({ method, path }));
      assert.equal(responses.error, null, `${method} ${path}`);
      assert.equal(responses.messages[0]!.statusCode, status);
      assert.equal(responses.messages[0]!.body, "");
      assert.equal(responses.messages[0]!.complete, true);
    }
  });

  test("keep-alive: pipelined requests on one connection, our serializer as the client", async () => {
    const { requests, responses } = await exchange(
      () =>
        new Promise<void>((resolve, reject) => {
          const sock = net.connect(proxyPort, "127.0.0.1", () => {
            sock.write(
              "GET /one HTTP/1.1\r\nHost: x\r\n\r\nPOST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
                "GET /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
          });
          sock.on("data", () => {});
          sock.on("close", () => resolve());
          sock.on("error", reject);
        }),
    );
    assert.equal(requests.messages.length, 3);
    assert.equal(responses.error, null);
    assert.deepEqual(responses.messages.map((m) => m.body), ["echo GET /one 0 ", "echo POST /two 3 abc", "first,second,last"]);
    assert.equal(responses.messages[2]!.keepAlive, false);
  });
});

const CURL = ["/usr/bin/curl", "/usr/local/bin/curl"].find((p) => existsSync(p));

function curl(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(CURL!, ["-s", "-S", "--http1.1", ...args], { encoding: "latin1" }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

describe("interop with curl (live bytes)", () => {
  test("curl is installed (CI installs it)", () => {
    assert.ok(CURL, "curl not found: apt-get install -y curl");
  });

  test("curl GET with custom headers", async () => {
    const { requests, responses, seen } = await exchange(() =>
      curl(["-H", "X-Custom: one", "-H", "Accept: text/plain", `http://127.0.0.1:${proxyPort}/path/to?q=curl`])
    );
    assert.equal(requests.error, null);
    const m = requests.messages[0]!;
    assert.equal(m.target, "/path/to?q=curl");
    assert.ok(m.headers.some(([n, v]) => n === "X-Custom" && v === "one"));
    assert.ok(m.headers.some(([n]) => n.toLowerCase() === "user-agent"));
    assert.equal(responses.error, null);
    assert.equal(responses.messages[0]!.body, seen);
  });

  test("curl POST form data", async () => {
    const { requests } = await exchange(() => curl(["-d", "a=1&b=2", `http://127.0.0.1:${proxyPort}/post`]));
    assert.equal(requests.error, null);
    assert.equal(requests.messages[0]!.method, "POST");
    assert.equal(requests.messages[0]!.body, "a=1&b=2");
  });

  test("curl chunked upload from stdin", async () => {
    const data = "x".repeat(5000) + "end";
    const { requests, responses } = await exchange(() =>
      curl(["-T", "-", "-H", "Transfer-Encoding: chunked", `http://127.0.0.1:${proxyPort}/stream`], data)
    );
    assert.equal(requests.error, null);
    assert.equal(requests.messages[0]!.framing, "chunked");
    assert.ok(requests.messages[0]!.body === data, "the uploaded body arrives intact");
    // curl sends Expect: 100-continue, so an interim 100 response comes first.
    assert.equal(responses.error, null);
    assert.deepEqual(responses.messages.map((m) => m.statusCode), [100, 200]);
    assert.ok(responses.messages[1]!.body === `echo PUT /stream ${data.length} ${data}`, "the echo matches");
  });

  test("curl receives a chunked response with trailers and a HEAD response", async () => {
    const got = await exchange(() => curl([`http://127.0.0.1:${proxyPort}/chunked?trailers`]));
    assert.equal(got.responses.error, null);
    assert.equal(got.responses.messages[0]!.body, got.seen);
    const head = await exchange(() => curl(["-I", `http://127.0.0.1:${proxyPort}/x`]));
    assert.equal(head.requests.messages[0]!.method, "HEAD");
    assert.equal(head.responses.error, null);
    assert.equal(head.responses.messages[0]!.body, "");
  });
});

test("a parser fed by a live socket in arbitrary reads", async () => {
  const messages: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new HTTP1Parser({ kind: "response" }, {
      onHead: (h) => messages.push(h.statusCode),
      onMessageComplete: () => {
        if (messages.length === 2) sock.end();
      },
    });
    const sock = net.connect(serverPort, "127.0.0.1", () => {
      sock.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /empty HTTP/1.1\r\nHost: x\r\n\r\n");
    });
    sock.on("data", (d: Buffer) => parser.push(new Uint8Array(d.buffer, d.byteOffset, d.length)));
    sock.on("close", () => resolve());
    sock.on("error", reject);
  });
  assert.deepEqual(messages, [200, 204]);
});
