// listenTLS({ protect }), listen({ tls, protect }) and serve({ tls, protect }):
// the ListenProtection gate runs on each accepted connection before its
// TLS handshake, so a refused client gets no handshake byte (checked with
// node:tls and openssl s_client as the clients), and per-IP counts, rates
// and SYN-guard scoring follow the TLS connection's life.
import assert from "node:assert/strict";
import * as nodeTls from "node:tls";
import { describe, test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import type { Connection } from "../poll/connection.ts";
import { adopt, connect, listen, type Listener } from "../poll/listener.ts";
import { ListenProtection } from "../pool/protect.ts";
import { Socket } from "../socket/socket.ts";
import { listenTLS, startTLS, type TLSListener } from "../tls/connect_async.ts";
import { runSClient, tlsTestBed } from "./tls_helpers.ts";

const { cert: CERT, key: KEY, ca: CA, closers } = tlsTestBed();

function echoHandler() {
  return { data: (c: Connection, d: Uint8Array) => void c.send(d) };
}

/** A node:tls round trip of one byte: "echoed", or the error code that ended it (before or during the handshake). */
function nodeTlsEcho(port: number, localAddress?: string): Promise<string> {
  return new Promise((resolve) => {
    const s = nodeTls.connect({ host: "127.0.0.1", servername: "localhost", port, ca: CA, ...(localAddress === undefined ? {} : { localAddress }) }, () => {
      s.write(new Uint8Array([7]));
    });
    s.once("data", (d: Uint8Array) => {
      s.end();
      resolve(d[0] === 7 ? "echoed" : "wrong");
    });
    s.once("error", (err: Error & { code?: string }) => resolve(err.code ?? err.message));
    s.once("close", () => resolve("closed"));
  });
}

/** A TLS connection held open (node:tls, handshaken and echoing once). */
function heldNodeTls(port: number): Promise<nodeTls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = nodeTls.connect({ host: "127.0.0.1", servername: "localhost", port, ca: CA }, () => s.write(new Uint8Array([1])));
    s.once("data", () => resolve(s));
    s.once("error", reject);
  });
}

/** Waits (bounded) for the server side to catch up. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A plain TCP connection from `source` (a loopback address). */
function connectFrom(source: string, port: number): Connection {
  const s = Socket.create("ipv4");
  try {
    s.bind(source, 0);
    s.connect("127.0.0.1", port);
  } catch (err) {
    s.close();
    throw err;
  }
  return adopt(s);
}

/** Our TLS client from `source`: "echoed", or the error's code. */
async function ourTlsEchoFrom(source: string, port: number): Promise<string> {
  let conn: Connection | undefined;
  try {
    conn = await startTLS(connectFrom(source, port), { host: "localhost", ca: CA });
    await conn.write(new Uint8Array([7]));
    const got = await conn.read();
    return got !== null && got[0] === 7 ? "echoed" : "closed";
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  } finally {
    await conn?.close().catch(() => {});
  }
}

const REFUSED = new Set(["ECONNRESET", "EPIPE", "closed"]);

