// serve({ tls }) against real TLS clients: request URLs are https:// on HTTP/1.1 (curl --http1.1,
// node:https, an HTTP/1.0 request without Host) and on HTTP/2 (curl --http2, node:http2); a server
// at maxConnections answers 503 with Retry-After on both (HTTP/2: on the first stream, then GOAWAY).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http2 from "node:http2";
import https from "node:https";
import tls from "node:tls";
import { serve, type Server } from "../http/server/mod.ts";
import { testPKI } from "./tls_pki.ts";

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "latin1", timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stdout, stderr });
    });
  });
}

function h2get(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":path": path });
    let headers: http2.IncomingHttpHeaders = {};
    let body = "";
    req.setEncoding("utf8");
    req.on("response", (h) => (headers = h));
    req.on("data", (d: string) => (body += d));
    req.on("end", () => resolve({ status: Number(headers[":status"]), headers, body }));
    req.on("error", reject);
    req.end();
  });
}

function h2connect(port: number, ca: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`https://localhost:${port}`, { ca });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Whether GOAWAY arrived on `session` (or it closed), with its error code. */
function goaway(session: http2.ClientHttp2Session): Promise<number> {
  return new Promise((resolve) => {
    session.once("goaway", (code: number) => resolve(code));
    session.once("close", () => resolve(-1));
  });
}

describe("serve over TLS: request URLs", () => {
  let server: Server;
  let port = 0;
  let caFile = "";
  let ca = "";
  before(() => {
    const pki = testPKI();
    caFile = `${pki.dir}/root.pem`;
    ca = pki.root;
    server = serve({ port: 0, tls: { cert: pki.chain, key: pki.key }, fetch: (request) => new Response(request.url) });
    port = server.addr.port;
  });
  after(() => server.shutdown({ deadlineMs: 2000 }));

  test("curl --http1.1 and --http2 see https:// URLs", async () => {
    const h1 = await run("curl", ["-sS", "--cacert", caFile, "--http1.1", "-w", " %{http_version}", `https://localhost:${port}/a?b=1`]);
    assert.equal(h1.stdout, `https://localhost:${port}/a?b=1 1.1`);
    const h2 = await run("curl", ["-sS", "--cacert", caFile, "--http2", "-w", " %{http_version}", `https://localhost:${port}/c`]);
    assert.equal(h2.stdout, `https://localhost:${port}/c 2`);
  });

  test("node:https (HTTP/1.1) and node:http2 see https:// URLs", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      https.get(`https://localhost:${port}/over/https`, { ca, agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve(text));
      }).on("error", reject);
    });
    assert.equal(body, `https://localhost:${port}/over/https`);
    const session = await h2connect(port, ca);
    try {
      const r = await h2get(session, "/over/h2");
      assert.equal(r.body, `https://localhost:${port}/over/h2`);
    } finally {
      await new Promise<void>((resolve) => session.close(() => resolve()));
    }
  });

  test("an HTTP/1.0 request without Host gets the listener's https:// authority", async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca, ALPNProtocols: ["http/1.1"] }, () => {
        socket.write("GET /old HTTP/1.0\r\n\r\n");
      });
      let got = "";
      socket.setEncoding("latin1");
      socket.on("data", (d: string) => (got += d));
      socket.on("end", () => resolve(got));
      socket.on("error", reject);
    });
    assert.match(text, /^HTTP\/1\.[01] 200 /);
    assert.ok(text.endsWith(`\r\n\r\nhttps://127.0.0.1:${port}/old`), text);
  });
});

describe("serve over TLS at maxConnections", () => {
  let server: Server;
  let port = 0;
  let caFile = "";
  let ca = "";
  /** The one connection the server takes (its handler waits on /hold until released). */
  let holder: http2.ClientHttp2Session | undefined;
  before(() => {
    const pki = testPKI();
    caFile = `${pki.dir}/root.pem`;
    ca = pki.root;
    server = serve({ port: 0, maxConnections: 1, tls: { cert: pki.chain, key: pki.key }, fetch: () => new Response("served") });
    port = server.addr.port;
  });
  after(async () => {
    if (holder !== undefined) await new Promise<void>((resolve) => holder!.close(() => resolve()));
    await server.shutdown({ deadlineMs: 2000 });
  });

  test("the first connection is served; another gets 503 with Retry-After on h2 (node:http2, curl) and on HTTP/1.1 (curl)", async () => {
    holder = await h2connect(port, ca);
    assert.equal((await h2get(holder, "/")).body, "served");
    assert.equal(server.connections, 1);

    // node:http2: a status on the first stream, then GOAWAY (NO_ERROR, last stream 1)
    const second = await h2connect(port, ca);
    const away = goaway(second);
    const refused = await h2get(second, "/x");
    assert.equal(refused.status, 503);
    assert.equal(refused.headers["retry-after"], "1");
    assert.equal(refused.body, "Service Unavailable\n");
    assert.equal(await away, http2.constants.NGHTTP2_NO_ERROR);
    second.destroy();

    const h2 = await run("curl", ["-sS", "--cacert", caFile, "--http2", "-D", "-", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", `https://localhost:${port}/y`]);
    assert.match(h2.stdout, /retry-after: 1\r\n/i);
    assert.ok(h2.stdout.endsWith("503 2"), h2.stdout);

    const h1 = await run("curl", ["-sS", "--cacert", caFile, "--http1.1", "-D", "-", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", `https://localhost:${port}/z`]);
    assert.match(h1.stdout, /retry-after: 1\r\n/i);
    assert.ok(h1.stdout.endsWith("503 1.1"), h1.stdout);

    // the held connection is still served
    assert.equal((await h2get(holder, "/again")).body, "served");
  });
});
