// ConnectionPool.prewarm and the pool's end: a drain gives up the connects
// still in progress (here TLS handshakes a silent peer never answers)
// instead of letting them connect after the pool stopped, and a prewarm
// after the drain began connects nothing. Before, the handshakes went on
// until their own timeout (20 s here) with their sockets open, and prewarm
// settled only then.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { silentPeer, type SilentPeer } from "./silent_peer.ts";
import { NetError } from "../core/errors.ts";
import type { Connector } from "../poll/connector.ts";
import { ConnectionPool } from "../pool/pool.ts";
import { tlsConnector } from "../tls/connect_async.ts";

let peer: SilentPeer;
let port = 0;

before(async () => {
  peer = await silentPeer();
  port = peer.port;
});

after(async () => {
  await peer.close();
});

const until = (check: () => boolean): Promise<void> => peer.until(check);

function isCode(code: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof NetError, String(err));
    assert.equal(err.code, code, String(err));
    return true;
  };
}

const HANDSHAKE_MS = 60_000;

describe("ConnectionPool.prewarm: a drain gives up the connects in progress", () => {
  for (const how of ["drain(0)", "drain(60 s)", "drainForce()"] as const) {
    test(`TLS handshakes in progress when ${how} is called: ERR_POOL_DRAINING, every socket closed`, async () => {
      const base = { accepted: peer.accepted, closed: peer.closed };
      const pool = new ConnectionPool({ cleanupIntervalMs: 0 });
      const warming = pool.prewarm(`127.0.0.1:${port}`, 3, { host: "127.0.0.1", port }, tlsConnector({ handshakeTimeoutMs: HANDSHAKE_MS }));
      await until(() => peer.accepted - base.accepted === 3);
      if (how === "drain(0)") await pool.drain(0);
      else if (how === "drainForce()") pool.drainForce();
      else void pool.drain(60_000);
      await assert.rejects(warming, isCode("ERR_POOL_DRAINING"));
      await until(() => peer.closed - base.closed === 3);
      assert.equal(pool.size, 0);
      await pool.drain(0);
    });
  }

  test("a prewarm after the drain began connects nothing: ERR_POOL_DRAINING", async () => {
    const pool = new ConnectionPool({ cleanupIntervalMs: 0 });
    await pool.drain(0);
    let calls = 0;
    const counting: Connector = (options) => {
      calls++;
      return tlsConnector({ handshakeTimeoutMs: HANDSHAKE_MS })(options);
    };
    await assert.rejects(pool.prewarm(`127.0.0.1:${port}`, 2, { host: "127.0.0.1", port }, counting), isCode("ERR_POOL_DRAINING"));
    assert.equal(calls, 0);
  });

  test("the caller's options.signal gives up the connects too (its reason), and the pool goes on", async () => {
    const base = { accepted: peer.accepted, closed: peer.closed };
    const pool = new ConnectionPool({ cleanupIntervalMs: 0 });
    const abort = new AbortController();
    const reason = new Error("enough");
    const warming = pool.prewarm(`127.0.0.1:${port}`, 2, { host: "127.0.0.1", port, signal: abort.signal }, tlsConnector({ handshakeTimeoutMs: HANDSHAKE_MS }));
    await until(() => peer.accepted - base.accepted === 2);
    abort.abort(reason);
    await assert.rejects(warming, (e) => e === reason);
    await until(() => peer.closed - base.closed === 2);
    assert.equal(pool.size, 0);
    assert.equal(pool.stats().added, 0);
    await pool.drain(0);
  });
});