for (const kind of ["listenTLS", "listen({ tls })"] as const) {
  const start = (protect: ListenProtection, onError?: (e: Error) => void): TLSListener | Listener => {
    const server = kind === "listenTLS"
      ? listenTLS({ port: 0, cert: CERT, key: KEY, protect, handler: echoHandler(), ...(onError ? { onError } : {}) })
      : listen({ port: 0, tls: { cert: CERT, key: KEY }, protect, handler: echoHandler(), ...(onError ? { onError } : {}) });
    closers.push(() => server.close());
    return server;
  };

  describe(`${kind} with protect`, () => {
    test("maxPerIp: the TLS client over the limit is refused before any handshake byte (node:tls, openssl s_client); a close frees the slot", async () => {
      const protect = new ListenProtection({ maxPerIp: 1 });
      const errors: Error[] = [];
      const server = start(protect, (e) => errors.push(e));
      const held = await heldNodeTls(server.port);
      assert.equal(protect.connections("127.0.0.1"), 1);
      const refused = await nodeTlsEcho(server.port);
      assert.ok(REFUSED.has(refused), refused);
      assert.equal(protect.stats().refusedPerIp, 1);
      // s_client: its ClientHello went out, nothing came back.
      const out = await runSClient(server.port, ["-servername", "localhost"]).done;
      assert.match(out, /SSL handshake has read 0 bytes/);
      assert.doesNotMatch(out, /BEGIN CERTIFICATE|Server certificate/);
      assert.equal(protect.stats().refusedPerIp, 2);
      // No handshake ran for them: nothing failed on the server.
      assert.deepEqual(errors, []);
      if ("handshakeErrors" in server) assert.equal(server.handshakeErrors, 0);
      // The slot is held for the TLS connection's whole life (not just until the handshake).
      assert.equal(protect.connections("127.0.0.1"), 1);
      held.end();
      await until(() => protect.connections("127.0.0.1") === 0, "the server to see the close");
      assert.equal(await nodeTlsEcho(server.port), "echoed");
      assert.equal(protect.stats().admitted, 2);
    });

    test("connection rate per IP with burst: the third TLS client is refused until the clock moves", async () => {
      const clock = new ManualClock();
      const protect = new ListenProtection({ ratePerIp: { perSecond: 1, burst: 2 }, clock });
      const server = start(protect);
      assert.equal(await nodeTlsEcho(server.port), "echoed");
      assert.equal(await nodeTlsEcho(server.port), "echoed");
      assert.ok(REFUSED.has(await nodeTlsEcho(server.port)));
      assert.equal(protect.stats().refusedRate, 1);
      clock.advance(1000);
      assert.equal(await nodeTlsEcho(server.port), "echoed");
    });
  });
}

describe("listenTLS({ protect }): SYN-guard scoring over TLS", () => {
  test("connect/close bursts from one address make it hostile; its TLS clients are refused, another address's served; data through the wrapped handler", async () => {
    const clock = new ManualClock();
    const protect = new ListenProtection({ syn: { clock }, clock, bandwidth: { bytesPerSecond: 1 << 20 } });
    const server = listenTLS({ port: 0, cert: CERT, key: KEY, protect, handler: echoHandler() });
    closers.push(() => server.close());
    const guard = protect.guard!;
    // A TLS client that talks counts as a success (the wrapped handler saw its data).
    assert.equal(await ourTlsEchoFrom("127.0.0.3", server.port), "echoed");
    await until(() => (guard.record("127.0.0.3")?.successes ?? 0) >= 1, "the success to be scored");
    for (let i = 0; i < 40 && guard.reputation("127.0.0.3") !== "hostile"; i++) {
      const failuresBefore = guard.record("127.0.0.3")?.failures ?? 0;
      const conn = connectFrom("127.0.0.3", server.port);
      await conn.close();
      await until(() => (guard.record("127.0.0.3")?.failures ?? 0) > failuresBefore || guard.peek("127.0.0.3") === "block", "the attempt to be scored");
    }
    assert.equal(guard.reputation("127.0.0.3"), "hostile");
    // (reset after its ClientHello: our client reports it as a failed handshake)
    assert.notEqual(await ourTlsEchoFrom("127.0.0.3", server.port), "echoed");
    assert.ok(protect.stats().refusedBlocked >= 1);
    assert.equal(await nodeTlsEcho(server.port), "echoed");
  });

  test("a protect value without admit is a TypeError", () => {
    assert.throws(() => listenTLS({ port: 0, cert: CERT, key: KEY, protect: {} as never }), TypeError);
    assert.throws(() => listen({ port: 0, tls: { cert: CERT, key: KEY }, protect: {} as never, handler: {} }), TypeError);
  });
});

// A plain listener still admits before delivery (unchanged).
test("listen({ protect }) without tls still refuses over the limit", async () => {
  const protect = new ListenProtection({ maxPerIp: 1 });
  const server = listen({ port: 0, protect, handler: echoHandler() });
  closers.push(() => server.close());
  const first = await connect({ port: server.port });
  await first.write(new Uint8Array([1]));
  assert.ok(await first.read());
  const got = await connect({ port: server.port })
    .then((second) => second.read().finally(() => second.close()))
    .catch(() => null); // reset during connect or read
  assert.equal(got, null);
  assert.equal(protect.stats().refusedPerIp, 1);
  await first.close();
});
