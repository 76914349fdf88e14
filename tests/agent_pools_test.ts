// Agent and ProxyAgent keep one pool per origin (reviewer, ninth session):
// the pools of origins no longer in use were kept for good, ~2.8 KB each
// (3000 origins: 3000 pools, 8.4 MB on Node), so a process that fetches
// many origins (webhooks, a crawler, redirects a server chooses) grew
// without bound. A pool with nothing open, opening, running or queued is
// now let go once the table doubles; one with a kept-alive connection stays
// and is reused.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Agent, fetch } from "../http/client/mod.ts";
import { Pool } from "../http/client/pool.ts";
import { ProxyAgent } from "../http/client/proxy_dispatch.ts";
import type { Socket } from "node:net";
import { listenRawHTTP, type RawHTTPServer } from "./raw_http_server.ts";

let server: RawHTTPServer;
let port = 0;
/** Connections accepted, by local address (the origin's host). */
const accepted = new Map<string, number>();
/** The connections open at the server. */
const sockets = new Set<Socket>();

before(async () => {
  // Every 127.x.y.z reaches it (Linux loopback); /keep answers with keep-alive, anything else with a close.
  server = await listenRawHTTP((sock, head) => {
    const keep = head.startsWith("GET /keep ");
    sock.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${keep ? "" : "Connection: close\r\n"}\r\nok`);
    if (!keep) sock.end();
  }, {
    host: "0.0.0.0",
    onConnection: (sock) => {
      sockets.add(sock);
      sock.on("close", () => sockets.delete(sock));
      const host = sock.localAddress ?? "";
      accepted.set(host, (accepted.get(host) ?? 0) + 1);
    },
  });
  port = server.port;
});

after(async () => {
  await server.close();
});

/** The i-th loopback host, 127.0.1.1 onwards. */
const host = (i: number): string => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
const ORIGINS = 300;

describe("per-origin pools of an agent stay bounded", () => {
  for (const kind of ["Agent", "ProxyAgent (direct routes)"] as const) {
    test(`${kind}: ${ORIGINS} origins used once leave far fewer pools; a pool with a kept-alive connection is kept and reused`, async () => {
      // The kept connection must outlive the 300 requests between its two uses, however slow the machine (the 4 s default did not under load).
      const keepAliveTimeoutMs = 600_000;
      const agent = kind === "Agent" ? new Agent({ keepAliveTimeoutMs }) : new ProxyAgent({ proxy: "env", env: () => undefined, keepAliveTimeoutMs });
      const pools = (): number => agent instanceof Agent ? agent.origins.length : agent.routes.length;
      try {
        accepted.clear();
        const kept = `http://${host(ORIGINS)}:${port}`;
        assert.equal(await (await fetch(`${kept}/keep`, { dispatcher: agent })).text(), "ok");
        for (let i = 0; i < ORIGINS; i++) {
          assert.equal(await (await fetch(`http://${host(i)}:${port}/once`, { dispatcher: agent })).text(), "ok");
        }
        assert.ok(pools() < ORIGINS / 2, `${pools()} pools kept after ${ORIGINS} origins`);
        assert.equal(await (await fetch(`${kept}/keep`, { dispatcher: agent })).text(), "ok");
        assert.equal(accepted.get(host(ORIGINS)), 1, "the kept-alive connection was reused");
      } finally {
        await agent.close();
      }
    });
  }
});

// agent.close() closes every pool the agent ever handed out that is still open: a pool the sweep let go
// (empty when swept) that a caller still held (dispatcherFor) and used afterwards kept its connection
// open after agent.close() (and the agent's process alive).
describe("agent.close() and pools the sweep let go", () => {
  test("a pool handed out by dispatcherFor, swept while empty, then used, is closed by agent.close() with its kept-alive connection", async () => {
    const agent = new Agent();
    const origin = `http://${host(ORIGINS + 1)}:${port}`;
    const held = agent.dispatcherFor(origin) as Pool;
    let closedAtServer!: Promise<void>;
    try {
      // Enough other origins for two sweeps: the held pool (empty) is let go.
      for (let i = 0; i < 200; i++) agent.dispatcherFor(`http://${host(i)}:${port}`);
      assert.ok(!agent.origins.includes(origin), "swept");
      const before = new Set(sockets);
      assert.equal(await (await fetch(`${origin}/keep`, { dispatcher: held })).text(), "ok");
      const sock = [...sockets].find((s) => !before.has(s));
      assert.ok(sock !== undefined, "the held pool's connection");
      closedAtServer = new Promise<void>((resolve) => (sock.destroyed ? resolve() : sock.once("close", () => resolve())));
      assert.equal(held.empty, false, "its connection is kept alive");
    } finally {
      await agent.close();
    }
    assert.equal(held.closed, true);
    await closedAtServer;
    await assert.rejects(fetch(`${origin}/keep`, { dispatcher: held }), (err: Error & { cause?: { code?: string } }) => (err.cause?.code ?? (err as { code?: string }).code) === "ERR_USE_AFTER_CLOSE" || /closed/i.test(String(err.cause ?? err)));
  });
});
