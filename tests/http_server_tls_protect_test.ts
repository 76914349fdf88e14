// serve({ tls, protect }): the ListenProtection gate runs on each TLS connection before its
// handshake. Per-IP limits refuse the TLS client over the limit (no handshake byte) and count it
// in server.rejected; SYN-guard scoring moves an address that connects and closes without a
// word to hostile, after which its HTTPS clients are refused while another address is served
// over h2 and HTTP/1.1 (node:https, node:http2, curl). Sources 127.0.0.x bound by the clients.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http2 from "node:http2";
import https from "node:https";
import net from "node:net";
import { ManualClock } from "../core/clock.ts";
import { serve, type Server } from "../http/server/mod.ts";
import { ListenProtection } from "../pool/protect.ts";
import { testPKI } from "./tls_pki.ts";

const pki = testPKI();
const servers: Server[] = [];
after(async () => {
  for (const s of servers) await s.shutdown({ deadlineMs: 1000 });
});

function start(protect: ListenProtection): Server {
  const server = serve({ port: 0, tls: { cert: pki.chain, key: pki.key }, protect, fetch: (request) => new Response(`hi ${request.url}`) });
  servers.push(server);
  return server;
}

/** An HTTPS GET from `source` through node:https (HTTP/1.1): the body, or the error's code. */
function httpsFrom(source: string, port: number, path = "/"): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get({ host: "127.0.0.1", port, path, servername: "localhost", ca: pki.root, localAddress: source, agent: false, headers: { host: `localhost:${port}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve(body));
    });
    req.on("error", (e: Error & { code?: string }) => resolve(e.code ?? e.message));
    // a connection closed before the TLS handshake may end without an error event
    req.on("socket", (socket) => socket.on("close", () => setImmediate(() => resolve("closed"))));
  });
}

/** A TCP connection from `source` closed as soon as it is open (no TLS byte sent; closed, not half-closed). */
function touchFrom(source: string, port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress: source });
    s.on("connect", () => s.destroy());
    s.on("error", () => resolve());
    s.on("close", () => resolve());
  });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function curl(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "--cacert", `${pki.dir}/root.pem`, "--http2", "-w", " %{http_version}", `https://localhost:${port}${path}`], { encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}

describe("serve({ tls, protect })", () => {
  test("maxPerIp: the HTTPS client over the limit is refused before its handshake and counted; another address is served", async () => {
    const protect = new ListenProtection({ maxPerIp: 1 });
    const server = start(protect);
    const port = server.addr.port;
    const held = await new Promise<http2.ClientHttp2Session>((resolve, reject) => {
      const s = http2.connect(`https://localhost:${port}`, { ca: pki.root });
      s.once("connect", () => resolve(s));
      s.once("error", reject);
    });
    try {
      await until(() => protect.connections("127.0.0.1") === 1, "the held connection to be counted");
      const refused = await httpsFrom("127.0.0.1", port);
      assert.ok(refused === "ECONNRESET" || refused === "EPIPE" || refused.includes("socket disconnected"), refused);
      assert.equal(server.rejected.protect, 1);
      assert.equal(protect.stats().refusedPerIp, 1);
      assert.equal(await httpsFrom("127.0.0.2", port, "/other"), `hi https://localhost:${port}/other`);
    } finally {
      await new Promise<void>((resolve) => held.close(() => resolve()));
    }
    await until(() => protect.connections("127.0.0.1") === 0, "the close to free the slot");
    assert.equal(await curl(port, "/again"), `hi https://localhost:${port}/again 2`);
  });

  test("SYN-guard scoring: connect/close bursts from one address make it hostile; its HTTPS clients are refused, another address's served", async () => {
    const clock = new ManualClock(); // no decay during the burst
    const protect = new ListenProtection({ syn: { clock }, clock });
    const server = start(protect);
    const port = server.addr.port;
    const guard = protect.guard!;
    // An HTTPS client that is served counts as a success.
    assert.equal(await httpsFrom("127.0.0.3", port, "/first"), `hi https://localhost:${port}/first`);
    await until(() => (guard.record("127.0.0.3")?.successes ?? 0) >= 1, "the success to be scored");
    for (let i = 0; i < 40 && guard.reputation("127.0.0.3") !== "hostile"; i++) {
      const failuresBefore = guard.record("127.0.0.3")?.failures ?? 0;
      await touchFrom("127.0.0.3", port);
      await until(() => (guard.record("127.0.0.3")?.failures ?? 0) > failuresBefore || guard.peek("127.0.0.3") === "block", "the attempt to be scored");
    }
    assert.equal(guard.reputation("127.0.0.3"), "hostile");
    const refusedBefore = server.rejected.protect;
    assert.notEqual(await httpsFrom("127.0.0.3", port, "/blocked"), `hi https://localhost:${port}/blocked`);
    assert.ok(server.rejected.protect > refusedBefore);
    assert.ok(protect.stats().refusedBlocked >= 1);
    const actions = guard.stats();
    assert.ok(actions.throttled >= 1 && actions.challenged >= 1 && actions.blocked >= 1, JSON.stringify(actions));
    assert.equal(await httpsFrom("127.0.0.4", port, "/fine"), `hi https://localhost:${port}/fine`);
    assert.equal(await curl(port, "/h2"), `hi https://localhost:${port}/h2 2`);
    assert.equal(guard.reputation("127.0.0.1"), "neutral");
  });
});
