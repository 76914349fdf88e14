// The HTTP client's Pool closed while an https: connect is pending: before
// the TLS connect started (libssl still loading, or the TCP connect not
// done), during a handshake the server never answers, and inside a CONNECT
// tunnel. close()/destroy() settle at once with the request failed by a
// typed error (or the caller's abort), no connect is left in progress that
// could connect after the pool closed, and every socket opened is closed.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { NetError } from "../core/errors.ts";
import { Pool, request } from "../http/client/mod.ts";

/** A peer that accepts, reads and never writes: no ServerHello, no CONNECT answer. */
let silent: net.Server;
let port = 0;
let accepted = 0;
let closed = 0;
let onChange: () => void = () => {};

before(async () => {
  silent = net.createServer((sock) => {
    accepted++;
    onChange();
    sock.on("error", () => {});
    sock.resume();
    sock.on("close", () => {
      closed++;
      onChange();
    });
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  port = (silent.address() as net.AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

/** Resolves once `check()` holds, tested after each accept and close. */
function until(check: () => boolean): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve) => {
    onChange = () => {
      if (!check()) return;
      onChange = () => {};
      resolve();
    };
  });
}

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
    const base = { accepted, closed };
    const pool = new Pool(`https://127.0.0.1:${port}`, { tls: { handshakeTimeoutMs: HANDSHAKE_MS } });
    const failed = assert.rejects(request(`https://127.0.0.1:${port}/`, { dispatcher: pool }), useAfterClose);
    await pool.destroy();
    await failed;
    settledClean(pool);
    // Whatever TCP connect got through is closed.
    await until(() => closed - base.closed === accepted - base.accepted);
  });

  for (const how of ["close", "destroy"] as const) {
    test(`${how}() during a handshake the server never answers: the socket is closed, nothing left connecting`, async () => {
      const base = { accepted, closed };
      const pool = new Pool(`https://127.0.0.1:${port}`, { tls: { handshakeTimeoutMs: HANDSHAKE_MS } });
      const abort = new AbortController();
      const failed = assert.rejects(
        request(`https://127.0.0.1:${port}/`, { dispatcher: pool, signal: abort.signal }),
        how === "close" ? (e: unknown) => (e as Error).name === "AbortError" : useAfterClose,
      );
      await until(() => accepted - base.accepted === 1);
      // close() waits for queued requests: this one goes first.
      if (how === "close") abort.abort();
      await pool[how]();
      await failed;
      settledClean(pool);
      await until(() => closed - base.closed === 1);
    });
  }

  test("destroy() while a CONNECT proxy never answers: the proxy connection is closed, nothing left connecting", async () => {
    const base = { accepted, closed };
    const pool = new Pool("https://127.0.0.1:9", { proxy: `http://127.0.0.1:${port}`, tls: { handshakeTimeoutMs: HANDSHAKE_MS } });
    const failed = assert.rejects(request("https://127.0.0.1:9/", { dispatcher: pool }), useAfterClose);
    await until(() => accepted - base.accepted === 1);
    await pool.destroy();
    await failed;
    settledClean(pool);
    await until(() => closed - base.closed === 1);
  });
});
