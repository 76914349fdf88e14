// HostHealth (pool/health.ts) in the client pools: a real node:http server
// is stopped and started again on the same port. Connect outcomes are
// recorded per host:port; once the circuit opens, requests fail at once
// with CircuitOpenError (no connect is tried: the server, up again, sees
// nothing) until the reset timeout (a ManualClock: no timing in the test)
// lets one probe through, and its success closes the circuit.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { CircuitOpenError } from "../core/circuit_breaker.ts";
import { ManualClock } from "../core/clock.ts";
import { NetError } from "../core/errors.ts";
import { HostHealth } from "../pool/health.ts";
import { Agent } from "../http/client/agent.ts";
import { fetch } from "../http/client/fetch.ts";
import { Pool } from "../http/client/pool.ts";
import { request } from "../http/client/request.ts";

interface Peer {
  port: number;
  /** Connections accepted since started. */
  accepted: number;
  stop(): Promise<void>;
}

async function startServer(port = 0): Promise<Peer> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => res.end(`up ${req.url}`));
  const peer: Peer = { port: 0, accepted: 0, stop: async () => {} };
  server.on("connection", (s: Socket) => {
    peer.accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  peer.port = (server.address() as AddressInfo).port;
  peer.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return peer;
}

async function get(url: string, dispatcher: Agent | Pool): Promise<string> {
  const r = await request(url, { dispatcher });
  return await r.body.text();
}

describe("health: circuit breakers per origin in the client pools", () => {
  test("an Agent with health: successes recorded, failures open the circuit, then fail fast, a probe closes it after a restart", async () => {
    const clock = new ManualClock();
    const changes: string[] = [];
    const health = new HostHealth({ failureThreshold: 2, resetTimeoutMs: 5_000, clock, onStateChange: (origin, to) => changes.push(`${origin} ${to}`) });
    let server = await startServer();
    const key = `127.0.0.1:${server.port}`;
    const base = `http://${key}`;
    const agent = new Agent({ health });
    try {
      assert.equal(await get(`${base}/a`, agent), "up /a");
      assert.equal(health.origin(key).successes, 1);
      assert.equal(health.state(key), "closed");

      await server.stop();
      // Connection refused, twice: the real error each time, and the circuit opens.
      for (let i = 0; i < 2; i++) {
        await assert.rejects(get(`${base}/down${i}`, agent), (err: unknown) => err instanceof NetError && !(err instanceof CircuitOpenError));
      }
      assert.equal(health.state(key), "open");
      assert.equal(health.origin(key).totalFailures, 2);

      // The server is back, but the circuit is open: refused at once, nothing reaches it.
      server = await startServer(server.port);
      await assert.rejects(get(`${base}/fast`, agent), (err: unknown) => err instanceof CircuitOpenError && err.code === "ERR_CIRCUIT_OPEN" && err.retryAfterMs === 5_000);
      const viaFetch = await fetch(`${base}/fast-fetch`, { dispatcher: agent }).then(() => null, (err: unknown) => err);
      assert.ok(viaFetch instanceof TypeError && viaFetch.cause instanceof CircuitOpenError, String(viaFetch));
      assert.equal(server.accepted, 0);

      // After the reset timeout: one probe connect; the requests that came meanwhile wait for it, then all succeed.
      clock.advance(5_000);
      assert.equal(health.state(key), "half-open");
      const bodies = await Promise.all(Array.from({ length: 5 }, (_, i) => get(`${base}/p${i}`, agent)));
      assert.deepEqual(bodies, Array.from({ length: 5 }, (_, i) => `up /p${i}`));
      assert.equal(health.state(key), "closed");
      assert.deepEqual(changes, [`${key} open`, `${key} half-open`, `${key} closed`]);
    } finally {
      await agent.close();
      await server.stop();
    }
  });

  test("a failed probe opens the circuit again and fails the requests that waited for it", async () => {
    const clock = new ManualClock();
    const health = new HostHealth({ failureThreshold: 1, resetTimeoutMs: 1_000, clock });
    const server = await startServer();
    const key = `127.0.0.1:${server.port}`;
    const pool = new Pool(`http://${key}`, { health, connections: 4 });
    try {
      await server.stop();
      await assert.rejects(get(`http://${key}/x`, pool), (err: unknown) => err instanceof NetError && !(err instanceof CircuitOpenError));
      assert.equal(health.state(key), "open");
      clock.advance(1_000);
      const outcomes = await Promise.allSettled(Array.from({ length: 3 }, (_, i) => get(`http://${key}/w${i}`, pool)));
      // The probe fails with the connect's own error; the two behind it with CircuitOpenError.
      const reasons = outcomes.map((o) => (o.status === "rejected" ? o.reason : null));
      assert.equal(reasons.filter((r) => r instanceof CircuitOpenError).length, 2);
      assert.equal(reasons.filter((r) => r instanceof NetError && !(r instanceof CircuitOpenError)).length, 1);
      assert.equal(health.state(key), "open");
    } finally {
      await pool.close();
    }
  });

  test("each origin has its own circuit; health must be a HostHealth", async () => {
    const health = new HostHealth({ failureThreshold: 1, clock: new ManualClock() });
    const up = await startServer();
    const down = await startServer();
    await down.stop();
    const agent = new Agent({ health });
    try {
      await assert.rejects(get(`http://127.0.0.1:${down.port}/`, agent));
      assert.equal(health.state(`127.0.0.1:${down.port}`), "open");
      assert.equal(await get(`http://127.0.0.1:${up.port}/ok`, agent), "up /ok");
      assert.equal(health.state(`127.0.0.1:${up.port}`), "closed");
      assert.throws(() => new Pool("http://127.0.0.1:1", { health: {} as HostHealth }), TypeError);
    } finally {
      await agent.close();
      await up.stop();
    }
  });
});
