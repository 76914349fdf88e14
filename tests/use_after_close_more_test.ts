// Use after close, the handles tests/use_after_close_handles_test.ts leaves
// out (red team, twelfth pass, hostile input): a TLS connection (async) and
// a TLSSocket (sync, against openssl s_server), WebSocketConnection, the
// WHATWG WebSocket, a ServerWebSocket, the HTTP client's Pool, Client and
// Agent, ConnectionPool after a drain, a TimerHeap, and serve's Server
// after shutdown. Each handle is closed twice (the second a no-op), then
// every method is called from a table saying what it must do: throw or
// reject UseAfterCloseError ("closed"), resolve null ("end"), or do nothing
// and answer a documented value ("quiet"); nothing may hang (each promise
// is raced with a bounded number of loop turns, not a clock).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PoolError, UseAfterCloseError } from "../core/errors.ts";
import { TimerHeap } from "../core/timer_heap.ts";
import { Agent } from "../http/client/agent.ts";
import { Client } from "../http/client/client.ts";
import { Pool } from "../http/client/pool.ts";
import { request } from "../http/client/request.ts";
import { serve } from "../http/server/serve.ts";
import { ConnectionPool } from "../pool/pool.ts";
import { connectTLS, listenTLS, tlsInfo } from "../tls/connect_async.ts";
import { connectTLSSync } from "../tls/connect_sync.ts";
import { connectWebSocket } from "../ws/client.ts";
import type { ServerWebSocket } from "../ws/server.ts";
import { WebSocket } from "../ws/websocket.ts";
import { startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

type Expect = "closed" | "end" | { quiet: unknown };
type Row = readonly [name: string, call: () => unknown, expect: Expect];

const bytes = new Uint8Array([1, 2, 3]);
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const PENDING = Symbol("pending");
/** The promise's outcome, or PENDING if it has not settled after 200 macrotask turns. */
async function settle(p: Promise<unknown>): Promise<{ value?: unknown; error?: unknown } | typeof PENDING> {
  let out: { value?: unknown; error?: unknown } | undefined;
  p.then((value) => (out = { value }), (error) => (out = { error }));
  for (let i = 0; i < 200 && out === undefined; i++) await new Promise<void>((r) => setImmediate(r));
  return out ?? PENDING;
}

async function check(what: string, rows: readonly Row[]): Promise<void> {
  for (const [name, call, expect] of rows) {
    const label = `${what}.${name}`;
    let outcome: { value?: unknown; error?: unknown };
    try {
      const r = call();
      if (r instanceof Promise) {
        const s = await settle(r);
        assert.notEqual(s, PENDING, `${label} never settled`);
        outcome = s as { value?: unknown; error?: unknown };
      } else outcome = { value: r };
    } catch (error) {
      outcome = { error };
    }
    if (expect === "closed") {
      assert.ok(outcome.error instanceof UseAfterCloseError && outcome.error.code === "ERR_USE_AFTER_CLOSE", `${label}: ${String(outcome.error ?? outcome.value)}`);
    } else if (expect === "end") {
      assert.equal(outcome.error, undefined, `${label} threw ${String(outcome.error)}`);
      assert.equal(outcome.value, null, label);
    } else {
      assert.equal(outcome.error, undefined, `${label} threw ${String(outcome.error)}`);
      assert.deepEqual(outcome.value, expect.quiet, label);
    }
  }
}

describe("use after close: more handles", () => {
  const pki = testPKI();

  test("a TLS connection (both ends) and the TLS details it keeps", async () => {
    const listener = listenTLS({ host: "127.0.0.1", port: 0, cert: pki.chain, key: pki.key, alpn: ["x"] });
    cleanups.push(() => listener.close());
    const accepted = listener.accept();
    const conn = await connectTLS({ host: "127.0.0.1", port: listener.port, servername: "localhost", ca: pki.root, alpn: ["x"] });
    const peer = (await accepted)!;
    await conn.close();
    await conn.close();
    await peer.close();
    const info = tlsInfo(conn)!;
    await check("TLS connection", [
      ["write", () => conn.write(bytes), "closed"],
      ["send", () => conn.send(bytes), "closed"],
      ["sendPair", () => conn.sendPair(bytes, bytes), "closed"],
      ["sendParts", () => conn.sendParts([bytes, bytes]), "closed"],
      ["sendFile", () => conn.sendFile(0, 0, 1), "closed"],
      ["localAddress", () => conn.localAddress, "closed"],
      ["remoteAddress", () => conn.remoteAddress, "closed"],
      ["detach", () => conn.detach(), "closed"],
      ["read", () => conn.read(), "end"],
      ["readInto", () => conn.readInto(new Uint8Array(4)), "end"],
      ["end", () => conn.end(), { quiet: undefined }],
      ["pause", () => conn.pause(), { quiet: undefined }],
      ["resume", () => conn.resume(), { quiet: undefined }],
      ["abort", () => conn.abort(), { quiet: undefined }],
      ["fd", () => conn.fd, { quiet: -1 }],
      ["bufferedAmount", () => conn.bufferedAmount, { quiet: 0 }],
      // What was negotiated is read before the SSL is freed: kept, no native call.
      ["tlsInfo.alpnProtocol", () => info.alpnProtocol, { quiet: "x" }],
      ["tlsInfo.peerCertificate", () => info.peerCertificate()?.subject.includes("localhost"), { quiet: true }],
      ["peer write", () => peer.write(bytes), "closed"],
    ]);
  });

  test("TLSSocket (blocking), against openssl s_server", async () => {
    const server = await startSServer(["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!, "-rev"], false);
    cleanups.push(() => server.close());
    const tls = connectTLSSync({ host: "localhost", port: server.port, ca: pki.root });
    tls.close();
    tls.close();
    const buf = new Uint8Array(4);
    assert.equal(tls.closed, true);
    await check("TLSSocket", [
      ["handshake", () => tls.handshake(), "closed"],
      ["send", () => tls.send(bytes), "closed"],
      ["sendAll", () => tls.sendAll(bytes), "closed"],
      ["recv", () => tls.recv(buf), "closed"],
      ["peek", () => tls.peek(buf, 1), "closed"],
      ["recvAll", () => tls.recvAll(buf), "closed"],
      ["alpnProtocol", () => tls.alpnProtocol, "closed"],
      ["protocol", () => tls.protocol, "closed"],
      ["cipher", () => tls.cipher, "closed"],
      ["session", () => tls.session(), "closed"],
      ["ocspResponse", () => tls.ocspResponse(), "closed"],
      ["isSessionReused", () => tls.isSessionReused(), "closed"],
      ["peerCertificate", () => tls.peerCertificate(), "closed"],
    ]);
  });

  test("WebSocketConnection, the WHATWG WebSocket and a ServerWebSocket", async () => {
    let serverSide: ServerWebSocket<unknown> | undefined;
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const server = serve({
      host: "127.0.0.1",
      port: 0,
      fetch: (req) => (server.upgrade(req) ? undefined : new Response("no")),
      websocket: { open: (ws) => ((serverSide = ws), opened()), message: () => {} },
    });
    cleanups.push(() => server.shutdown());
    const url = `ws://127.0.0.1:${server.addr.port}/`;
    const ws = await connectWebSocket(url);
    await open;
    await ws.close();
    await ws.close();
    await check("WebSocketConnection", [
      ["send", () => ws.send("x"), "closed"],
      ["sendJSON", () => ws.sendJSON({ a: 1 }), "closed"],
      ["ping", () => ws.ping(), "closed"],
      ["recv", () => ws.recv(), "end"],
      ["drained", () => ws.drained(), { quiet: undefined }],
      ["terminate", () => ws.terminate(), { quiet: undefined }],
      ["bufferedAmount", () => ws.bufferedAmount, { quiet: 0 }],
      ["readyState", () => ws.readyState, { quiet: "closed" }],
      ["iterator", async () => (await ws[Symbol.asyncIterator]().next()).done, { quiet: true }],
    ]);
    // Closed by the client: the server's end is closed too by now.
    for (let i = 0; i < 200 && serverSide!.readyState !== 3; i++) await new Promise<void>((r) => setImmediate(r));
    const s = serverSide!;
    s.close();
    s.close();
    // Bun's ServerWebSocket contract: a send on a closed socket is dropped (0).
    await check("ServerWebSocket", [
      ["readyState", () => s.readyState, { quiet: 3 }],
      ["send", () => s.send("x"), { quiet: 0 }],
      ["sendBinary", () => s.sendBinary(bytes), { quiet: 0 }],
      ["ping", () => s.ping(), { quiet: 0 }],
      ["pong", () => s.pong(), { quiet: 0 }],
      ["publish", () => s.publish("t", "x"), { quiet: 0 }],
      ["getBufferedAmount", () => s.getBufferedAmount(), { quiet: 0 }],
      ["terminate", () => s.terminate(), { quiet: undefined }],
    ]);
    const w = new WebSocket(url);
    await new Promise((r) => (w.onopen = r));
    const closed = new Promise((r) => (w.onclose = r));
    w.close();
    w.close();
    await closed;
    // The WebSockets Standard: a send after close is dropped and counted in bufferedAmount; close() again does nothing.
    await check("WebSocket", [
      ["send", () => w.send("abc"), { quiet: undefined }],
      ["bufferedAmount", () => w.bufferedAmount, { quiet: 3 }],
      ["close", () => w.close(), { quiet: undefined }],
      ["readyState", () => w.readyState, { quiet: WebSocket.CLOSED }],
    ]);
  });

  test("the HTTP client's Pool, Client and Agent; ConnectionPool after a drain", async () => {
    const server = serve({ host: "127.0.0.1", port: 0, fetch: () => new Response("x") });
    cleanups.push(() => server.shutdown());
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const pool = new Pool(origin);
    const first = await request(`${origin}/`, { dispatcher: pool });
    assert.equal(first.statusCode, 200);
    await first.body.text();
    await pool.close();
    await pool.close();
    const client = new Client(origin);
    await client.destroy();
    await client.close();
    const agent = new Agent();
    await agent.close();
    await agent.close();
    const cp = new ConnectionPool();
    await cp.drain(10);
    await check("http client", [
      ["Pool request", () => request(`${origin}/`, { dispatcher: pool }), "closed"],
      ["Pool.ping", () => pool.ping(), "closed"],
      ["Pool.closed", () => pool.closed, { quiet: true }],
      ["Pool.destroy", () => pool.destroy(), { quiet: undefined }],
      ["Client request", () => request(`${origin}/`, { dispatcher: client }), "closed"],
      ["Client.ping", () => client.ping(), "closed"],
      ["Agent request", () => request(`${origin}/`, { dispatcher: agent }), "closed"],
      // Made after close, a pool nobody would ever close.
      ["Agent.dispatcherFor", () => agent.dispatcherFor(origin), "closed"],
      ["Agent.origins", () => agent.origins.length, { quiet: 0 }],
      ["ConnectionPool.get", () => cp.get(), { quiet: undefined }],
      ["ConnectionPool.cleanupIdle", () => cp.cleanupIdle(), { quiet: 0 }],
    ]);
    // A stopped pool takes no connection: PoolError ERR_POOL_DRAINING (documented), never a member it would not close.
    const member = { closed: false, close() {}, abort() {} };
    assert.throws(() => cp.add(member as never), (e: unknown) => e instanceof PoolError && e.code === "ERR_POOL_DRAINING");
    await assert.rejects(cp.prewarm("", 1, { host: "127.0.0.1", port: server.addr.port }), (e: unknown) => e instanceof PoolError && e.code === "ERR_POOL_DRAINING");
    assert.equal(cp.size, 0);
  });

  test("TimerHeap and serve's Server after shutdown", async () => {
    const heap = new TimerHeap();
    const timer = heap.once(1000, () => {});
    heap.close();
    heap.close();
    await check("TimerHeap", [
      ["once", () => heap.once(1, () => {}), "closed"],
      ["every", () => heap.every(1, () => {}), "closed"],
      ["reschedule", () => timer.reschedule(5), "closed"],
      ["cancel", () => timer.cancel(), { quiet: false }],
      ["pause", () => timer.pause(), { quiet: false }],
      ["resume", () => timer.resume(), { quiet: false }],
      ["nextDeadline", () => heap.nextDeadline(), { quiet: undefined }],
      ["size", () => heap.size, { quiet: 0 }],
    ]);
    const server = serve({ host: "127.0.0.1", port: 0, fetch: () => new Response("x") });
    await server.shutdown();
    await server.shutdown();
    await check("Server", [
      ["upgrade", () => server.upgrade(new Request("http://x/")), { quiet: false }],
      ["publish", () => server.publish("t", "x"), { quiet: 0 }],
      ["subscriberCount", () => server.subscriberCount("t"), { quiet: 0 }],
      ["connections", () => server.connections, { quiet: 0 }],
      ["shutdown", () => server.shutdown(), { quiet: undefined }],
    ]);
  });
});
