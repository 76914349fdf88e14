// The HTTP client's Pool closed while an https: connect is pending: before
// the TLS connect started (libssl still loading, or the TCP connect not
// done), during a handshake the server never answers, and inside a CONNECT
// tunnel. close()/destroy() settle at once with the request failed by a
// typed error (or the caller's abort), no connect is left in progress that
// could connect after the pool closed, and every socket opened is closed.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { silentPeer, type SilentPeer } from "./silent_peer.ts";
import { NetError } from "../core/errors.ts";
import { Pool, request } from "../http/client/mod.ts";

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

const HANDSHAKE_MS = 60_000;

function useAfterClose(e: unknown): boolean {
  assert.ok(e instanceof NetError, String(e));
  assert.equal(e.code, "ERR_USE_AFTER_CLOSE");
  return true;
}

function settledClean(pool: Pool): void {
  assert.deepEqual({ connecting: pool.stats.connecting, connected: pool.stats.connected, queued: pool.stats.queued }, { connecting: 0, connected: 0, queued: 0 });
}

describe("Pool (https:) closed while a connect is pending", () => {
  test("destroy() right after the request, before the TLS connect started: ERR_USE_AFTER_CLOSE, nothing left connecting", async () => {
    const base = { accepted: peer.accepted, closed: peer.closed };
    const pool = new Pool(`https://127.0.0.1:${port}`, { tls: { handshakeTimeoutMs: HANDSHAKE_MS } });
    const failed = assert.rejects(request(`https://127.0.0.1:${port}/`, { dispatcher: pool }), useAfterClose);
    await pool.destroy();
    await failed;
    settledClean(pool);
    // Whatever TCP connect got through is closed.
    await until(() => peer.closed - base.closed === peer.accepted - base.accepted);
  });

  for (const how of ["close", "destroy"] as const) {
    test(`${how}() during a handshake the server never answers: the socket is closed, nothing left connecting`, async () => {
      const base = { accepted: peer.accepted, closed: peer.closed };
      const pool = new Pool(`https://127.0.0.1:${port}`, { tls: { handshakeTimeoutMs: HANDSHAKE_MS } });
      const abort = new AbortController();
      const failed = assert.rejects(
        request(`https://127.0.0.1:${port}/`, { dispatcher: pool, signal: abort.signal }),
        how === "close" ? (e: unknown) => (e as Error).name === "AbortError" : useAfterClose,
      );
      await until(() => peer.accepted - base.accepted === 1);
      // close() waits for queued requests: this one goes first.
      if (how === "close") abort.abort();
      await pool[how]();
      await failed;
      settledClean(pool);
      await until(() => peer.closed - base.closed === 1);
    });
  }

  test("destroy() while a CONNECT proxy never answers: the proxy connection is closed, nothing left connecting", async () => {
    const base = { accepted: peer.accepted, closed: peer.closed };
    const pool = new Pool("https://127.0.0.1:9", { proxy: `http://127.0.0.1:${port}`, tls: { handshakeTimeoutMs: HANDSHAKE_MS } });
    const failed = assert.rejects(request("https://127.0.0.1:9/", { dispatcher: pool }), useAfterClose);
    await until(() => peer.accepted - base.accepted === 1);
    await pool.destroy();
    await failed;
    settledClean(pool);
    await until(() => peer.closed - base.closed === 1);
  });
});
